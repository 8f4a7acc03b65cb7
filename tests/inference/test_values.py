"""Prediction refuses an inference size below 32 and a confidence outside [0, 1] before it reads an image."""

from __future__ import annotations

import doctest

import pytest

from yolo_attention.inference import values
from yolo_attention.inference.keypoints import predict_keypoints
from yolo_attention.inference.sliced import predict_boards


class TestValues:
    @pytest.mark.parametrize("imgsz", [-5, 0, 31, 64.0, True, "640"])
    def test_imgsz_below_32_or_not_an_int_is_refused(self, imgsz):
        with pytest.raises(ValueError, match=r"imgsz must be an int >= 32 \(a square inference size, e.g. 640\)"):
            values.check_imgsz(imgsz)

    @pytest.mark.parametrize("imgsz", [None, 32, 640])
    def test_valid_imgsz_passes(self, imgsz):
        values.check_imgsz(imgsz)

    @pytest.mark.parametrize("conf", [-0.1, 1.5, 5, True, "0.3"])
    def test_conf_outside_0_1_is_refused(self, conf):
        with pytest.raises(ValueError, match=r"is not a confidence in \[0, 1\]"):
            values.check_conf(conf)

    @pytest.mark.parametrize("imgsz", [-5, 0])
    def test_predict_boards_refuses_before_reading_the_source(self, imgsz):
        # imgsz=0 would otherwise fall back to the slice size; the missing source would be reported first
        with pytest.raises(ValueError, match=f"got {imgsz}$"):
            predict_boards("yolov8n-cbam.yaml", "/nonexistent/boards", imgsz=imgsz)

    @pytest.mark.parametrize("kwargs", [{"imgsz": -5}, {"conf": 2.0}])
    def test_predict_keypoints_refuses_before_loading_the_model(self, kwargs):
        with pytest.raises(ValueError, match="imgsz must be|not a confidence"):
            predict_keypoints("/nonexistent/face.pt", "/nonexistent/images", **kwargs)

    def test_docstring_examples_run(self):
        result = doctest.testmod(values)
        assert result.failed == 0 and result.attempted > 0
