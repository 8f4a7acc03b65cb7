"""The one resolver of the files the package bundles (model and dataset YAMLs, pcb-mini, schedules, configs, weights).

It works the same in a wheel and in a source checkout (editable install).

In a wheel, ``model_cfgs/`` and ``datasets/`` are installed inside the package (``yolo_attention/model_cfgs``); in a
checkout they sit at the repository top, beside the package. Both are plain folders found from this file's location,
never through ``importlib.resources`` of a namespace package (whose ``str()`` is not a path).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CONFIG_DIR",
    "DATASET_DIR",
    "MODEL_CFG_DIR",
    "PACKAGE_DIR",
    "SCHEDULE_DIR",
    "WEIGHTS_DIR",
    "bundled_model_cfgs",
    "bundled_weights",
    "find_bundled",
]

PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled_dir(name: str) -> Path:
    """``yolo_attention/<name>`` in a wheel, ``<repository>/<name>`` in a checkout."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    return PACKAGE_DIR / name


MODEL_CFG_DIR = _bundled_dir("model_cfgs")
DATASET_DIR = _bundled_dir("datasets")
SCHEDULE_DIR = PACKAGE_DIR / "schedules"
CONFIG_DIR = PACKAGE_DIR / "configs"
WEIGHTS_DIR = PACKAGE_DIR / "weights"


def bundled_model_cfgs() -> list[Path]:
    """Return the bundled model YAMLs, sorted by name.

    Examples:
        >>> any(p.name == "yolov8-cbam.yaml" for p in bundled_model_cfgs())
        True
    """
    return sorted(MODEL_CFG_DIR.glob("*.yaml"))


def bundled_weights() -> list[Path]:
    """Return the shipped checkpoints (``*.pt``), sorted by name."""
    return sorted(WEIGHTS_DIR.glob("*.pt"))


def find_bundled(name: str | Path) -> Path | None:
    """Return the bundled model YAML, dataset YAML or checkpoint called `name`, or None.

    Only bare file names are looked up (``yolov8-cbam.yaml``, ``pcb-mini.yaml``, ``yolov8n-deeppcb.pt``): a name with
    a folder in it is the user's own path and is never redirected to a bundled file.

    Examples:
        >>> find_bundled("pcb-mini.yaml").name
        'pcb-mini.yaml'
        >>> find_bundled("runs/pcb-mini.yaml") is None
        True
    """
    name = str(name)
    if not name or Path(name).name != name:
        return None
    for folder in (MODEL_CFG_DIR, DATASET_DIR, WEIGHTS_DIR):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
