"""`yolo-attn export` and `yolo-attn benchmark`: files written, verdicts printed, one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from yolo_attention.cli.export_cmd import benchmark as benchmark_command
from yolo_attention.cli.export_cmd import export as export_command


class TestCli:
    def test_export_verifies_and_writes(self, trained_cbam, tmp_path):
        result = CliRunner().invoke(
            export_command,
            [f"model={trained_cbam}", "format=onnx,torchscript", "imgsz=64", f"out={tmp_path}", "images=2"],
        )
        assert result.exit_code == 0, result.output
        assert "all 2 exports verified" in result.output
        assert "PASS by |d| <= 0.001 * max(|torch|, 1)" in result.output
        assert (tmp_path / "best.onnx").is_file() and (tmp_path / "best.torchscript").is_file()

    @pytest.mark.parametrize(
        "args,fragment",
        [
            (["model=yolov8n-cbam.yaml", "format=onxx"], "Did you mean 'onnx'"),
            (["model=missing.pt"], "missing.pt"),
            (["format=onnx"], "missing model="),
            (["model=yolov8n-cbam.yaml", "formt=onnx"], "Did you mean 'format'"),
            (["model=yolov8n-cbam.yaml", "format=openvino", "int8=True"], "needs data="),
            (["model=yolov8n-cbam.yaml", "imgsz=[64,32]"], "imgsz must be an int"),
        ],
    )
    def test_export_bad_input_is_one_line(self, args, fragment):
        result = CliRunner().invoke(export_command, args)
        assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1, result.output

    def test_benchmark_prints_ratios(self, tmp_path):
        result = CliRunner().invoke(
            benchmark_command,
            ["model=yolov8n-eca.yaml", "formats=onnx", "imgsz=64", "runs=30", "warmup=1", "memory=False",
             f"out_dir={tmp_path}"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        row = next(line for line in result.output.splitlines() if line.startswith("| onnx")).split("|")
        assert float(row[5]) > 0 and row[6].strip().startswith("[") and row[11].strip() == "- / -"  # no memory
        assert f"tables: {tmp_path / 'benchmark.csv'}" in result.output and (tmp_path / "benchmark.md").is_file()

    @pytest.mark.parametrize(
        "args,fragment",
        [
            (["model=yolov8n-eca.yaml", "runs=5"], "runs must be"),
            (["model=yolov8n-eca.yaml", "formats=tflite"], "tflite"),
        ],
    )
    def test_benchmark_bad_input_is_one_line(self, args, fragment):
        result = CliRunner().invoke(benchmark_command, args)
        assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1, result.output
