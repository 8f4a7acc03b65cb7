"""Dataset converters: public defect-detection releases to Ultralytics YOLO datasets. Imports no Ultralytics."""

from __future__ import annotations

from yolo_attention.data.deeppcb import DEEPPCB_CLASSES, ConversionReport, convert_deeppcb
from yolo_attention.data.hripcb import HRIPCB_CLASSES, HRIPCBReport, convert_hripcb

__all__ = ["DEEPPCB_CLASSES", "HRIPCB_CLASSES", "ConversionReport", "HRIPCBReport", "convert_deeppcb", "convert_hripcb"]
