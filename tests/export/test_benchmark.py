"""Latency and memory against the attention-free baseline: paired blocks, the ratio's interval, OpenVINO precisions,
the table files and the command's keys."""

from __future__ import annotations

import csv
import inspect
import math
from types import SimpleNamespace

import pytest

from tests.export.export_cases import IMGSZ
from yolo_attention.cli.export_cmd import BENCHMARK_KEYS
from yolo_attention.export import benchmark_timing, run_benchmark
from yolo_attention.export.benchmark import DEFAULT_BACKENDS, openvino_capabilities
from yolo_attention.export.benchmark_table import TABLE_COLUMNS
from yolo_attention.export.benchmark_timing import ratio_interval, time_interleaved, time_paired

# Four blocks whose medians are 11, 12, 10 and 13 ms against 10 ms: ratios 1.1, 1.2, 1.0, 1.3. By hand: mean 1.15,
# deviations +-0.05, +-0.15, sample sd sqrt((2 * 0.05^2 + 2 * 0.15^2) / 3) = sqrt(0.05 / 3); t(0.975, 3 df) = 3.182446
# from the table; half-width 3.182446 * sqrt(0.05 / 3) / sqrt(4) = 0.205427.
BLOCK_MS = [11.0, 12.0, 10.0, 13.0]
MEAN, HALFWIDTH = 1.15, 3.182446 * math.sqrt(0.05 / 3) / 2


class FakeClock:
    """`time.perf_counter` for the timing module: a run advances it by the next of its model's durations."""

    def __init__(self):
        self.now = 0.0
        self.calls = []

    def perf_counter(self) -> float:
        return self.now

    def runner(self, name: str, durations_ms):
        durations = iter(durations_ms)

        def run():
            self.calls.append(name)
            self.now += next(durations) / 1e3

        return run


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(benchmark_timing, "time", SimpleNamespace(perf_counter=fake.perf_counter))
    return fake


@pytest.fixture
def capabilities(monkeypatch):
    """Set what the OpenVINO CPU plugin says it can do (``BF16`` or not) for `run_benchmark`."""

    def set_to(names: list[str]):
        monkeypatch.setattr("yolo_attention.export.benchmark.openvino_capabilities", lambda: names)

    return set_to


class TestRatioInterval:
    def test_hand_computed_interval(self):
        r = ratio_interval([[ms, ms, 99.0, 1.0, ms] for ms in BLOCK_MS], [[10.0, 10.0, 10.0]] * 4)  # medians: ms, 10
        assert r.blocks == 4 and r.confidence == 0.95
        assert r.block_ratios == pytest.approx((1.1, 1.2, 1.0, 1.3))
        assert r.mean == pytest.approx(MEAN)
        assert r.halfwidth == pytest.approx(HALFWIDTH, abs=1e-6)
        assert (r.low, r.high) == pytest.approx((MEAN - HALFWIDTH, MEAN + HALFWIDTH), abs=1e-6)

    def test_paired_timing_gives_the_hand_computed_interval(self, clock):
        sizes = [8, 8, 7, 7]  # 30 runs in 4 blocks
        attention = clock.runner("a", [ms for ms, n in zip(BLOCK_MS, sizes) for _ in range(n)])
        baseline = clock.runner("b", [10.0] * 30)
        a, b, r = time_paired(attention, baseline, runs=30, warmup=0, blocks=4)
        assert [len(block) for block in a] == [len(block) for block in b] == sizes
        assert clock.calls == ["a"] * 8 + ["b"] * 16 + ["a"] * 15 + ["b"] * 14 + ["a"] * 7  # AB, BA, AB, BA
        assert a[1] == pytest.approx([12.0] * 8) and b[0] == pytest.approx([10.0] * 8)
        assert r.mean == pytest.approx(MEAN) and r.halfwidth == pytest.approx(HALFWIDTH, abs=1e-6)

    def test_one_block_has_no_interval(self):
        r = ratio_interval([[11.0, 11.0, 11.0]], [[10.0, 10.0, 10.0]])
        assert r.mean == pytest.approx(1.1) and math.isnan(r.low) and math.isnan(r.halfwidth)

    @pytest.mark.parametrize("target, runs", [(0.5, 30), (1e-9, 150)])
    def test_blocks_are_added_until_the_target_halfwidth(self, clock, target, runs):
        noisy = clock.runner("a", [10.0 + (i // 3) % 2 for i in range(1000)])  # ratios 1.0 and 1.1, block by block
        a, b, r = time_paired(noisy, clock.runner("b", [10.0] * 1000), 30, 0, blocks=10, target_halfwidth=target)
        assert sum(map(len, a)) == sum(map(len, b)) == runs  # at most 5 x runs
        assert r.blocks == runs // 3 and (r.halfwidth <= target) == (target == 0.5)

    def test_blocks_keep_three_runs_each(self):
        a, _, r = time_paired(lambda: None, lambda: None, runs=30, warmup=0, blocks=20)
        assert r.blocks == 10 and all(len(block) == 3 for block in a)

    def test_interleaved_timing_needs_30_runs(self):
        calls = []
        times = time_interleaved([lambda: calls.append("a"), lambda: calls.append("b")], runs=30, warmup=0, blocks=3)
        assert [len(t) for t in times] == [30, 30]
        assert calls[:10] == ["a"] * 10 and calls[10:30] == ["b"] * 20  # A, then B, B, then A again
        with pytest.raises(ValueError, match="runs must be"):
            time_interleaved([lambda: None], runs=10)


class TestBenchmark:
    def test_default_backends_show_every_openvino_precision(self):
        assert DEFAULT_BACKENDS == ("pytorch", "onnx", "openvino", "openvino-bf16", "openvino-int8")
        assert inspect.signature(run_benchmark).parameters["format"].default == DEFAULT_BACKENDS

    def test_cli_keys_are_the_python_parameters(self):
        parameters = set(inspect.signature(run_benchmark).parameters)
        assert set(BENCHMARK_KEYS) == parameters - {"name", "formats"}  # display name; deprecated spelling

    def test_rows_without_bf16_or_data_say_why(self, capabilities, tmp_path):
        capabilities(["FP32", "INT8", "BIN"])
        result = run_benchmark(
            "yolov8n-eca.yaml", "openvino-bf16,openvino-int8", runs=30, imgsz=IMGSZ, out_dir=tmp_path
        )
        bf16, _ = result.pair("openvino-bf16")
        int8, _ = result.pair("openvino-int8")
        assert "no bf16 on this CPU" in bf16.note and "FP32, INT8, BIN" in bf16.note and bf16.runs == 0
        assert "needs data=" in int8.note and int8.runs == 0
        assert result.ratios == {} and not list(tmp_path.glob("*openvino_model"))  # nothing exported or timed
        table = result.table()
        assert "no bf16 on this CPU" in table and "needs data=" in table

    def test_bf16_row_on_this_cpu(self, tmp_path):
        result = run_benchmark("yolov8n-eca.yaml", "openvino-bf16", imgsz=IMGSZ, runs=30, memory=False, threads=1)
        row, _ = result.pair("openvino-bf16")
        if "BF16" in openvino_capabilities():
            assert row.note is None and row.runs == 30 and row.precision == "bf16"
        else:
            assert "no bf16 on this CPU" in row.note and row.runs == 0

    def test_bf16_row_and_table_files(self, capabilities, tmp_path):
        capabilities(["FP32", "BF16", "INT8"])
        result = run_benchmark(
            "yolov8n-eca.yaml", "openvino-bf16,openvino-int8", imgsz=IMGSZ, runs=30, warmup=2, memory=False,
            out_dir=tmp_path, threads=1,
        )  # fmt: skip
        attention, baseline = result.pair("openvino-bf16")
        assert attention.error is None and attention.note is None and attention.runs == baseline.runs == 30
        # the precision OpenVINO reports: bf16 on a bf16 CPU, f32 where the hint could not be honoured
        assert attention.precision == ("bf16" if "BF16" in openvino_capabilities() else "f32")
        ratio = result.ratios["openvino-bf16"]
        assert ratio.blocks == 10 and ratio.low < ratio.mean < ratio.high
        assert result.ratio("openvino-bf16") == ratio.mean

        assert result.files == [tmp_path / "benchmark.csv", tmp_path / "benchmark.md"]
        with open(tmp_path / "benchmark.csv", newline="") as f:
            lines = list(csv.DictReader(f))
        assert tuple(lines[0]) == TABLE_COLUMNS and [r["backend"] for r in lines] == ["openvino-bf16", "openvino-int8"]
        for line, record in zip(lines, result.records()):
            for key, value in record.items():
                if isinstance(value, float):
                    assert float(line[key]) == value, key
                else:
                    assert line[key] == ("" if value is None else str(value)), key
        assert float(lines[0]["ratio_halfwidth"]) == ratio.halfwidth and float(lines[0]["attention_ms"]) > 0
        assert lines[1]["attention_ms"] == "" and "needs data=" in lines[1]["note"]
        markdown = (tmp_path / "benchmark.md").read_text()
        assert markdown == result.markdown() + "\n" and result.table() == result.markdown()
        assert f"{ratio.mean:.3f}" in markdown and f"[{ratio.low:.3f}, {ratio.high:.3f}]" in markdown
        assert f"{attention.median_ms:.2f}" in markdown and f"{attention.params:,}" in markdown

    def test_unknown_backend_and_bad_blocks(self):
        with pytest.raises(ValueError, match="openvino-bf16"):
            run_benchmark("yolov8n-eca.yaml", "openvino-fp16", imgsz=IMGSZ, runs=30)
        for blocks in (1, 2, 4):  # 2 blocks' interval, 12.7 standard errors wide, could reach below zero
            with pytest.raises(ValueError, match=f"blocks must be an int >= 5, got {blocks}: the interval is a t-"):
                run_benchmark("yolov8n-eca.yaml", "onnx", imgsz=IMGSZ, runs=30, blocks=blocks)
        with pytest.raises(ValueError, match="target_halfwidth"):
            run_benchmark("yolov8n-eca.yaml", "onnx", imgsz=IMGSZ, runs=30, target_halfwidth=0)
        with pytest.raises(ValueError, match=r"threads must be an int >= 1, or None for every CPU \(\d+\), got 0"):
            run_benchmark("yolov8n-eca.yaml", "onnx", imgsz=IMGSZ, runs=30, threads=0)  # was every CPU, silently

    @pytest.mark.slow
    def test_int8_rows_quantised_on_data(self, tmp_path):
        result = run_benchmark(
            "yolov8n-cbam.yaml", "openvino-int8", imgsz=IMGSZ, runs=30, memory=False, out_dir=tmp_path, threads=1,
            data="pcb-mini.yaml", subset_size=8,
        )  # fmt: skip
        attention, baseline = result.pair("openvino-int8")
        assert attention.error is None and attention.runs == baseline.runs == 30
        assert attention.precision.startswith("int8 + ") and "openvino-int8" in result.ratios
        for stem in ("model", "baseline"):
            assert (tmp_path / f"{stem}_int8_openvino_model").is_dir()

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
            assert result.ratio(backend) > 0 and result.ratios[backend].blocks == 10
        assert (tmp_path / "yolov8n-cbam-baseline.yaml").is_file() and (tmp_path / "baseline.onnx").is_file()
        assert "95% CI" in result.table() and (tmp_path / "benchmark.csv").is_file()
