"""Ultralytics integration: registration of attention modules with Ultralytics' model YAML parser."""

from __future__ import annotations

from yolo_attention.integration.ultralytics_hooks import (
    INTERNALS,
    LayerBuildError,
    attention_layer_indices,
    expose_module,
    install,
)

__all__ = ["INTERNALS", "LayerBuildError", "attention_layer_indices", "expose_module", "install"]
