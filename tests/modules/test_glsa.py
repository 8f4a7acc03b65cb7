"""GLSA: every fusion and residual strategy against a plain computation with the same weights, identity at step 0,
the multi-head attention and its pooled keys, the strategy registries and their one-line errors."""

from __future__ import annotations

import math
import pickle
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.helpers.threads import single_thread  # noqa: F401  autouse: one thread here
from tests.modules.test_bam_scse_simam import conv1x1, ref_bam, ref_scse
from tests.modules.test_modules import (
    _AttentionTester,
    rand,
    randomize_,
    ref_channel_attention,
    ref_sam,
    ref_se,
)
from yolo_attention.modules import (
    BAM,
    CBAM,
    FUSIONS,
    GLSA,
    LOCALS,
    MODULES,
    RESIDUALS,
    MultiHeadAttention,
    is_attention,
    register_fusion,
    register_local,
    register_residual,
    scSE,
    set_attention,
)


# ----------------------------------------------------------------------------------------------- references
def ref_pool(t: torch.Tensor, s: int) -> torch.Tensor:
    """Mean of every s x s window, windows at the right and bottom border averaging the positions they cover."""
    b, c, h, w = t.shape
    out = t.new_zeros(b, c, -(-h // s), -(-w // s))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = t[:, :, i * s : (i + 1) * s, j * s : (j + 1) * s].mean(dim=(2, 3))
    return out


def ref_attention(m: MultiHeadAttention, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d)) V per head, keys and values from the pooled context, then the output projection."""
    b, _, h, w = x.shape
    source = ref_pool(context, m.kv_stride)
    q, k, v = (
        conv1x1(t, conv).reshape(b, m.heads, m.head_dim, -1) for t, conv in ((x, m.q), (source, m.k), (source, m.v))
    )
    weights = torch.softmax(torch.einsum("bhdn,bhdm->bhnm", q, k) / math.sqrt(m.head_dim), dim=-1)
    out = torch.einsum("bhnm,bhdm->bhdn", weights, v).reshape(b, m.heads * m.head_dim, h, w)
    return conv1x1(out, m.proj)


def ref_local(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if isinstance(m, CBAM):
        return ref_sam(m.spatial, ref_channel_attention(m.channel, x))
    if isinstance(m, BAM):
        return ref_bam(m, x)
    if isinstance(m, scSE):
        return ref_scse(m, x)
    raise AssertionError(type(m))


def ref_fusion(m: GLSA, a: torch.Tensor, l: torch.Tensor) -> torch.Tensor:  # noqa: E741
    f = m.fusion
    if m.fusion_name == "original":
        return a * l
    if m.fusion_name == "learnable_gate":
        g = torch.sigmoid(f.logit)
        return g * a + (1 - g) * l
    if m.fusion_name == "weighted_add":
        return f.alpha * a + f.beta * l + f.gamma * a * l
    if m.fusion_name == "channel_attn":
        return conv1x1(ref_se(f.se, torch.cat([a, l], 1)), f.proj)
    if m.fusion_name == "spatial_attn":
        return conv1x1(ref_sam(f.sam, torch.cat([a, l], 1)), f.proj)
    if m.fusion_name == "cross_attn":
        return ref_attention(f.attention, a, l)
    raise AssertionError(m.fusion_name)


def ref_residual(m: GLSA, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    if m.residual_name in ("original", "drop_path"):  # drop_path in eval mode
        return x + r
    if m.residual_name == "learnable_gate":
        g = torch.sigmoid(m.residual.logit)
        return g * x + (1 - g) * r
    if m.residual_name == "progressive":
        alpha = m.residual.alpha
        return x * (1 - alpha) + r * alpha
    raise AssertionError(m.residual_name)


def ref_parts(m: GLSA, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(A, L, R) of the design: A = MHSA(x), L = local(x + A), R = fusion(A, L, x)."""
    a = ref_attention(m.attention, x, x)
    local = ref_local(m.local, x + a)
    return a, local, ref_fusion(m, a, local)


def ref_glsa(m: GLSA, x: torch.Tensor) -> torch.Tensor:
    return ref_residual(m, x, ref_parts(m, x)[2])


def glsa(c1: int = 16, seed: int = 0, **kwargs) -> GLSA:
    """A float64 GLSA with every parameter (gates and scalars included) random."""
    return randomize_(GLSA(c1, **kwargs), seed).double()


# ----------------------------------------------------------------------------------------------- shared checks
class TestGLSA(_AttentionTester):
    cls = GLSA

    def reference(self, module: GLSA, x: torch.Tensor) -> torch.Tensor:
        return ref_glsa(module, x)

    def test_defaults(self) -> None:
        m = GLSA(128)
        assert (m.heads, m.local_name, m.fusion_name, m.residual_name, m.kv_stride) == (
            8,
            "CBAM",
            "original",
            "original",
            2,
        )
        assert isinstance(m.local, CBAM) and type(m.local) is MODULES["CBAM"]  # the package's CBAM, not a copy
        assert m.attention.head_dim == 16 and m.attention.q.out_channels == 128

    def test_yaml_form(self) -> None:
        m = GLSA.from_yaml_args(64, [4, "BAM", "learnable_gate", "progressive"])
        assert (m.heads, m.local_name, m.fusion_name, m.residual_name) == (4, "BAM", "learnable_gate", "progressive")
        assert isinstance(m.local, BAM)
        assert GLSA.from_yaml_args(64, [8, "scse", "Cross_Attn", "drop_path", 1, 0.2]).local_name == "scSE"


# ----------------------------------------------------------------------------------------------- formulas
class TestFormulas:
    @pytest.mark.parametrize("fusion", list(FUSIONS))
    def test_every_fusion(self, fusion: str) -> None:
        m = glsa(fusion=fusion, residual="original").eval()
        x = rand(2, 16, 5, 9, dtype=torch.float64)
        a, local, r = ref_parts(m, x)
        with torch.no_grad():
            torch.testing.assert_close(m.fusion(a, local, x), r, atol=1e-9, rtol=0)
            torch.testing.assert_close(m(x), x + r, atol=1e-9, rtol=0)

    @pytest.mark.parametrize("residual", list(RESIDUALS))
    def test_every_residual(self, residual: str) -> None:
        m = glsa(residual=residual, fusion="original").eval()
        x = rand(2, 16, 5, 9, dtype=torch.float64)
        r = ref_parts(m, x)[2]
        with torch.no_grad():
            torch.testing.assert_close(m.residual(x, r), ref_residual(m, x, r), atol=1e-9, rtol=0)
            torch.testing.assert_close(m(x), ref_residual(m, x, r), atol=1e-9, rtol=0)

    @pytest.mark.parametrize("local", list(LOCALS))
    @pytest.mark.parametrize("training", [False, True])
    def test_every_local(self, local: str, training: bool) -> None:
        m = glsa(local=local, fusion="weighted_add", residual="learnable_gate").train(training)
        x = rand(2, 16, 6, 7, dtype=torch.float64)
        with torch.no_grad():
            expected = ref_glsa(m, x)  # before the forward: training mode updates BAM's running statistics
            torch.testing.assert_close(m(x), expected, atol=1e-9, rtol=0)

    @pytest.mark.parametrize("kv_stride", [1, 2, 3])
    @pytest.mark.parametrize("heads", [1, 3, 8])
    def test_attention_heads_and_pooled_keys(self, heads: int, kv_stride: int) -> None:
        m = randomize_(MultiHeadAttention(12, heads=heads, kv_stride=kv_stride)).double()
        x, context = rand(2, 12, 7, 5, dtype=torch.float64), rand(2, 12, 7, 5, dtype=torch.float64, seed=5)
        assert m.head_dim == math.ceil(12 / heads)
        with torch.no_grad():
            torch.testing.assert_close(m(x, context), ref_attention(m, x, context), atol=1e-9, rtol=0)
            weights = m.attention_weights(x, context)
        assert weights.shape == (2, heads, 35, math.ceil(7 / kv_stride) * math.ceil(5 / kv_stride))
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, heads, 35, dtype=torch.float64))

    def test_pooling_divides_the_attention_matrix(self) -> None:
        x = rand(1, 8, 16, 16)
        sizes = [MultiHeadAttention(8, heads=2, kv_stride=s).attention_weights(x, x).shape[-1] for s in (1, 2, 4)]
        assert sizes == [256, 64, 16]

    def test_drop_path_in_training(self) -> None:
        """Each sample is either x (R dropped) or x + R / (1 - p); eval is x + R; p = 0 never drops."""
        m = glsa(residual="drop_path", drop_prob=0.5).train()  # CBAM local: no BatchNorm, so R is the eval R
        x = rand(8, 16, 4, 4, dtype=torch.float64)
        r = ref_parts(m, x)[2]
        torch.manual_seed(0)
        with torch.no_grad():
            y = m(x)
        kept = [torch.allclose(y[i], x[i] + r[i] / 0.5, atol=1e-9) for i in range(8)]
        dropped = [torch.equal(y[i], x[i]) for i in range(8)]
        assert all(k != d for k, d in zip(kept, dropped)) and any(kept) and any(dropped)
        with torch.no_grad():
            torch.testing.assert_close(m.eval()(x), x + r, atol=1e-9, rtol=0)
            assert torch.allclose(glsa(residual="drop_path", drop_prob=0.0).train()(x), glsa(residual="original")(x))


# ----------------------------------------------------------------------------------------------- identity
class TestIdentity:
    @pytest.mark.parametrize("fusion", list(FUSIONS))
    def test_progressive_is_an_exact_identity_at_step_0(self, fusion: str) -> None:
        m = GLSA(16, fusion=fusion, residual="progressive")
        x = rand(2, 16, 6, 5)
        assert torch.equal(m(x), x)
        assert m.residual.alpha.item() == 0

    @pytest.mark.parametrize("residual", list(RESIDUALS))
    def test_the_residual_gate_makes_every_variant_an_identity(self, residual: str) -> None:
        m = GLSA(16, fusion="cross_attn", residual=residual).enable_residual_gate(0.0)
        x = rand(2, 16, 6, 5)
        assert torch.equal(m.train()(x), x) and torch.equal(m.eval()(x), x)

    def test_progressive_under_the_residual_gate_still_learns(self) -> None:
        """x + a * alpha * (R - x) with a = alpha = 0 would give both a zero gradient forever: alpha starts at 1."""
        m = GLSA(16, residual="progressive").enable_residual_gate(0.0)
        assert m.residual.alpha.item() == 1 and m.residual_gate.item() == 0
        x, target = rand(2, 16, 6, 5), rand(2, 16, 6, 5, seed=3)
        optimizer = torch.optim.SGD(m.parameters(), lr=0.1)
        F.mse_loss(m(x), target).backward()
        assert m.residual_gate.grad.abs() > 0
        optimizer.step()
        assert not torch.equal(m(x), x)

        stuck = GLSA(16, residual="progressive").enable_residual_gate(0.0)
        with torch.no_grad():
            stuck.residual.alpha.zero_()  # what the hook prevents
        F.mse_loss(stuck(x), target).backward()
        assert stuck.residual_gate.grad.item() == 0 and stuck.residual.alpha.grad.item() == 0

    def test_progressive_learns_alone(self) -> None:
        m = GLSA(16, residual="progressive")
        x, target = rand(2, 16, 6, 5), rand(2, 16, 6, 5, seed=3)
        F.mse_loss(m(x), target).backward()
        assert m.residual.alpha.grad.abs() > 0

    def test_switching_parts_off(self) -> None:
        m = glsa()
        x = rand(2, 16, 5, 5, dtype=torch.float64)
        assert set_attention(m, {"CBAM": False}) == {"CBAM": 1}
        a = ref_attention(m.attention, x, x)
        torch.testing.assert_close(m(x), x + a * (x + a), atol=1e-9, rtol=0)  # L = f1 with the local off
        set_attention(m, {"GLSA": False})
        assert m(x) is x


# ----------------------------------------------------------------------------------------------- registries, errors
class TestRegistries:
    def test_built_in_names(self) -> None:
        assert list(FUSIONS) == [
            "original",
            "learnable_gate",
            "weighted_add",
            "channel_attn",
            "spatial_attn",
            "cross_attn",
        ]
        assert list(RESIDUALS) == ["original", "learnable_gate", "progressive", "drop_path"]
        assert list(LOCALS) == ["CBAM", "BAM", "scSE"]
        assert MODULES["GLSA"] is GLSA and is_attention(GLSA(8))

    def test_user_strategies(self) -> None:
        @register_fusion("test_difference")
        class Difference(nn.Module):
            def __init__(self, c1, **options):
                super().__init__()

            def forward(self, a, l, x):  # noqa: E741
                return a - l

        @register_residual("test_replace")
        class Replace(nn.Module):
            def __init__(self, c1, **options):
                super().__init__()

            def forward(self, x, r):
                return r

        from yolo_attention.modules import SE

        register_local("TestSE")(SE)
        try:
            m = glsa(fusion="test_difference", residual="test_replace", local="TestSE")
            x = rand(2, 16, 4, 4, dtype=torch.float64)
            a = ref_attention(m.attention, x, x)
            torch.testing.assert_close(m(x), a - ref_se(m.local, x + a), atol=1e-9, rtol=0)
            assert torch.serialization.get_safe_globals().count(Difference) == 1  # weights-only loadable
            with pytest.raises(ValueError, match="fusion name 'test_difference' is already registered"):
                register_fusion("test_difference")(Replace)
            with pytest.raises(ValueError, match="must be a Python identifier"):
                register_residual("not-a-name")
            with pytest.raises(ValueError, match="expects an AttentionModule subclass"):
                register_local("Conv")(nn.Conv2d)
        finally:
            del FUSIONS["test_difference"], RESIDUALS["test_replace"], LOCALS["TestSE"]

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            (
                {"fusion": "learnable_gat"},
                "GLSA: unknown fusion 'learnable_gat'. Valid: original, learnable_gate, weighted_add, channel_attn, "
                "spatial_attn, cross_attn. Did you mean 'learnable_gate'?",
            ),
            (
                {"residual": "progresive"},
                "GLSA: unknown residual 'progresive'. Valid: original, learnable_gate, progressive, drop_path. "
                "Did you mean 'progressive'?",
            ),
            ({"local": "CBMA"}, "GLSA: unknown local 'CBMA'. Valid: CBAM, BAM, scSE. Did you mean 'CBAM'?"),
            ({"local": 7}, "GLSA: unknown local 7. Valid: CBAM, BAM, scSE."),
            (
                {"heads": 1024},
                "GLSA: heads must be an int from 1 to 256 (at most one head per input channel; channels are inferred, "
                "not written), got 1024",
            ),
            ({"heads": 0}, "GLSA: heads must be an int from 1 to 256"),
            ({"kv_stride": 0}, "GLSA: kv_stride must be an int from 1 (no pooling) to 32"),
            ({"kv_stride": 2.0}, "GLSA: kv_stride must be an int from 1 (no pooling) to 32"),
            ({"drop_prob": 1}, "GLSA: drop_prob must be a number in [0, 1) (e.g. 0.1), got 1"),
        ],
    )
    def test_bad_arguments_are_one_line(self, kwargs: dict, expected: str) -> None:
        with pytest.raises(ValueError) as info:
            GLSA(256, **kwargs)
        assert str(info.value).startswith(expected) and "\n" not in str(info.value)

    def test_narrow_layers_take_the_default_heads(self) -> None:
        m = GLSA(3)
        assert (m.heads, m.attention.head_dim) == (8, 1)

    def test_pickle_keeps_strategies(self) -> None:
        m = glsa(fusion="weighted_add", residual="progressive", local="scSE")
        clone = pickle.loads(pickle.dumps(m))
        x = rand(1, 16, 4, 6, dtype=torch.float64)
        assert repr(clone) == repr(m)
        torch.testing.assert_close(clone(x), m(x))


def test_repr_names_every_choice() -> None:
    text = repr(GLSA(16, heads=4, local="BAM", fusion="cross_attn", residual="drop_path", kv_stride=1, drop_prob=0.2))
    assert re.search(
        r"heads=4, local='BAM', fusion='cross_attn', residual='drop_path', kv_stride=1, drop_prob=0.2", text
    )
