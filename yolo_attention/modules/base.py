"""Base class of every attention module: input-channel contract, on/off switch and YAML argument mapping."""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import torch
from torch import nn

from .suggest import did_you_mean

__all__ = [
    "ATTN_INITS",
    "MAX_SPATIAL_KERNEL",
    "AttentionModule",
    "WeightingAttention",
    "blend",
    "check_int",
    "check_kernel_size",
    "check_reduction",
    "check_spatial_kernel_size",
]

ATTN_INITS = ("identity", "paper")
"""How an attention layer new to a model's weights starts: an exact identity (zero residual gate) or as in the paper."""

MAX_SPATIAL_KERNEL = 31
"""Largest spatial kernel size accepted: the largest in use (RepLKNet's 31x31); the attention papers use 3 or 7."""


def check_int(owner: str, name: str, value: Any, minimum: int = 1) -> int:
    """Validate an integer hyper-parameter.

    Args:
        owner (str): Class name to start the error message with.
        name (str): Argument name, e.g. `"reduction"`.
        value (Any): The value received.
        minimum (int): Smallest valid value.

    Returns:
        (int): `value` as a Python int.

    Raises:
        ValueError: If `value` is not an integer (bools and floats are rejected) or is below `minimum`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_reduction(owner: str, name: str, value: Any, c1: int, default: int) -> int:
    """Validate a reduction ratio: an int >= 1 that is smaller than the input channels it reduces.

    A ratio of `c1` or more leaves at most one hidden channel; written in a model YAML it is almost always a channel
    count by habit (`[-1, 1, SE, [1024]]`). Ratios up to the module's `default` are always accepted, because the
    default itself is used on narrow layers (where the module floors the hidden width): whatever the default builds,
    an explicit ratio as small builds too.

    Args:
        owner (str): Class name to start the error message with.
        name (str): Argument name, e.g. `"reduction"`.
        value (Any): The value received.
        c1 (int): Input channels of the module.
        default (int): The module's default ratio.

    Returns:
        (int): `value` as a Python int.

    Raises:
        ValueError: If `value` is not an int >= 1, or is at least `c1` and larger than `default`.

    Examples:
        >>> check_reduction("SE", "reduction", 16, c1=8, default=16)
        16
        >>> check_reduction("SE", "reduction", 1024, c1=256, default=16)
        Traceback (most recent call last):
        ...
        ValueError: SE: reduction must be an int from 1 to 255 (a ratio below the 256 input channels; ...), got 1024
    """
    value = check_int(owner, name, value)
    upper = max(c1 - 1, default)
    if value > upper:
        raise ValueError(
            f"{owner}: {name} must be an int from 1 to {upper} (a ratio below the {c1} input channels; channels are "
            f"inferred, not written), got {value!r}"
        )
    return value


def check_kernel_size(owner: str, name: str, value: Any, maximum: int | None = None, why: str = "") -> int:
    """Validate a convolution kernel size: a positive odd int, so that `padding = k // 2` keeps the size.

    Args:
        owner (str): Class name to start the error message with.
        name (str): Argument name, e.g. `"kernel_size"`.
        value (Any): The value received.
        maximum (int | None): Largest valid value, or None for no bound.
        why (str): Why `maximum` is the bound, shown in the error message.

    Returns:
        (int): `value` as a Python int.

    Raises:
        ValueError: If `value` is not a positive odd int, or is above `maximum`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1 or value % 2 == 0:
        raise ValueError(f"{owner}: {name} must be a positive odd int (e.g. 3 or 7), got {value!r}")
    if maximum is not None and value > maximum:
        because = f" ({why})" if why else ""
        raise ValueError(f"{owner}: {name} must be a positive odd int up to {maximum}{because}, got {value!r}")
    return int(value)


def check_spatial_kernel_size(owner: str, name: str, value: Any) -> int:
    """Validate the kernel size of a spatial-attention convolution: a positive odd int up to `MAX_SPATIAL_KERNEL`.

    Args:
        owner (str): Class name to start the error message with.
        name (str): Argument name, e.g. `"kernel_size"`.
        value (Any): The value received.

    Returns:
        (int): `value` as a Python int.

    Raises:
        ValueError: If `value` is not a positive odd int up to `MAX_SPATIAL_KERNEL`.

    Examples:
        >>> check_spatial_kernel_size("SAM", "kernel_size", 1023)
        Traceback (most recent call last):
        ...
        ValueError: SAM: kernel_size must be a positive odd int up to 31 (...), got 1023
    """
    why = "the largest spatial kernels in use are RepLKNet's 31x31; the paper uses 3 or 7"
    return check_kernel_size(owner, name, value, MAX_SPATIAL_KERNEL, why)


class AttentionModule(nn.Module):
    """Base class for attention modules whose output has the shape and dtype of their input.

    Subclasses implement `attend(x)`. `forward` returns the input tensor object itself while `enabled` is False,
    which makes ablations (attention on/off with the same weights) exact. `enabled` is a plain Python bool, not a
    buffer: tracing and ONNX export bake in the branch taken instead of recording control flow on a tensor.

    Attributes:
        c1 (int): Number of input (and output) channels.
        enabled (bool): Apply the attention (True) or pass the input through unchanged (False).
        yaml_args (tuple[str, ...]): Constructor keywords that a model YAML may pass positionally after the
            inferred `c1`, in order.
        paper (str): The paper implemented, as "Title — arXiv id".
    """

    yaml_args: tuple[str, ...] = ()
    paper: str = ""

    def __init__(self, c1: int) -> None:
        """Validate and store the input channel count.

        Args:
            c1 (int): Number of input channels, > 0.

        Raises:
            ValueError: If `c1` is not a positive int.
        """
        if isinstance(c1, bool) or not isinstance(c1, numbers.Integral) or c1 <= 0:
            raise ValueError(f"{type(self).__name__}: c1 (input channels) must be a positive int, got {c1!r}")
        super().__init__()
        self.c1 = int(c1)
        self.enabled = True
        self.register_parameter("residual_gate", None)  # see enable_residual_gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the attention, or return `x` itself when disabled.

        With a residual gate `a` (see `enable_residual_gate`) the output is `x + a * (attend(x) - x)`.

        Args:
            x (torch.Tensor): Input of shape (B, c1, H, W).

        Returns:
            (torch.Tensor): Output of the same shape and dtype as `x`.
        """
        if not self.enabled:
            return x
        if self.residual_gate is None:
            return self.attend(x)
        return self.gated(x, self.residual_gate.to(x.dtype))

    def gated(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """The attention blended in through the residual gate `g`: `x + g * (attend(x) - x)`.

        Modules whose attention multiplies `x` by weights override this with the equal `x * (g * w + (1 - g))`
        (`blend`), which touches the full-size tensor once instead of three times, in PyTorch and in every exported
        graph (no Subtract; the gate is a scale and a shift of the small weight tensor). At `g = 0` both are `x`
        exactly.

        Args:
            x (torch.Tensor): Input of shape (B, c1, H, W).
            g (torch.Tensor): The gate, a scalar of `x`'s dtype.

        Returns:
            (torch.Tensor): Output of the same shape and dtype as `x`.
        """
        return x + g * (self.attend(x) - x)

    def enable_residual_gate(self, value: float = 0.0) -> AttentionModule:
        """Blend the attention in through a learnable scalar gate `a`: `x + a * (attend(x) - x)`.

        At `a = 0` the layer is an exact identity that still learns: the gradient reaching `a` is
        `sum(dL/dy * (attend(x) - x))`, so training opens the gate as far as the attention helps. This is how a new
        attention layer is inserted into a pretrained model without changing its predictions (ReZero / LayerScale
        style zero initialisation; not part of the attention papers). The gate is a parameter, so it is saved and
        transferred with the weights.

        Args:
            value (float): Initial gate value; 0 is an exact identity, 1 the plain attention.

        Returns:
            (AttentionModule): self.

        Examples:
            >>> import torch
            >>> from yolo_attention.modules import CBAM
            >>> x = torch.randn(2, 16, 8, 8)
            >>> torch.equal(CBAM(16).enable_residual_gate(0.0)(x), x)
            True
        """
        reference = next(self.parameters(), None)
        kwargs = {"dtype": reference.dtype, "device": reference.device} if reference is not None else {}
        self.residual_gate = nn.Parameter(torch.full((), float(value), **kwargs))
        return self

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the attended output; implemented by subclasses.

        Args:
            x (torch.Tensor): Input of shape (B, c1, H, W).

        Returns:
            (torch.Tensor): Output of the same shape and dtype as `x`.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement attend(x)")

    @classmethod
    def from_yaml_args(cls, c1: int, args: list | tuple) -> AttentionModule:
        """Build the module from the argument list of a model YAML line, e.g. `[-1, 1, CBAM, [7, 16]]`.

        Positional entries map onto `yaml_args` in order; a trailing dict holds extra keyword arguments. The input
        channel count is inferred by the host and must not be written in the YAML.

        Args:
            c1 (int): Input channels inferred from the previous layer.
            args (list | tuple): The YAML arguments after the channel inference.

        Returns:
            (AttentionModule): The constructed module.

        Raises:
            ValueError: On too many positional arguments, unknown or duplicated keywords, or invalid values.

        Examples:
            >>> from yolo_attention.modules import CBAM
            >>> m = CBAM.from_yaml_args(64, [3, {"gate": "hard_sigmoid"}])
            >>> m.kernel_size, m.reduction, m.gate_name
            (3, 16, 'hard_sigmoid')
        """
        if not isinstance(args, (list, tuple)):
            raise ValueError(f"{cls.__name__}: YAML args must be a list, got {args!r}")
        positional = list(args)
        keywords: dict[str, Any] = {}
        if positional and isinstance(positional[-1], dict):
            keywords = dict(positional.pop())
        if len(positional) > len(cls.yaml_args):
            n = len(cls.yaml_args)
            takes = f"at most {n} YAML args ({', '.join(cls.yaml_args)})" if n else "no positional YAML args"
            raise ValueError(
                f"{cls.__name__} takes {takes} after the inferred input channels, got {len(positional)}: "
                f"{positional}. Channels are inferred; do not write them."
            )
        accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "c1")]
        for key in keywords:
            if not isinstance(key, str) or key not in accepted:
                raise ValueError(
                    f"{cls.__name__}: unknown keyword argument {key!r} in YAML args; valid: {', '.join(accepted)}."
                    f"{did_you_mean(str(key), accepted)}"
                )
        kwargs = dict(zip(cls.yaml_args, positional))
        duplicated = sorted(set(kwargs) & set(keywords))
        if duplicated:
            raise ValueError(f"{cls.__name__}: YAML args give {', '.join(duplicated)} both positionally and by name")
        return cls(c1, **kwargs, **keywords)

    @property
    def num_params(self) -> int:
        """(int): Number of parameter elements, trainable or not."""
        return sum(p.numel() for p in self.parameters())

    def _settings(self) -> dict[str, Any]:
        """Return the hyper-parameters shown by `repr`, besides `c1` and `enabled`; overridden by subclasses."""
        return {}

    def extra_repr(self) -> str:
        """Return `c1`, the module's settings and `enabled` for `repr`."""
        items = {"c1": self.c1, **self._settings(), "enabled": self.enabled}
        return ", ".join(f"{key}={value!r}" for key, value in items.items())


def blend(weights: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Return attention weights seen through a residual gate `g`: `g * weights + (1 - g)`.

    `x * blend(w, g)` equals `x + g * (x * w - x)`; it is exactly 1 (the layer exactly an identity) at `g = 0`.

    Examples:
        >>> import torch
        >>> w = torch.rand(1, 4, 1, 1)
        >>> torch.equal(blend(w, torch.tensor(0.0)), torch.ones(1, 4, 1, 1))
        True
    """
    return weights * g + (1 - g)


class WeightingAttention(AttentionModule):
    """Attention that multiplies its input by weights: `attend(x) = x * weights(x)`.

    SE, ECA, channel and spatial attention. Subclasses implement `weights(x)`, a tensor broadcasting against `x`
    ((B, C, 1, 1) or (B, 1, H, W)).
    """

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """Return the attention weights for `x`; implemented by subclasses."""
        raise NotImplementedError(f"{type(self).__name__} must implement weights(x)")

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """Return `x * weights(x)`."""
        return x * self.weights(x)

    def gated(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Return `x * blend(weights(x), g)`: `x + g * (attend(x) - x)` with one full-size product."""
        return x * blend(self.weights(x), g)


def gated_sequence(x: torch.Tensor, g: torch.Tensor, first: AttentionModule, second: WeightingAttention):
    """Return `x + g * (second(first(x)) - x)` for a channel-then-spatial pair (CBAM, ECA->SAM), lean.

    The gate is folded into the second's small weight map: `first(x) * (g * w2) + (1 - g) * x`. Each part's on/off
    switch is honoured.
    """
    y = first(x)
    if not second.enabled:
        return x + g * (y - x)
    return y * (second.weights(y) * g) + x * (1 - g)
