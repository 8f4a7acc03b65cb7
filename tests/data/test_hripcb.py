"""HRIPCB (PKU-Market-PCB) converter: VOC fixtures in the release's layout with its quirks, tiles, the command."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from tests.data.hripcb_fixtures import board, voc_xml, write_many_boards
from yolo_attention.cli.pcb_cmd import hripcb
from yolo_attention.data.hripcb import HRIPCB_CLASSES, convert_hripcb
from yolo_attention.data.hripcb_voc import board_id, class_index


@pytest.fixture
def quirky(tmp_path) -> Path:
    """PCB_DATASET with every quirk: other case, unknown class, box outside, no objects, missing image, bad XML.

    Boards (all 400x300 except where said):
    - 01_missing_hole_01: missing_hole (10,10,50,50) and missing_hole (100,100,140,150)
    - 01_mouse_bite_01: 'Mouse_Bite' (20,20,60,60), 'scratch' (unknown), spur box from -10,-5 to 30,40 (clipped),
      a box fully outside (500,500,600,600) -> skipped; image suffix .JPG; XML size says 0x0
    - 01_short_01: no objects (background)
    - 01_spur_01: image missing
    - 01_open_circuit_01: malformed XML
    - 01_spurious_copper_01: 'Spurious Copper' (spaces) (200,100,260,160)
    """
    root = tmp_path / "PCB_DATASET"
    holes = [("missing_hole", 10, 10, 50, 50), ("missing_hole", 100, 100, 140, 150)]
    board(root, "Missing_hole", "01_missing_hole_01", (400, 300), holes)
    board(
        root,
        "Mouse_bite",
        "01_mouse_bite_01",
        (400, 300),
        [
            ("Mouse_Bite", 20, 20, 60, 60),
            ("scratch", 1, 1, 9, 9),
            ("spur", -10, -5, 30, 40),
            ("spur", 500, 500, 600, 600),
        ],
        image_suffix=".JPG",
        xml_size=(0, 0),
    )
    board(root, "Short", "01_short_01", (400, 300), [])
    board(root, "Spur", "01_spur_01", (400, 300), [("spur", 5, 5, 25, 25)], image=False)
    (root / "Annotations" / "Open_circuit").mkdir(parents=True)
    (root / "Annotations" / "Open_circuit" / "01_open_circuit_01.xml").write_text("<annotation><object>")
    board(root, "Spurious_copper", "01_spurious_copper_01", (400, 300), [("Spurious Copper", 200, 100, 260, 160)])
    (root / "PCB_USED").mkdir()
    (root / "PCB_USED" / "stray.xml").write_text("<annotation/>")  # outside Annotations: never read
    return root


def labels(out: Path, split: str, stem: str) -> list[list[float]]:
    text = (out / "labels" / split / f"{stem}.txt").read_text()
    return [[float(v) for v in line.split()] for line in text.splitlines()]


class TestClassNames:
    def test_seed_order_and_display_names(self):
        assert HRIPCB_CLASSES == ("Missing_hole", "Mouse_bite", "Open_circuit", "Short", "Spurious_copper", "Spur")

    @pytest.mark.parametrize(
        "name,index",
        [("missing_hole", 0), ("Mouse_bite", 1), ("OPEN_CIRCUIT", 2), ("short", 3), ("Spurious Copper", 4),
         ("spurious-copper", 4), (" spur ", 5), ("scratch", None), ("", None)],
    )  # fmt: skip
    def test_case_insensitive_match(self, name, index):
        assert class_index(name) == index

    @pytest.mark.parametrize(
        "stem,board", [("01_missing_hole_01", "01"), ("12_spurious_copper_20", "12"), ("b1", None), ("x_01", None)]
    )
    def test_board_id_is_the_name_prefix(self, stem, board):
        assert board_id(stem) == board


class TestConvertQuirks:
    def test_every_quirk_is_reported_never_fatal(self, quirky, tmp_path):
        out = tmp_path / "yolo"
        report = convert_hripcb(quirky, out, tile=0, val=0.0, test=0.0, progress=False)
        assert report.photos == {"train": 4, "val": 0}
        assert report.boards == {"train": ["01"], "val": []}
        assert report.unknown_classes == {"scratch": 1}
        assert [Path(m).name for m in report.missing] == ["01_spur_01.xml"]
        reasons = " | ".join(report.skipped)
        assert "01_open_circuit_01.xml: not valid XML" in reasons
        assert "empty inside the 400x300 image" in reasons  # the box fully outside
        assert report.clipped_to_image == 1
        assert report.defects["train"] == {
            "Missing_hole": 2, "Mouse_bite": 1, "Open_circuit": 0, "Short": 0, "Spurious_copper": 1, "Spur": 1,
        }  # fmt: skip
        assert "scratch x1" in report.summary()

    def test_labels_in_yolo_format(self, quirky, tmp_path):
        out = tmp_path / "yolo"
        convert_hripcb(quirky, out, tile=0, val=0.0, test=0.0, progress=False)
        hole = labels(out, "train", "01_missing_hole_01")
        assert hole[0] == pytest.approx([0, 30 / 400, 30 / 300, 40 / 400, 40 / 300], abs=1e-6)
        bite = labels(out, "train", "01_mouse_bite_01")
        assert [row[0] for row in bite] == [1, 5]  # Mouse_Bite -> 1, spur -> 5; 'scratch' and the outside box gone
        assert bite[1] == pytest.approx([5, 15 / 400, 20 / 300, 30 / 400, 40 / 300], abs=1e-6)  # clipped to 0,0,30,40
        assert labels(out, "train", "01_spurious_copper_01")[0][0] == 4
        assert (out / "labels" / "train" / "01_short_01.txt").read_text() == ""  # background
        assert (out / "images" / "train" / "01_mouse_bite_01.jpg").is_file()  # .JPG written lower-case
        assert not (out / "images" / "train" / "01_spur_01.jpg").exists()

    def test_flat_folder_of_xml_beside_images(self, tmp_path):
        flat = tmp_path / "flat"
        flat.mkdir()
        (flat / "b1.xml").write_text(voc_xml("b1.jpg", (200, 100), [("short", 10, 10, 30, 30)]))
        Image.new("RGB", (200, 100)).save(flat / "b1.jpg")
        out = tmp_path / "yolo"
        report = convert_hripcb(flat, out, tile=0, val=0.0, test=0.0, progress=False)
        assert report.photos["train"] == 1 and labels(out, "train", "b1")[0][0] == 3
        assert report.boards["train"] == ["b1"]  # not named NN_<defect>_MM: its own board, and said so
        assert any("its own board" in w for w in report.warnings)

    def test_data_yaml_has_no_path_and_loads_in_ultralytics(self, quirky, tmp_path):
        from ultralytics.data.utils import check_det_dataset

        out = tmp_path / "yolo"
        convert_hripcb(quirky, out, tile=0, val=0.25, test=0.0, progress=False)
        data = yaml.safe_load((out / "data.yaml").read_text())
        assert "path" not in data and "test" not in data
        assert data["names"] == dict(enumerate(HRIPCB_CLASSES))
        checked = check_det_dataset(str(out / "data.yaml"))
        assert Path(checked["train"]) == (out / "images" / "train").resolve()

    def test_bad_arguments(self, quirky, tmp_path):
        with pytest.raises(ValueError, match="overlap=1.5"):
            convert_hripcb(quirky, tmp_path / "o", overlap=1.5)
        with pytest.raises(ValueError, match="val=0.6, test=0.5"):
            convert_hripcb(quirky, tmp_path / "o", val=0.6, test=0.5)
        with pytest.raises(FileNotFoundError, match="nowhere"):
            convert_hripcb(tmp_path / "nowhere", tmp_path / "o")
        (tmp_path / "empty").mkdir()
        with pytest.raises(FileNotFoundError, match="No VOC annotation"):
            convert_hripcb(tmp_path / "empty", tmp_path / "o")


@pytest.fixture(scope="module")
def many_boards(tmp_path_factory) -> Path:
    return write_many_boards(tmp_path_factory.mktemp("many") / "PCB_DATASET")


class TestCommand:
    def test_cli_converts_and_reports(self, many_boards, tmp_path):
        out = tmp_path / "cli"
        result = CliRunner().invoke(hripcb, [f"src={many_boards}", f"out={out}", "tile=0", "seed=3"])
        assert result.exit_code == 0, result.output
        assert "Spurious_copper" in result.output and (out / "data.yaml").is_file()
        result = CliRunner().invoke(hripcb, [f"src={many_boards}"])
        assert result.exit_code == 2 and "missing out=..." in result.output
        result = CliRunner().invoke(hripcb, [f"src={many_boards}", f"out={out}", "tiles=640"])
        assert result.exit_code == 2 and "Did you mean 'tile'" in result.output


class TestTiling:
    @pytest.fixture
    def big_board(self, tmp_path) -> Path:
        """One 1600x1200 board: tiles start at x 0, 512, 960 and y 0, 512, 560 (640 px, overlap 0.2)."""
        root = tmp_path / "PCB_DATASET"
        objects = [
            ("short", 600, 100, 700, 140),  # crosses x=640: 40% in tiles x0=0 (dropped), whole in x0=512
            ("spur", 580, 300, 680, 340),  # 60% in tiles x0=0 (kept, clipped), whole in x0=512
            ("open_circuit", 1500, 1100, 1560, 1160),  # bottom-right corner tile only
        ]
        board(root, "Short", "04_short_01", (1600, 1200), objects)
        return root

    def test_tiles_clip_keep_and_drop_by_visible_fraction(self, big_board, tmp_path):
        out = tmp_path / "tiles"
        report = convert_hripcb(big_board, out, tile=640, overlap=0.2, val=0.0, test=0.0, progress=False)
        tiles = sorted(p.stem for p in (out / "images" / "train").iterdir())
        assert len(tiles) == 9 and report.images["train"] == 9
        assert all(Image.open(out / "images" / "train" / f"{t}.jpg").size == (640, 640) for t in tiles)

        first = labels(out, "train", "04_short_01_0_0")
        assert len(first) == 1  # only the spur: 60% visible, clipped to x 580..640
        assert first[0] == pytest.approx([5, 610 / 640, 320 / 640, 60 / 640, 40 / 640], abs=1e-6)
        second = labels(out, "train", "04_short_01_512_0")
        assert sorted(row[0] for row in second) == [3, 5]
        short = next(row for row in second if row[0] == 3)
        assert short == pytest.approx([3, 138 / 640, 120 / 640, 100 / 640, 40 / 640], abs=1e-6)
        corner = labels(out, "train", "04_short_01_960_560")
        assert corner == [pytest.approx([2, 570 / 640, 570 / 640, 60 / 640, 60 / 640], abs=1e-6)]
        assert report.dropped_in_tiles == 1  # the short's 40% in the first tile
        assert report.defects["train"]["Short"] == 1 and report.boxes["train"]["Short"] == 1
        assert report.boxes["train"]["Spur"] == 2  # labelled in two tiles
        assert report.boxes["train"]["Open_circuit"] == 2  # whole at (960, 560), 87% at (960, 512)

    def test_min_visibility_and_keep_empty(self, big_board, tmp_path):
        out = tmp_path / "strict"
        report = convert_hripcb(
            big_board, out, tile=640, val=0.0, test=0.0, min_visibility=0.7, keep_empty=False, progress=False
        )
        assert report.dropped_in_tiles == 2  # the short (40%) and the spur (60%) in the first tile
        tiles = {p.stem for p in (out / "images" / "train").iterdir()}
        assert tiles == {"04_short_01_512_0", "04_short_01_960_512", "04_short_01_960_560"}  # corner: 87% at y0=512
