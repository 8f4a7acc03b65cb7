"""Ultralytics trainers with a configurable gradient-clipping norm (Ultralytics hard-codes 10.0) and ramp length.

The classes live in an importable module so that multi-GPU DDP workers, which unpickle the trainer class, find them;
importing this module imports yolo_attention, which registers the attention modules.
"""

from __future__ import annotations

from ultralytics.models.yolo.detect import DetectionTrainer
from ultralytics.models.yolo.pose import PoseTrainer

from yolo_attention.integration.ultralytics_hooks import RampIterations, clip_grad_norm_at

__all__ = ["AttentionDetectionTrainer", "AttentionPoseTrainer", "trainer_for"]


class ClipNormMixin:
    """Clip gradients at `self.clip_grad_norm` (set per phase by a callback); None keeps Ultralytics' 10.0."""

    clip_grad_norm: float | None = None

    def optimizer_step(self):
        """Ultralytics' optimizer step, clipping at the configured norm."""
        with clip_grad_norm_at(self.clip_grad_norm):
            super().optimizer_step()


class AttentionDetectionTrainer(ClipNormMixin, RampIterations, DetectionTrainer):
    """Detection trainer with a configurable clipping norm and learning-rate ramp."""


class AttentionPoseTrainer(ClipNormMixin, RampIterations, PoseTrainer):
    """Pose trainer with a configurable clipping norm and learning-rate ramp."""


def trainer_for(task: str) -> type:
    """Return the trainer class for an Ultralytics task (``detect`` or ``pose``)."""
    trainers = {"detect": AttentionDetectionTrainer, "pose": AttentionPoseTrainer}
    if task not in trainers:
        raise ValueError(f"staged training supports tasks {', '.join(trainers)}, got '{task}'")
    return trainers[task]
