"""The package as users get it: a built wheel, installed non-editable into a fresh environment, used from an empty
folder.

One wheel is built per run, from a copy of the checkout's files (git's tracked and not-ignored ones): setuptools
builds in the source's build/ folder and rewrites its egg-info, which would race with the other test workers and
could ship files a stale build/ still holds. The editable install the rest of the suite runs on finds bundled files
in the checkout; this test proves the wheel finds its own (model YAMLs, pcb-mini, schedules, configs, shipped
weights). For speed the environment reuses the already installed dependencies (a venv with system site-packages,
the wheel installed with --no-deps).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest


def _run(cmd, cwd, env, timeout=600):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout + out.stderr


def _source_copy(repo: Path, dest: Path) -> Path:
    """Copy what a fresh clone of `repo` (with its uncommitted changes) holds to `dest`: no build/, runs/ or caches."""
    import shutil

    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo, capture_output=True
    )
    if listed.returncode != 0:  # not a git checkout (an unpacked sdist): everything but build outputs
        ignore = shutil.ignore_patterns("build", "dist", "runs", "*.egg-info", "__pycache__", ".*")
        return Path(shutil.copytree(repo, dest, ignore=ignore))
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (repo / name).is_file():  # a deleted file is still listed until the deletion is committed
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(repo, tmp_path_factory) -> Path:
    source = _source_copy(repo, tmp_path_factory.mktemp("source") / "yolo-attention")
    wheels = tmp_path_factory.mktemp("wheels")
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q"]
    _run([*build, "-w", str(wheels)], cwd=wheels, env=os.environ.copy())
    return next(wheels.glob("yolo_attention-*.whl"))


@pytest.mark.slow
def test_wheel_ships_model_cfgs_and_dataset(wheel):
    """A plain (non-editable) install must carry the bundled model YAMLs, the pcb-mini dataset and the schedules."""
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


@pytest.mark.slow
def test_wheel_install_works_from_an_empty_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], cwd=tmp_path, env=os.environ.copy())
    python, cli = venv / "bin" / "python", venv / "bin" / "yolo-attn"
    _run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], tmp_path, os.environ.copy()
    )

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(tmp_path / "ultralytics-config"))
    script = (
        "import yolo_attention, pathlib, sys\n"
        "from ultralytics import YOLO\n"
        "from ultralytics.data.utils import check_det_dataset\n"
        "print('FILE', yolo_attention.__file__)\n"
        "assert YOLO('yolov8n-cbam.yaml').model.yaml['backbone']\n"
        "assert YOLO('yolov8n-pcb-cbam.yaml').model.yaml['backbone']\n"
        "info = check_det_dataset('pcb-mini.yaml')\n"
        "assert pathlib.Path(info['train']).is_dir() and pathlib.Path(info['val']).is_dir(), info\n"
        "from yolo_attention.resources import find_bundled\n"
        "print('WEIGHTS', [p.name for p in yolo_attention.resources.bundled_weights()])\n"
    )
    out = _run([str(python), "-c", script], empty, env)
    installed = out.split("FILE ", 1)[1].splitlines()[0]
    assert installed.startswith(str(venv)), f"imported {installed}, not the wheel in {venv}"

    listing = _run([str(cli), "models"], empty, env)
    assert "yolov8n-cbam.yaml" in listing and "yolov8n-pcb-cbam.yaml" in listing
    _run(
        [
            str(cli),
            "train",
            "model=yolov8n-cbam.yaml",
            "data=pcb-mini.yaml",
            "schedule=none",
            "epochs=1",
            "imgsz=64",
            "batch=8",
            "workers=0",
            "project=exp",
        ],
        empty,
        env,
    )
    summaries = list((empty / "exp").rglob("training_summary.json"))
    assert len(summaries) == 1
    assert not (empty / "datasets").exists()  # nothing was looked for or written beside the user's folder
