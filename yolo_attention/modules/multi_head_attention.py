"""Multi-head attention between feature maps, with keys and values average-pooled to bound the quadratic cost.

Non-local Neural Networks — arXiv:1711.07971 (1x1 projections of a feature map to queries, keys and values);
Attention Is All You Need — arXiv:1706.03762 (several heads, scaled dot products, an output projection).
Keys and values are average-pooled with a fixed stride before their projections, as the spatial-reduction attention of
Pyramid Vision Transformer (arXiv:2102.12122) shrinks them with a strided convolution.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .weights_only import allow_weights_only

__all__ = ["MAX_KV_STRIDE", "MultiHeadAttention", "check_heads", "check_kv_stride"]

MAX_KV_STRIDE = 32
"""Largest key/value pooling stride accepted: YOLO's coarsest feature map is 1/32 of the image."""


def check_heads(owner: str, value: Any, c1: int, default: int = 8) -> int:
    """Validate a number of attention heads: an int from 1 to `max(c1, default)` (at least one channel per head).

    A count above the channels is almost always a channel count written by habit (`[-1, 1, GLSA, [1024]]`); the
    default is always accepted, since a narrow layer then gets one channel per head.

    Args:
        owner (str): Class name to start the error message with.
        value (Any): The value received.
        c1 (int): Input channels of the module.
        default (int): The module's default head count.

    Returns:
        (int): `value` as a Python int.

    Raises:
        ValueError: If `value` is not an int from 1 to `max(c1, default)`.

    Examples:
        >>> check_heads("GLSA", 8, c1=256)
        8
        >>> check_heads("GLSA", 1024, c1=256)
        Traceback (most recent call last):
        ...
        ValueError: GLSA: heads must be an int from 1 to 256 (at most one head per input channel; channels are ...
    """
    upper = max(c1, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= upper:
        raise ValueError(
            f"{owner}: heads must be an int from 1 to {upper} (at most one head per input channel; channels are "
            f"inferred, not written), got {value!r}"
        )
    return int(value)


def check_kv_stride(owner: str, value: Any) -> int:
    """Validate the key/value pooling stride: an int from 1 (no pooling) to `MAX_KV_STRIDE`.

    Args:
        owner (str): Class name to start the error message with.
        value (Any): The value received.

    Returns:
        (int): `value` as a Python int.

    Raises:
        ValueError: If `value` is not an int from 1 to `MAX_KV_STRIDE`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= MAX_KV_STRIDE:
        raise ValueError(
            f"{owner}: kv_stride must be an int from 1 (no pooling) to {MAX_KV_STRIDE} (keys and values are average-"
            f"pooled by it on each side), got {value!r}"
        )
    return int(value)


@allow_weights_only
class MultiHeadAttention(nn.Module):
    """Multi-head attention of the positions of `x` over the (pooled) positions of `context`, back to `c1` channels.

    With `N = H * W` query positions and `M = ceil(H / s) * ceil(W / s)` key positions (`s = kv_stride`), the
    attention matrix holds `B * heads * N * M` numbers: average-pooling keys and values by `s` divides the quadratic
    cost by `s ** 2`. The head width is `ceil(c1 / heads)`, so any channel count works with any head count.

    Attributes:
        heads (int): Number of heads.
        head_dim (int): Channels per head.
        kv_stride (int): Average-pooling stride (and window) applied to `context` before the key and value projections.
        q (nn.Conv2d): c1 -> heads * head_dim 1x1 conv (queries).
        k (nn.Conv2d): c1 -> heads * head_dim 1x1 conv (keys), no bias (it could not change the attention).
        v (nn.Conv2d): c1 -> heads * head_dim 1x1 conv (values).
        proj (nn.Conv2d): heads * head_dim -> c1 1x1 conv (output projection).

    Examples:
        >>> import torch
        >>> m = MultiHeadAttention(64, heads=8, kv_stride=2)
        >>> x = torch.randn(2, 64, 10, 12)
        >>> m(x, x).shape, m.attention_weights(x, x).shape
        (torch.Size([2, 64, 10, 12]), torch.Size([2, 8, 120, 30]))
    """

    def __init__(self, c1: int, heads: int = 8, kv_stride: int = 2) -> None:
        """Initialize MultiHeadAttention.

        Args:
            c1 (int): Channels of the query and context maps, and of the output.
            heads (int): Number of heads, from 1 to `max(c1, 8)`.
            kv_stride (int): Average-pooling stride of keys and values, from 1 (none) to `MAX_KV_STRIDE`.
        """
        super().__init__()
        owner = type(self).__name__
        self.heads = check_heads(owner, heads, c1)
        self.kv_stride = check_kv_stride(owner, kv_stride)
        self.head_dim = -(-c1 // self.heads)
        inner = self.heads * self.head_dim
        self.q = nn.Conv2d(c1, inner, 1)
        self.k = nn.Conv2d(c1, inner, 1, bias=False)  # a key bias adds q . b to every logit of a row: softmax drops it
        self.v = nn.Conv2d(c1, inner, 1)
        self.proj = nn.Conv2d(inner, c1, 1)

    def pooled(self, context: torch.Tensor) -> torch.Tensor:
        """Average-pool `context` by `kv_stride` (partial windows at the border average what they cover).

        Args:
            context (torch.Tensor): (B, C, H, W).

        Returns:
            (torch.Tensor): (B, C, ceil(H / s), ceil(W / s)).
        """
        s = self.kv_stride
        if s == 1:
            return context
        # Zero-pad by s - 1 so full windows cover every position, then divide by the share of real positions in each
        # window. This is `avg_pool2d(ceil_mode=True)`, written so that no runtime meets a map smaller than the
        # window (OpenVINO refuses ceil-mode pooling of a 1x1 map) and the pads stay constants in exported graphs.
        pad = (0, s - 1, 0, s - 1)
        total = F.avg_pool2d(F.pad(context, pad), s, s)
        covered = F.avg_pool2d(F.pad(torch.ones_like(context[:1, :1]), pad), s, s)
        return total / covered

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        """(B, heads * head_dim, H, W) -> (B, heads, H * W, head_dim)."""
        return t.reshape(t.shape[0], self.heads, self.head_dim, -1).transpose(-1, -2)

    def _qkv(self, x: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        source = self.pooled(context)  # pooling before the 1x1 projections equals pooling after: both are linear
        return self._split(self.q(x)), self._split(self.k(source)), self._split(self.v(source))

    def attention_weights(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """The attention of every query position over the pooled key positions, per head.

        Args:
            x (torch.Tensor): Queries' map (B, c1, H, W).
            context (torch.Tensor): Keys' and values' map (B, c1, H', W').

        Returns:
            (torch.Tensor): (B, heads, H * W, M) weights, each row summing to 1.
        """
        q, k, _ = self._qkv(x, context)
        return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.head_dim), dim=-1)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Attend from every position of `x` over the pooled positions of `context`.

        Args:
            x (torch.Tensor): Queries' map (B, c1, H, W).
            context (torch.Tensor): Keys' and values' map (B, c1, H', W').

        Returns:
            (torch.Tensor): (B, c1, H, W).
        """
        q, k, v = self._qkv(x, context)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, N, head_dim); memory-efficient kernels when fit
        out = out.transpose(-1, -2).reshape(x.shape[0], self.heads * self.head_dim, x.shape[2], x.shape[3])
        return self.proj(out)

    def extra_repr(self) -> str:
        """Return the head count, head width and pooling stride for `repr`."""
        return f"heads={self.heads}, head_dim={self.head_dim}, kv_stride={self.kv_stride}"
