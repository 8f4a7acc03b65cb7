"""The residual gate in its lean form (`gated`): equal to `x + g * (attend(x) - x)`, exact identity at g = 0."""

from __future__ import annotations

import pytest
import torch

from yolo_attention.modules import CBAM, ECA, ECASAM, SAM, SE, CoordAtt

MODULES = [SE, ECA, SAM, CBAM, ECASAM, CoordAtt]


def _reference(m, x, g):
    return x + g * (m.attend(x) - x)


@pytest.mark.parametrize("cls", MODULES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("training", [False, True])
def test_lean_gate_equals_the_residual_formula(cls, training):
    torch.manual_seed(0)
    m = cls(32).train(training)
    x = torch.randn(2, 32, 9, 13)
    for g in (0.3, 1.0, -0.2):
        m.enable_residual_gate(g)
        with torch.no_grad():
            torch.testing.assert_close(m(x), _reference(m, x, torch.tensor(g)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", MODULES, ids=lambda c: c.__name__)
def test_closed_gate_is_an_exact_identity(cls):
    m = cls(16).enable_residual_gate(0.0).eval()
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(m(x), x)


@pytest.mark.parametrize("cls,part", [(CBAM, "spatial"), (CBAM, "channel"), (ECASAM, "sam"), (ECASAM, "eca")])
def test_lean_gate_honours_each_part_switch(cls, part):
    torch.manual_seed(0)
    m = cls(32).enable_residual_gate(0.4).eval()
    getattr(m, part).enabled = False
    x = torch.randn(1, 32, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(m(x), _reference(m, x, torch.tensor(0.4)), rtol=1e-5, atol=1e-6)


def test_coordatt_inference_path_equals_the_training_path():
    """Out of training, rows and columns go through the shared conv separately (no transposes): same numbers."""
    torch.manual_seed(0)
    m = CoordAtt(32)
    m.bn1.running_mean.uniform_(-0.5, 0.5)
    m.bn1.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 32, 7, 11)
    m.eval()
    lean = m.weights(x)
    m.bn1.eval()  # the joint (training) path with BatchNorm's running statistics, i.e. what eval computes
    m.training = True
    joint = m.weights(x)
    for a, b in zip(lean, joint):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
