"""Spatial attention module (SAM): a (H, W) weight map from channel-pooled features.

CBAM: Convolutional Block Attention Module — arXiv:1807.06521
Differs from the paper: nothing in the equations; the official code (not the paper) orders max before avg in the
concatenation and adds BatchNorm after the convolution, both of which are left out here.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import WeightingAttention, check_spatial_kernel_size
from .gates import make_gate
from .registry import register_module

__all__ = ["SAM"]


@register_module
class SAM(WeightingAttention):
    """Spatial attention: `x * gate(conv([mean_c(x); max_c(x)]))`, the spatial half of CBAM.

    Attributes:
        conv (nn.Conv2d): 2 -> 1 channel convolution, no bias.
        gate (nn.Module): Gate turning the logits into weights.

    Examples:
        >>> import torch
        >>> SAM(32, kernel_size=3)(torch.randn(2, 32, 20, 12)).shape
        torch.Size([2, 32, 20, 12])
    """

    yaml_args = ("kernel_size",)
    paper = "CBAM: Convolutional Block Attention Module — arXiv:1807.06521"

    def __init__(self, c1: int, kernel_size: int = 7, gate: str = "sigmoid") -> None:
        """Initialize SAM.

        Args:
            c1 (int): Number of input channels (the weights do not depend on it).
            kernel_size (int): Positive odd kernel size of the spatial convolution, at most `MAX_SPATIAL_KERNEL`; the
                paper compares 3 and 7.
            gate (str): Gate name, see `gates.GATES`.
        """
        super().__init__(c1)
        self.kernel_size = check_spatial_kernel_size(type(self).__name__, "kernel_size", kernel_size)
        self.gate_name = gate
        self.conv = nn.Conv2d(2, 1, self.kernel_size, padding=self.kernel_size // 2, bias=False)
        self.gate = make_gate(gate)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """A weight per spatial position of `x`.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, 1, H, W) weights; `attend(x)` is `x` times them.
        """
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
        return self.gate(self.conv(pooled))

    def _settings(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "gate": self.gate_name}
