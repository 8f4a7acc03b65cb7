"""Dataset converters: public defect-detection releases to Ultralytics YOLO datasets. Imports no Ultralytics."""

from __future__ import annotations

from yolo_attention.data.deeppcb import DEEPPCB_CLASSES, ConversionReport, convert_deeppcb

__all__ = ["DEEPPCB_CLASSES", "ConversionReport", "convert_deeppcb"]
