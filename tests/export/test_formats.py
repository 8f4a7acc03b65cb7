"""Format names, the precision each format is exported at, and FP32's tensor tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from yolo_attention.export import compare_outputs, parse_formats, resolve_precision
from yolo_attention.export.runtimes import format_of, load_runtime


class TestFormatsAndPrecision:
    def test_parse_formats(self):
        assert parse_formats("ONNX, openvino,trt,onnx") == ["onnx", "openvino", "engine"]
        with pytest.raises(ValueError, match="Did you mean 'onnx'"):
            parse_formats("onxx")
        with pytest.raises(ValueError, match="no export format"):
            parse_formats(" , ")

    @pytest.mark.parametrize(
        "fmt,half,int8,expected",
        [
            ("onnx", False, False, "fp32"),
            ("onnx", True, False, "fp16"),
            ("onnx", False, True, "fp32"),
            ("openvino", True, True, "int8"),
            ("engine", False, True, "int8"),
            ("torchscript", True, False, "fp32"),
        ],
    )
    def test_resolve_precision(self, fmt, half, int8, expected):
        precision, note = resolve_precision(fmt, half, int8, cuda=False)
        assert precision == expected
        assert (note is None) == (precision == ("int8" if int8 else "fp16" if half else "fp32"))

    def test_compare_outputs_relative_to_value_floored_at_one(self):
        ref = np.array([0.01, 0.5, 640.0], dtype=np.float32)
        assert compare_outputs(ref + np.array([5e-4, 5e-4, 0.5], dtype=np.float32), ref, 1e-3)["ok"]
        assert not compare_outputs(ref + np.array([2e-3, 0, 0], dtype=np.float32), ref, 1e-3)["ok"]
        assert not compare_outputs(np.array([np.nan, 0.5, 640], dtype=np.float32), ref, 1e-3)["ok"]
        with pytest.raises(ValueError, match="shape"):
            compare_outputs(ref[:2], ref, 1e-3)


class TestRuntimes:
    def test_format_of_names(self):
        assert format_of("a/best_openvino_model") == format_of("a/best.xml") == "openvino"
        assert [format_of(f"best.{s}") for s in ("onnx", "torchscript", "engine")] == ["onnx", "torchscript", "engine"]
        with pytest.raises(ValueError, match="cannot tell the export format of 'best.tflite'"):
            format_of("best.tflite")

    def test_load_runtime_refuses_missing_files_and_unknown_formats(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            load_runtime(tmp_path / "missing.onnx")
        with pytest.raises(ValueError, match="valid: onnx, openvino, torchscript, engine"):
            load_runtime(tmp_path, fmt="tflite")
        (tmp_path / "empty_openvino_model").mkdir()
        with pytest.raises(FileNotFoundError, match="no .xml model"):
            load_runtime(tmp_path / "empty_openvino_model")

    def test_every_export_package_ships_in_the_wheel(self, repo):
        """pyproject.toml lists packages one by one: a subpackage missing there is missing from the wheel."""
        tomllib = pytest.importorskip("tomllib")
        listed = set(tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
        export = repo / "yolo_attention" / "export"
        packages = {".".join(p.parent.relative_to(repo).parts) for p in export.rglob("__init__.py")}
        assert packages == {"yolo_attention.export", "yolo_attention.export.runtimes"}
        assert packages <= listed, sorted(packages - listed)
