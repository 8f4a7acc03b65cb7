"""Attention switched on part-way through a schedule starts as an exact identity (training/switch_on.py)."""

from __future__ import annotations

import pytest
import torch
from ultralytics import YOLO

import yolo_attention  # noqa: F401
from yolo_attention.modules import AttentionModule, set_attention
from yolo_attention.training.switch_on import gate_layers_switched_on


def _as_the_trainer_builds_it(model: torch.nn.Module, switches: dict) -> None:
    """Every module on (a fresh build), then the phase's switches (the on_pretrain_routine_end callback)."""
    for m in model.modules():
        if isinstance(m, AttentionModule):
            m.enabled = True
    set_attention(model, switches)


@pytest.mark.parametrize("gate", [True, False])
def test_switching_on_attention_that_was_off_keeps_the_output(gate):
    torch.manual_seed(0)
    model = YOLO("yolov8n-ecasam.yaml").model.eval()
    set_attention(model, {"all": False})  # how phase 1 of four-phase ends: the detector trained alone
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        before = model(x)[0]
    if gate:
        assert gate_layers_switched_on(model, {"ECA": True, "SAM": False}) == [5, 8, 12]
    _as_the_trainer_builds_it(model, {"ECA": True, "SAM": False})  # phase 2a
    with torch.no_grad():
        after = model(x)[0]
    # with the gate the switch is an exact identity; without it random attention weights change every output
    assert torch.equal(before, after) is gate


def test_layers_already_on_or_gated_are_left_alone():
    model = YOLO("yolov8n-ecasam.yaml").model
    assert gate_layers_switched_on(model, {}) == []  # on before and after
    set_attention(model, {"all": False})
    assert gate_layers_switched_on(model, {"all": False}) == []  # stays off
    model.model[5].enable_residual_gate(0.3)  # a transferred layer comes with its gate
    assert gate_layers_switched_on(model, {"ECA": True}) == [8, 12]
    assert float(model.model[5].residual_gate) == pytest.approx(0.3)
    # only the outermost module gets a gate: a gate inside a closed gate would never get a gradient
    assert model.model[8].eca.residual_gate is None and model.model[8].sam.residual_gate is None
