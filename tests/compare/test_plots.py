"""The comparison plots: valid PNG files, the latency plot skipped without latencies, curves averaged over seeds."""

from __future__ import annotations

import pytest

from tests.compare import records, variants
from yolo_attention.compare.plots import curve_series, plot_phase_curves, write_plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG_MAGIC
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


class TestWritePlots:
    def test_all_plots(self, tmp_path):
        written = write_plots(tmp_path, records(), variants())
        plots = tmp_path / "results" / "plots"
        assert written == [plots / "map_bars.png", plots / "map_vs_latency.png", plots / "curves.png"]
        for path in written:
            assert_png(path)
        assert not [p for p in plots.iterdir() if p.suffix != ".png"]  # no temporary file left behind

    def test_no_latency_skips_that_plot(self, tmp_path):
        write_plots(tmp_path, records(), variants())  # an earlier comparison in the same folder had latencies
        written = write_plots(tmp_path, records(), variants(latency=False))
        assert [p.name for p in written] == ["map_bars.png", "curves.png"]
        assert not (tmp_path / "results" / "plots" / "map_vs_latency.png").exists()

    def test_latency_in_ms_only(self, tmp_path):
        infos = variants()
        for info in infos:
            info["latency_ratio"] = None
        written = write_plots(tmp_path, records(), infos)
        assert_png(tmp_path / "results" / "plots" / "map_vs_latency.png")
        assert len(written) == 3

    def test_without_variant_infos(self, tmp_path):
        assert [p.name for p in write_plots(tmp_path, records(), [])] == ["map_bars.png", "curves.png"]


class TestCurves:
    def test_mean_over_seeds_per_phase(self):
        series = {s["label"]: s for s in curve_series(records())}
        assert list(series) == ["yolov8n-cbam", "plain", "yolov8n-eca"]
        cbam = series["yolov8n-cbam"]
        assert [p["name"] for p in cbam["phases"]] == ["warmup", "finetune"]
        assert cbam["phases"][0]["epochs"] == [1, 2]
        assert cbam["phases"][0]["values"] == pytest.approx([0.63, 0.66])  # warm-up ends 0.65, 0.66, 0.67
        assert cbam["phases"][1]["values"] == pytest.approx([0.70, 0.74])
        assert cbam["start"] == pytest.approx(0.60)
        assert series["plain"]["phases"][0]["epochs"] == [1, 2, 3, 4]

    def test_seed_with_a_shorter_curve(self):
        runs = records()
        runs[0]["phases"][1]["curve"].pop()  # cbam seed 0 stopped early in fine-tuning
        cbam = curve_series(runs)[0]
        assert cbam["phases"][1]["values"] == pytest.approx([0.70, (0.75 + 0.74) / 2])

    def test_plot_phase_curves(self, tmp_path):
        line = {"label": "x", "start": 0.5, "phases": [{"name": "a", "epochs": [1, 2], "values": [0.6, 0.7]},
                                                       {"name": "b", "epochs": [1], "values": [0.8]}]}  # fmt: skip
        path = plot_phase_curves([line], tmp_path / "sub" / "c.png", title="t")
        assert path == tmp_path / "sub" / "c.png"
        assert_png(path)
