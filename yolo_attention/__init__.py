"""yolo-attention: attention modules for Ultralytics YOLOv8, named in a model YAML, trained the careful way.

Importing the package registers every attention module with Ultralytics and hooks weight loading (idempotent); the
training, export, data and evaluation layers load when first used (``yolo_attention.train`` imports training):

    >>> import yolo_attention
    >>> from ultralytics import YOLO
    >>> model = YOLO("yolov8n-cbam.yaml")  # bundled; any scale n/s/m/l/x
"""

from __future__ import annotations

import importlib
from importlib import metadata

from yolo_attention.integration import attention_layer_indices, expose_module, install
from yolo_attention.modules import MODULES, get_module, set_attention
from yolo_attention.modules.registry import ENTRY_POINT_GROUP, add_register_listener
from yolo_attention.modules.registry import register_module as _register_module

__all__ = [
    "__version__",
    "ENTRY_POINT_GROUP",
    "MODULES",
    "LayerMap",
    "attention_layer_indices",
    "correspond",
    "get_module",
    "insert",
    "layer_map",
    "register_module",
    "set_attention",
    "train",
    "transfer_weights",
]

try:
    __version__ = metadata.version("yolo-attention")
except metadata.PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0.0.0+unknown"


def register_module(cls=None, *, name=None, overwrite=False):
    """Register an attention module so model YAMLs can name it; usable as a decorator or a call.

    The class takes the input channels `c1` as its first positional argument and returns a tensor of the input's shape.

    Examples:
        >>> import torch
        >>> class Halve(torch.nn.Module):
        ...     def __init__(self, c1):
        ...         super().__init__()
        ...     def forward(self, x):
        ...         return x / 2
        >>> register_module(Halve) is Halve
        True
    """
    return _register_module(cls, name=name, overwrite=overwrite)


def _load_into(model, weights, key_loader, verbose=True):
    """`BaseModel.load` from now on: the correspondence-aware transfer, imported on the first weight load."""
    from yolo_attention.arch.transfer import load_into

    return load_into(model, weights, key_loader=key_loader, verbose=verbose)


# Public names whose layers load on first use: `import yolo_attention` stays as light as registration allows.
_LAZY = {
    "LayerMap": "yolo_attention.arch.correspondence",
    "correspond": "yolo_attention.arch.correspondence",
    "layer_map": "yolo_attention.arch.correspondence",
    "insert": "yolo_attention.arch.insert",
    "transfer_weights": "yolo_attention.arch.transfer",
    "train": "yolo_attention.training.runner",
}


# Subpackages load on first attribute access too (``yolo_attention.training.freeze_indices`` after a plain import).
_SUBPACKAGES = {
    "arch", "cli", "common", "compare", "data", "eval", "explain", "export", "inference", "report", "training",
}  # fmt: skip


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'yolo_attention' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBPACKAGES)


install(load=_load_into)
add_register_listener(expose_module)  # entry-point modules of installed packages register on first use of MODULES
