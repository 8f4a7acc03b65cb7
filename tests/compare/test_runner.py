"""`compare` end to end on pcb-mini: plain and one attention variant, two seeds, real (tiny) training."""

from __future__ import annotations

import csv
import json
import statistics

import pytest

from yolo_attention.compare.runner import parse_variants, split_epochs
from yolo_attention.resources import find_bundled
from yolo_attention.training.experiment import read_results

# The shipped DeepPCB detector at 160 px scores mAP50 ~0.08 on pcb-mini and moves when trained: runs differ.
SMALL = {"imgsz": 160, "batch": 8, "workers": 0, "plots": False}


def test_split_epochs_keeps_the_schedule_proportions_and_one_epoch_per_phase():
    assert split_epochs([25, 125], 150) == [25, 125]
    assert split_epochs([25, 125], 4) == [1, 3]
    assert split_epochs([30, 25, 25, 30], 4) == [1, 1, 1, 1]
    assert split_epochs([30, 25, 25, 30], 10) == [3, 2, 2, 3]
    assert sum(split_epochs([1, 100], 3)) == 3
    with pytest.raises(ValueError, match="less than the schedule's 4 phases"):
        split_epochs([30, 25, 25, 30], 3)


def test_variants_always_start_with_plain_and_refuse_a_model_without_attention():
    weights = str(find_bundled("yolov8n-deeppcb.pt"))
    variants = parse_variants("yolov8n-cbam.yaml,yolov8n-ecasam.yaml@four-phase", "two-stage", weights)
    assert [(v.name, v.schedule) for v in variants] == [
        ("plain", "none"), ("yolov8n-cbam", "two-stage"), ("yolov8n-ecasam@four-phase", "four-phase"),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="no attention layers: it is the `plain` row"):
        parse_variants("yolov8n.yaml", "two-stage", weights)


@pytest.mark.slow
def test_compare_on_pcb_mini_writes_the_table_from_the_runs_and_a_rerun_skips_them(tmp_path, caplog):
    from yolo_attention.compare.runner import compare
    from yolo_attention.report import write_report

    weights = str(find_bundled("yolov8n-deeppcb.pt"))
    out = compare("pcb-mini.yaml", "yolov8n-cbam.yaml", weights, seeds=2, epochs=2, out=tmp_path / "cmp", **SMALL)
    results = out / "results"
    for name in ("comparison.csv", "comparison.md", "comparison.json", "plots/map_bars.png", "plots/curves.png"):
        assert (results / name).is_file(), name
    assert (results / "plots/map_vs_latency.png").is_file()  # latency measured in the same run
    report = json.loads((results / "comparison.json").read_text())
    runs = report["runs"]
    assert sorted((r["variant"], r["seed"]) for r in runs) == [
        ("plain", 0), ("plain", 1), ("yolov8n-cbam", 0), ("yolov8n-cbam", 1),
    ]  # fmt: skip
    for run in runs:  # every number is the run's own: its held-out evaluation and its results.csv
        exp = out / run["experiment"]
        state = json.loads((exp / "experiment.json").read_text())
        rows = {r["model"]: r for r in state["evaluation"]}
        last = state["phases"][-1]["name"]
        assert run["metrics"]["mAP50"] == rows[f"after {last}"]["mAP50"]
        assert run["metrics"]["mAP50-95"] == rows[f"after {last}"]["mAP50-95"]
        phases = ["train"] if run["variant"] == "plain" else ["warmup", "finetune"]
        assert [p["name"] for p in run["phases"]] == phases
        assert sum(len(p["curve"]) for p in run["phases"]) == 2  # the same budget for every row
        for phase in run["phases"]:
            csv_rows = read_results(exp / phase["name"] / "results.csv")
            assert [c["mAP50"] for c in phase["curve"]] == [r["metrics/mAP50(B)"] for r in csv_rows]
        assert run["phases"][0]["start_mAP50"] == rows["after transfer"]["mAP50"]
        assert state["config"]["environment"]["seed"] == run["seed"]
    assert len({r["metrics"]["mAP50"] for r in runs}) > 1  # real, different runs (not one result copied)

    with open(results / "comparison.csv", newline="") as f:
        table = {row["variant"]: row for row in csv.DictReader(f)}
    for variant in ("plain", "yolov8n-cbam"):
        values = [r["metrics"]["mAP50"] for r in runs if r["variant"] == variant]
        assert float(table[variant]["mAP50_mean"]) == pytest.approx(statistics.mean(values), abs=1e-12)
    diffs = [
        next(r for r in runs if r["variant"] == "yolov8n-cbam" and r["seed"] == s)["metrics"]["mAP50"]
        - next(r for r in runs if r["variant"] == "plain" and r["seed"] == s)["metrics"]["mAP50"]
        for s in (0, 1)
    ]
    assert float(table["yolov8n-cbam"]["mAP50_delta"]) == pytest.approx(statistics.mean(diffs), abs=1e-12)
    md = (results / "comparison.md").read_text()
    assert "| plain |" in md and "| yolov8n-cbam |" in md

    folders = sorted((out / "runs").iterdir())
    caplog.clear()
    compare("pcb-mini.yaml", "yolov8n-cbam.yaml", weights, seeds=2, epochs=2, out=out, **SMALL)
    assert sorted((out / "runs").iterdir()) == folders  # nothing trained again
    assert json.loads((results / "comparison.json").read_text())["runs"] == runs
    with pytest.raises(ValueError, match="other settings \\(epochs differ\\)"):
        compare("pcb-mini.yaml", "yolov8n-cbam.yaml", weights, seeds=2, epochs=3, out=out, **SMALL)
    page = write_report(out)
    assert "yolov8n-cbam" in page.read_text() and "plots/curves.png" in page.read_text()
