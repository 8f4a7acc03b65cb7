"""Bottleneck Attention Module: a channel and a dilated spatial branch added into one 3-D map, applied as `x * (1 + M)`.

BAM: Bottleneck Attention Module — arXiv:1807.06514
Differs from the paper: follows its equations — `M = sigmoid(BN(MLP(avgpool(x))) + BN(f3(f2(f1(f0(x))))))`, the
branches added, BatchNorm at the end of each — where the official code differs (it multiplies the two branches, puts
the channel BatchNorm after the hidden layer and none at the end of the spatial branch). Inside the spatial branch,
BatchNorm + ReLU after the 1x1 reduction and after each dilated 3x3 convolution are the official code's (the paper's
equation writes no activation between them). Convolutions followed by BatchNorm have no bias (BatchNorm's shift makes
it redundant); hidden widths are floored at 1 so narrow layers work. A training batch with a single value per channel
(batch 1 on the pooled channel descriptor) has no batch statistics, so it is normalised with the running ones.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import WeightingAttention, check_int, check_reduction
from .gates import make_gate
from .registry import register_module

__all__ = ["BAM"]


def _batch_norm(bn: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply `bn`; in training, a batch with one value per channel is normalised with the running statistics.

    PyTorch refuses batch statistics over a single value, which is what the channel branch's (B, C, 1, 1) descriptor
    holds at batch 1 (Ultralytics' last batch of an epoch can be that small). In eval mode and after `BAM.fuse` this
    is plain `bn(x)`, so no shape test reaches a traced or exported graph.
    """
    if isinstance(bn, nn.BatchNorm2d) and bn.training and x.numel() == x.shape[1]:
        return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
    return bn(x)


def _fold(conv: nn.Conv2d, bn: nn.Module) -> nn.Conv2d:
    return torch.nn.utils.fusion.fuse_conv_bn_eval(conv.eval(), bn.eval()) if isinstance(bn, nn.BatchNorm2d) else conv


@register_module
class BAM(WeightingAttention):
    """Bottleneck attention: `x * (1 + gate(M_c(x) + M_s(x)))` with a (B, C, 1, 1) and a (B, 1, H, W) branch.

    Attributes:
        fc1 (nn.Conv2d): c1 -> hidden 1x1 conv with bias (the MLP's hidden layer).
        fc2 (nn.Conv2d): hidden -> c1 1x1 conv, no bias.
        bn_c (nn.BatchNorm2d): BatchNorm of the channel branch's output.
        reduce (nn.Conv2d): c1 -> hidden 1x1 conv of the spatial branch, no bias.
        dilated (nn.ModuleList): The two hidden -> hidden 3x3 convolutions with dilation `dilation`, no bias.
        bns (nn.ModuleList): BatchNorms after `reduce` and after each dilated convolution (each followed by ReLU).
        final (nn.Conv2d): hidden -> 1 1x1 conv, no bias.
        bn_s (nn.BatchNorm2d): BatchNorm of the one-channel spatial map.
        gate (nn.Module): Gate turning the summed logits into weights.

    Examples:
        >>> import torch
        >>> m = BAM(64)
        >>> m.fc1.out_channels, m.dilated[0].dilation
        (4, (4, 4))
        >>> m(torch.randn(2, 64, 20, 16)).shape
        torch.Size([2, 64, 20, 16])
    """

    yaml_args = ("reduction", "dilation")
    paper = "BAM: Bottleneck Attention Module — arXiv:1807.06514"

    def __init__(self, c1: int, reduction: int = 16, dilation: int = 4, gate: str = "sigmoid") -> None:
        """Initialize BAM.

        Args:
            c1 (int): Number of input channels.
            reduction (int): Reduction ratio r >= 1 of both branches, below `c1` unless at most the default (16, the
                paper's); hidden width is `max(1, c1 // reduction)`.
            dilation (int): Dilation of the two 3x3 spatial convolutions (4 in the paper), an int from 1 to 64.
            gate (str): Gate name, see `gates.GATES`.
        """
        super().__init__(c1)
        owner = type(self).__name__
        self.reduction = check_reduction(owner, "reduction", reduction, self.c1, default=16)
        self.dilation = check_int(owner, "dilation", dilation)
        if self.dilation > 64:  # a 3x3 kernel dilated past the feature maps only sees zero padding
            raise ValueError(f"{owner}: dilation must be an int from 1 to 64 (the paper uses 4), got {dilation!r}")
        self.gate_name = gate
        hidden = max(1, self.c1 // self.reduction)
        # channel branch: MLP(avgpool(x)) then BatchNorm (the paper's eq. 2)
        self.fc1 = nn.Conv2d(self.c1, hidden, 1, bias=True)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(hidden, self.c1, 1, bias=False)
        self.bn_c = nn.BatchNorm2d(self.c1)
        # spatial branch: 1x1 reduce, two dilated 3x3, 1x1 to one map, then BatchNorm (the paper's eq. 3)
        self.reduce = nn.Conv2d(self.c1, hidden, 1, bias=False)
        d = self.dilation
        self.dilated = nn.ModuleList(nn.Conv2d(hidden, hidden, 3, padding=d, dilation=d, bias=False) for _ in range(2))
        self.bns = nn.ModuleList(nn.BatchNorm2d(hidden) for _ in range(3))
        self.final = nn.Conv2d(hidden, 1, 1, bias=False)
        self.bn_s = nn.BatchNorm2d(1)
        self.gate = make_gate(gate)

    def channel_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The channel branch `M_c(x)` before the gate.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, C, 1, 1) logits.
        """
        return _batch_norm(self.bn_c, self.fc2(self.act(self.fc1(F.adaptive_avg_pool2d(x, 1)))))

    def spatial_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The spatial branch `M_s(x)` before the gate.

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, 1, H, W) logits.
        """
        y = x
        for conv, bn in zip((self.reduce, *self.dilated), self.bns):
            y = self.act(_batch_norm(bn, conv(y)))
        return _batch_norm(self.bn_s, self.final(y))

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """The weights `1 + M(x)`, with `M = gate(M_c + M_s)` broadcast to (B, C, H, W).

        Args:
            x (torch.Tensor): Input of shape (B, C, H, W).

        Returns:
            (torch.Tensor): (B, C, H, W) weights in (1, 2); `attend(x)` is `x` times them.
        """
        return 1 + self.gate(self.channel_logits(x) + self.spatial_logits(x))

    def fuse(self) -> BAM:
        """Fold every BatchNorm into the convolution before it (inference only).

        Returns:
            (BAM): self, with each BatchNorm an identity.
        """
        self.fc2, self.bn_c = _fold(self.fc2, self.bn_c), nn.Identity()
        convs = [_fold(conv, bn) for conv, bn in zip((self.reduce, *self.dilated), self.bns)]
        self.reduce, self.dilated = convs[0], nn.ModuleList(convs[1:])
        self.bns = nn.ModuleList(nn.Identity() for _ in range(3))
        self.final, self.bn_s = _fold(self.final, self.bn_s), nn.Identity()
        return self

    def _settings(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "dilation": self.dilation, "gate": self.gate_name}
