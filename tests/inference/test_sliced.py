"""Sliced prediction on a synthetic large board: boxes at the right board coordinates, outputs, CLI, offline."""

from __future__ import annotations

import csv
import json
import socket
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from scipy import ndimage

from yolo_attention.cli.pcb_cmd import predict
from yolo_attention.inference.sliced import image_files, predict_board, predict_boards, write_defects

BOARD = (1600, 1200)  # width, height: 640 px tiles at overlap 0.2 start at x 0, 512, 960 and y 0, 512, 560
# (x1, y1, x2, y2, class): class 0 drawn white, class 1 grey
SQUARES = [
    (100, 100, 140, 140, 0),  # inside the first tile only
    (600, 300, 660, 350, 1),  # crosses the first tile's right edge (x 640): partial there, whole at x0 512
    (1000, 520, 1040, 560, 0),  # in the overlap of four tiles: four whole copies to merge
    (1550, 1150, 1590, 1190, 1),  # bottom-right corner tile
    (1500, 10, 1600, 40, 0),  # touches the board's right edge
]


class SquareDetector:
    """Stands in for an Ultralytics YOLO inside sahi: finds bright squares exactly, as a perfect detector would.

    sahi calls ``model(images_bgr, conf=..., imgsz=..., device=...)`` and reads ``result.boxes.data`` (x1, y1, x2, y2,
    score, class) per image, ``names`` and ``overrides["task"]``. A square cut by the tile edge scores 0.5, a whole one
    0.9, like a real detector that is less sure of a truncated defect.
    """

    names = {0: "open", 1: "short"}
    overrides = {"task": "detect"}

    def __call__(self, images, **kwargs):
        results = []
        for image in images:
            mask = image.max(axis=2) > 60
            labels, _ = ndimage.label(mask)
            rows = []
            for sy, sx in ndimage.find_objects(labels):
                cls = 0 if image[sy, sx].mean() > 200 else 1
                h, w = image.shape[:2]
                cut = sx.start == 0 or sy.start == 0 or sx.stop == w or sy.stop == h
                rows.append([sx.start, sy.start, sx.stop, sy.stop, 0.5 if cut else 0.9, cls])
            data = torch.tensor(rows, dtype=torch.float32).reshape(-1, 6)
            results.append(SimpleNamespace(boxes=SimpleNamespace(data=data)))
        return results


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    pixels = np.zeros((BOARD[1], BOARD[0], 3), np.uint8)
    for x1, y1, x2, y2, cls in SQUARES:
        pixels[y1:y2, x1:x2] = 255 if cls == 0 else 150
    path = tmp_path_factory.mktemp("board") / "board.png"  # PNG: exact edges
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def stub_detector():
    from sahi import AutoDetectionModel

    return AutoDetectionModel.from_pretrained(
        model_type="ultralytics", model=SquareDetector(), confidence_threshold=0.3
    )


def found(defects):
    return sorted((round(d.x1), round(d.y1), round(d.x2), round(d.y2), d.class_id) for d in defects)


class TestCoordinateMerge:
    def test_tiles_merge_into_board_coordinates(self, board, stub_detector):
        defects, result = predict_board(stub_detector, board, slice_size=640, overlap=0.2)
        assert found(defects) == sorted(SQUARES)
        assert {d.cls for d in defects} == {"open", "short"}
        assert (result.image_width, result.image_height) == BOARD
        crossing = next(d for d in defects if d.x1 == 600)
        assert crossing.confidence == pytest.approx(0.9)  # the whole copy from the second tile won the merge

    @pytest.mark.parametrize("merge", ["NMS", "NMM"])
    def test_other_merges_agree(self, board, stub_detector, merge):
        defects, _ = predict_board(stub_detector, board, merge=merge, merge_metric="IOS")
        assert found(defects) == sorted(SQUARES)

    def test_iou_matching_keeps_a_truncated_copy_that_ios_merges(self, board, stub_detector):
        """Why IOS is the default: a tile edge cutting a defect leaves a sliver whose IoU with the whole is tiny."""
        defects, _ = predict_board(stub_detector, board, merge="NMS", merge_metric="IOU")
        extra = sorted(set(found(defects)) - set(SQUARES))
        assert extra == [(1550, 1150, 1590, 1152, 1)]  # the corner square's 2 px inside the tile ending at y 1152

    def test_same_as_predicting_the_whole_board(self, board, stub_detector):
        whole, _ = predict_board(stub_detector, board, slice_size=0)
        assert found(whole) == sorted(SQUARES)

    def test_bad_arguments(self, board, stub_detector):
        with pytest.raises(ValueError, match="merge='MAX'"):
            predict_board(stub_detector, board, merge="MAX")
        with pytest.raises(ValueError, match="overlap=1.2"):
            predict_board(stub_detector, board, overlap=1.2)
        with pytest.raises(ValueError, match="^slice_size=16 is not a tile side"):
            predict_board(stub_detector, board, slice_size=16)


@pytest.fixture
def no_network(monkeypatch):
    """Record (and refuse) every attempt to open a network connection, e.g. to fetch Arial.ttf."""
    attempts = []

    def connect(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"network disabled in tests: {address}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: connect(None, address))
    return attempts


class TestRealModel:
    def test_random_weights_yolo_end_to_end(self, board, tmp_path, no_network):
        """The real sahi + Ultralytics path: a random-weights attention model at conf 0 returns boxes on the board."""
        defects = predict_boards(
            "yolov8n-cbam.yaml", board, slice_size=640, overlap=0.2, conf=0.0, imgsz=320, out=tmp_path,
            fmt="both", progress=False,
        )  # fmt: skip
        assert no_network == []
        assert len(defects) > 0
        width, height = BOARD
        for d in defects:
            assert 0 <= d.x1 < d.x2 <= width and 0 <= d.y1 < d.y2 <= height
            assert 0 <= d.confidence <= 1 and d.image == str(board)
        assert max(d.x2 for d in defects) > 960 and max(d.y2 for d in defects) > 640  # boxes from the far tiles too
        assert Image.open(tmp_path / "board.png").size == BOARD  # annotated board
        data = json.loads((tmp_path / "defects.json").read_text())
        assert data["slice"] == 640 and data["images"][0]["width"] == width
        assert len(data["images"][0]["defects"]) == len(defects)
        with (tmp_path / "defects.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(defects)
        assert list(rows[0]) == ["image", "class", "class_id", "confidence", "x1", "y1", "x2", "y2"]

    def test_cli_predict(self, board, tmp_path):
        out = tmp_path / "cli"
        args = ["model=yolov8n-cbam.yaml", f"source={board.parent}", "conf=0.0", "imgsz=160", f"out={out}"]
        result = CliRunner().invoke(predict, [*args, "format=csv", "visuals=False"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "defects on 1 board(s)" in result.output
        assert (out / "defects.csv").is_file() and not (out / "board.png").exists()
        result = CliRunner().invoke(predict, ["model=yolov8n-cbam.yaml"])
        assert result.exit_code == 2 and "missing source=..." in result.output
        result = CliRunner().invoke(predict, [*args, "format=xml"])
        assert result.exit_code == 1 and "format='xml'" in result.output and "Traceback" not in result.output


class TestFiles:
    def test_image_files_from_file_folder_and_glob(self, board):
        assert image_files(board) == [board]
        assert image_files(board.parent) == [board]
        assert image_files(board.parent / "*.png") == [board]
        with pytest.raises(FileNotFoundError, match="no board image"):
            image_files(board.parent / "*.tif")

    def test_json_lists_boards_without_defects(self, tmp_path):
        (file,) = write_defects([], tmp_path / "d", "json", images=[("clean.jpg", 10, 20)])
        assert json.loads(file.read_text())["images"] == [
            {"image": "clean.jpg", "width": 10, "height": 20, "defects": []}
        ]
