"""TensorRT engines through Ultralytics' `AutoBackend` on CUDA (building them: `yolo_attention.export.tensorrt`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from yolo_attention.export.runtimes.outputs import as_numpy

__all__ = ["load_engine"]


def load_engine(path: str | Path, device: str = "cpu"):
    """Load an ``.engine`` file on a CUDA device (GPU 0 when `device` is ``cpu``).

    Raises:
        TensorRTUnavailableError: Without CUDA or the tensorrt package.

    Returns:
        (Callable[[np.ndarray], np.ndarray]): (B, 3, H, W) float32 images -> first output.
    """
    from ultralytics.nn.autobackend import AutoBackend

    from yolo_attention.export.tensorrt import check_tensorrt

    check_tensorrt()
    backend = AutoBackend(str(path), device=torch.device(device if device != "cpu" else "cuda:0"), verbose=False)

    def run_engine(x: np.ndarray) -> np.ndarray:
        tensor = torch.from_numpy(np.ascontiguousarray(x)).to(backend.device)
        return as_numpy(backend(tensor.half() if backend.fp16 else tensor))

    return run_engine
