"""The comparison rows and their files: values are the records' own means, deltas paired by seed."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from tests.compare import MAP50, MAP50_95, record, records, variants
from yolo_attention.compare.stats import f_score
from yolo_attention.compare.table import comparison_markdown, summarize, write_comparison

T_975_DF2 = 4.302653


def by_variant(rows):
    return {r["variant"]: r for r in rows}


def with_per_image(runs, seeds=(0, 1)):
    """Per-image counts for plain and cbam at `seeds`: cbam finds every defect plain finds and more."""
    rng = np.random.default_rng(0)
    ids = [f"{i:06d}" for i in range(30)]
    truth = rng.integers(1, 5, size=len(ids))
    for run in runs:
        if run["seed"] in seeds and run["variant"] in ("plain", "yolov8n-cbam"):
            found = truth if run["variant"] == "yolov8n-cbam" else truth // 2
            counts = [[int(t), 1, int(n - t)] for t, n in zip(found, truth)]
            order = slice(None, None, -1) if run["variant"] == "plain" else slice(None)  # other order: align by id
            run["per_image"] = {"image_ids": ids[order], "counts": counts[order]}
    return runs, truth


class TestSummarize:
    def test_order_reference_first_then_first_seen(self):
        assert [r["variant"] for r in summarize(records(), variants())] == ["plain", "yolov8n-cbam", "yolov8n-eca"]

    def test_means_are_the_records_means(self):
        rows = by_variant(summarize(records(), variants()))
        for name in MAP50:
            assert rows[name]["mAP50_mean"] == np.mean(MAP50[name])
            assert rows[name]["mAP50-95_mean"] == np.mean(MAP50_95[name])
            assert rows[name]["mAP50_std"] == pytest.approx(np.std(MAP50[name], ddof=1))
        assert rows["yolov8n-eca"]["n_seeds"] == 2 and rows["plain"]["n_seeds"] == 3
        assert rows["plain"]["schedule"] == "none" and rows["yolov8n-cbam"]["epochs"] == 4

    def test_paired_delta_and_t_interval(self):
        cbam = by_variant(summarize(records(), variants()))["yolov8n-cbam"]
        half = T_975_DF2 * 0.01 / math.sqrt(3)  # differences 0.03, 0.04, 0.02
        assert cbam["mAP50_delta"] == pytest.approx(0.03)
        assert (cbam["mAP50_delta_low"], cbam["mAP50_delta_high"]) == pytest.approx((0.03 - half, 0.03 + half))
        assert cbam["mAP50_significant"] is True and cbam["mAP50_n_pairs"] == 3

    def test_missing_seed_is_not_paired(self):
        eca = by_variant(summarize(records(), variants()))["yolov8n-eca"]
        assert eca["mAP50_n_pairs"] == 2
        assert eca["mAP50_delta"] == pytest.approx(((0.69 - 0.70) + (0.72 - 0.71)) / 2)
        assert eca["mAP50_significant"] is False

    def test_reference_has_no_delta(self):
        plain = summarize(records(), variants())[0]
        assert plain["mAP50_delta"] is None and plain["mAP50_significant"] is None

    def test_f_only_when_every_run_has_it(self):
        rows = by_variant(summarize(records(), variants()))
        assert rows["yolov8n-eca"]["F_mean"] is None and rows["yolov8n-eca"]["F_delta"] is None
        assert rows["yolov8n-cbam"]["F_mean"] == np.mean([0.70, 0.71, 0.69])

    def test_warmup_means(self):
        rows = by_variant(summarize(records(), variants()))
        cbam = rows["yolov8n-cbam"]  # warm-up ends at 0.65, 0.66, 0.67
        assert cbam["warmup_phase"] == "warmup" and cbam["warmup_start_mAP50"] == pytest.approx(0.60)
        assert cbam["warmup_end_mAP50"] == pytest.approx(0.66) and cbam["warmup_change_mAP50"] == pytest.approx(0.06)
        assert rows["plain"]["warmup_phase"] == "train" and rows["plain"]["warmup_end_mAP50"] == pytest.approx(0.71)

    def test_variant_info(self):
        cbam = by_variant(summarize(records(), variants()))["yolov8n-cbam"]
        assert (cbam["params"], cbam["gflops"], cbam["latency_ms"], cbam["latency_ratio"]) == (3056789, 8.3, 11.5, 1.15)

    def test_variant_without_runs_still_listed(self):
        rows = summarize(records(), [*variants(), {"variant": "yolov8n-se", "params": 1, "gflops": 1.0}])
        assert rows[-1]["variant"] == "yolov8n-se" and rows[-1]["n_seeds"] == 0 and rows[-1]["mAP50_mean"] is None

    def test_no_bootstrap_without_per_image(self):
        cbam = by_variant(summarize(records(), variants()))["yolov8n-cbam"]
        assert cbam["F_boot_delta"] is None and cbam["F_boot_n_seeds"] == 0

    def test_bootstrap_pooled_over_seeds(self):
        runs, truth = with_per_image(records())
        rows = by_variant(summarize(runs, variants()))
        cbam = rows["yolov8n-cbam"]
        expected = f_score([truth.sum(), 30, 0]) - f_score([(truth // 2).sum(), 30, (truth - truth // 2).sum()])
        assert cbam["F_boot_delta"] == pytest.approx(expected)  # both seeds have the same counts here
        assert cbam["F_boot_n_seeds"] == 2 and cbam["F_boot_n_images"] == 30
        assert 0 < cbam["F_boot_delta_low"] <= cbam["F_boot_delta"] <= cbam["F_boot_delta_high"]
        assert cbam["F_boot_significant"] is True
        assert rows["yolov8n-eca"]["F_boot_delta"] is None

    def test_bootstrap_aligns_images_by_id_and_averages_seeds(self):
        runs, truth = with_per_image(records())
        runs_by = {(r["variant"], r["seed"]): r for r in runs}
        plain1 = runs_by[("plain", 1)]["per_image"]
        runs_by[("yolov8n-cbam", 1)]["per_image"] = {k: v[::-1] for k, v in plain1.items()}  # same counts, other order
        cbam = by_variant(summarize(runs, variants()))["yolov8n-cbam"]
        seed0 = f_score([truth.sum(), 30, 0]) - f_score([(truth // 2).sum(), 30, (truth - truth // 2).sum()])
        assert cbam["F_boot_delta"] == pytest.approx(seed0 / 2)  # seed 1 adds a delta of exactly 0
        runs_by[("yolov8n-cbam", 0)]["per_image"] = {k: v[::-1] for k, v in runs_by[("plain", 0)]["per_image"].items()}
        cbam = by_variant(summarize(runs, variants()))["yolov8n-cbam"]
        assert (cbam["F_boot_delta"], cbam["F_boot_delta_low"], cbam["F_boot_delta_high"]) == (0.0, 0.0, 0.0)


class TestWriteComparison:
    def test_files_and_exact_numbers(self, tmp_path):
        runs, infos = records(), variants()
        paths = write_comparison(tmp_path, runs, infos)
        assert set(paths) == {"csv", "md", "json"} and all(p.parent == tmp_path / "results" for p in paths.values())
        with open(paths["csv"], newline="") as f:
            rows = by_variant(csv.DictReader(f))
        assert list(rows) == ["plain", "yolov8n-cbam", "yolov8n-eca"]
        for name in MAP50:
            assert float(rows[name]["mAP50_mean"]) == np.mean(MAP50[name])
        assert rows["yolov8n-eca"]["F_mean"] == "" and rows["yolov8n-cbam"]["mAP50_significant"] == "True"
        data = json.loads(paths["json"].read_text())
        assert data["rows"] == summarize(runs, infos) and data["runs"] == runs and data["variants"] == infos
        assert not [p for p in (tmp_path / "results").iterdir() if p.name.endswith(".tmp")]

    def test_markdown(self, tmp_path):
        md = write_comparison(tmp_path, records(), variants())["md"].read_text()
        for name in MAP50:
            assert f"| {name} |" in md
        assert "0.7400 ± 0.0100" in md  # cbam mAP50
        half = T_975_DF2 * 0.01 / math.sqrt(3)
        assert f"+0.0300 [{0.03 - half:+.4f}, {0.03 + half:+.4f}]*" in md
        assert "0.6000 → 0.6600 (warmup)" in md and "1.15×" in md and "3.06" in md
        assert "Seeds per variant: 2–3" in md and "Budget: 4 epochs" in md
        assert "paired Student-t interval" in md
        assert "**yolov8n-cbam** (0.7400); it beats plain significantly" in md

    def test_markdown_without_f_or_bootstrap_columns(self):
        runs = records()
        for run in runs:
            run["metrics"]["F"] = None
        md = comparison_markdown(summarize(runs, variants()))
        assert "F mean" not in md and "bootstrap" not in md
        md = comparison_markdown(summarize(with_per_image(records())[0], variants()))
        assert "F mean" in md and "[bootstrap 95% CI]" in md and "resampled 2000 times" in md

    @pytest.mark.parametrize(
        "cbam,verdict",
        [([0.69, 0.70, 0.71], "it is significantly worse than plain"),
         ([0.75, 0.70, 0.73], "it is not significantly different from plain")],
    )  # fmt: skip
    def test_verdict(self, cbam, verdict, monkeypatch):
        monkeypatch.setitem(MAP50, "yolov8n-cbam", cbam)
        monkeypatch.setitem(MAP50, "yolov8n-eca", [0.60, 0.60])
        md = comparison_markdown(summarize(records(), variants()))
        assert f"**yolov8n-cbam** ({np.mean(cbam):.4f}); {verdict}" in md

    def test_verdict_without_plain_or_pairs(self):
        runs = [r for r in records() if r["variant"] != "plain"]
        assert "No 'plain' runs finished" in comparison_markdown(summarize(runs, variants()))
        runs = [record("plain", 0), record("yolov8n-cbam", 0)]
        assert "too few paired seeds (1)" in comparison_markdown(summarize(runs, variants()))
