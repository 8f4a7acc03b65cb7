"""Training: freezing by layer role, staged schedules, experiment folders."""

from __future__ import annotations

from yolo_attention.training.freeze import freeze_indices, keep_frozen_exact

__all__ = ["freeze_indices", "keep_frozen_exact"]
