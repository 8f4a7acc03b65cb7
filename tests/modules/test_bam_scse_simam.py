"""BAM, scSE and SimAM: the shared module checks (kornia BaseTester pattern) and references written from the papers."""

from __future__ import annotations

import re
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.helpers.threads import single_thread  # noqa: F401  autouse: one thread here
from tests.modules.test_modules import _AttentionTester, onnx_parity, rand, randomize_
from yolo_attention.modules import BAM, MODULES, SimAM, get_module, is_attention, scSE


# ----------------------------------------------------------------------------------------------- references
def conv1x1(t: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """A 1x1 convolution written as a channel matrix product."""
    y = torch.einsum("oc,bchw->bohw", conv.weight.flatten(1), t)
    return y if conv.bias is None else y + conv.bias[None, :, None, None]


def ref_batch_norm(bn: nn.BatchNorm2d, t: torch.Tensor) -> torch.Tensor:
    """BatchNorm over (B, H, W) per channel: batch statistics in training (running ones for a single value)."""
    if bn.training and t.numel() > t.shape[1]:
        mean, var = t.mean(dim=(0, 2, 3)), t.var(dim=(0, 2, 3), unbiased=False)
    else:
        mean, var = bn.running_mean, bn.running_var
    normed = (t - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + bn.eps)
    return normed * bn.weight[None, :, None, None] + bn.bias[None, :, None, None]


def ref_bam(m: BAM, x: torch.Tensor) -> torch.Tensor:
    """The paper's eqs. 1-3: x + x * sigmoid(BN(MLP(avgpool x)) + BN(f3(f2(f1(f0(x))))))."""
    hidden = torch.relu(conv1x1(x.mean(dim=(2, 3), keepdim=True), m.fc1))
    m_c = ref_batch_norm(m.bn_c, conv1x1(hidden, m.fc2))
    s = torch.relu(ref_batch_norm(m.bns[0], conv1x1(x, m.reduce)))
    for conv, bn in zip(m.dilated, m.bns[1:]):
        s = torch.relu(ref_batch_norm(bn, F.conv2d(s, conv.weight, padding=m.dilation, dilation=m.dilation)))
    m_s = ref_batch_norm(m.bn_s, conv1x1(s, m.final))
    return x + x * torch.sigmoid(m_c + m_s)


def ref_scse(m: scSE, x: torch.Tensor) -> torch.Tensor:
    """cSE: x * sigmoid(FC(ReLU(FC(avgpool x)))); sSE: x * sigmoid(conv1x1(x)); combined by max or sum."""
    hidden = torch.relu(x.mean(dim=(2, 3)) @ m.fc1.weight.flatten(1).T + m.fc1.bias)
    cse = x * torch.sigmoid(hidden @ m.fc2.weight.flatten(1).T + m.fc2.bias)[:, :, None, None]
    sse = x * torch.sigmoid(conv1x1(x, m.squeeze))
    return torch.max(cse, sse) if m.combine == "max" else cse + sse


def ref_simam(m: SimAM, x: torch.Tensor) -> torch.Tensor:
    """The official code: n = H * W - 1, y = (x - mu)^2 / (4 * (sum((x - mu)^2) / n + lambda)) + 0.5."""
    n = max(x.shape[2] * x.shape[3] - 1, 1)
    d = (x - x.mean(dim=(2, 3), keepdim=True)) ** 2
    y = d / (4 * (d.sum(dim=(2, 3), keepdim=True) / n + m.e_lambda)) + 0.5
    return x * torch.sigmoid(y)


# ----------------------------------------------------------------------------------------------- BAM
class TestBAM(_AttentionTester):
    cls = BAM

    def reference(self, module: BAM, x: torch.Tensor) -> torch.Tensor:
        return ref_bam(module, x)

    @pytest.mark.parametrize(("c1", "reduction", "hidden"), [(1, 16, 1), (33, 16, 2), (64, 16, 4), (64, 4, 16)])
    def test_widths_and_dilation(self, c1: int, reduction: int, hidden: int) -> None:
        m = BAM(c1, reduction=reduction)
        assert m.fc1.out_channels == m.reduce.out_channels == hidden
        assert all(conv.dilation == (4, 4) and conv.padding == (4, 4) for conv in m.dilated)
        assert BAM.from_yaml_args(64, [8, 2]).dilated[0].dilation == (2, 2)

    def test_weights_are_one_plus_a_sigmoid(self) -> None:
        m = self.build(16).double().eval()
        w = m.weights(rand(2, 16, 6, 5, dtype=torch.float64))
        assert w.shape == (2, 16, 6, 5) and bool(((w > 1) & (w < 2)).all())

    @pytest.mark.parametrize("shape", [(1, 16, 6, 5), (1, 16, 1, 1), (2, 16, 1, 1)])
    def test_single_value_batches_train(self, shape: tuple[int, ...]) -> None:
        """Batch 1 (the last batch of an epoch can be one image) and 1x1 maps: running statistics, no error."""
        m = self.build(16).double().train()
        x = rand(*shape, dtype=torch.float64)
        before = m.bn_c.running_mean.clone()
        torch.testing.assert_close(m(x), ref_bam(m, x), atol=1e-6, rtol=0)
        if shape[0] == 1:
            assert torch.equal(m.bn_c.running_mean, before)  # nothing to learn from one value

    def test_fuse_keeps_the_output(self) -> None:
        m = self.build(24).double().eval()
        x = rand(2, 24, 9, 7, dtype=torch.float64)
        expected = m(x)
        m.fuse()
        assert not any(isinstance(b, nn.BatchNorm2d) for b in m.modules())
        torch.testing.assert_close(m(x), expected, atol=1e-9, rtol=0)
        assert onnx_parity(m.float(), 24) < 1e-4

    def test_residual_gate_folds_into_the_weights(self) -> None:
        m = self.build(16).double().eval().enable_residual_gate(0.25)
        x = rand(2, 16, 5, 6, dtype=torch.float64)
        torch.testing.assert_close(m(x), x + 0.25 * (ref_bam(m, x) - x), atol=1e-9, rtol=0)

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"reduction": 1024}, "BAM: reduction must be an int from 1 to 63 (a ratio below the 64 input channels"),
            ({"reduction": 0}, "BAM: reduction must be an int >= 1, got 0"),
            ({"dilation": 0}, "BAM: dilation must be an int >= 1, got 0"),
            ({"dilation": 128}, "BAM: dilation must be an int from 1 to 64 (the paper uses 4), got 128"),
            ({"gate": "sigmod"}, "unknown gate 'sigmod'. Valid gates: sigmoid, hard_sigmoid. Did you mean 'sigmoid'?"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict, expected: str) -> None:
        with pytest.raises(ValueError, match=re.escape(expected)):
            BAM(64, **kwargs)


# ----------------------------------------------------------------------------------------------- scSE
class TestSCSE(_AttentionTester):
    cls = scSE

    def reference(self, module: scSE, x: torch.Tensor) -> torch.Tensor:
        return ref_scse(module, x)

    def test_default_is_max_with_reduction_2(self) -> None:
        m = scSE(64)
        assert (m.combine, m.reduction, m.fc1.out_channels) == ("max", 2, 32)
        assert scSE(1).fc1.out_channels == 1

    def test_sum_is_the_miccai_equation(self) -> None:
        m = randomize_(scSE(12, combine="sum")).double()
        x = rand(2, 12, 5, 7, dtype=torch.float64)
        torch.testing.assert_close(m(x), ref_scse(m, x), atol=1e-9, rtol=0)
        assert not torch.allclose(m(x), ref_scse(randomize_(scSE(12)).double(), x))
        assert onnx_parity(m.float(), 12) < 1e-4

    def test_yaml_name_and_case_insensitive_lookup(self) -> None:
        assert MODULES["scSE"] is scSE and get_module("SCSE") is scSE
        assert scSE.from_yaml_args(64, [4, "sum"]).combine == "sum"

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"combine": "mx"}, "scSE: unknown combine 'mx'. Valid: max, sum. Did you mean 'max'?"),
            ({"combine": None}, "scSE: unknown combine None. Valid: max, sum."),
            ({"reduction": 1024}, "scSE: reduction must be an int from 1 to 63"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict, expected: str) -> None:
        with pytest.raises(ValueError, match=re.escape(expected)):
            scSE(64, **kwargs)


# ----------------------------------------------------------------------------------------------- SimAM
class TestSimAM(_AttentionTester):
    cls = SimAM

    def reference(self, module: SimAM, x: torch.Tensor) -> torch.Tensor:
        return ref_simam(module, x)

    def test_paper_repr_and_num_params(self) -> None:
        """Parameter-free, and cited by venue: the paper is not on arXiv."""
        module = self.build(16)
        assert module.num_params == 0 and list(module.parameters()) == []
        assert SimAM.paper in sys.modules[SimAM.__module__].__doc__ and "ICML 2021" in SimAM.paper
        assert "Differs from the paper" in sys.modules[SimAM.__module__].__doc__
        assert "e_lambda=0.0001" in repr(module) and "enabled=True" in repr(module)

    def test_residual_gate_is_its_only_parameter(self) -> None:
        module = SimAM(16).enable_residual_gate(0.0)
        assert [name for name, _ in module.named_parameters()] == ["residual_gate"]
        x = rand(2, 16, 5, 5)
        assert torch.equal(module(x), x)

    def test_one_by_one_map_is_finite(self) -> None:
        """n = H * W - 1 is 0 on a 1x1 map (the official code gives NaN): every weight is sigmoid(0.5)."""
        x = rand(2, 8, 1, 1)
        torch.testing.assert_close(SimAM(8)(x), x * torch.sigmoid(torch.tensor(0.5)))

    def test_lambda_flattens_the_weights(self) -> None:
        x = rand(2, 8, 6, 6, dtype=torch.float64)
        spread = [SimAM(8, e_lambda=lam).double().weights(x).std().item() for lam in (1e-4, 1e-1, 0.9)]
        assert spread[0] > spread[1] > spread[2]
        torch.testing.assert_close(SimAM(8, e_lambda=0.1).double()(x), ref_simam(SimAM(8, e_lambda=0.1), x))

    def test_large_maps_in_float16_stay_finite(self) -> None:
        """The variance is a mean, not a sum that can overflow float16 on an 80x80 map."""
        x = (8 * rand(1, 4, 80, 80)).half()
        assert torch.isfinite(SimAM(4)(x)).all()

    @pytest.mark.parametrize("value", [0, -1e-4, 1, 1024, float("nan"), "1e-4", True, None])
    def test_bad_lambda(self, value: object) -> None:
        expected = f"SimAM: e_lambda must be a number in (0, 1) (the paper uses 1e-4), got {value!r}"
        with pytest.raises(ValueError, match=re.escape(expected)):
            SimAM(64, e_lambda=value)


def test_all_three_are_registered_attention() -> None:
    for name, cls in (("BAM", BAM), ("scSE", scSE), ("SimAM", SimAM)):
        assert MODULES[name] is cls and is_attention(cls(8))


@pytest.mark.parametrize("cls", [BAM, scSE, SimAM], ids=lambda c: c.__name__)
@pytest.mark.parametrize("training", [False, True])
def test_residual_gate_equals_the_formula_and_closes_exactly(cls, training):
    m = randomize_(cls(32)).train(training)
    x = rand(2, 32, 9, 13)
    for g in (0.3, 1.0, -0.2):
        m.enable_residual_gate(g)
        with torch.no_grad():
            torch.testing.assert_close(m(x), x + g * (m.attend(x) - x), rtol=1e-5, atol=1e-6)
    m.enable_residual_gate(0.0)
    assert torch.equal(m(x), x)
