"""ONNX exports in onnxruntime: CPU provider, default graph optimisations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from yolo_attention.export.runtimes.outputs import as_numpy

__all__ = ["load_onnx"]


def load_onnx(path: str | Path, threads: int | None = None):
    """Load an ``.onnx`` file in an onnxruntime CPU session.

    Args:
        path (str | Path): The ``.onnx`` file.
        threads (int, optional): Intra-op threads; onnxruntime's default when None.

    Returns:
        (Callable[[np.ndarray], np.ndarray]): (B, 3, H, W) float32 images -> first output.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: as_numpy(session.run(None, {name: np.ascontiguousarray(x, dtype=np.float32)}))
