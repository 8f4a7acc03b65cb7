"""Synthetic faces: determinism, labels Ultralytics accepts, points where they are drawn, and the bundled copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from yolo_attention.data.faces_synthetic import SYNTHETIC_DEFAULTS, draw_face_image, make_synthetic_faces
from yolo_attention.data.widerface_pose import read_pose_labels
from yolo_attention.resources import DATASET_DIR

BUNDLED = DATASET_DIR / "faces-synthetic"


def label_texts(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted((root / "labels").rglob("*.txt"))}


class TestMakeSyntheticFaces:
    def test_same_seed_same_files_and_a_longer_run_keeps_the_first(self, tmp_path):
        make_synthetic_faces(tmp_path / "a", n_train=3, n_val=1, imgsz=96, seed=1)
        make_synthetic_faces(tmp_path / "b", n_train=5, n_val=1, imgsz=96, seed=1)
        make_synthetic_faces(tmp_path / "c", n_train=3, n_val=1, imgsz=96, seed=2)
        a, b, c = (label_texts(tmp_path / x) for x in "abc")
        assert a == {k: v for k, v in b.items() if k in a} and len(b) == 6
        assert a != c
        for name in ("train_00000.jpg", "train_00002.jpg"):
            pa, pb = (np.asarray(Image.open(tmp_path / x / "images" / "train" / name)) for x in "ab")
            assert np.array_equal(pa, pb)

    def test_labels_are_five_visible_points_inside_their_box(self, tmp_path):
        make_synthetic_faces(tmp_path, n_train=6, n_val=2, imgsz=128, seed=0)
        faces = [f for p in (tmp_path / "labels").rglob("*.txt") for f in read_pose_labels(p, 128, 128)]
        assert len(faces) >= 8
        for face in faces:
            x1, y1, x2, y2 = face.box
            assert 0 <= x1 < x2 <= 128 and 0 <= y1 < y2 <= 128
            assert face.n_visible == 5
            assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y, _ in face.keypoints)
            (lx, _, _), (rx, _, _), _, (mlx, _, _), (mrx, _, _) = face.keypoints
            assert lx < rx and mlx < mrx  # the left points are on the image's left

    def test_points_are_where_the_features_are_drawn(self):
        image, faces = draw_face_image(np.random.default_rng(3), 160)
        pixels = np.asarray(image, dtype=float)
        for face in faces:
            for x, y, _ in face.keypoints[:2]:  # a pupil is dark, whatever the skin
                assert pixels[round(y), round(x)].mean() < 110

    def test_data_yaml_and_ultralytics_reads_it(self, tmp_path):
        from ultralytics.data import YOLODataset
        from ultralytics.data.utils import check_det_dataset

        data = make_synthetic_faces(tmp_path, n_train=2, n_val=1, imgsz=64, seed=0)
        info = check_det_dataset(str(data))
        assert info["kpt_shape"] == [5, 3] and info["flip_idx"] == [1, 0, 2, 4, 3] and info["names"] == {0: "face"}
        dataset = YOLODataset(img_path=info["train"], data=info, task="pose", imgsz=64, augment=False)
        assert len(dataset.labels) == 2 and dataset.labels[0]["keypoints"].shape[1:] == (5, 3)

    def test_bad_arguments(self, tmp_path):
        with pytest.raises(ValueError, match="at least 64"):
            make_synthetic_faces(tmp_path, imgsz=32)
        with pytest.raises(ValueError, match="negative"):
            make_synthetic_faces(tmp_path, n_train=-1)


class TestBundled:
    def test_bundled_copy_is_the_generator_output(self, tmp_path):
        make_synthetic_faces(tmp_path, **SYNTHETIC_DEFAULTS)
        assert label_texts(BUNDLED) == label_texts(tmp_path)
        for split in ("train", "val"):
            names = sorted(p.name for p in (BUNDLED / "images" / split).glob("*.jpg"))
            assert names == sorted(p.name for p in (tmp_path / "images" / split).glob("*.jpg"))
        for name in ("train_00000.jpg", "val_00031.jpg"):
            split = name.split("_")[0]
            ours, shipped = (np.asarray(Image.open(r / "images" / split / name), float) for r in (tmp_path, BUNDLED))
            assert np.abs(ours - shipped).mean() < 1.0  # equal bytes with the same Pillow; close with another

    def test_bundled_yaml_resolves_by_name_and_stays_small(self):
        from ultralytics.data.utils import check_det_dataset

        import yolo_attention  # noqa: F401  the bundled-file lookup

        info = check_det_dataset("faces-synthetic.yaml")
        assert Path(info["train"]) == BUNDLED / "images" / "train" and info["kpt_shape"] == [5, 3]
        assert len(list(Path(info["val"]).glob("*.jpg"))) == SYNTHETIC_DEFAULTS["n_val"]
        size = sum(p.stat().st_size for p in BUNDLED.rglob("*") if p.is_file() and p.suffix != ".cache")
        assert size < 1_000_000

    def test_widerface_yaml_says_how_to_convert(self):
        from ultralytics.data.utils import check_det_dataset

        import yolo_attention  # noqa: F401

        info = yaml.safe_load((DATASET_DIR / "widerface.yaml").read_text())
        assert info["kpt_shape"] == [5, 3] and info["flip_idx"] == [1, 0, 2, 4, 3] and info["names"] == {0: "face"}
        with pytest.raises(FileNotFoundError, match="yolo-attn convert widerface"):
            check_det_dataset("widerface.yaml")
