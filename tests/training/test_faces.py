"""Face models train with the four-phase face schedule by default on the bundled synthetic faces; predict points."""

from __future__ import annotations

import json

import pytest

from tests.helpers.weights import saved_gates, saved_switches
from yolo_attention.training import train
from yolo_attention.training.experiment import read_results


@pytest.mark.slow
def test_face_model_trains_four_phases_by_default_with_the_switches_in_the_weights(tmp_path):
    root = train(
        "yolov8n-face-ecasam-lite.yaml", data="faces-synthetic.yaml", project=str(tmp_path), name="faces",
        epochs=1, imgsz=64, batch=16, workers=0, plots=False, fraction=0.25,
    )  # fmt: skip
    summary = json.loads((root / "results/training_summary.json").read_text())
    assert summary["experiment_info"]["schedule"] == "four-phase-face"  # no schedule named: the face default
    names = [p["name"] for p in summary["phases"]]
    assert names == ["phase1", "phase2a", "phase2b", "phase3"]  # phase1 trains the baseline: no pretrain phase

    def switches(name):
        return saved_switches(root / "checkpoints" / f"{name}_complete.pt")

    assert switches("phase1") == {"ECASAM": {False}, "ECA": {False}, "SAM": {False}}
    assert switches("phase2a") == {"ECASAM": {True}, "ECA": {True}, "SAM": {False}}
    assert switches("phase3") == {"ECASAM": {True}, "ECA": {True}, "SAM": {True}}
    # attention trained from scratch is switched on in 2a as an identity: a zero gate, opened by training
    assert not saved_gates(root / "checkpoints/phase1_complete.pt")
    assert sorted(saved_gates(root / "checkpoints/phase2a_complete.pt")) == [5, 8, 12]
    args = (root / "phase1" / "args.yaml").read_text()
    assert "pose: 6.0" in args  # FeatherFace's landmark weight 0.5 mapped onto Ultralytics' pose gain 12.0
    assert all(read_results(root / n / "results.csv") for n in names)

    from click.testing import CliRunner

    from yolo_attention.cli.main import cli

    out = tmp_path / "predict"
    result = CliRunner().invoke(
        cli,
        ["predict", f"model={root / 'checkpoints/final_model.pt'}", f"source={_val_images()}", f"out={out}",
         "conf=0.0001", "imgsz=64"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = json.loads((out / "keypoints.json").read_text())
    assert found and all(len(d["keypoints"]) == 5 for d in found)  # five points per face
    assert list(out.glob("*.png"))


def _val_images():
    from yolo_attention.resources import DATASET_DIR

    return DATASET_DIR / "faces-synthetic" / "images" / "val"
