"""Shared fixtures: everything is local and tiny; nothing here downloads or needs ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("YOLO_OFFLINE", "1")  # Ultralytics: never try the network from tests


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def trained_cbam(runs_dir) -> Path:
    """best.pt of a one-epoch yolov8n-cbam run on the bundled pcb-mini data (imgsz 64), trained once per session."""
    from ultralytics import YOLO

    import yolo_attention  # noqa: F401

    model = YOLO("yolov8n-cbam.yaml")
    model.train(
        data="pcb-mini.yaml",
        epochs=1,
        imgsz=64,
        batch=8,
        workers=0,
        project=str(runs_dir),
        name="cbam",
        exist_ok=True,
        plots=False,
        verbose=False,
    )
    return runs_dir / "cbam" / "weights" / "best.pt"


@pytest.fixture(scope="session")
def pretrained_baseline(runs_dir) -> Path:
    """Stands in for yolov8n.pt (nothing is downloaded): a yolov8n baseline trained one epoch on pcb-mini."""
    from ultralytics import YOLO

    import yolo_attention  # noqa: F401

    model = YOLO("yolov8n.yaml")
    model.train(
        data="pcb-mini.yaml",
        epochs=1,
        imgsz=64,
        batch=8,
        workers=0,
        project=str(runs_dir),
        name="baseline",
        exist_ok=True,
        plots=False,
        verbose=False,
        val=False,
    )
    return runs_dir / "baseline" / "weights" / "last.pt"


@pytest.fixture(scope="session")
def pcb_batch(repo):
    """Eight real pcb-mini validation images as a (8, 3, 64, 64) float batch in [0, 1]."""
    import numpy as np
    import torch
    from PIL import Image

    images = sorted((repo / "datasets" / "pcb-mini" / "images" / "val").glob("*.jpg"))
    arrays = [np.asarray(Image.open(p).convert("RGB").resize((64, 64)), dtype=np.float32) / 255 for p in images]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
