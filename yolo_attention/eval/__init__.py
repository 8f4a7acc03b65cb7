"""Evaluation protocols beside Ultralytics' own: DeepPCB's, exactly as its released evaluation script scores."""

from __future__ import annotations

from yolo_attention.eval.deeppcb import (
    DEEPPCB_IOU,
    DEEPPCB_TYPES,
    ClassScore,
    DeepPCBResult,
    evaluate_deeppcb,
    evaluate_model,
    format_report,
    read_ground_truth,
    read_submission,
    run_official_script,
    write_ground_truth,
    write_submission,
)

__all__ = [
    "DEEPPCB_IOU",
    "DEEPPCB_TYPES",
    "ClassScore",
    "DeepPCBResult",
    "evaluate_deeppcb",
    "evaluate_model",
    "format_report",
    "read_ground_truth",
    "read_submission",
    "run_official_script",
    "write_ground_truth",
    "write_submission",
]
