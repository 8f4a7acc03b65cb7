"""report.md for hand-made comparison and experiment folders (no training)."""

from __future__ import annotations

import json
import re

import pytest

from tests.compare import MAP50, records, variants
from yolo_attention.compare.table import write_comparison
from yolo_attention.report import write_report

RESULTS_HEADER = (
    "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),"
    "metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2"
)
# val mAP50 per epoch of each phase; Ultralytics right-pads the columns with spaces in some versions
CURVES = {"warmup": [0.6692, 0.6701], "finetune": [0.6512, 0.6333, 0.6459]}
EVALUATION = [
    {"model": "pretrained", "epochs": None, "mAP50": 0.6687, "mAP50-95": 0.3487},
    {"model": "after transfer", "epochs": None, "mAP50": 0.6687, "mAP50-95": 0.3487},
    {"model": "after warmup", "epochs": 2, "mAP50": 0.6693, "mAP50-95": 0.3528},
    {"model": "after finetune", "epochs": 3, "mAP50": 0.6458, "mAP50-95": 0.3503},
]


def embedded_images(report, folder):
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert links, "the report embeds no image"
    for link in links:
        assert not link.startswith("/") and (folder / link).is_file(), link
    return links


def write_results_csv(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{i + 1},{5.0 * (i + 1)},1.9,1.5,1.0,0.61,0.63,{v},{v / 2},1.79,1.36,0.98,0.01,0.01,0.01" for i, v in
            enumerate(values)]  # fmt: skip
    path.write_text("\n".join([" " + RESULTS_HEADER.replace(",", ", "), *rows]) + "\n")


def make_experiment(folder, summary=True, finetune_ran=True):
    phases = [
        {"name": "warmup", "status": "done", "epochs": 2, "frozen_layers": [0, 1, 2, 3, 4, 6, 7, 9, 10, 11],
         "optimizer": "SGD", "lr0": 0.01, "save_dir": "warmup", "checkpoint": "checkpoints/warmup_complete.pt"},
        {"name": "finetune", "status": "done" if finetune_ran else "pending", "epochs": 3, "frozen_layers": [],
         "optimizer": "AdamW", "lr0": 0.0005, "save_dir": "finetune"},
    ]  # fmt: skip
    state = {
        "name": "cbam-run",
        "elapsed_s": 54.2,
        "phases": phases,
        "evaluation": EVALUATION if finetune_ran else EVALUATION[:3],
        "plan": {"schedule": "two-stage", "arch": "configs/yolov8n-cbam.yaml", "weights": "yolov8n-deeppcb.pt"},
        "config": {"data": {"config_path": "pcb-mini.yaml"}, "environment": {"seed": 7}},
        "final_model": "checkpoints/final_model.pt" if finetune_ran else None,
    }
    folder.mkdir(parents=True)
    (folder / "experiment.json").write_text(json.dumps(state))
    write_results_csv(folder / "warmup" / "results.csv", CURVES["warmup"])
    if finetune_ran:
        write_results_csv(folder / "finetune" / "results.csv", CURVES["finetune"])
    if summary:
        info = {"model_architecture": "yolov8n-cbam.yaml", "attention_mechanism": ["CBAM"], "schedule": "two-stage",
                "pretrained_weights": "yolov8n-deeppcb.pt", "data": "pcb-mini.yaml", "seed": 7,
                "versions": {"ultralytics": "8.4.190", "torch": "2.5.0"}, "total_training_time_s": 54.2}  # fmt: skip
        (folder / "results").mkdir()
        (folder / "results" / "training_summary.json").write_text(json.dumps({"experiment_info": info}))
    return folder


class TestComparisonReport:
    def test_names_numbers_and_plots(self, tmp_path):
        runs = records()
        write_comparison(tmp_path, runs, variants())
        assert not (tmp_path / "results" / "plots").exists()
        path = write_report(tmp_path)
        assert path == tmp_path / "report.md"
        report = path.read_text()
        for name in MAP50:
            assert name in report
        assert "0.7400 ± 0.0100" in report and "it beats plain significantly" in report  # the comparison table
        for run in runs:  # a line per run with its final mAP50 and a link to its experiment
            line = f"| {run['variant']} | {run['seed']} | {run['metrics']['mAP50']:.4f} |"
            assert line in report
            assert f"[{run['experiment']}]({run['experiment']})" in report
        assert "Seeds: 0, 1, 2 (8 finished runs)" in report and "Budget: 4 epochs" in report
        links = embedded_images(report, tmp_path)  # the missing plots were made
        assert links == ["results/plots/map_bars.png", "results/plots/map_vs_latency.png", "results/plots/curves.png"]

    def test_without_latency_links_only_existing_plots(self, tmp_path):
        write_comparison(tmp_path, records(), variants(latency=False))
        report = write_report(tmp_path).read_text()
        assert "map_vs_latency" not in report
        assert len(embedded_images(report, tmp_path)) == 2

    def test_hand_written_comparison_json(self, tmp_path):
        rows = [{"variant": "plain", "schedule": "none", "n_seeds": 1, "epochs": 2, "mAP50_mean": 0.5},
                {"variant": "my-variant", "schedule": "two-stage", "n_seeds": 1, "epochs": 2, "mAP50_mean": 0.625,
                 "mAP50_std": None, "mAP50_delta": 0.125, "mAP50_n_pairs": 1}]  # fmt: skip
        (tmp_path / "results").mkdir()
        (tmp_path / "results" / "comparison.json").write_text(json.dumps({"rows": rows, "runs": [], "variants": []}))
        report = write_report(tmp_path).read_text()
        assert "my-variant" in report and "0.6250" in report and "+0.1250 [n/a]" in report


class TestExperimentReport:
    def test_summary_evaluation_phases_and_curves(self, tmp_path):
        folder = make_experiment(tmp_path / "exp")
        report = write_report(folder).read_text()
        assert report.startswith("# Experiment: cbam-run")
        for fact in ("model: yolov8n-cbam.yaml", "attention: CBAM", "schedule: two-stage", "seed: 7",
                     "pretrained weights: yolov8n-deeppcb.pt", "data: pcb-mini.yaml",
                     "versions: ultralytics 8.4.190, torch 2.5.0"):  # fmt: skip
            assert f"- {fact}" in report
        for row in EVALUATION:
            epochs = "–" if row["epochs"] is None else row["epochs"]
            assert f"| {row['model']} | {epochs} | {row['mAP50']:.4f} | {row['mAP50-95']:.4f} |" in report
        assert "| warmup | done | 2 of 2 | 10 | SGD | 0.01 | 0.6701 | 0.6701 |" in report
        assert "| finetune | done | 3 of 3 | 0 | AdamW | 0.0005 | 0.6459 | 0.6512 |" in report
        assert embedded_images(report, folder) == ["results/plots/curves.png"]
        assert (folder / "results" / "plots" / "curves.png").read_bytes()[:4] == b"\x89PNG"

    def test_interrupted_without_summary(self, tmp_path):
        folder = make_experiment(tmp_path / "exp", summary=False, finetune_ran=False)
        report = write_report(folder).read_text()
        assert "- model: configs/yolov8n-cbam.yaml" in report and "- seed: 7" in report  # from the plan and config
        assert "- pretrained weights: yolov8n-deeppcb.pt" in report and "final model" not in report
        assert "| finetune | pending | 0 of 3 | 0 | AdamW | 0.0005 | – | – |" in report
        assert "after finetune" not in report
        embedded_images(report, folder)

    def test_no_phase_results_no_plot(self, tmp_path):
        folder = tmp_path / "exp"
        folder.mkdir()
        (folder / "experiment.json").write_text(json.dumps({"name": "fresh", "phases": []}))
        report = write_report(folder).read_text()
        assert "No held-out evaluation was recorded." in report and "No phase has started." in report
        assert "![" not in report and not (folder / "results" / "plots").exists()


def test_neither_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither an experiment folder .*experiment.json.* nor a comparison"):
        write_report(tmp_path)
