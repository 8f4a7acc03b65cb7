"""Inference beyond Ultralytics' own: sliced prediction on full PCB boards through sahi."""

from __future__ import annotations

from yolo_attention.inference.sliced import Defect, load_detector, predict_board, predict_boards, write_defects

__all__ = ["Defect", "load_detector", "predict_board", "predict_boards", "write_defects"]
