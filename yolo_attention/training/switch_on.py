"""Attention switched on part-way through a schedule starts as an exact identity.

A schedule that keeps attention off for its first phase (four-phase from scratch: the detector trains alone) leaves the
attention layers' weights at their random initialisation; switching them on in the next phase then multiplies every
feature map they pass by random weights, and the detector's accuracy collapses before the attention has learnt
anything (measured on the synthetic faces: mAP50 0.64 at the end of phase 1, 0.60 after 2a, 0.33 after 2b). A layer
that goes from off (its output is its input) to on therefore gets a residual gate at 0 when it has none: its output
stays its input when it is switched on, and training opens the gate as far as the attention helps
(`AttentionModule.enable_residual_gate`). Layers that come in with a gate (inserted into a trained model by the
transfer) keep it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch

from yolo_attention.arch.correspondence import layer_map, layers_of
from yolo_attention.modules import AttentionModule, set_attention

__all__ = ["gate_layers_switched_on", "layer_is_identity"]


def _outermost(layer: torch.nn.Module) -> list[AttentionModule]:
    """The outermost attention modules of a layer (the layer itself, or each block of a repeated layer)."""
    return [layer] if isinstance(layer, AttentionModule) else [m for m in layer if isinstance(m, AttentionModule)]


def layer_is_identity(module: AttentionModule) -> bool:
    """Whether the attention module returns its input: switched off, or every attention part inside it switched off.

    Examples:
        >>> from yolo_attention.modules import ECASAM
        >>> m = ECASAM(16)
        >>> m.eca.enabled = m.sam.enabled = False
        >>> layer_is_identity(m), layer_is_identity(ECASAM(16))
        (True, False)
    """
    if not module.enabled:
        return True
    parts = [m for m in module.children() if isinstance(m, AttentionModule)]  # CBAM's halves, ECASAM's ECA and SAM
    return bool(parts) and all(layer_is_identity(p) for p in parts)


def gate_layers_switched_on(model: torch.nn.Module, switches: Mapping[str, bool]) -> list[int]:
    """Give a zero residual gate to each attention layer that is off in `model` and that `switches` turn on.

    `model` carries the switch state the previous phase ended with; the phase's trainer builds its model with every
    module on and then applies `switches` (`set_attention`, ``all`` first), which is simulated here on a copy. Only
    the outermost module of a layer is gated (a gate inside a closed gate would get no gradient).

    Args:
        model (torch.nn.Module): The Ultralytics model the phase starts from.
        switches (Mapping[str, bool]): The phase's ``attention`` switches (``{}``: everything on).

    Returns:
        (list[int]): Indices of the layers given a gate.
    """
    preview = copy.deepcopy(model)
    for m in preview.modules():
        if isinstance(m, AttentionModule):
            m.enabled = True
    if switches:
        set_attention(preview, dict(switches))
    layers, after = layers_of(model), layers_of(preview)
    gated = []
    for i in layer_map(model).attention:
        for before, now in zip(_outermost(layers[i]), _outermost(after[i])):
            if before.residual_gate is None and layer_is_identity(before) and not layer_is_identity(now):
                before.enable_residual_gate(0.0)
                gated.append(i)
    return sorted(set(gated))
