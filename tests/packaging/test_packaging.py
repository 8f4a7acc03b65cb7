"""A plain (non-editable) install must carry the bundled model YAMLs and the pcb-mini dataset."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest


@pytest.mark.slow
def test_wheel_ships_model_cfgs_and_dataset(repo, tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(repo),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = next(tmp_path.glob("yolo_attention-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "yolo_attention/model_cfgs/yolov8-cbam.yaml" in names
    assert "yolo_attention/model_cfgs/yolov8-pose-ecasam.yaml" in names
    assert "yolo_attention/datasets/pcb-mini.yaml" in names
    assert "yolo_attention/datasets/pcb-mini/LICENSE" in names
    assert sum(n.startswith("yolo_attention/datasets/pcb-mini/images/train/") for n in names) == 32
    assert sum(n.startswith("yolo_attention/datasets/pcb-mini/labels/val/") for n in names) == 8
    assert any(n.endswith("entry_points.txt") for n in names)
    assert {"yolo_attention/schedules/two-stage.yaml", "yolo_attention/schedules/four-phase.yaml"} <= names
    assert {"yolo_attention/configs/quickstart.yaml", "yolo_attention/configs/example.yaml"} <= names
    assert "yolo_attention/training/runner.py" in names
