"""Convolutional Block Attention Module: channel attention followed by spatial attention.

CBAM: Convolutional Block Attention Module — arXiv:1807.06521
Differs from the paper: the MLP hidden width is floored at 1 (`max(1, c1 // reduction)`) so narrow layers work.
The official code adds BatchNorm after the spatial convolution and orders max before avg; this follows the paper's
equations (avg, max; no BN). Ultralytics' own `CBAM` (ultralytics/nn/modules/conv.py) is not this block: its
channel attention is a single c1 -> c1 1x1 conv on the average-pooled features, with no shared MLP and no max-pool
branch.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import AttentionModule, WeightingAttention, check_reduction, check_spatial_kernel_size, gated_sequence
from .gates import make_gate
from .registry import register_module
from .sam import SAM

__all__ = ["CBAM", "ChannelAttention"]


class ChannelAttention(WeightingAttention):
    """CBAM channel attention: a shared MLP on the average- and max-pooled descriptors, summed, then gated.

    Not registered for YAML use on its own; it is the first half of `CBAM`.

    Attributes:
        fc1 (nn.Conv2d): c1 -> hidden 1x1 conv with bias.
        act (nn.ReLU): Hidden activation.
        fc2 (nn.Conv2d): hidden -> c1 1x1 conv with bias.
        gate (nn.Module): Gate turning the logits into weights.

    Examples:
        >>> import torch
        >>> ChannelAttention(24)(torch.randn(1, 24, 8, 6)).shape
        torch.Size([1, 24, 8, 6])
    """

    yaml_args = ("reduction",)
    paper = "CBAM: Convolutional Block Attention Module — arXiv:1807.06521"

    def __init__(self, c1: int, reduction: int = 16, gate: str = "sigmoid") -> None:
        """Initialize ChannelAttention.

        Args:
            c1 (int): Number of input channels.
            reduction (int): MLP reduction ratio r >= 1, below `c1` unless at most the default; hidden width is
                `max(1, c1 // reduction)`.
            gate (str): Gate name, see `gates.GATES`.
        """
        super().__init__(c1)
        self.reduction = check_reduction(type(self).__name__, "reduction", reduction, self.c1, default=16)
        self.gate_name = gate
        hidden = max(1, self.c1 // self.reduction)
        self.fc1 = nn.Conv2d(self.c1, hidden, 1, bias=True)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(hidden, self.c1, 1, bias=True)
        self.gate = make_gate(gate)

    def _mlp(self, descriptor: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(descriptor)))

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """A weight per channel of `x`.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, C, 1, 1) weights; `attend(x)` is `x` times them.
        """
        logits = self._mlp(F.adaptive_avg_pool2d(x, 1)) + self._mlp(F.adaptive_max_pool2d(x, 1))
        return self.gate(logits)

    def _settings(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "gate": self.gate_name}


@register_module
class CBAM(AttentionModule):
    """CBAM: `SAM(ChannelAttention(x))`, channel first, then spatial, as in the paper.

    Each half can be switched off on its own through its `enabled` attribute (or `set_attention`).

    Attributes:
        channel (ChannelAttention): Channel attention, applied first.
        spatial (SAM): Spatial attention, applied second.

    Examples:
        >>> import torch
        >>> m = CBAM(64, kernel_size=7, reduction=16)
        >>> m(torch.randn(2, 64, 20, 32)).shape
        torch.Size([2, 64, 20, 32])
    """

    yaml_args = ("kernel_size", "reduction")
    paper = "CBAM: Convolutional Block Attention Module — arXiv:1807.06521"

    def __init__(self, c1: int, kernel_size: int = 7, reduction: int = 16, gate: str = "sigmoid") -> None:
        """Initialize CBAM.

        Args:
            c1 (int): Number of input channels.
            kernel_size (int): Positive odd kernel size of the spatial convolution, at most `MAX_SPATIAL_KERNEL`
                (3 or 7 in the paper).
            reduction (int): Channel-MLP reduction ratio r >= 1, below `c1` unless at most the default.
            gate (str): Gate name for both halves, see `gates.GATES`.
        """
        super().__init__(c1)
        owner = type(self).__name__
        # Validate here so that errors name CBAM, not the submodule.
        self.kernel_size = check_spatial_kernel_size(owner, "kernel_size", kernel_size)
        self.reduction = check_reduction(owner, "reduction", reduction, self.c1, default=16)
        self.gate_name = gate
        self.channel = ChannelAttention(self.c1, reduction=self.reduction, gate=gate)
        self.spatial = SAM(self.c1, kernel_size=self.kernel_size, gate=gate)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """Apply channel attention, then spatial attention.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): Output of the same shape and dtype.
        """
        return self.spatial(self.channel(x))

    def gated(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """`x + g * (attend(x) - x)`, the gate folded into the spatial weight map (`gated_sequence`)."""
        return gated_sequence(x, g, self.channel, self.spatial)

    def _settings(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "reduction": self.reduction, "gate": self.gate_name}
