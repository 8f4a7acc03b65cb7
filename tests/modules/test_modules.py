"""Tests for the attention-module layer: one class per module (kornia BaseTester pattern), then the registry,
gates, suggestions, switches and the module layer's import hygiene."""

from __future__ import annotations

import ast
import doctest
import importlib
import io
import math
import pickle
import re
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from tests.helpers.threads import single_thread  # noqa: F401  autouse: one thread here
from yolo_attention.modules import (
    CBAM,
    ECA,
    ECASAM,
    GATES,
    MODULES,
    SAM,
    SE,
    AttentionModule,
    ChannelAttention,
    CoordAtt,
    add_register_listener,
    did_you_mean,
    get_module,
    make_gate,
    register_module,
    remove_register_listener,
    set_attention,
)

MODULES_DIR = Path(__file__).resolve().parents[2] / "yolo_attention" / "modules"
CHANNELS = (1, 3, 16, 24, 33, 64)  # includes counts not divisible by the reductions (16, 32)
BUILTINS = {"CBAM": CBAM, "SAM": SAM, "ECA": ECA, "ECASAM": ECASAM, "CoordAtt": CoordAtt, "SE": SE}


def randomize_(module: nn.Module, seed: int = 0) -> nn.Module:
    """Give every parameter and BatchNorm statistic a random value, so a reference cannot match by accident."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=g))
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.3 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
    return module


def rand(*shape: int, dtype: torch.dtype = torch.float32, seed: int = 1) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def onnx_parity(module: nn.Module, c1: int) -> float:
    """Export with dynamic batch/height/width, run onnxruntime on another size; return the max abs difference."""
    ort = pytest.importorskip("onnxruntime")
    module = module.eval()
    buffer = io.BytesIO()
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer warnings
        torch.onnx.export(
            module,
            (rand(1, c1, 8, 10),),
            buffer,
            opset_version=17,
            dynamo=False,  # the dynamo exporter needs onnxscript
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": axes, "y": axes},
        )
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    x = rand(3, c1, 13, 7, seed=2)
    (y,) = session.run(None, {"x": x.numpy()})
    assert y.shape == (3, c1, 13, 7)
    with torch.no_grad():
        return (torch.from_numpy(y) - module(x)).abs().max().item()


# ----------------------------------------------------------------------------------------------- references
def ref_mlp(x: torch.Tensor, fc1: nn.Conv2d, fc2: nn.Conv2d) -> torch.Tensor:
    """Two-layer MLP on a (B, C) descriptor written as matrix products."""
    hidden = torch.relu(x @ fc1.weight.flatten(1).T + fc1.bias)
    return hidden @ fc2.weight.flatten(1).T + fc2.bias


def ref_channel_attention(m: ChannelAttention, x: torch.Tensor) -> torch.Tensor:
    avg, mx = x.mean(dim=(2, 3)), x.flatten(2).max(dim=2).values
    weights = torch.sigmoid(ref_mlp(avg, m.fc1, m.fc2) + ref_mlp(mx, m.fc1, m.fc2))
    return x * weights[:, :, None, None]


def ref_sam(m: SAM, x: torch.Tensor) -> torch.Tensor:
    pooled = torch.stack([x.mean(dim=1), x.max(dim=1).values], dim=1)
    k = m.kernel_size
    logits = F.conv2d(pooled, m.conv.weight, padding=k // 2)
    return x * torch.sigmoid(logits)


def ref_eca(m: ECA, x: torch.Tensor) -> torch.Tensor:
    y = x.mean(dim=(2, 3))  # (B, C)
    k, c = m.kernel_size, x.shape[1]
    w = m.conv.weight.reshape(k)
    padded = F.pad(y, ((k - 1) // 2, (k - 1) // 2))
    logits = sum(w[j] * padded[:, j : j + c] for j in range(k))  # cross-correlation over neighbouring channels
    return x * torch.sigmoid(logits)[:, :, None, None]


def ref_se(m: SE, x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(ref_mlp(x.mean(dim=(2, 3)), m.fc1, m.fc2))[:, :, None, None]


def ref_coord_att(m: CoordAtt, x: torch.Tensor) -> torch.Tensor:
    def conv1x1(t: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:  # t: (B, C, L)
        return torch.einsum("oc,bcl->bol", conv.weight.flatten(1), t) + conv.bias[None, :, None]

    h = x.shape[2]
    y = torch.cat([x.mean(dim=3), x.mean(dim=2)], dim=2)  # (B, C, H + W)
    y = conv1x1(y, m.conv1)
    if m.training:
        mean, var = y.mean(dim=(0, 2)), y.var(dim=(0, 2), unbiased=False)
    else:
        mean, var = m.bn1.running_mean, m.bn1.running_var
    y = (y - mean[None, :, None]) / torch.sqrt(var[None, :, None] + m.bn1.eps) * m.bn1.weight[None, :, None]
    y = y + m.bn1.bias[None, :, None]
    y = y * torch.clamp(y + 3, 0, 6) / 6  # h-swish
    a_h = torch.sigmoid(conv1x1(y[:, :, :h], m.conv_h))  # (B, C, H)
    a_w = torch.sigmoid(conv1x1(y[:, :, h:], m.conv_w))  # (B, C, W)
    return x * a_h[:, :, :, None] * a_w[:, :, None, :]


# ----------------------------------------------------------------------------------------------- base tester
class _AttentionTester:
    """Checks every attention module must pass; subclasses set `cls` and write `reference`."""

    cls: type[AttentionModule]
    registered: bool = True
    grads_in_train_mode: bool = True

    def build(self, c1: int = 16, **kwargs) -> AttentionModule:
        return randomize_(self.cls(c1, **kwargs))

    def reference(self, module: AttentionModule, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @pytest.mark.parametrize("batch", [1, 2])
    @pytest.mark.parametrize("c1", CHANNELS)
    def test_shape(self, c1: int, batch: int) -> None:
        x = rand(batch, c1, 7, 12)
        y = self.build(c1)(x)
        assert y.shape == x.shape
        assert y.dtype == x.dtype

    @pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
    @pytest.mark.parametrize("training", [True, False])
    def test_dtype(self, dtype: torch.dtype, training: bool) -> None:
        module = self.build(24).to(dtype).train(training)
        x = rand(2, 24, 6, 5, dtype=dtype)
        y = module(x)
        assert y.dtype == dtype
        assert y.shape == x.shape
        assert torch.isfinite(y).all()

    def test_gradients_reach_every_parameter(self) -> None:
        module = self.build(64).train(self.grads_in_train_mode)
        x = rand(2, 64, 9, 11).requires_grad_()
        (module(x) * rand(2, 64, 9, 11, seed=3)).sum().backward()
        assert x.grad is not None and x.grad.abs().sum() > 0
        for name, p in module.named_parameters():
            assert p.grad is not None, f"{name} got no gradient"
            assert p.grad.abs().sum() > 0, f"{name} got an all-zero gradient"

    def test_gradcheck(self) -> None:
        module = self.build(4).double().eval()
        names = [name for name, _ in module.named_parameters()]
        params = tuple(p.detach().clone().requires_grad_() for p in module.parameters())
        x = rand(2, 4, 3, 5, dtype=torch.float64).requires_grad_()

        def fn(x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
            return functional_call(module, dict(zip(names, params)), (x,))

        assert torch.autograd.gradcheck(fn, (x, *params))  # with respect to the input and every parameter

    @pytest.mark.parametrize("training", [True, False])
    @pytest.mark.parametrize("c1", [3, 33])
    def test_matches_reference(self, c1: int, training: bool) -> None:
        module = self.build(c1).double().train(training)
        x = rand(2, c1, 5, 9, dtype=torch.float64)
        with torch.no_grad():
            expected = self.reference(module, x)  # before forward: training mode updates BN running stats
            actual = module(x)
        torch.testing.assert_close(actual, expected, atol=1e-6, rtol=0)

    def test_disabled_is_identity(self) -> None:
        module = self.build(16)
        x = rand(2, 16, 6, 7)
        assert not torch.equal(module(x), x)
        module.enabled = False
        y = module(x)
        assert y is x
        assert torch.equal(y, x)

    def test_onnx_parity(self) -> None:
        assert onnx_parity(self.build(16), 16) < 1e-4

    @pytest.mark.parametrize("c1", [0, -3, 2.0, True, "64", None])
    def test_bad_c1(self, c1: object) -> None:
        with pytest.raises(ValueError, match=re.escape(f"c1 (input channels) must be a positive int, got {c1!r}")):
            self.cls(c1)

    def test_registry(self) -> None:
        name = self.cls.__name__
        if self.registered:
            assert MODULES[name] is self.cls
            assert get_module(name.lower()) is self.cls
        else:
            assert name not in MODULES

    def test_from_yaml_args_defaults_and_too_many(self) -> None:
        module = self.cls.from_yaml_args(16, [])
        assert isinstance(module, self.cls)
        assert repr(module) == repr(self.cls(16))
        too_many = [1] * (len(self.cls.yaml_args) + 1)
        with pytest.raises(ValueError, match="Channels are inferred; do not write them"):
            self.cls.from_yaml_args(16, too_many)
        with pytest.raises(ValueError, match="unknown keyword argument 'c2'"):
            self.cls.from_yaml_args(16, [{"c2": 16}])

    def test_pickle_roundtrip_keeps_enabled(self) -> None:
        module = self.build(16)
        module.enabled = False
        clone = pickle.loads(pickle.dumps(module))
        assert clone.enabled is False
        clone.enabled = module.enabled = True
        x = rand(1, 16, 4, 6)
        torch.testing.assert_close(clone(x), module(x))

    def test_paper_repr_and_num_params(self) -> None:
        module = self.build(16)
        docstring = sys.modules[self.cls.__module__].__doc__
        for paper in self.cls.paper.split("; "):
            assert re.fullmatch(r".+ — arXiv:\d{4}\.\d{5}", paper), paper
            assert paper in docstring
        assert "Differs from the paper" in docstring
        assert module.num_params == sum(p.numel() for p in module.parameters()) > 0
        text = repr(module)
        assert "c1=16" in text and "enabled=True" in text


# ----------------------------------------------------------------------------------------------- module classes
class TestChannelAttention(_AttentionTester):
    cls = ChannelAttention
    registered = False

    def reference(self, module: ChannelAttention, x: torch.Tensor) -> torch.Tensor:
        return ref_channel_attention(module, x)

    @pytest.mark.parametrize(("c1", "reduction", "hidden"), [(1, 16, 1), (33, 16, 2), (64, 16, 4), (64, 1, 64)])
    def test_hidden_width(self, c1: int, reduction: int, hidden: int) -> None:
        assert ChannelAttention(c1, reduction=reduction).fc1.out_channels == hidden


class TestSAM(_AttentionTester):
    cls = SAM

    def reference(self, module: SAM, x: torch.Tensor) -> torch.Tensor:
        return ref_sam(module, x)

    @pytest.mark.parametrize("kernel_size", [1, 3, 7])
    def test_kernel_sizes(self, kernel_size: int) -> None:
        module = randomize_(SAM(8, kernel_size=kernel_size)).double()
        x = rand(1, 8, 6, 9, dtype=torch.float64)
        torch.testing.assert_close(module(x), ref_sam(module, x), atol=1e-6, rtol=0)

    @pytest.mark.parametrize("kernel_size", [4, 0, -3, 7.0, "7", None])
    def test_bad_kernel_size(self, kernel_size: object) -> None:
        expected = f"SAM: kernel_size must be a positive odd int (e.g. 3 or 7), got {kernel_size!r}"
        with pytest.raises(ValueError, match=re.escape(expected)):
            SAM(16, kernel_size=kernel_size)


class TestCBAM(_AttentionTester):
    cls = CBAM

    def reference(self, module: CBAM, x: torch.Tensor) -> torch.Tensor:
        return ref_sam(module.spatial, ref_channel_attention(module.channel, x))

    def test_channel_then_spatial_and_halves(self) -> None:
        module = self.build(24).double()
        x = rand(2, 24, 5, 8, dtype=torch.float64)
        module.channel.enabled = False
        torch.testing.assert_close(module(x), ref_sam(module.spatial, x), atol=1e-6, rtol=0)
        module.channel.enabled, module.spatial.enabled = True, False
        torch.testing.assert_close(module(x), ref_channel_attention(module.channel, x), atol=1e-6, rtol=0)

    def test_settings_reach_halves(self) -> None:
        module = CBAM(32, kernel_size=3, reduction=8, gate="hard_sigmoid")
        assert module.spatial.kernel_size == 3
        assert module.channel.fc1.out_channels == 4
        assert isinstance(module.channel.gate, nn.Hardsigmoid) and isinstance(module.spatial.gate, nn.Hardsigmoid)

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"kernel_size": 4}, "kernel_size must be a positive odd int (e.g. 3 or 7), got 4"),
            ({"kernel_size": 0}, "kernel_size must be a positive odd int (e.g. 3 or 7), got 0"),
            ({"reduction": 0}, "reduction must be an int >= 1, got 0"),
            ({"reduction": 1.5}, "reduction must be an int >= 1, got 1.5"),
            ({"gate": "sigmod"}, "unknown gate 'sigmod'. Valid gates: sigmoid, hard_sigmoid. Did you mean 'sigmoid'?"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict, expected: str) -> None:
        with pytest.raises(ValueError, match=re.escape(expected)):
            CBAM(16, **kwargs)

    def test_from_yaml_args(self) -> None:
        module = CBAM.from_yaml_args(64, [3, 8, {"gate": "hard_sigmoid"}])
        assert (module.c1, module.kernel_size, module.reduction, module.gate_name) == (64, 3, 8, "hard_sigmoid")
        assert CBAM.from_yaml_args(64, [{"reduction": 4}]).reduction == 4

    def test_from_yaml_args_errors(self) -> None:
        expected = (
            "CBAM takes at most 2 YAML args (kernel_size, reduction) after the inferred input channels, got 3: "
            "[256, 7, 1]. Channels are inferred; do not write them."
        )
        with pytest.raises(ValueError, match=re.escape(expected)):
            CBAM.from_yaml_args(256, [256, 7, 1])
        bad_kernel = "CBAM: kernel_size must be a positive odd int (e.g. 3 or 7), got "
        with pytest.raises(ValueError, match=re.escape(bad_kernel + "'7'")):
            CBAM.from_yaml_args(64, ["7"])
        with pytest.raises(ValueError, match=re.escape(bad_kernel + "7.0")):
            CBAM.from_yaml_args(64, [7.0])
        with pytest.raises(ValueError, match="unknown keyword argument 'gat'.*Did you mean 'gate'"):
            CBAM.from_yaml_args(64, [7, {"gat": "sigmoid"}])
        with pytest.raises(ValueError, match="kernel_size both positionally and by name"):
            CBAM.from_yaml_args(64, [7, {"kernel_size": 3}])
        with pytest.raises(ValueError, match="YAML args must be a list"):
            CBAM.from_yaml_args(64, 7)


class TestECA(_AttentionTester):
    cls = ECA

    def reference(self, module: ECA, x: torch.Tensor) -> torch.Tensor:
        return ref_eca(module, x)

    @pytest.mark.parametrize(
        ("c1", "k"), [(1, 1), (3, 1), (16, 3), (32, 3), (64, 3), (128, 5), (256, 5), (512, 5), (1024, 5), (4096, 7)]
    )
    def test_adaptive_kernel_size(self, c1: int, k: int) -> None:
        t = int(abs((math.log2(c1) + 1) / 2))  # the paper's psi(C) with gamma=2, b=1, rounded up to odd
        assert k == (t if t % 2 else t + 1)
        module = ECA(c1)
        assert module.kernel_size == k
        assert module.conv.kernel_size == (k,)

    def test_explicit_kernel_and_mapping(self) -> None:
        assert ECA(64, kernel_size=5).kernel_size == 5
        assert ECA(64, gamma=1, b=0).kernel_size == 7  # t = 6 -> 7
        assert ECA.from_yaml_args(64, [9]).kernel_size == 9
        assert ECA.from_yaml_args(64, [None]).kernel_size == 3

    def test_kernel_wider_than_channels(self) -> None:
        module = randomize_(ECA(3, kernel_size=5)).double()  # 2 * 3 - 1: the widest whose every weight is used
        x = rand(2, 3, 4, 4, dtype=torch.float64)
        torch.testing.assert_close(module(x), ref_eca(module, x), atol=1e-6, rtol=0)
        with pytest.raises(ValueError, match=re.escape("ECA: kernel_size must be a positive odd int up to 5 (2 * 3")):
            ECA(3, kernel_size=7)

    @pytest.mark.parametrize(
        ("kwargs", "bad"),
        [({"kernel_size": 4}, "4"), ({"kernel_size": 0}, "0"), ({"gamma": 0}, "0"), ({"b": "1"}, "'1'")],
    )
    def test_bad_arguments(self, kwargs: dict, bad: str) -> None:
        with pytest.raises(ValueError, match=re.escape(f"{next(iter(kwargs))} must be")) as info:
            ECA(64, **kwargs)
        assert str(info.value).endswith(f"got {bad}")


class TestECASAM(_AttentionTester):
    cls = ECASAM

    def reference(self, module: ECASAM, x: torch.Tensor) -> torch.Tensor:
        return ref_sam(module.sam, ref_eca(module.eca, x))

    def test_halves_switch_independently(self) -> None:
        module = self.build(32).double()
        x = rand(2, 32, 6, 5, dtype=torch.float64)
        module.eca.enabled = False
        torch.testing.assert_close(module(x), module.sam(x), atol=0, rtol=0)
        torch.testing.assert_close(module(x), ref_sam(module.sam, x), atol=1e-6, rtol=0)
        module.eca.enabled, module.sam.enabled = True, False
        torch.testing.assert_close(module(x), module.eca(x), atol=0, rtol=0)
        torch.testing.assert_close(module(x), ref_eca(module.eca, x), atol=1e-6, rtol=0)
        module.eca.enabled = False
        assert module(x) is x

    def test_kernel_sizes(self) -> None:
        module = ECASAM(128)
        assert (module.eca.kernel_size, module.sam.kernel_size) == (5, 7)
        module = ECASAM.from_yaml_args(128, [3, 5])
        assert (module.eca.kernel_size, module.sam.kernel_size) == (3, 5)

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"eca_kernel_size": 4}, "ECASAM: eca_kernel_size must be a positive odd int (e.g. 3 or 7), got 4"),
            ({"sam_kernel_size": 0}, "ECASAM: sam_kernel_size must be a positive odd int (e.g. 3 or 7), got 0"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict, expected: str) -> None:
        with pytest.raises(ValueError, match=re.escape(expected)):
            ECASAM(64, **kwargs)


class TestSE(_AttentionTester):
    cls = SE

    def reference(self, module: SE, x: torch.Tensor) -> torch.Tensor:
        return ref_se(module, x)

    @pytest.mark.parametrize("reduction", [0, -1, 1.5, "16", True])
    def test_bad_reduction(self, reduction: object) -> None:
        with pytest.raises(ValueError, match=re.escape(f"SE: reduction must be an int >= 1, got {reduction!r}")):
            SE(64, reduction=reduction)

    def test_from_yaml_args(self) -> None:
        assert SE.from_yaml_args(64, [4]).fc1.out_channels == 16


class TestCoordAtt(_AttentionTester):
    cls = CoordAtt
    grads_in_train_mode = False  # conv1's (official) bias is cancelled by BatchNorm in training mode

    def reference(self, module: CoordAtt, x: torch.Tensor) -> torch.Tensor:
        return ref_coord_att(module, x)

    @pytest.mark.parametrize(("c1", "reduction", "mip"), [(1, 32, 8), (64, 32, 8), (512, 32, 16), (64, 4, 16)])
    def test_mip(self, c1: int, reduction: int, mip: int) -> None:
        module = CoordAtt(c1, reduction=reduction)
        assert module.conv1.out_channels == module.bn1.num_features == mip
        assert module.conv_h.out_channels == module.conv_w.out_channels == c1

    def test_train_mode_gradients(self) -> None:
        module = self.build(64).train()
        (module(rand(2, 64, 5, 7)) * rand(2, 64, 5, 7, seed=4)).sum().backward()
        for name, p in module.named_parameters():
            assert p.grad is not None, name
            if name != "conv1.bias":
                assert p.grad.abs().sum() > 0, name

    def test_state_dict_keys_match_official(self) -> None:
        keys = set(CoordAtt(64).state_dict())
        assert {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.running_var", "conv_h.weight", "conv_w.bias"} <= keys

    @pytest.mark.parametrize(
        ("kwargs", "bad"), [({"reduction": 0}, "reduction"), ({"min_channels": 0}, "min_channels")]
    )
    def test_bad_arguments(self, kwargs: dict, bad: str) -> None:
        with pytest.raises(ValueError, match=re.escape(f"CoordAtt: {bad} must be an int >= 1, got 0")):
            CoordAtt(64, **kwargs)


# ----------------------------------------------------------------------------------------------- gates
class TestGates:
    @pytest.mark.parametrize(("name", "cls"), [("sigmoid", nn.Sigmoid), ("hard_sigmoid", nn.Hardsigmoid)])
    def test_make_gate(self, name: str, cls: type) -> None:
        assert isinstance(make_gate(name), cls)
        assert make_gate(name) is not make_gate(name)

    @pytest.mark.parametrize(("name", "suggestion"), [("sigmod", "sigmoid"), ("Hard_Sigmoid", "hard_sigmoid")])
    def test_unknown_gate(self, name: str, suggestion: str) -> None:
        with pytest.raises(ValueError, match=re.escape(f"unknown gate '{name}'")) as info:
            make_gate(name)
        assert f"Did you mean '{suggestion}'?" in str(info.value)
        assert all(valid in str(info.value) for valid in GATES)

    @pytest.mark.parametrize("cls", [SE, ECA, SAM, CBAM])
    def test_hard_sigmoid_exports(self, cls: type[AttentionModule]) -> None:
        module = randomize_(cls(16, gate="hard_sigmoid"))
        assert onnx_parity(module, 16) < 1e-4


# ----------------------------------------------------------------------------------------------- suggestions
class TestDidYouMean:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("CBMA", " Did you mean 'CBAM'?"),
            ("cbam", " Did you mean 'CBAM'?"),
            ("coordatt", " Did you mean 'CoordAtt'?"),
            ("EAC", " Did you mean 'ECA'?"),
            ("YOLOv8", ""),
        ],
    )
    def test_suggestions(self, value: str, expected: str) -> None:
        assert did_you_mean(value, BUILTINS) == expected


# ----------------------------------------------------------------------------------------------- registry
@pytest.fixture
def clean_registry():
    """Detach the host's listeners (the Ultralytics integration, once `yolo_attention` is imported) so test-only
    classes never reach Ultralytics' namespace, and restore MODULES and the listeners afterwards."""
    from yolo_attention.modules import registry

    modules, listeners = dict(MODULES), list(registry._LISTENERS)
    registry._LISTENERS.clear()
    yield
    MODULES.clear()
    MODULES.update(modules)
    registry._LISTENERS[:] = listeners


class TestRegistry:
    def test_builtins_registered(self) -> None:
        for name, cls in BUILTINS.items():
            assert MODULES[name] is cls
            assert issubclass(cls, AttentionModule)
        assert "ChannelAttention" not in MODULES

    @pytest.mark.parametrize("name", ["cbam", "CBAM", "Cbam"])
    def test_get_module_ignores_case(self, name: str) -> None:
        assert get_module(name) is CBAM

    def test_get_module_unknown(self) -> None:
        with pytest.raises(ValueError, match=re.escape("unknown attention module 'CBMA'. Known: BAM, CBAM, ")) as info:
            get_module("CBMA")
        assert str(info.value).endswith("Did you mean 'CBAM'?")
        assert all(name in str(info.value) for name in BUILTINS)
        with pytest.raises(ValueError, match="unknown attention module 42"):
            get_module(42)

    def test_register_forms(self, clean_registry) -> None:
        @register_module
        class MyAttention(AttentionModule):
            def attend(self, x):
                return x * 2

        @register_module(name="Named")
        class Other(MyAttention):
            pass

        class Called(MyAttention):
            pass

        assert register_module(Called) is Called
        assert MODULES["MyAttention"] is MyAttention and MODULES["Named"] is Other and MODULES["Called"] is Called
        assert get_module("named") is Other
        assert MyAttention.from_yaml_args(4, [])(torch.ones(1, 4, 2, 2)).sum() == 32

    def test_register_is_idempotent(self, clean_registry) -> None:
        calls = []
        add_register_listener(lambda name, cls: calls.append(name))
        calls.clear()

        class Idem(nn.Identity):
            pass

        for _ in range(3):
            assert register_module(Idem) is Idem
        assert list(MODULES).count("Idem") == 1
        assert calls == ["Idem"]

    def test_taken_name(self, clean_registry) -> None:
        class CBAM(nn.Identity):  # deliberately the built-in's name
            pass

        with pytest.raises(ValueError, match="'CBAM' is already registered to yolo_attention.modules.cbam.CBAM"):
            register_module(CBAM)
        assert MODULES["CBAM"] is not CBAM
        assert register_module(CBAM, overwrite=True) is CBAM
        assert get_module("CBAM") is CBAM

    def test_reloading_a_module_file_is_allowed(self, clean_registry) -> None:
        import yolo_attention.modules.se as se_module

        original = MODULES["SE"]
        reloaded = importlib.reload(se_module)
        try:
            assert reloaded.SE is not original
            assert MODULES["SE"] is reloaded.SE
        finally:
            se_module.SE = original  # keep the class the package exported

    def test_rejecting_listener_undoes_registration(self, clean_registry) -> None:
        class Conv(nn.Identity):
            pass

        def reject(name: str, cls: type) -> None:
            if cls is Conv:
                raise ValueError(f"'{name}' already names something in the host")

        add_register_listener(reject)
        with pytest.raises(ValueError, match="'Conv' already names something in the host"):
            register_module(Conv)
        assert "Conv" not in MODULES
        with pytest.raises(ValueError, match="'SE' already names something in the host"):
            register_module(Conv, name="SE", overwrite=True)
        assert MODULES["SE"] is SE

    @pytest.mark.parametrize("bad", [object(), nn.Identity(), int, "MyAttention"])
    def test_register_rejects_non_modules(self, bad: object) -> None:
        with pytest.raises(ValueError, match="expects a torch.nn.Module subclass"):
            register_module(bad)

    @pytest.mark.parametrize("name", ["", "my-att", "3x", 5])
    def test_register_rejects_bad_names(self, name: object) -> None:
        with pytest.raises(ValueError, match="must be a Python identifier"):
            register_module(nn.Identity, name=name)

    def test_listener_sees_existing_and_later(self, clean_registry) -> None:
        seen: list[tuple[str, type]] = []
        listener = add_register_listener(lambda name, cls: seen.append((name, cls)))
        assert [name for name, _ in seen] == list(MODULES)
        assert set(BUILTINS.items()) <= set(seen)
        seen.clear()

        @register_module(name="LateComer")
        class Late(nn.Identity):
            pass

        assert seen == [("LateComer", Late)]
        remove_register_listener(listener)
        register_module(nn.Identity, name="AfterRemoval")
        assert seen == [("LateComer", Late)]
        add_register_listener(listener)
        assert add_register_listener(listener) is listener  # adding twice does not call it twice
        assert len(seen) == 1 + len(MODULES)
        with pytest.raises(ValueError, match="callable"):
            add_register_listener("not callable")


# ----------------------------------------------------------------------------------------------- switches
class TestSetAttention:
    def model(self) -> nn.Module:
        return nn.Sequential(CBAM(16), nn.Conv2d(16, 16, 1), nn.Sequential(ECASAM(16), SAM(16)), SE(16))

    def test_nested_sam(self) -> None:
        model = self.model()
        counts = set_attention(model, {"sam": False})
        assert counts == {"sam": 3}
        assert model[0].spatial.enabled is False and model[2][0].sam.enabled is False and model[2][1].enabled is False
        assert model[0].enabled and model[0].channel.enabled and model[2][0].eca.enabled and model[3].enabled
        x = rand(1, 16, 5, 5)
        assert model[2][1](x) is x
        assert set_attention(model, {"SAM": True}) == {"SAM": 3}
        assert model[0].spatial.enabled

    def test_several_kinds_and_absent_kind(self) -> None:
        model = self.model()
        assert set_attention(model, {"CBAM": False, "ECA": False, "CoordAtt": False, "ChannelAttention": False}) == {
            "CBAM": 1,
            "ECA": 1,
            "CoordAtt": 0,
            "ChannelAttention": 1,
        }
        assert model[0].enabled is False and model[2][0].eca.enabled is False and model[2][0].enabled

    def test_registered_alias(self, clean_registry) -> None:
        @register_module(name="Alias")
        class AliasedAttention(SE):
            pass

        model = nn.Sequential(AliasedAttention(8), SE(8))
        assert set_attention(model, {"alias": False}) == {"alias": 1}
        assert model[0].enabled is False and model[1].enabled

    def test_all_names_every_attention_module_in_order(self) -> None:
        model = self.model()
        assert set_attention(model, {"all": False, "ECA": True}) == {"all": 8, "ECA": 1}
        switches = [m.enabled for m in model.modules() if isinstance(m, AttentionModule)]
        assert switches.count(True) == 1 and model[2][0].eca.enabled
        assert set_attention(model, {"ALL": True}) == {"ALL": 8}
        assert all(m.enabled for m in model.modules() if isinstance(m, AttentionModule))
        set_attention(model, {"ECA": True, "all": False})  # `all` first wherever it is, as schedules apply it
        assert [m.enabled for m in model.modules() if isinstance(m, AttentionModule)] == switches

    def test_a_module_without_a_switch_cannot_be_switched_off(self, clean_registry) -> None:
        @register_module
        class Plain(nn.Module):
            def __init__(self, c1: int) -> None:
                super().__init__()

            def forward(self, x):
                return x * 2

        model = nn.Sequential(Plain(8), SE(8))
        with pytest.raises(ValueError, match="'Plain' cannot be switched off.*AttentionModule"):
            set_attention(model, {"Plain": False})
        assert model[1].enabled
        assert set_attention(model, {"plain": True}) == {"plain": 1}  # it is always on

    def test_errors(self) -> None:
        model = self.model()
        with pytest.raises(ValueError, match="unknown attention kind 'CBMA'.*Did you mean 'CBAM'"):
            set_attention(model, {"CBMA": False})
        with pytest.raises(ValueError, match="must be True or False, got 'false'"):
            set_attention(model, {"CBAM": "false"})
        with pytest.raises(ValueError, match="expects a dict"):
            set_attention(model, ["CBAM"])


# ----------------------------------------------------------------------------------------------- import hygiene
def stdlib_module_names() -> set[str]:
    """Top-level standard-library module names (sys.stdlib_module_names is Python 3.10+)."""
    if hasattr(sys, "stdlib_module_names"):
        return set(sys.stdlib_module_names)
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    names = set(sys.builtin_module_names) | {"__future__"}
    for path in stdlib.iterdir():
        if path.name != "site-packages" and (path.suffix == ".py" or (path / "__init__.py").exists()):
            names.add(path.stem)
    dynload = stdlib / "lib-dynload"
    names |= {p.name.split(".")[0] for p in dynload.glob("*.so")} if dynload.exists() else set()
    return names


class TestModuleLayer:
    def test_imports_only_torch_and_stdlib(self) -> None:
        siblings = {path.stem for path in MODULES_DIR.glob("*.py")}
        allowed_top = stdlib_module_names() | {"torch"}
        files = sorted(MODULES_DIR.glob("*.py"))
        assert {"base", "registry", "gates", "suggest", "cbam", "sam", "eca", "eca_sam", "coord_att", "se"} <= siblings
        for path in files:
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        assert alias.name.split(".")[0] in allowed_top, f"{path.name} imports {alias.name}"
                elif isinstance(node, ast.ImportFrom):
                    if node.level == 0:
                        module = node.module or ""
                        ok = module.split(".")[0] in allowed_top or module.startswith("yolo_attention.modules")
                        assert ok, f"{path.name} imports from {module}"
                    else:
                        assert node.level == 1, f"{path.name} imports from outside the modules package"
                        targets = [node.module] if node.module else [alias.name for alias in node.names]
                        for target in targets:
                            assert target.split(".")[0] in siblings, f"{path.name} imports .{target}"

    def test_every_file_declares_all_and_future_annotations(self) -> None:
        for path in sorted(MODULES_DIR.glob("*.py")):
            source = path.read_text()
            assert "from __future__ import annotations" in source, path.name
            assert "__all__ = [" in source, path.name

    def test_docstring_examples_run(self, clean_registry) -> None:
        attempted = 0
        for path in sorted(MODULES_DIR.glob("*.py")):
            name = "yolo_attention.modules" if path.stem == "__init__" else f"yolo_attention.modules.{path.stem}"
            result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
            assert result.failed == 0, f"doctest failed in {path.name}"
            attempted += result.attempted
        assert attempted > 20
