"""Eigen-CAM of a detector's feature maps, made with pytorch-grad-cam (the optional `explain` extra).

Eigen-CAM (Eigen-CAM: Class Activation Map using Principal Components — arXiv:2008.00299) projects a layer's
activations on their first principal component. It needs no gradients and no class target, which is why
pytorch-grad-cam's documentation recommends it for YOLO detectors, whose outputs are not one score per class. By
default it is taken at the feature maps the detection head reads (P3, P4, P5), each scaled to the input and averaged
(the library's multi-layer mean), so it shows what the detections are made from.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from yolo_attention.common.models import layers_of, task_model
from yolo_attention.explain.hooks import parse_indices

__all__ = ["CAM_INSTALL", "default_cam_layers", "eigen_cam", "select_cam_layers"]

CAM_INSTALL = "pip install 'yolo-attention[explain]'"
"""How to get the optional CAM dependency (grad-cam)."""


def default_cam_layers(model: nn.Module) -> list[int]:
    """The layers the model's head reads (`head.f`: P3, P4, P5 for YOLOv8), else the layer before the head.

    Examples:
        >>> from torch import nn
        >>> default_cam_layers(nn.Sequential(nn.Conv2d(3, 8, 1), nn.Conv2d(8, 8, 1), nn.Identity()))
        [1]
    """
    seq = layers_of(model)
    head = seq[-1]
    sources = getattr(head, "f", None)
    if isinstance(sources, (list, tuple)) and all(isinstance(i, int) and i >= 0 for i in sources):
        return list(sources)
    return [len(seq) - 2]


def select_cam_layers(model: nn.Module, layers: int | str | Sequence[int] | None = None) -> list[int]:
    """Layer indices for the CAM: the given ones (negative counts from the end), or `default_cam_layers`.

    Raises:
        ValueError: If an index is not a layer of the model, or is its head.

    Examples:
        >>> from torch import nn
        >>> select_cam_layers(nn.Sequential(nn.Conv2d(3, 8, 1), nn.Identity()), "-2")
        [0]
    """
    seq = layers_of(model)
    wanted = parse_indices(layers, "cam_layers")
    if wanted is None:
        return default_cam_layers(seq)
    n = len(seq)
    bad = [i for i in wanted if not -n <= i < n or i % n == n - 1]
    if bad:
        raise ValueError(f"cam_layers={layers}: {bad} not a layer before the head; valid: 0..{n - 2} (or -{n}..-2)")
    return sorted({i % n for i in wanted})


def eigen_cam(model: nn.Module, x: torch.Tensor, layers: Sequence[int]) -> np.ndarray:
    """Eigen-CAM of `model` on `x` at the given layers, with pytorch-grad-cam's `EigenCAM`.

    Args:
        model (nn.Module): A `YOLO` or its task model, in eval mode.
        x (torch.Tensor): Input batch (B, 3, H, W) on the model's device.
        layers (Sequence[int]): Layer indices whose outputs are projected (`select_cam_layers`).

    Returns:
        (np.ndarray): (B, H, W) float32 maps in [0, 1].

    Raises:
        ImportError: If grad-cam is not installed; the message says how to install it.
    """
    try:
        from pytorch_grad_cam import EigenCAM
    except ImportError as e:
        raise ImportError(f"Eigen-CAM needs grad-cam: {CAM_INSTALL}") from e

    net = task_model(model)
    seq = layers_of(net)
    cam = EigenCAM(net, target_layers=[seq[i] for i in layers])
    try:
        # targets=[]: Eigen-CAM uses none, and the library would otherwise argmax the detector's tuple output.
        with torch.no_grad():
            return cam(x, targets=[])
    finally:
        cam.activations_and_grads.release()
