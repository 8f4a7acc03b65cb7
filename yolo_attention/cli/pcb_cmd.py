"""Deprecated: the PCB commands moved to cli/predict_cmd.py, cli/val_cmd.py and cli/convert_cmd.py (same names).

This alias goes in a later release.
"""

import warnings

from yolo_attention.cli.convert_cmd import hripcb
from yolo_attention.cli.predict_cmd import predict
from yolo_attention.cli.val_cmd import protocol_for as _protocol_for  # noqa: F401  the old private name
from yolo_attention.cli.val_cmd import val

__all__ = ["hripcb", "predict", "val"]

warnings.warn(
    "yolo_attention.cli.pcb_cmd: use yolo_attention.cli.predict_cmd, val_cmd and convert_cmd",
    DeprecationWarning,
    stacklevel=2,
)
