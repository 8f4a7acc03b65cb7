"""Squeeze-and-Excitation: channel weights from an MLP on the globally average-pooled features.

Squeeze-and-Excitation Networks — arXiv:1709.01507
Differs from the paper: the hidden width is floored at 1 (`max(1, c1 // reduction)`) so narrow layers work; the
fully connected layers are written as equivalent 1x1 convolutions.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import WeightingAttention, check_reduction
from .gates import make_gate
from .registry import register_module

__all__ = ["SE"]


@register_module
class SE(WeightingAttention):
    """Squeeze-and-excitation: `x * gate(fc2(relu(fc1(mean_hw(x)))))`.

    Attributes:
        fc1 (nn.Conv2d): c1 -> hidden 1x1 conv with bias.
        act (nn.ReLU): Hidden activation.
        fc2 (nn.Conv2d): hidden -> c1 1x1 conv with bias.
        gate (nn.Module): Gate turning the logits into weights.

    Examples:
        >>> import torch
        >>> SE(64, reduction=16)(torch.randn(2, 64, 9, 11)).shape
        torch.Size([2, 64, 9, 11])
    """

    yaml_args = ("reduction",)
    paper = "Squeeze-and-Excitation Networks — arXiv:1709.01507"

    def __init__(self, c1: int, reduction: int = 16, gate: str = "sigmoid") -> None:
        """Initialize SE.

        Args:
            c1 (int): Number of input channels.
            reduction (int): Reduction ratio r >= 1, below `c1` unless at most the default; hidden width is
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

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """A weight per channel of `x`.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, C, 1, 1) weights; `attend(x)` is `x` times them.
        """
        return self.gate(self.fc2(self.act(self.fc1(F.adaptive_avg_pool2d(x, 1)))))

    def _settings(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "gate": self.gate_name}
