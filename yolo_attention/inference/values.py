"""Checks of the values every prediction and validation takes: the inference size and the confidence threshold.

Ultralytics quietly raises an inference size below 32 to 32 (``imgsz=-5`` runs at 32) and takes any confidence
(``conf=5`` keeps nothing). Prediction and validation refuse both as export, explain and train do, before a model runs.
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["MIN_IMGSZ", "check_conf", "check_imgsz"]

MIN_IMGSZ = 32
"""The smallest inference size: YOLOv8's largest stride."""


def check_imgsz(imgsz: Any, key: str = "imgsz") -> None:
    """Raise a `ValueError` naming `imgsz` and what is valid unless it is an int >= 32 (None passes: a default).

    Examples:
        >>> check_imgsz(640)
        >>> check_imgsz(-5)
        Traceback (most recent call last):
        ...
        ValueError: imgsz must be an int >= 32 (a square inference size, e.g. 640), got -5
    """
    if imgsz is None:
        return
    if isinstance(imgsz, bool) or not isinstance(imgsz, numbers.Integral) or imgsz < MIN_IMGSZ:
        raise ValueError(f"{key} must be an int >= {MIN_IMGSZ} (a square inference size, e.g. 640), got {imgsz!r}")


def check_conf(conf: Any, key: str = "conf") -> None:
    """Raise a `ValueError` naming `conf` and what is valid unless it is a number in [0, 1].

    Examples:
        >>> check_conf(0.25)
        >>> check_conf(5)
        Traceback (most recent call last):
        ...
        ValueError: conf=5 is not a confidence in [0, 1], e.g. 0.25
    """
    if isinstance(conf, bool) or not isinstance(conf, numbers.Real) or not 0 <= conf <= 1:
        raise ValueError(f"{key}={conf!r} is not a confidence in [0, 1], e.g. 0.25")
