"""What every runtime's output is turned into: the first output tensor, as a float32 NumPy array."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["as_numpy", "first_output"]


def first_output(y):
    """Return the first tensor of a (nested) list or tuple of outputs, or `y` itself.

    Examples:
        >>> first_output([(1, 2), 3])
        1
    """
    while isinstance(y, (list, tuple)):
        y = y[0]
    return y


def as_numpy(y) -> np.ndarray:
    """Return the first output of `y` as a float32 NumPy array on the CPU.

    Examples:
        >>> as_numpy([torch.ones(2, dtype=torch.float16)]).dtype
        dtype('float32')
    """
    y = first_output(y)
    if isinstance(y, torch.Tensor):
        y = y.detach().float().cpu().numpy()
    return np.asarray(y, dtype=np.float32)
