"""The DeepPCB converter's held-out split: val is the project's split of trainval, the release's test stays in test."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.data.deeppcb_fixtures import board, stems
from yolo_attention.data import DEEPPCB_CLASSES, ConversionReport, convert_deeppcb
from yolo_attention.data.splits import HOLDOUT_FRACTION, HOLDOUT_SEED, dominant_class, stratified_split

SHARED_TRAINVAL = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "deeppcb-trainval"

# Trainval boards of four kinds (i % 4), 64x64 px: two opens; a short beside two mousebites; background; a spur and
# a copper (a tie: the lower class wins). Test boards: one pin-hole each.
TRAINVAL_KINDS = (
    "1 1 30 30 1\n40 40 60 60 1\n",
    "1 1 20 20 2\n1 30 20 50 3\n30 30 50 50 3\n",
    "",
    "1 1 30 30 4\n40 40 60 60 5\n",
)
TRAINVAL_IDS = [f"1{i:07d}" for i in range(20)]
TEST_IDS = [f"2{i:07d}" for i in range(6)]


def _kind_annotation(i: int) -> str:
    return TRAINVAL_KINDS[i % 4]


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """A PCBData folder of 20 trainval and 6 test boards, all readable, in the release's layout."""
    src = tmp_path_factory.mktemp("release") / "PCBData"
    trainval = [board(src, image_id, _kind_annotation(i), size=(64, 64)) for i, image_id in enumerate(TRAINVAL_IDS)]
    test = [board(src, image_id, "5 5 25 25 6\n", size=(64, 64)) for image_id in TEST_IDS]
    (src / "trainval.txt").write_text("\n".join(trainval))
    (src / "test.txt").write_text("\n".join(test))
    return src


@pytest.fixture(scope="module")
def converted(release, tmp_path_factory) -> tuple[Path, ConversionReport]:
    out = tmp_path_factory.mktemp("converted") / "deeppcb"
    return out, convert_deeppcb(release, out, progress=False)


def _expected_holdout() -> tuple[list[str], list[str]]:
    """The project's split of the fixture's trainval, from the annotation design, not from the converter."""
    classes = {image_id: [int(line.split()[-1]) - 1 for line in _kind_annotation(i).splitlines()]
               for i, image_id in enumerate(TRAINVAL_IDS)}  # fmt: skip
    strata = {image_id: dominant_class(c) for image_id, c in classes.items()}
    return stratified_split(TRAINVAL_IDS, strata, HOLDOUT_FRACTION, HOLDOUT_SEED)


class TestHeldOutSplit:
    def test_test_images_only_in_test(self, converted):
        out, _ = converted
        assert stems(out / "images" / "test") == stems(out / "labels" / "test") == set(TEST_IDS)
        for split in ("train", "val"):
            assert not stems(out / "images" / split) & set(TEST_IDS), f"a test image in {split}"
            assert stems(out / "images" / split) == stems(out / "labels" / split)

    def test_train_and_val_are_the_stratified_split(self, converted):
        out, _ = converted
        train, val = _expected_holdout()
        assert len(val) == 4  # 5 boards of each of 4 strata: one of each held out
        assert sorted(stems(out / "images" / "val")) == val
        assert sorted(stems(out / "images" / "train")) == train

    def test_split_from_label_files_as_tools_compute_it(self, converted):
        out, _ = converted  # tools/deeppcb_holdout.py: strata from the class ids in each label file
        labels = {p.stem: p for split in ("train", "val") for p in (out / "labels" / split).glob("*.txt")}
        strata = {
            k: dominant_class(int(line.split()[0]) for line in f.read_text().splitlines()) for k, f in labels.items()
        }
        _, val = stratified_split(list(labels), strata, HOLDOUT_FRACTION, HOLDOUT_SEED)
        assert val == sorted(stems(out / "images" / "val"))

    def test_data_yaml_names_three_splits(self, converted):
        from ultralytics.data.utils import check_det_dataset

        out, _ = converted
        text = (out / "data.yaml").read_text()
        data = yaml.safe_load(text)
        assert (data["train"], data["val"], data["test"]) == ("images/train", "images/val", "images/test")
        assert "path" not in data and "final figure only" in text
        for split in ("val", "test"):
            checked = check_det_dataset(str(out / "data.yaml"), autodownload=False, split=split)
            assert Path(checked[split]) == (out / "images" / split).resolve()

    def test_report_counts_per_class_and_split(self, converted):
        out, report = converted
        train, val = _expected_holdout()
        assert report.images == {"train": len(train), "val": len(val), "test": len(TEST_IDS)}
        for split in report.splits:
            counted = dict.fromkeys(DEEPPCB_CLASSES, 0)
            for f in (out / "labels" / split).glob("*.txt"):
                for line in f.read_text().splitlines():
                    counted[DEEPPCB_CLASSES[int(line.split()[0])]] += 1
            assert report.boxes[split] == counted
        assert report.boxes["test"]["pin-hole"] == 6 and report.n_boxes("val") == 2 + 3 + 0 + 2

    def test_reconversion_replaces_stale_files(self, release, tmp_path):
        out = tmp_path / "again"
        convert_deeppcb(release, out, progress=False)
        (out / "images" / "val" / "99999999.jpg").write_bytes(b"")
        (out / "labels" / "val" / "99999999.txt").write_text("")
        (out / "labels" / "val.cache").write_text("stale")
        convert_deeppcb(release, out, progress=False)
        assert "99999999" not in stems(out / "images" / "val") | stems(out / "labels" / "val")
        assert not (out / "labels" / "val.cache").exists()


@pytest.mark.skipif(not (SHARED_TRAINVAL / "trainval.txt").is_file(), reason="no shared DeepPCB trainval copy")
def test_shared_trainval_val_is_the_projects_holdout(tmp_path):
    """The real release's trainval: val equals ``stratified_split`` of the listed ids, strata from the annotations."""
    ids, strata = [], {}
    for line in (SHARED_TRAINVAL / "trainval.txt").read_text().splitlines():
        if line.strip():
            image, annotation = line.split()
            image_id = Path(image).stem
            types = [
                int(row.replace(",", " ").split()[4])
                for row in (SHARED_TRAINVAL / annotation).read_text().splitlines()
                if row.strip()
            ]
            ids.append(image_id)
            strata[image_id] = dominant_class(t - 1 for t in types if 1 <= t <= 6)
    train, val = stratified_split(ids, strata, HOLDOUT_FRACTION, HOLDOUT_SEED)
    out = tmp_path / "deeppcb"
    report = convert_deeppcb(SHARED_TRAINVAL, out, progress=False)
    assert sorted(stems(out / "images" / "val")) == val
    assert sorted(stems(out / "images" / "train")) == train
    assert report.images == {"train": len(train), "val": len(val)}  # a trainval-only copy: no test split
    assert "test" not in yaml.safe_load((out / "data.yaml").read_text())
