"""The poolings attention modules share, written in the form that exports to the fastest ONNX graph.

Each is one operation in PyTorch and in the exported graph, chosen by measurement on onnxruntime's CPU provider
(`python tools/bench_reductions.py`, median of 400 runs, 2 threads; a ReLU over the same tensor, one pass over memory,
for scale; 1x64x80x80, the P3 map of yolov8n at 640):

- global average / max over (H, W): ``ReduceMean`` / ``ReduceMax`` over axes (2, 3), 40-60 us, not
  ``GlobalAveragePool`` / ``MaxPool`` with an (H, W) kernel (100-125 us; ReLU 67 us);
- mean over channels: a ``MatMul`` of a constant (1, C) row of 1/C with the (B, C, H*W) map, 48 us, not
  ``ReduceMean`` over axis 1 (480 us: onnxruntime does not vectorise a reduction over a leading axis);
- max over channels: ``ReduceMax`` over axis 1 (430 us); no single-op form is faster (a 3-D ``MaxPool`` over the
  channel axis is 600 us), and halving trees of ``Max`` only pay off at P3 — measured, not adopted.

The values are those of ``x.mean`` / ``x.amax`` (the channel mean sums in a different order: equal to float rounding).
"""

from __future__ import annotations

import torch

__all__ = ["channel_max", "channel_mean", "global_avg", "global_max"]


def global_avg(x: torch.Tensor) -> torch.Tensor:
    """Mean over (H, W): (B, C, H, W) -> (B, C, 1, 1); exports as one ``ReduceMean``."""
    return x.mean((2, 3), keepdim=True)


def global_max(x: torch.Tensor) -> torch.Tensor:
    """Max over (H, W): (B, C, H, W) -> (B, C, 1, 1); exports as one ``ReduceMax``."""
    return x.amax((2, 3), keepdim=True)


def channel_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over channels: (B, C, H, W) -> (B, 1, H, W); exports as one ``MatMul`` with a constant row.

    Examples:
        >>> x = torch.randn(2, 8, 5, 3)
        >>> torch.allclose(channel_mean(x), x.mean(1, keepdim=True), atol=1e-6)
        True
    """
    b, c, h, w = x.shape
    row = torch.full((1, c), 1.0 / c, dtype=x.dtype, device=x.device)
    return torch.matmul(row, x.reshape(b, c, h * w)).reshape(b, 1, h, w)


def channel_max(x: torch.Tensor) -> torch.Tensor:
    """Max over channels: (B, C, H, W) -> (B, 1, H, W); exports as one ``ReduceMax``."""
    return x.amax(1, keepdim=True)
