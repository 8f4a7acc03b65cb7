"""Coordinate attention: direction-aware channel weights from pooling along height and width separately.

Coordinate Attention for Efficient Mobile Network Design — arXiv:2103.02907
Differs from the paper: nothing; this is the official code's layout (shared 1x1 conv + BatchNorm + h-swish, then
one 1x1 conv per direction). The shared conv keeps the official code's bias, which BatchNorm makes redundant in
training; it is kept so official weights load unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import AttentionModule, check_int, check_reduction
from .registry import register_module

__all__ = ["CoordAtt"]


@register_module
class CoordAtt(AttentionModule):
    """Coordinate attention: `x * a_w * a_h` with a (B, C, H, 1) and a (B, C, 1, W) weight map.

    Attributes:
        conv1 (nn.Conv2d): Shared c1 -> mip 1x1 conv with bias.
        bn1 (nn.BatchNorm2d): BatchNorm over the mip channels.
        act (nn.Hardswish): h-swish activation.
        conv_h (nn.Conv2d): mip -> c1 1x1 conv producing the height weights.
        conv_w (nn.Conv2d): mip -> c1 1x1 conv producing the width weights.

    Examples:
        >>> import torch
        >>> CoordAtt(64)(torch.randn(2, 64, 12, 20)).shape
        torch.Size([2, 64, 12, 20])
    """

    yaml_args = ("reduction",)
    paper = "Coordinate Attention for Efficient Mobile Network Design — arXiv:2103.02907"

    def __init__(self, c1: int, reduction: int = 32, min_channels: int = 8) -> None:
        """Initialize CoordAtt.

        Args:
            c1 (int): Number of input channels.
            reduction (int): Reduction ratio >= 1 of the shared conv, below `c1` unless at most the default; its width
                is `max(min_channels, c1 // reduction)`.
            min_channels (int): Lower bound >= 1 on the shared conv width.
        """
        super().__init__(c1)
        owner = type(self).__name__
        self.reduction = check_reduction(owner, "reduction", reduction, self.c1, default=32)
        self.min_channels = check_int(owner, "min_channels", min_channels)
        mip = max(self.min_channels, self.c1 // self.reduction)
        self.conv1 = nn.Conv2d(self.c1, mip, 1, bias=True)
        self.bn1 = nn.BatchNorm2d(mip)
        self.act = nn.Hardswish()
        self.conv_h = nn.Conv2d(mip, self.c1, 1, bias=True)
        self.conv_w = nn.Conv2d(mip, self.c1, 1, bias=True)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """Weight every row and every column of `x`, per channel.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): Output of the same shape and dtype.
        """
        a_h, a_w = self.weights(x)
        return x * a_w * a_h

    def weights(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The row weights (B, C, H, 1) and the column weights (B, C, 1, W) of `x`.

        In training the pooled rows and columns go through the shared conv and BatchNorm together (as in the paper,
        so BatchNorm sees both in one batch). Out of training, where BatchNorm is a fixed affine map, each goes through
        on its own: the same numbers without the transposes, concatenation and slicing (and so in exported graphs).
        """
        x_h = x.mean(3, keepdim=True)  # (B, C, H, 1)
        x_w = x.mean(2, keepdim=True)  # (B, C, 1, W)
        if self.training:
            h = x.shape[2]
            y = self.act(self.bn1(self.conv1(torch.cat([x_h, x_w.permute(0, 1, 3, 2)], dim=2))))
            y_h, y_w = y[:, :, :h], y[:, :, h:].permute(0, 1, 3, 2)
        else:
            y_h, y_w = (self.act(self.bn1(self.conv1(t))) for t in (x_h, x_w))
        return self.conv_h(y_h).sigmoid(), self.conv_w(y_w).sigmoid()

    def gated(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """`x + g * (attend(x) - x)` as `x * ((g * a_h) * a_w + (1 - g))`: three full-size ops instead of five."""
        a_h, a_w = self.weights(x)
        return x * ((a_h * g) * a_w + (1 - g))

    def _settings(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "min_channels": self.min_channels}
