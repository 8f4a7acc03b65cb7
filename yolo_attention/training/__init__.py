"""Training: freezing by layer role, staged schedules, experiment folders."""

from __future__ import annotations

from yolo_attention.training.freeze import freeze_indices, keep_frozen_exact
from yolo_attention.training.runner import resume_experiment, run_experiment, train
from yolo_attention.training.schedule import Phase, Schedule, load_schedule

__all__ = [
    "Phase",
    "Schedule",
    "freeze_indices",
    "keep_frozen_exact",
    "load_schedule",
    "resume_experiment",
    "run_experiment",
    "train",
]
