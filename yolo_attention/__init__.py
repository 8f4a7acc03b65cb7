"""yolo-attention: attention modules for Ultralytics YOLOv8, named in a model YAML, trained the careful way.

Importing the package registers every attention module with Ultralytics (idempotent, nothing else happens):

    >>> import yolo_attention
    >>> from ultralytics import YOLO
    >>> model = YOLO("yolov8n-cbam.yaml")  # bundled; any scale n/s/m/l/x
"""

from __future__ import annotations

import logging
from importlib import metadata

from yolo_attention.correspondence import LayerMap, correspond, layer_map
from yolo_attention.insertion import insert
from yolo_attention.integration import attention_layer_indices, expose_module, install
from yolo_attention.modules import MODULES, get_module, set_attention
from yolo_attention.modules.registry import add_register_listener
from yolo_attention.modules.registry import register_module as _register_module
from yolo_attention.training.runner import train
from yolo_attention.transfer import transfer_weights

__all__ = [
    "__version__",
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

ENTRY_POINT_GROUP = "yolo_attention.modules"
LOGGER = logging.getLogger(__name__)


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


def _load_entry_points() -> None:
    """Register the modules that installed third-party packages declare in the `yolo_attention.modules` group."""
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = entry.load()
            if isinstance(obj, type):
                register_module(obj, name=entry.name)
        except Exception as e:  # a broken third-party package must not break `import yolo_attention`
            LOGGER.warning(f"yolo-attention: entry point '{entry.name}' ({entry.value}) could not be loaded: {e}")


install()
add_register_listener(expose_module)
_load_entry_points()
