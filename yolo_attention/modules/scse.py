"""Concurrent spatial and channel squeeze & excitation (scSE): a channel SE and a spatial 1x1 squeeze, combined.

Concurrent Spatial and Channel Squeeze & Excitation in Fully Convolutional Networks — arXiv:1803.02579
Differs from the paper: the two recalibrated maps are combined by their element-wise `max` by default, where this
(MICCAI) paper adds them; `combine="sum"` is the paper's equation. The authors' journal extension (Recalibrating Fully
Convolutional Networks with Spatial and Channel "Squeeze & Excitation" Blocks — arXiv:1808.08127) compared max-out,
addition, multiplication and concatenation and found max-out best, and the authors' code (ai-med/squeeze_and_excitation)
combines with `torch.max`. The hidden width is floored at 1 (`max(1, c1 // reduction)`); the fully connected layers
are written as equivalent 1x1 convolutions; both keep the authors' biases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import AttentionModule, check_reduction
from .gates import make_gate
from .registry import register_module
from .suggest import did_you_mean

__all__ = ["SCSE_COMBINES", "scSE"]

SCSE_COMBINES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "max": torch.maximum,
    "sum": torch.add,
}
"""How scSE combines its channel- and spatially-recalibrated maps: name -> element-wise function of the two."""


@register_module
class scSE(AttentionModule):  # the paper's spelling, also the name a model YAML uses
    """scSE: `combine(x * cSE(x), x * sSE(x))`, a (B, C, 1, 1) channel and a (B, 1, H, W) spatial weight map.

    Attributes:
        fc1 (nn.Conv2d): c1 -> hidden 1x1 conv with bias (cSE).
        act (nn.ReLU): Hidden activation.
        fc2 (nn.Conv2d): hidden -> c1 1x1 conv with bias (cSE).
        squeeze (nn.Conv2d): c1 -> 1 1x1 conv with bias (sSE).
        gate (nn.Module): Gate turning each branch's logits into weights.

    Examples:
        >>> import torch
        >>> m = scSE(64)
        >>> m.fc1.out_channels, m.combine
        (32, 'max')
        >>> m(torch.randn(2, 64, 10, 12)).shape
        torch.Size([2, 64, 10, 12])
    """

    yaml_args = ("reduction", "combine")
    paper = "Concurrent Spatial and Channel Squeeze & Excitation in Fully Convolutional Networks — arXiv:1803.02579"

    def __init__(self, c1: int, reduction: int = 2, combine: str = "max", gate: str = "sigmoid") -> None:
        """Initialize scSE.

        Args:
            c1 (int): Number of input channels.
            reduction (int): cSE reduction ratio r >= 1 (2 in the paper and the authors' code), below `c1` unless at
                most the default; hidden width is `max(1, c1 // reduction)`.
            combine (str): `"max"` (the authors' best in their comparison, and their code's) or `"sum"` (the MICCAI
                paper's equation); see `SCSE_COMBINES`.
            gate (str): Gate name for both branches, see `gates.GATES`.
        """
        super().__init__(c1)
        owner = type(self).__name__
        self.reduction = check_reduction(owner, "reduction", reduction, self.c1, default=2)
        if not isinstance(combine, str) or combine not in SCSE_COMBINES:
            valid = ", ".join(SCSE_COMBINES)
            raise ValueError(
                f"{owner}: unknown combine {combine!r}. Valid: {valid}.{did_you_mean(str(combine), SCSE_COMBINES)}"
            )
        self.combine = combine
        self.gate_name = gate
        hidden = max(1, self.c1 // self.reduction)
        self.fc1 = nn.Conv2d(self.c1, hidden, 1, bias=True)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(hidden, self.c1, 1, bias=True)
        self.squeeze = nn.Conv2d(self.c1, 1, 1, bias=True)
        self.gate = make_gate(gate)

    def channel_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The cSE weights.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, C, 1, 1) weights.
        """
        return self.gate(self.fc2(self.act(self.fc1(F.adaptive_avg_pool2d(x, 1)))))

    def spatial_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The sSE weights.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, 1, H, W) weights.
        """
        return self.gate(self.squeeze(x))

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """Recalibrate `x` channel-wise and spatially, and combine the two.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): Output of the same shape and dtype.
        """
        return SCSE_COMBINES[self.combine](x * self.channel_weights(x), x * self.spatial_weights(x))

    def _settings(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "combine": self.combine, "gate": self.gate_name}
