"""Where the bundled model YAMLs and datasets live, in a wheel and in a source checkout."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["MODEL_CFG_DIR", "DATASET_DIR", "bundled_model_cfgs", "find_bundled"]


def _resource_dir(package: str, checkout_name: str) -> Path:
    """Return the folder of a data package, falling back to the repository layout when run from a checkout."""
    try:
        path = Path(str(importlib.resources.files(package)))
        if path.is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[1] / checkout_name


MODEL_CFG_DIR = _resource_dir("yolo_attention.model_cfgs", "model_cfgs")
DATASET_DIR = _resource_dir("yolo_attention.datasets", "datasets")


def bundled_model_cfgs() -> list[Path]:
    """Return the bundled model YAMLs, sorted by name.

    Examples:
        >>> any(p.name == "yolov8-cbam.yaml" for p in bundled_model_cfgs())
        True
    """
    return sorted(MODEL_CFG_DIR.glob("*.yaml"))


def find_bundled(name: str | Path) -> Path | None:
    """Return the bundled model YAML or dataset YAML called `name`, or None.

    Only bare file names are looked up (``yolov8-cbam.yaml``, ``pcb-mini.yaml``): a name with a folder in it is the
    user's own path and is never redirected to a bundled file.

    Examples:
        >>> find_bundled("pcb-mini.yaml").name
        'pcb-mini.yaml'
        >>> find_bundled("runs/pcb-mini.yaml") is None
        True
    """
    name = str(name)
    if not name or Path(name).name != name:
        return None
    for folder in (MODEL_CFG_DIR, DATASET_DIR):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
