"""TensorRT engines: a one-line error without a GPU; FP32 and FP16 engine verdicts where one is present."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from click.testing import CliRunner

from tests.export.export_cases import IMGSZ, yolo
from yolo_attention.cli.export_cmd import export as export_command
from yolo_attention.export import TensorRTUnavailableError, export_and_verify

HAS_TENSORRT = torch.cuda.is_available() and importlib.util.find_spec("tensorrt") is not None


class TestTensorRT:
    @pytest.mark.skipif(HAS_TENSORRT, reason="this machine can build engines")
    def test_engine_without_gpu_is_one_line_error(self):
        with pytest.raises(TensorRTUnavailableError) as e:
            export_and_verify(yolo("yolov8n-cbam.yaml"), "onnx,engine", imgsz=IMGSZ)
        message = str(e.value)
        assert "\n" not in message
        for fragment in ("NVIDIA GPU", "yolo-attention[tensorrt]", "Jetson", "trtexec --onnx=model.onnx"):
            assert fragment in message

    @pytest.mark.skipif(HAS_TENSORRT, reason="this machine can build engines")
    def test_engine_cli_error_is_one_line(self):
        result = CliRunner().invoke(export_command, ["model=yolov8n-cbam.yaml", "format=engine", "imgsz=64"])
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) == 1 and "trtexec" in result.output

    @pytest.mark.skipif(not HAS_TENSORRT, reason="needs CUDA and tensorrt")
    @pytest.mark.parametrize("half", [False, True])
    def test_engine_dynamic_batch_parity(self, half, tmp_path):
        model = yolo("yolov8n-cbam.yaml")
        [r] = export_and_verify(model, "engine", imgsz=IMGSZ, half=half, dynamic=True, out_dir=tmp_path, images=2)
        assert r.passed, r.line()
