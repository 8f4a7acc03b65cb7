"""Ultralytics integration: registration of attention modules with Ultralytics' model YAML parser."""

from __future__ import annotations

from yolo_attention.integration.ultralytics_hooks import (
    INTERNALS,
    CheckpointError,
    LayerBuildError,
    RawPredictions,
    attention_layer_indices,
    expose_module,
    forget_loss,
    install,
    read_checkpoint,
    training_loader,
    training_loss,
)

__all__ = [
    "INTERNALS",
    "CheckpointError",
    "LayerBuildError",
    "RawPredictions",
    "attention_layer_indices",
    "expose_module",
    "forget_loss",
    "install",
    "read_checkpoint",
    "training_loader",
    "training_loss",
]
