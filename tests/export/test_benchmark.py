"""Latency and memory against the attention-free baseline, timed in interleaved blocks."""

from __future__ import annotations

import pytest

from tests.export.export_cases import IMGSZ
from yolo_attention.export import run_benchmark
from yolo_attention.export.benchmark import time_interleaved


class TestBenchmark:
    @pytest.mark.slow
    def test_latency_and_memory_against_baseline(self, tmp_path):
        result = run_benchmark(
            "yolov8n-cbam.yaml", "torchscript,onnx", imgsz=IMGSZ, runs=30, warmup=2, out_dir=tmp_path, threads=1
        )
        assert result.backends == ["torchscript", "onnx"] and result.threads == 1
        for backend in result.backends:
            attention, baseline = result.pair(backend)
            assert attention.error is None and baseline.error is None
            assert attention.runs == baseline.runs == 30
            assert attention.params > baseline.params and attention.gflops >= baseline.gflops > 0
            assert attention.peak_mib > 0 and baseline.peak_mib > 0
            assert result.ratio(backend) > 0
        assert (tmp_path / "yolov8n-cbam-baseline.yaml").is_file() and (tmp_path / "baseline.onnx").is_file()
        assert "ratio attention/baseline" in result.table()

    def test_interleaved_timing_needs_30_runs(self):
        calls = []
        times = time_interleaved([lambda: calls.append("a"), lambda: calls.append("b")], runs=30, warmup=0, blocks=3)
        assert [len(t) for t in times] == [30, 30]
        assert calls[:10] == ["a"] * 10 and calls[10:30] == ["b"] * 20  # A, then B, B, then A again
        with pytest.raises(ValueError, match="runs must be"):
            time_interleaved([lambda: None], runs=10)
