"""Evaluation protocols beside Ultralytics' own: DeepPCB's (IoU > 0.33, same class; AP and F-score)."""

from __future__ import annotations

from yolo_attention.eval.deeppcb_protocol import (
    DEEPPCB_IOU,
    ClassScore,
    DeepPCBResult,
    evaluate_deeppcb,
    evaluate_model,
    read_submission,
    write_submission,
)

__all__ = [
    "DEEPPCB_IOU",
    "ClassScore",
    "DeepPCBResult",
    "evaluate_deeppcb",
    "evaluate_model",
    "read_submission",
    "write_submission",
]
