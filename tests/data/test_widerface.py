"""The WIDER FACE converter on fixtures in RetinaFace's label.txt format, with the format's quirks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from PIL import Image

from yolo_attention.data.widerface import convert_widerface
from yolo_attention.data.widerface_pose import FACE_FLIP_IDX, parse_pose_line, pose_line

MISSING = " ".join(["-1.0"] * 16)  # fifteen landmark values and the score, as label.txt writes a face without them

# train (RetinaFace layout, src/train/images): a face with all five points (one flag 1.0), a face without landmarks,
# a zero-width box, a box crossing the bottom-right corner with one point off the image and one -1, a malformed row,
# an image without faces, a listed image that is not on disk, and an image listed twice.
TRAIN_LABELS = f"""# 0--Parade/0_Parade_marchingband_1_849.jpg
20 30 40 50 30.0 45.0 0.0 50.0 45.0 0.0 40.0 55.0 0.0 32.0 65.0 1.0 48.0 65.0 0.0 0.82
100 20 10 12 {MISSING}
150 100 0 10 {MISSING}
180 120 40 40 190.0 130.0 0.0 210.0 130.0 0.0 200.0 140.0 0.0 -1.0 -1.0 -1.0 195.0 150.0 0.0 0.5
1 2 3
# 0--Parade/0_Parade_Parade_0_904.jpg
# 0--Parade/0_Parade_Parade_0_999.jpg
10 10 20 20 {MISSING}
# 0--Parade/0_Parade_marchingband_1_849.jpg
1 1 5 5 {MISSING}
"""
# val (the release's layout, src/WIDER_val/images): box-only rows, one of zero height, one wholly off the image.
VAL_LABELS = """# 1--Handshaking/1_Handshaking_Handshaking_1_35.jpg
10 10 30 30
5 5 4 -3
250 10 20 20
"""


def jpeg(path: Path, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color=(90, 120, 150)).save(path, quality=80)


@pytest.fixture
def wider(tmp_path) -> Path:
    src = tmp_path / "widerface"
    jpeg(src / "train" / "images" / "0--Parade" / "0_Parade_marchingband_1_849.jpg", (200, 150))
    jpeg(src / "train" / "images" / "0--Parade" / "0_Parade_Parade_0_904.jpg", (64, 48))
    (src / "train" / "label.txt").write_text(TRAIN_LABELS)
    jpeg(src / "WIDER_val" / "images" / "1--Handshaking" / "1_Handshaking_Handshaking_1_35.jpg", (100, 100))
    (src / "val").mkdir()
    (src / "val" / "label.txt").write_text(VAL_LABELS)
    return src


@pytest.fixture
def converted(wider, tmp_path):
    out = tmp_path / "out"
    return out, convert_widerface(wider, out, progress=False)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


class TestConvertWiderFace:
    def test_train_labels_by_hand(self, converted):
        out, _ = converted
        labels = lines(out / "labels" / "train" / "0_Parade_marchingband_1_849.txt")
        invisible = " 0.000000 0.000000 0" * 5
        assert labels == [
            # all five points visible (flag 1.0 too), normalised by 200 x 150
            "0 0.200000 0.366667 0.200000 0.333333 0.150000 0.300000 2 0.250000 0.300000 2 0.200000 0.366667 2 "
            "0.160000 0.433333 2 0.240000 0.433333 2",
            "0 0.525000 0.173333 0.050000 0.080000" + invisible,  # all -1: every point invisible
            # clipped to (180, 120, 200, 150); (210, 130) is off the image and the -1 point invisible; points on
            # the image's edge stay visible
            "0 0.950000 0.900000 0.100000 0.200000 0.950000 0.866667 2 0.000000 0.000000 0 1.000000 0.933333 2 "
            "0.000000 0.000000 0 0.975000 1.000000 2",
        ]
        assert lines(out / "labels" / "train" / "0_Parade_Parade_0_904.txt") == []  # background

    def test_val_box_only_rows_get_invisible_keypoints(self, converted):
        out, _ = converted
        labels = lines(out / "labels" / "val" / "1_Handshaking_Handshaking_1_35.txt")
        assert labels == ["0 0.250000 0.250000 0.300000 0.300000" + " 0.000000 0.000000 0" * 5]

    def test_images_are_copied_flat(self, converted):
        out, _ = converted
        assert sorted(p.name for p in (out / "images" / "train").iterdir()) == [
            "0_Parade_Parade_0_904.jpg",
            "0_Parade_marchingband_1_849.jpg",
        ]
        assert [p.name for p in (out / "images" / "val").iterdir()] == ["1_Handshaking_Handshaking_1_35.jpg"]

    def test_report_counts(self, converted):
        _, report = converted
        assert report.counts["train"] == {
            "images": 2,
            "background": 1,
            "faces": 3,
            "with_landmarks": 1,
            "without_landmarks": 1,
            "clipped": 1,
            "dropped_zero_size": 1,
            "dropped_outside": 0,
            "points_missing": 6,
            "points_outside": 1,
        }
        val = report.counts["val"]
        assert (val["faces"], val["without_landmarks"], val["points_missing"]) == (1, 1, 0)
        assert (val["dropped_zero_size"], val["dropped_outside"]) == (1, 1)
        assert [m.endswith("0_Parade_Parade_0_999.jpg") for m in report.missing] == [True]
        assert len(report.skipped) == 2
        assert report.skipped[0].startswith("train/label.txt:6: expected 4 (x y w h) or 20")
        assert report.skipped[1].startswith("train/label.txt:10: image 0--Parade/0_Parade_marchingband_1_849.jpg")
        summary = report.summary()
        assert "dropped_zero_size" in summary and "WIDER_val" in summary

    def test_data_yaml(self, converted):
        out, _ = converted
        data = yaml.safe_load((out / "data.yaml").read_text())
        assert data == {
            "train": "images/train",
            "val": "images/val",
            "kpt_shape": [5, 3],
            "flip_idx": [1, 0, 2, 4, 3],
            "names": {0: "face"},
        }

    def test_ultralytics_reads_the_labels(self, converted):
        from ultralytics.data import YOLODataset
        from ultralytics.data.utils import check_det_dataset

        out, _ = converted
        info = check_det_dataset(str(out / "data.yaml"))
        dataset = YOLODataset(img_path=info["train"], data=info, task="pose", imgsz=64, augment=False)
        by_name = {Path(label["im_file"]).name: label for label in dataset.labels}
        assert by_name["0_Parade_marchingband_1_849.jpg"]["keypoints"].shape == (3, 5, 3)
        assert len(by_name["0_Parade_Parade_0_904.jpg"]["cls"]) == 0

    def test_val_only_source(self, wider, tmp_path):
        (wider / "train" / "label.txt").unlink()
        report = convert_widerface(wider, tmp_path / "val-only", progress=False)
        assert report.splits == ["val"]
        assert yaml.safe_load((tmp_path / "val-only" / "data.yaml").read_text())["train"] == "images/val"

    def test_a_folder_without_label_files_names_the_layout(self, tmp_path):
        (tmp_path / "empty").mkdir()
        with pytest.raises(FileNotFoundError, match="train/label.txt"):
            convert_widerface(tmp_path / "empty", tmp_path / "out")
        with pytest.raises(FileNotFoundError, match="not found"):
            convert_widerface(tmp_path / "nowhere", tmp_path / "out")


def test_pose_line_round_trip():
    from yolo_attention.data.widerface_pose import FacePose

    face = FacePose(
        (10.0, 20.0, 50.0, 80.0), ((15.0, 30.0, 2), (40.0, 30.0, 2), (0.0, 0.0, 0), (20, 60, 2), (45, 60, 2))
    )
    back = parse_pose_line(pose_line(face, 100, 100), 100, 100)
    assert back.box == pytest.approx(face.box) and back.keypoints == face.keypoints
    assert FACE_FLIP_IDX == (1, 0, 2, 4, 3)
    with pytest.raises(ValueError, match="20 numbers"):
        parse_pose_line("0 0.5 0.5 0.1 0.1", 100, 100)
