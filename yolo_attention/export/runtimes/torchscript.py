"""TorchScript exports through ``torch.jit.load``, in half precision on a GPU for an FP16 artifact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from yolo_attention.export.runtimes.outputs import as_numpy

__all__ = ["load_torchscript"]


def load_torchscript(path: str | Path, precision: str = "fp32", device: str = "cpu", threads: int | None = None):
    """Load a ``.torchscript`` file.

    Args:
        path (str | Path): The ``.torchscript`` file.
        precision (str): ``fp16`` feeds half-precision inputs on a GPU; anything else float32.
        device (str): ``cpu`` or a CUDA device.
        threads (int, optional): Sets torch's CPU threads (process-wide) when given.

    Returns:
        (Callable[[np.ndarray], np.ndarray]): (B, 3, H, W) float32 images -> first output.
    """
    if threads:
        torch.set_num_threads(threads)
    module = torch.jit.load(str(path), map_location=device).eval()
    half = precision == "fp16" and device != "cpu"

    def run_torchscript(x: np.ndarray) -> np.ndarray:
        tensor = torch.from_numpy(np.ascontiguousarray(x)).to(device)
        with torch.inference_mode():
            return as_numpy(module(tensor.half() if half else tensor))

    return run_torchscript
