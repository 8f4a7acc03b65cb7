"""Which evaluation protocol a dataset gets when none is named: DeepPCB's for DeepPCB's classes, else Ultralytics'."""

from __future__ import annotations

__all__ = ["PROTOCOLS", "protocol_for"]

PROTOCOLS = ("deeppcb", "ultralytics", "widerface")


def protocol_for(data: str) -> str:
    """``deeppcb`` for data with DeepPCB's six classes (in its order), else ``ultralytics``."""
    from ultralytics.data.utils import check_det_dataset

    from yolo_attention.data.deeppcb_release import DEEPPCB_CLASSES

    names = check_det_dataset(str(data)).get("names", {})
    names = list(names.values()) if isinstance(names, dict) else list(names)
    return "deeppcb" if names == list(DEEPPCB_CLASSES) else "ultralytics"
