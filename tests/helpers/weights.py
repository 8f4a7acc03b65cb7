"""Assertions on saved weights shared by the transfer and training tests."""

from __future__ import annotations

import torch
from ultralytics.nn.tasks import load_checkpoint

from yolo_attention import correspond


def assert_frozen_equal(source_path, trained, frozen) -> int:
    """Assert every tensor of the `frozen` layers in `trained` equals its source tensor bit for bit.

    `trained` is a checkpoint path or a live model (compare the live FP32 model: checkpoints hold an FP16 EMA copy).
    Layers are mapped by correspondence, so the source may be the baseline the trained model was built from. Returns
    the number of tensors compared (parameters and buffers, BatchNorm statistics included).
    """
    source, _ = load_checkpoint(source_path)
    if not isinstance(trained, torch.nn.Module):
        trained, _ = load_checkpoint(trained)
    mapping = correspond(source, trained).to_source()
    src_state, dst_state = source.state_dict(), trained.state_dict()
    n = 0
    for d in frozen:
        for key, value in dst_state.items():
            if key.startswith(f"model.{d}."):
                assert torch.equal(value, src_state[f"model.{mapping[d]}.{key.split('.', 2)[2]}"]), key
                n += 1
    return n


def saved_switches(checkpoint) -> dict[str, set[bool]]:
    """{attention module class name: the set of its instances' on/off switches} in a saved checkpoint."""
    from yolo_attention.modules import AttentionModule

    model, _ = load_checkpoint(checkpoint)
    kinds: dict[str, set[bool]] = {}
    for m in model.modules():
        if isinstance(m, AttentionModule):
            kinds.setdefault(type(m).__name__, set()).add(m.enabled)
    return kinds


def saved_gates(checkpoint) -> dict[int, float]:
    """{layer index: residual gate} of each attention layer that carries one in a saved checkpoint."""
    from yolo_attention.modules import AttentionModule

    model, _ = load_checkpoint(checkpoint)
    return {
        i: float(m.residual_gate)
        for i, m in enumerate(model.model)
        if isinstance(m, AttentionModule) and m.residual_gate is not None
    }
