"""YOLO label lines and files: the format every converter writes, and the round trip back to pixel boxes."""

from __future__ import annotations

import pytest

from yolo_attention.data.yolo_labels import (
    label_classes,
    parse_yolo_line,
    read_yolo_labels,
    write_yolo_labels,
    yolo_line,
)


class TestYoloLabels:
    def test_line_format(self):
        assert yolo_line((0, 0, 0, 64, 64), 640, 640) == "0 0.050000 0.050000 0.100000 0.100000"
        assert yolo_line((5, 160, 80, 192, 112), 320, 160) == "5 0.550000 0.600000 0.100000 0.200000"

    @pytest.mark.parametrize(
        "box,size",
        [
            ((0, 0, 0, 640, 640), (640, 640)),
            ((3, 12.5, 7, 100.25, 33), (640, 480)),
            ((5, 2999, 1, 3034, 40), (3034, 1586)),
        ],
    )
    def test_round_trip(self, box, size):
        back = parse_yolo_line(yolo_line(box, *size), *size)
        assert back[0] == box[0]
        assert back[1:] == pytest.approx(box[1:], abs=1e-6 * max(size))

    def test_file_round_trip_and_background(self, tmp_path):
        boxes = [(1, 10, 20, 30, 60), (4, 0, 0, 5, 5)]
        path = write_yolo_labels(tmp_path / "a.txt", boxes, 200, 100)
        text = path.read_text()
        assert text.count("\n") == 2 and text.endswith("\n")
        assert [b[0] for b in read_yolo_labels(path, 200, 100)] == [1, 4]
        assert read_yolo_labels(path, 200, 100)[0][1:] == pytest.approx((10, 20, 30, 60), abs=1e-3)
        assert label_classes(path) == [1, 4]
        assert write_yolo_labels(tmp_path / "bg.txt", [], 200, 100).read_text() == ""
        assert label_classes(tmp_path / "bg.txt") == [] and label_classes(tmp_path / "absent.txt") == []

    @pytest.mark.parametrize("line", ["1 0.5 0.5 0.1", "a 0.5 0.5 0.1 0.1", "1.5 0.5 0.5 0.1 0.1", ""])
    def test_bad_line(self, line):
        with pytest.raises(ValueError, match="cls cx cy w h"):
            parse_yolo_line(line, 640, 640)
