"""Tests for the DeepPCB converter (fixtures in the release's own layout, with its quirks) and the bundled pcb-mini."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from PIL import Image

from tests.data.deeppcb_fixtures import board, stems
from yolo_attention.data import DEEPPCB_CLASSES, ConversionReport, convert_deeppcb

BUNDLED_YAML = Path(__file__).resolve().parents[2] / "datasets" / "pcb-mini.yaml"

# One defect per class name, in DeepPCB type order 1..6.
EXPECTED_ORDER = ("open", "short", "mousebite", "spur", "copper", "pin-hole")

# Board 00000001 (640x640): spaces, commas, a blank line, unknown types 0 and 7, a degenerate box, a box that crosses
# the bottom-right corner, and no newline at the end.
ANNOTATION_1 = "0 0 64 64 1\n100,100,200,164,2\n\n600 600 700 700 3\n10 10 20 20 0\n10 10 20 20 7\n50 50 50 60 4"


@pytest.fixture
def pcbdata(tmp_path) -> Path:
    """A PCBData folder with every quirk the converter must survive.

    trainval: 00000001 (mixed lines, see ANNOTATION_1), 00000002 (empty annotation: background),
    00000003 (annotation file missing), 00000004 (image missing). test: 00000005 (320x160, no template, CRLF lines).
    Both readable trainval images are alone in their stratum, so none is held out: val is empty.
    """
    src = tmp_path / "PCBData"
    lines = [
        board(src, "00000001", ANNOTATION_1),
        board(src, "00000002", ""),
        board(src, "00000003", None),
        board(src, "00000004", "1 1 30 30 2\n", image=False, template=False),
    ]
    (src / "trainval.txt").write_text("\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:]))  # no final newline
    test_line = board(src, "00000005", "0 0 32 16 6\r\n160,80,192,112,5\r\n", size=(320, 160), template=False)
    (src / "test.txt").write_text(test_line + "\r\n")
    return src


def _labels(out: Path, split: str, image_id: str) -> list[list[float]]:
    text = (out / "labels" / split / f"{image_id}.txt").read_text()
    return [[float(v) for v in line.split()] for line in text.splitlines()]


class TestConvertDeepPCB:
    def test_files_per_split(self, pcbdata, tmp_path):
        out = tmp_path / "yolo"
        convert_deeppcb(pcbdata, out, progress=False)
        assert stems(out / "images" / "train") == {"00000001", "00000002"}
        assert stems(out / "labels" / "train") == {"00000001", "00000002"}
        assert stems(out / "images" / "val") == stems(out / "labels" / "val") == set()
        assert stems(out / "images" / "test") == {"00000005"}
        assert stems(out / "labels" / "test") == {"00000005"}
        assert all(p.suffix == ".jpg" for p in (out / "images" / "train").iterdir())
        assert not (out / "templates").exists()
        with Image.open(out / "images" / "test" / "00000005.jpg") as im:
            assert im.size == (320, 160)

    def test_label_values(self, pcbdata, tmp_path):
        out = tmp_path / "yolo"
        convert_deeppcb(pcbdata, out, progress=False)
        text = (out / "labels" / "train" / "00000001.txt").read_text()
        assert text.splitlines()[0] == "0 0.050000 0.050000 0.100000 0.100000"
        assert text.endswith("\n")
        rows = _labels(out, "train", "00000001")
        assert len(rows) == 3  # type 0, type 7 and the degenerate box are gone
        assert rows[1] == pytest.approx([1, 150 / 640, 132 / 640, 100 / 640, 64 / 640], abs=1e-6)  # comma-separated
        assert rows[2] == pytest.approx([2, 620 / 640, 620 / 640, 40 / 640, 40 / 640], abs=1e-6)  # clipped to 640
        # Normalised by the image's own size (320x160), read from the JPEG.
        small, crlf_comma = _labels(out, "test", "00000005")
        assert small == pytest.approx([5, 0.05, 0.05, 0.1, 0.1], abs=1e-6)
        assert crlf_comma == pytest.approx([4, 176 / 320, 96 / 160, 32 / 320, 32 / 160], abs=1e-6)

    def test_background_image_gets_empty_label(self, pcbdata, tmp_path):
        out = tmp_path / "yolo"
        report = convert_deeppcb(pcbdata, out, progress=False)
        assert (out / "images" / "train" / "00000002.jpg").is_file()
        assert (out / "labels" / "train" / "00000002.txt").read_text() == ""
        assert report.images["train"] == 2

    def test_report_counts(self, pcbdata, tmp_path):
        report = convert_deeppcb(pcbdata, tmp_path / "yolo", progress=False)
        assert isinstance(report, ConversionReport)
        assert report.images == {"train": 2, "val": 0, "test": 1}
        assert report.boxes["train"] == {
            "open": 1,
            "short": 1,
            "mousebite": 1,
            "spur": 0,
            "copper": 0,
            "pin-hole": 0,
        }
        assert report.boxes["test"] == {"open": 0, "short": 0, "mousebite": 0, "spur": 0, "copper": 1, "pin-hole": 1}
        assert report.n_boxes("train") == 3 and report.n_boxes("val") == 0
        assert report.skipped_lines == 3
        assert len(report.skipped) == 3
        assert any("type 0" in s for s in report.skipped) and any("type 7" in s for s in report.skipped)
        assert any("degenerate" in s for s in report.skipped)

    def test_missing_files_reported_not_fatal(self, pcbdata, tmp_path, caplog):
        with caplog.at_level(logging.WARNING, logger="yolo_attention.data.deeppcb"):
            report = convert_deeppcb(pcbdata, tmp_path / "yolo", progress=False)
        missing = sorted(Path(p).name for p in report.missing)
        assert missing == ["00000003.txt", "00000004_test.jpg"]
        assert "00000003" in caplog.text and "00000004" in caplog.text
        # An image without its annotation must not turn into a background image.
        assert not (tmp_path / "yolo" / "images" / "train" / "00000003.jpg").exists()

    def test_summary_table(self, pcbdata, tmp_path):
        summary = convert_deeppcb(pcbdata, tmp_path / "yolo", progress=False).summary()
        rows = {line.split()[0]: line.split()[1:] for line in summary.splitlines()[:-1]}
        assert rows["class"] == ["train", "val", "test"]
        assert rows["open"] == ["1", "0", "0"] and rows["pin-hole"] == ["0", "0", "1"]
        assert rows["images"] == ["2", "0", "1"]
        assert list(rows)[1:7] == list(EXPECTED_ORDER)
        assert "20% of each dominant class held out for val (seed 0)" in summary and "test from test.txt" in summary
        assert summary.splitlines()[-1] == "missing files: 2, skipped lines: 3"

    def test_templates(self, pcbdata, tmp_path):
        out = tmp_path / "yolo"
        report = convert_deeppcb(pcbdata, out, templates=True, progress=False)
        assert stems(out / "templates" / "train") == {"00000001", "00000002"}
        assert stems(out / "templates" / "test") == set()
        assert "00000005_temp.jpg" in {Path(p).name for p in report.missing}
        assert (out / "images" / "test" / "00000005.jpg").is_file()  # a missing template does not drop the image

    def test_data_yaml(self, pcbdata, tmp_path):
        out = tmp_path / "yolo"
        convert_deeppcb(pcbdata, out, progress=False)
        data = yaml.safe_load((out / "data.yaml").read_text())
        assert "path" not in data
        # Nothing could be held out of two singleton strata: val falls back to train, never to test.
        assert data["train"] == "images/train" and data["val"] == "images/train" and data["test"] == "images/test"
        assert data["names"] == dict(enumerate(EXPECTED_ORDER))
        assert DEEPPCB_CLASSES == EXPECTED_ORDER
        assert (out / data["train"]).is_dir() and (out / data["test"]).is_dir()

    def test_without_list_files_everything_is_trainval(self, pcbdata, tmp_path, caplog):
        (pcbdata / "trainval.txt").unlink()
        (pcbdata / "test.txt").unlink()
        out = tmp_path / "yolo"
        with caplog.at_level(logging.WARNING, logger="yolo_attention.data.deeppcb"):
            report = convert_deeppcb(pcbdata, out, progress=False)
        # 00000003 has no annotation and 00000004 no image: only annotated *_test.jpg images are taken.
        assert report.images == {"train": 3, "val": 0}
        assert stems(out / "images" / "train") == {"00000001", "00000002", "00000005"}
        assert not (out / "images" / "test").exists()
        assert any("trainval.txt" in w for w in report.warnings)
        assert "trainval.txt" in caplog.text
        assert "no test split" in report.summary()
        data = yaml.safe_load((out / "data.yaml").read_text())
        assert data["val"] == "images/train" and "test" not in data
        assert "No test split" in (out / "data.yaml").read_text()

    def test_release_root_accepted(self, pcbdata, tmp_path):
        report = convert_deeppcb(pcbdata.parent, tmp_path / "yolo", progress=False)  # the folder holding PCBData/
        assert report.images == {"train": 2, "val": 0, "test": 1}

    def test_progress_bar(self, pcbdata, tmp_path, capsys):
        convert_deeppcb(pcbdata, tmp_path / "quiet", progress=False)
        assert "DeepPCB" not in capsys.readouterr().err
        convert_deeppcb(pcbdata, tmp_path / "loud", progress=True)
        assert "DeepPCB train" in capsys.readouterr().err

    def test_missing_src(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="does-not-exist.*PCBData"):
            convert_deeppcb(tmp_path / "does-not-exist", tmp_path / "yolo", progress=False)

    def test_src_without_data(self, tmp_path):
        (tmp_path / "empty").mkdir()
        with pytest.raises(FileNotFoundError, match="trainval.txt"):
            convert_deeppcb(tmp_path / "empty", tmp_path / "yolo", progress=False)


class TestBundledPcbMini:
    @pytest.fixture(scope="class")
    def splits(self) -> dict[str, Path]:
        data = yaml.safe_load(BUNDLED_YAML.read_text())
        assert "path" not in data
        assert data["names"] == dict(enumerate(EXPECTED_ORDER))
        return {split: BUNDLED_YAML.parent / data[split] for split in ("train", "val")}

    @pytest.mark.parametrize(("split", "n"), [("train", 32), ("val", 8)])
    def test_images_and_labels(self, splits, split, n):
        images = sorted(splits[split].glob("*.jpg"))
        assert len(images) == n
        labels_dir = splits[split].parents[1] / "labels" / split  # Ultralytics: .../images/x -> .../labels/x
        present = set()
        for image in images:
            label = labels_dir / f"{image.stem}.txt"
            assert label.is_file(), f"{image} has no label file"
            for line in label.read_text().splitlines():
                cls, *xywh = line.split()
                assert 0 <= int(cls) < len(EXPECTED_ORDER)
                assert len(xywh) == 4 and all(0.0 <= float(v) <= 1.0 for v in xywh)
                present.add(int(cls))
        assert present == set(range(len(EXPECTED_ORDER))), f"classes missing from {split}"

    def test_no_overlap_and_licence(self, splits):
        assert not {p.name for p in splits["train"].glob("*.jpg")} & {p.name for p in splits["val"].glob("*.jpg")}
        licence = (BUNDLED_YAML.parent / "pcb-mini" / "LICENSE").read_text()
        assert "https://github.com/tangsanli5201/DeepPCB" in licence and "MIT License" in licence
