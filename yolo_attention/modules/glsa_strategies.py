"""GLSA's fusion and residual strategies, by name, in registries third parties can extend.

A fusion combines the global attention output `A`, the local attention output `L` and the block input `x` into `R`;
a residual combines `x` and `R` into the block output. Both keep `c1` channels. The built-in names follow the
GL-Attention design; the initial values of the learnable scalars are this package's choice, stated on each class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .multi_head_attention import MultiHeadAttention
from .sam import SAM
from .se import SE
from .suggest import did_you_mean
from .weights_only import allow_weights_only

__all__ = [
    "FUSIONS",
    "RESIDUALS",
    "AddResidual",
    "ChannelAttentionFusion",
    "CrossAttentionFusion",
    "DropPathResidual",
    "GateFusion",
    "GateResidual",
    "ProductFusion",
    "ProgressiveResidual",
    "SpatialAttentionFusion",
    "WeightedAddFusion",
    "check_drop_prob",
    "register_fusion",
    "register_residual",
    "resolve",
]

FUSIONS: dict[str, type[nn.Module]] = {}
"""Fusion name -> class, built as `cls(c1, heads=..., kv_stride=...)`; `forward(a, l, x)` returns (B, c1, H, W)."""

RESIDUALS: dict[str, type[nn.Module]] = {}
"""Residual name -> class, built as `cls(c1, drop_prob=...)`; `forward(x, r)` returns (B, c1, H, W)."""

_RESERVED = {"True", "False", "None"}  # a model YAML parser would turn these into constants


def _registrar(
    table: dict[str, type[nn.Module]], kind: str, name: str, overwrite: bool
) -> Callable[[type[nn.Module]], type[nn.Module]]:
    if not isinstance(name, str) or not name.isidentifier() or name in _RESERVED:
        raise ValueError(f"a {kind} name must be a Python identifier (e.g. 'my_{kind}'), got {name!r}")

    def _register(cls: type[nn.Module]) -> type[nn.Module]:
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise ValueError(f"register_{kind} expects a torch.nn.Module subclass, got {cls!r}")
        existing = table.get(name)
        if existing is not None and existing is not cls and not overwrite:
            if (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
                raise ValueError(
                    f"{kind} name '{name}' is already registered to {existing.__module__}.{existing.__qualname__}; "
                    f"pass overwrite=True or another name"
                )
        table[name] = allow_weights_only(cls)  # re-running a module (importlib.reload) re-registers its classes
        return cls

    return _register


def register_fusion(name: str, *, overwrite: bool = False) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Register a GLSA fusion class under `name` (a decorator).

    The class is built as `cls(c1, heads=..., kv_stride=...)` (accept `**options` for what it does not use) and its
    `forward(a, l, x)` returns a (B, c1, H, W) tensor. It is also added to torch's weights-only allow-list, so
    checkpoints holding it load under `ULTRALYTICS_SAFE_LOAD=1`.

    Args:
        name (str): The name a model YAML or `GLSA(..., fusion=name)` uses; a Python identifier.
        overwrite (bool): Replace a different class already registered under `name`.

    Returns:
        (Callable): A decorator that registers the class and returns it unchanged.

    Raises:
        ValueError: If `name` is not an identifier, the class is not an `nn.Module`, or the name is taken.

    Examples:
        >>> import torch
        >>> @register_fusion("doc_sum")
        ... class SumFusion(torch.nn.Module):
        ...     def __init__(self, c1, **options):
        ...         super().__init__()
        ...     def forward(self, a, l, x):
        ...         return a + l
        >>> FUSIONS["doc_sum"] is SumFusion
        True
        >>> del FUSIONS["doc_sum"]
    """
    return _registrar(FUSIONS, "fusion", name, overwrite)


def register_residual(name: str, *, overwrite: bool = False) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Register a GLSA residual class under `name` (a decorator).

    The class is built as `cls(c1, drop_prob=...)` (accept `**options` for what it does not use) and its
    `forward(x, r)` returns a (B, c1, H, W) tensor. An optional method `outer_gate_added()` is called when the GLSA
    block gets the residual gate of an identity-safe transfer (see `ProgressiveResidual`). The class is also added to
    torch's weights-only allow-list.

    Args:
        name (str): The name a model YAML or `GLSA(..., residual=name)` uses; a Python identifier.
        overwrite (bool): Replace a different class already registered under `name`.

    Returns:
        (Callable): A decorator that registers the class and returns it unchanged.

    Raises:
        ValueError: If `name` is not an identifier, the class is not an `nn.Module`, or the name is taken.
    """
    return _registrar(RESIDUALS, "residual", name, overwrite)


def resolve(table: dict[str, type[nn.Module]], kind: str, name: Any, owner: str = "GLSA") -> tuple[str, type]:
    """Look up a strategy by name: exact match first, then ignoring case.

    Args:
        table (dict[str, type[nn.Module]]): `FUSIONS`, `RESIDUALS` or GLSA's `LOCALS`.
        kind (str): What is looked up, for the message: `"fusion"`, `"residual"`, `"local"`.
        name (Any): The name received.
        owner (str): Class name to start the error message with.

    Returns:
        (tuple[str, type]): The registered name and class.

    Raises:
        ValueError: If no class is registered under `name`; one line listing the valid names with a suggestion.

    Examples:
        >>> resolve(FUSIONS, "fusion", "Learnable_Gate")[0]
        'learnable_gate'
        >>> resolve(FUSIONS, "fusion", "learnable_gat")
        Traceback (most recent call last):
        ...
        ValueError: GLSA: unknown fusion 'learnable_gat'. Valid: original, ... Did you mean 'learnable_gate'?
    """
    if isinstance(name, str):
        if name in table:
            return name, table[name]
        matches = [key for key in table if key.lower() == name.lower()]
        if len(matches) == 1:
            return matches[0], table[matches[0]]
    valid = ", ".join(table)
    raise ValueError(f"{owner}: unknown {kind} {name!r}. Valid: {valid}.{did_you_mean(str(name), table)}")


def check_drop_prob(owner: str, value: Any) -> float:
    """Validate a drop-path probability: a number in [0, 1).

    Raises:
        ValueError: If `value` is not a number in [0, 1).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{owner}: drop_prob must be a number in [0, 1) (e.g. 0.1), got {value!r}")
    return float(value)


# ----------------------------------------------------------------------------------------------- fusions
@register_fusion("original")
class ProductFusion(nn.Module):
    """`R = A * L`, the GL-Attention design's fusion. No parameters."""

    def __init__(self, c1: int, **options: Any) -> None:
        """Initialize ProductFusion; `c1` and `options` are unused."""
        super().__init__()

    def forward(self, a: torch.Tensor, l: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # noqa: E741
        """Return `a * l`."""
        return a * l


@register_fusion("learnable_gate")
class GateFusion(nn.Module):
    """`R = g * A + (1 - g) * L` with `g = sigmoid(logit)`, one learnable scalar starting at 0 (an even blend).

    The sigmoid keeps the blend convex however far training moves the logit.
    """

    def __init__(self, c1: int, **options: Any) -> None:
        """Initialize GateFusion; `c1` and `options` are unused."""
        super().__init__()
        self.logit = nn.Parameter(torch.zeros(()))

    def forward(self, a: torch.Tensor, l: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # noqa: E741
        """Return `g * a + (1 - g) * l`."""
        g = torch.sigmoid(self.logit).to(a.dtype)
        return g * a + (1 - g) * l


@register_fusion("weighted_add")
class WeightedAddFusion(nn.Module):
    """`R = alpha * A + beta * L + gamma * A * L`, three learnable scalars starting at (0, 0, 1): as `original`.

    Starting from the design's own fusion, training learns how much of each branch to add to the product (each
    scalar gets a gradient from the first step, since `A` and `L` are not zero).
    """

    def __init__(self, c1: int, **options: Any) -> None:
        """Initialize WeightedAddFusion; `c1` and `options` are unused."""
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(()))
        self.beta = nn.Parameter(torch.zeros(()))
        self.gamma = nn.Parameter(torch.ones(()))

    def forward(self, a: torch.Tensor, l: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # noqa: E741
        """Return `alpha * a + beta * l + gamma * a * l`."""
        dtype = a.dtype
        return self.alpha.to(dtype) * a + self.beta.to(dtype) * l + self.gamma.to(dtype) * (a * l)


@register_fusion("channel_attn")
class ChannelAttentionFusion(nn.Module):
    """`R = proj(SE([A; L]))`: SE weighting of the concatenation, then a 1x1 convolution back to c1 channels.

    Squeeze-and-excitation weights over the 2 * c1 concatenated channels, from the package's `SE` module (reduction
    16, not a copy), then a c1 * 2 -> c1 1x1 convolution without bias.
    """

    def __init__(self, c1: int, **options: Any) -> None:
        """Initialize ChannelAttentionFusion.

        Args:
            c1 (int): Channels of `A` and `L`.
            **options (Any): Unused.
        """
        super().__init__()
        self.se = SE(2 * c1)
        self.proj = nn.Conv2d(2 * c1, c1, 1, bias=False)

    def forward(self, a: torch.Tensor, l: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # noqa: E741
        """Return `proj(se(cat([a, l])))`."""
        return self.proj(self.se(torch.cat([a, l], 1)))


@register_fusion("spatial_attn")
class SpatialAttentionFusion(nn.Module):
    """`R = proj(SAM([A; L]))`: CBAM-style spatial weighting of the concatenation, then a 1x1 conv back to c1.

    The spatial weighting (a 7x7 convolution over the channel mean and max of the 2 * c1 concatenated channels) is the
    package's `SAM` module (CBAM's spatial half, not a copy); the projection is a 1x1 convolution without bias.
    """

    def __init__(self, c1: int, **options: Any) -> None:
        """Initialize SpatialAttentionFusion.

        Args:
            c1 (int): Channels of `A` and `L`.
            **options (Any): Unused.
        """
        super().__init__()
        self.sam = SAM(2 * c1)
        self.proj = nn.Conv2d(2 * c1, c1, 1, bias=False)

    def forward(self, a: torch.Tensor, l: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # noqa: E741
        """Return `proj(sam(cat([a, l])))`."""
        return self.proj(self.sam(torch.cat([a, l], 1)))


@register_fusion("cross_attn")
class CrossAttentionFusion(nn.Module):
    """`R = MHA(query=A, context=L)`: every position of `A` attends over the (pooled) positions of `L`.

    A `MultiHeadAttention` with GLSA's head count and key/value stride, and its own projections.
    """

    def __init__(self, c1: int, heads: int = 8, kv_stride: int = 2, **options: Any) -> None:
        """Initialize CrossAttentionFusion.

        Args:
            c1 (int): Channels of `A` and `L`.
            heads (int): Number of heads.
            kv_stride (int): Average-pooling stride of the keys and values taken from `L`.
            **options (Any): Unused.
        """
        super().__init__()
        self.attention = MultiHeadAttention(c1, heads=heads, kv_stride=kv_stride)

    def forward(self, a: torch.Tensor, l: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # noqa: E741
        """Return the attention of `a` over `l`."""
        return self.attention(a, l)


# ----------------------------------------------------------------------------------------------- residuals
@register_residual("original")
class AddResidual(nn.Module):
    """`y = x + R`, the GL-Attention design's residual. No parameters."""

    def __init__(self, c1: int, **options: Any) -> None:
        """Initialize AddResidual; `c1` and `options` are unused."""
        super().__init__()

    def forward(self, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """Return `x + r`."""
        return x + r


@register_residual("learnable_gate")
class GateResidual(nn.Module):
    """`y = g * x + (1 - g) * R` with `g = sigmoid(logit)`, one learnable scalar starting at 0 (an even blend)."""

    def __init__(self, c1: int, **options: Any) -> None:
        """Initialize GateResidual; `c1` and `options` are unused."""
        super().__init__()
        self.logit = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """Return `g * x + (1 - g) * r`."""
        g = torch.sigmoid(self.logit).to(x.dtype)
        return g * x + (1 - g) * r


@register_residual("progressive")
class ProgressiveResidual(nn.Module):
    """`y = x * (1 - alpha) + R * alpha`, alpha a learnable scalar starting at 0: an exact identity at step 0.

    The gradient reaching alpha, `sum(dL/dy * (R - x))`, opens the block as far as it helps (ReZero — arXiv:2003.04887).
    Alpha is learned, not ramped by a step schedule. Under the residual gate `a` that an identity-safe weight transfer
    adds to every new attention layer (`x + a * (y - x)`), the two would multiply (`x + a * alpha * (R - x)`) and,
    both at 0, hold each other's gradient at 0 forever; `outer_gate_added` therefore starts alpha at 1, leaving the
    fading in to `a`.
    """

    def __init__(self, c1: int, **options: Any) -> None:
        """Initialize ProgressiveResidual; `c1` and `options` are unused."""
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """Return `x * (1 - alpha) + r * alpha`."""
        alpha = self.alpha.to(x.dtype)
        return x * (1 - alpha) + r * alpha

    def outer_gate_added(self) -> None:
        """Start alpha at 1: an outer zero gate already makes the block an identity (see the class docstring)."""
        with torch.no_grad():
            self.alpha.fill_(1.0)


@register_residual("drop_path")
class DropPathResidual(nn.Module):
    """`y = x + DropPath(R)`: stochastic depth (arXiv:1603.09382) on `R`, off in eval mode (`y = x + R`).

    In training, each sample's `R` is dropped with probability `drop_prob`, and kept ones are scaled by
    `1 / (1 - drop_prob)`.
    """

    def __init__(self, c1: int, drop_prob: float = 0.1, **options: Any) -> None:
        """Initialize DropPathResidual.

        Args:
            c1 (int): Unused.
            drop_prob (float): Probability in [0, 1) of dropping a sample's `R` in training.
            **options (Any): Unused.
        """
        super().__init__()
        self.drop_prob = check_drop_prob("GLSA", drop_prob)

    def forward(self, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """Return `x + r`, with `r` dropped per sample in training."""
        if not self.training or self.drop_prob == 0:
            return x + r
        keep = 1 - self.drop_prob
        mask = r.new_empty((r.shape[0],) + (1,) * (r.ndim - 1)).bernoulli_(keep)
        return x + r * (mask / keep)

    def extra_repr(self) -> str:
        """Return the drop probability for `repr`."""
        return f"drop_prob={self.drop_prob}"
