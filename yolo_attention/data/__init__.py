"""Dataset converters: public defect-detection and face releases to Ultralytics datasets. Imports no Ultralytics."""

from __future__ import annotations

from yolo_attention.data.deeppcb import DEEPPCB_CLASSES, ConversionReport, convert_deeppcb
from yolo_attention.data.faces_synthetic import make_synthetic_faces
from yolo_attention.data.hripcb import HRIPCB_CLASSES, HRIPCBReport, convert_hripcb
from yolo_attention.data.widerface import WiderFaceReport, convert_widerface

__all__ = [
    "DEEPPCB_CLASSES",
    "HRIPCB_CLASSES",
    "ConversionReport",
    "HRIPCBReport",
    "WiderFaceReport",
    "convert_deeppcb",
    "convert_hripcb",
    "convert_widerface",
    "make_synthetic_faces",
]
