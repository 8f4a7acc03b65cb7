"""GLSA: global multi-head self-attention and a local attention module, fused and added back, each part by name.

Non-local Neural Networks — arXiv:1711.07971; Attention Is All You Need — arXiv:1706.03762
Differs from the paper: no single paper defines this block; it is the GL-Attention design this package follows:
`y = residual(x, fusion(A, L, x))` with `A` the global self-attention of `x` (1x1 projections to queries, keys and
values as in Non-local networks, several heads and an output projection as in the Transformer), `f1 = x + A`,
`L = local(f1)` with `local` one of this package's CBAM, BAM or scSE modules (the classes themselves, not copies).
Keys and values are average-pooled by `kv_stride` (2 by default) before their projections, which divides the
quadratic cost by `kv_stride ** 2` (see `MultiHeadAttention`); `kv_stride=1` is the unpooled attention.
"""

from __future__ import annotations

from typing import Any

import torch

from .bam import BAM
from .base import AttentionModule
from .cbam import CBAM
from .glsa_strategies import FUSIONS, RESIDUALS, check_drop_prob, resolve
from .multi_head_attention import MultiHeadAttention, check_heads, check_kv_stride
from .registry import register_module
from .scse import scSE

__all__ = ["GLSA", "LOCALS", "register_local"]

LOCALS: dict[str, type[AttentionModule]] = {"CBAM": CBAM, "BAM": BAM, "scSE": scSE}
"""Local attention name -> module class, built as `cls(c1)` with the module's (paper) defaults."""


def register_local(name: str, *, overwrite: bool = False):
    """Offer another attention module as GLSA's local attention under `name` (a decorator).

    Args:
        name (str): The name a model YAML or `GLSA(..., local=name)` uses; a Python identifier.
        overwrite (bool): Replace a different class already registered under `name`.

    Returns:
        (Callable): A decorator that registers the class (an `AttentionModule` built as `cls(c1)`) and returns it.

    Raises:
        ValueError: If `name` is not an identifier, the class is not an `AttentionModule`, or the name is taken.

    Examples:
        >>> from yolo_attention.modules import SE
        >>> register_local("SE")(SE) is SE
        True
        >>> del LOCALS["SE"]
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a local attention name must be a Python identifier (e.g. 'MyAttention'), got {name!r}")

    def _register(cls: type[AttentionModule]) -> type[AttentionModule]:
        if not (isinstance(cls, type) and issubclass(cls, AttentionModule)):
            raise ValueError(f"register_local expects an AttentionModule subclass, got {cls!r}")
        existing = LOCALS.get(name)
        if existing is not None and existing is not cls and not overwrite:
            raise ValueError(
                f"local name '{name}' is already registered to {existing.__module__}.{existing.__qualname__}; "
                f"pass overwrite=True or another name"
            )
        LOCALS[name] = cls
        return cls

    return _register


@register_module
class GLSA(AttentionModule):
    """Global-local attention: `residual(x, fusion(A, local(x + A), x))` with `A` multi-head self-attention of `x`.

    Strategies are named by string and looked up in `LOCALS`, `FUSIONS` and `RESIDUALS`; register more with
    `register_local`, `register_fusion` and `register_residual`.

    Attributes:
        attention (MultiHeadAttention): The global self-attention producing `A`.
        local (AttentionModule): The local attention applied to `x + A`.
        fusion (nn.Module): Combines `A`, `L` and `x` into `R`.
        residual (nn.Module): Combines `x` and `R` into the output.

    Examples:
        >>> import torch
        >>> m = GLSA(64, heads=8, local="CBAM", fusion="learnable_gate", residual="progressive")
        >>> x = torch.randn(2, 64, 10, 12)
        >>> y = m(x)
        >>> y.shape, torch.equal(y, x)  # progressive starts as an exact identity
        (torch.Size([2, 64, 10, 12]), True)
    """

    yaml_args = ("heads", "local", "fusion", "residual", "kv_stride", "drop_prob")
    paper = "Non-local Neural Networks — arXiv:1711.07971; Attention Is All You Need — arXiv:1706.03762"

    def __init__(
        self,
        c1: int,
        heads: int = 8,
        local: str = "CBAM",
        fusion: str = "original",
        residual: str = "original",
        kv_stride: int = 2,
        drop_prob: float = 0.1,
    ) -> None:
        """Initialize GLSA.

        Args:
            c1 (int): Number of input channels.
            heads (int): Attention heads, from 1 to `max(c1, 8)`; each has `ceil(c1 / heads)` channels.
            local (str): Local attention, one of `LOCALS`: `"CBAM"`, `"BAM"` or `"scSE"`.
            fusion (str): One of `FUSIONS`: `"original"` (A * L), `"learnable_gate"`, `"weighted_add"`,
                `"channel_attn"`, `"spatial_attn"`, `"cross_attn"`.
            residual (str): One of `RESIDUALS`: `"original"` (x + R), `"learnable_gate"`, `"progressive"`,
                `"drop_path"`.
            kv_stride (int): Average-pooling stride of keys and values (1 = none, up to 32); 2 divides the attention
                matrix by 4.
            drop_prob (float): Drop probability of the `"drop_path"` residual, in [0, 1); unused by the others.
        """
        super().__init__(c1)
        owner = type(self).__name__
        # Validate here so that errors name GLSA and its arguments, not the parts.
        self.heads = check_heads(owner, heads, self.c1)
        self.kv_stride = check_kv_stride(owner, kv_stride)
        self.drop_prob = check_drop_prob(owner, drop_prob)
        self.local_name, local_cls = resolve(LOCALS, "local", local, owner)
        self.fusion_name, fusion_cls = resolve(FUSIONS, "fusion", fusion, owner)
        self.residual_name, residual_cls = resolve(RESIDUALS, "residual", residual, owner)
        self.attention = MultiHeadAttention(self.c1, heads=self.heads, kv_stride=self.kv_stride)
        self.local = local_cls(self.c1)
        self.fusion = fusion_cls(self.c1, heads=self.heads, kv_stride=self.kv_stride)
        self.residual = residual_cls(self.c1, drop_prob=self.drop_prob)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the global attention, the local attention on `x + A`, the fusion and the residual.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): Output of the same shape and dtype.
        """
        a = self.attention(x, x)
        return self.residual(x, self.fusion(a, self.local(x + a), x))

    def enable_residual_gate(self, value: float = 0.0) -> GLSA:
        """Add the identity-safe residual gate of `AttentionModule`, and tell the residual strategy.

        A residual strategy that is itself an identity at initialisation (`progressive`) would multiply with the
        gate and, both at 0, neither would ever get a gradient; its `outer_gate_added()` hook restarts it so that the
        gate alone does the fading in.

        Args:
            value (float): Initial gate value; 0 is an exact identity.

        Returns:
            (GLSA): self.
        """
        super().enable_residual_gate(value)
        hook = getattr(self.residual, "outer_gate_added", None)
        if callable(hook):
            hook()
        return self

    def _settings(self) -> dict[str, Any]:
        return {
            "heads": self.heads,
            "local": self.local_name,
            "fusion": self.fusion_name,
            "residual": self.residual_name,
            "kv_stride": self.kv_stride,
            "drop_prob": self.drop_prob,
        }
