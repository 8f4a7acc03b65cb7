"""See what attention looks at: each attention layer's maps over the image, an Eigen-CAM, and the detections.

`probes` says, per module class, which of its submodules to hook; `hooks` captures the weights the modules compute in
a forward pass (forward hooks on their own gates); `maps` draws them over the image; `cam` makes the Eigen-CAM with
pytorch-grad-cam (optional: ``pip install 'yolo-attention[explain]'``); `explainer` runs them per image
(`yolo-attn explain`).

    >>> import yolo_attention
    >>> from yolo_attention.explain import explain
    >>> explain("best.pt", "datasets/pcb-mini/images/val", imgsz=640)  # doctest: +SKIP
"""

from __future__ import annotations

from yolo_attention.explain.cam import CAM_INSTALL, default_cam_layers, eigen_cam, select_cam_layers
from yolo_attention.explain.explainer import Explanation, explain, letterbox, parse_query
from yolo_attention.explain.hooks import (
    AttentionCapture,
    AttentionRecord,
    LayerAttention,
    capture_attention,
    select_layers,
)
from yolo_attention.explain.maps import channel_weights, render_layer, render_map, spatial_map, to_image
from yolo_attention.explain.probes import KINDS, PROBES, Probe, hook_gate, register_probe

__all__ = [
    "CAM_INSTALL",
    "KINDS",
    "PROBES",
    "AttentionCapture",
    "AttentionRecord",
    "Explanation",
    "LayerAttention",
    "Probe",
    "capture_attention",
    "channel_weights",
    "default_cam_layers",
    "eigen_cam",
    "explain",
    "hook_gate",
    "letterbox",
    "parse_query",
    "register_probe",
    "render_layer",
    "render_map",
    "select_cam_layers",
    "select_layers",
    "spatial_map",
    "to_image",
]
