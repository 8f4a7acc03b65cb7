"""Shared fixtures: everything is local and tiny; nothing here downloads or needs ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("YOLO_OFFLINE", "1")  # Ultralytics: never try the network from tests


def _share_the_cores() -> None:
    """Under pytest-xdist, give each worker its share of the cores, before torch is imported.

    Each worker runs whole test files; with every worker's OpenMP pool as wide as the machine, threads spinning for the
    cores another worker is using make the numeric tests many times slower. Subprocesses inherit the setting.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        threads = str(max(1, cores // workers))
        os.environ.setdefault("OMP_NUM_THREADS", threads)  # a setting of the user's own stands
        os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])


_share_the_cores()


def pytest_configure(config):
    """Before pytest-xdist starts its workers, write the bundled datasets' label caches once.

    Ultralytics writes `labels/*.cache` beside the data on first use; two workers doing that at once can race (its
    save checks for an old file, then unlinks it, outside its error handling).
    """
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    from ultralytics.data.dataset import YOLODataset
    from ultralytics.data.utils import check_det_dataset

    import yolo_attention  # noqa: F401  (finds the bundled dataset YAMLs)

    for name, task in (("pcb-mini.yaml", "detect"), ("faces-synthetic.yaml", "pose")):
        data = check_det_dataset(name)
        for split in ("train", "val"):
            YOLODataset(img_path=data[split], data=data, task=task, imgsz=64, augment=False)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


def train_tiny(model_cfg: str, runs_dir: Path, name: str, **extra) -> Path:
    """Train `model_cfg` one epoch on the bundled pcb-mini data at imgsz 64; return the run folder."""
    from ultralytics import YOLO

    import yolo_attention  # noqa: F401

    YOLO(model_cfg).train(
        data="pcb-mini.yaml",
        epochs=1,
        imgsz=64,
        batch=8,
        workers=0,
        project=str(runs_dir),
        name=name,
        exist_ok=True,
        plots=False,
        verbose=False,
        **extra,
    )
    return runs_dir / name


@pytest.fixture(scope="session")
def trained_cbam(runs_dir) -> Path:
    """best.pt of a one-epoch yolov8n-cbam run on the bundled pcb-mini data (imgsz 64), trained once per session."""
    return train_tiny("yolov8n-cbam.yaml", runs_dir, "cbam") / "weights" / "best.pt"


@pytest.fixture(scope="session")
def pretrained_baseline(runs_dir) -> Path:
    """Stands in for yolov8n.pt (nothing is downloaded): a yolov8n baseline trained one epoch on pcb-mini."""
    return train_tiny("yolov8n.yaml", runs_dir, "baseline", val=False) / "weights" / "last.pt"


@pytest.fixture(scope="session")
def pcb_batch(repo):
    """Eight real pcb-mini validation images as a (8, 3, 64, 64) float batch in [0, 1]."""
    import numpy as np
    import torch
    from PIL import Image

    images = sorted((repo / "datasets" / "pcb-mini" / "images" / "val").glob("*.jpg"))
    arrays = [np.asarray(Image.open(p).convert("RGB").resize((64, 64)), dtype=np.float32) / 255 for p in images]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
