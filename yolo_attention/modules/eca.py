"""Efficient Channel Attention: a 1-D convolution across pooled channels instead of an MLP.

ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks — arXiv:1910.03151
Differs from the paper: nothing; the kernel size adapts to the channel count as in the paper and its code
(`t = int(|(log2(C) + b) / gamma|)`, `k = t` if odd else `t + 1`). The official ImageNet models instead pass a fixed
`k_size=3`; pass `kernel_size=3` to match them.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import WeightingAttention, check_kernel_size
from .gates import make_gate
from .registry import register_module

__all__ = ["ECA", "check_eca_kernel_size", "eca_kernel_size"]


def eca_kernel_size(c1: int, gamma: float = 2, b: float = 1) -> int:
    """Return the adaptive ECA kernel size for `c1` channels.

    Args:
        c1 (int): Number of channels.
        gamma (float): Slope of the channel -> kernel mapping (2 in the paper).
        b (float): Offset of the mapping (1 in the paper).

    Returns:
        (int): A positive odd kernel size.

    Examples:
        >>> [eca_kernel_size(c) for c in (64, 128, 256, 512)]
        [3, 5, 5, 5]
    """
    t = int(abs((math.log2(c1) + b) / gamma))
    return t if t % 2 else t + 1


def check_eca_kernel_size(owner: str, name: str, value: int, c1: int) -> int:
    """Validate an ECA kernel size: a positive odd int up to `2 * c1 - 1`.

    A kernel of `2 * c1 - 1` already lets every channel see every other; the outer weights of a wider one only ever
    meet the zero padding, so such a value is a mistake (often a channel count written by habit).

    Args:
        owner (str): Class name to start the error message with.
        name (str): Argument name, e.g. `"kernel_size"`.
        value (int): The value received.
        c1 (int): Number of channels the kernel slides over.

    Returns:
        (int): `value` as a Python int.

    Raises:
        ValueError: If `value` is not a positive odd int up to `2 * c1 - 1`.

    Examples:
        >>> check_eca_kernel_size("ECA", "kernel_size", 5, c1=3)
        5
    """
    why = f"2 * {c1} - 1: a wider kernel's outer weights only meet the zero padding of the {c1} channels"
    return check_kernel_size(owner, name, value, 2 * c1 - 1, why)


@register_module
class ECA(WeightingAttention):
    """Efficient channel attention: `x * gate(conv1d(mean_hw(x)))` with a kernel spanning neighbouring channels.

    Attributes:
        kernel_size (int): The 1-D kernel size used (adaptive unless given).
        conv (nn.Conv1d): 1 -> 1 channel convolution over the channel axis, no bias.
        gate (nn.Module): Gate turning the logits into weights.

    Examples:
        >>> import torch
        >>> m = ECA(128)
        >>> m.kernel_size
        5
        >>> m(torch.randn(2, 128, 10, 14)).shape
        torch.Size([2, 128, 10, 14])
    """

    yaml_args = ("kernel_size",)
    paper = "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks — arXiv:1910.03151"

    def __init__(
        self, c1: int, kernel_size: int | None = None, gamma: float = 2, b: float = 1, gate: str = "sigmoid"
    ) -> None:
        """Initialize ECA.

        Args:
            c1 (int): Number of input channels.
            kernel_size (int | None): Positive odd kernel size up to `2 * c1 - 1`, or None to adapt it to `c1` with
                `gamma` and `b`.
            gamma (float): Slope of the adaptive kernel mapping, > 0.
            b (float): Offset of the adaptive kernel mapping.
            gate (str): Gate name, see `gates.GATES`.
        """
        super().__init__(c1)
        owner = type(self).__name__
        for name, value in (("gamma", gamma), ("b", b)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
        if gamma <= 0:
            raise ValueError(f"{owner}: gamma must be > 0, got {gamma!r}")
        self.gamma, self.b = gamma, b
        if kernel_size is None:
            self.kernel_size = eca_kernel_size(self.c1, gamma, b)
        else:
            self.kernel_size = check_eca_kernel_size(owner, "kernel_size", kernel_size, self.c1)
        self.gate_name = gate
        self.conv = nn.Conv1d(1, 1, self.kernel_size, padding=(self.kernel_size - 1) // 2, bias=False)
        self.gate = make_gate(gate)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """A weight per channel of `x`.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, C, 1, 1) weights; `attend(x)` is `x` times them.
        """
        y = F.adaptive_avg_pool2d(x, 1).squeeze(3).squeeze(2).unsqueeze(1)  # (B, 1, C): one pooling op, no transpose
        return self.gate(self.conv(y).squeeze(1)[..., None, None])  # (B, C, 1, 1); the gate feeds the products

    def _settings(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "gate": self.gate_name}
