"""Each export format run in its own runtime: one loader per runtime, one dispatcher that picks it by format.

Every loader returns a function from a (B, 3, H, W) float32 array to the model's first output as a float32 array,
so that the parity check and the benchmark treat all formats alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["FORMATS", "Runner", "format_of", "load_runtime"]

FORMATS = ("onnx", "openvino", "torchscript", "engine", "qnn")
"""Export formats run in their own runtime."""

Runner = Callable[[np.ndarray], np.ndarray]
"""A loaded export: (B, 3, H, W) float32 images in, its first output as a float32 array out."""


def format_of(artifact: str | Path) -> str:
    """Return the export format of a file or folder written by Ultralytics' exporter.

    Examples:
        >>> format_of("runs/best_openvino_model"), format_of("best.onnx"), format_of("best.torchscript")
        ('openvino', 'onnx', 'torchscript')
        >>> format_of("best_int8_qdq.onnx")  # a QDQ model made for the QNN EP (Snapdragon)
        'qnn'
    """
    path = Path(artifact)
    if path.name.endswith("_qdq.onnx"):
        return "qnn"
    if path.suffix == ".onnx":
        return "onnx"
    if path.suffix == ".torchscript":
        return "torchscript"
    if path.suffix == ".engine":
        return "engine"
    if path.suffix == ".xml" or path.name.endswith("_openvino_model"):
        return "openvino"
    raise ValueError(
        f"cannot tell the export format of '{artifact}'; valid: .onnx, .torchscript, .engine, *.xml or a "
        "*_openvino_model folder"
    )


def load_runtime(
    artifact: str | Path,
    fmt: str | None = None,
    precision: str = "fp32",
    device: str = "cpu",
    threads: int | None = None,
) -> Runner:
    """Load an exported model in its own runtime; return a function from a (B, 3, H, W) float32 array to its output.

    ONNX runs in onnxruntime, OpenVINO in its CPU plugin, TorchScript through ``torch.jit.load``, TensorRT engines
    through Ultralytics' `AutoBackend` on CUDA, QNN (Snapdragon) QDQ models in onnxruntime's QNN EP on its HTP
    backend with CPU fallback disabled; see the module of each runtime for its settings.

    Args:
        artifact (str | Path): The exported file or folder.
        fmt (str, optional): One of `FORMATS`; guessed from the name by default.
        precision (str): ``fp32``, ``fp16`` or ``int8``, the artifact's precision.
        device (str): ``cpu``, or a CUDA device for TorchScript and engines.
        threads (int, optional): CPU threads for the runtime (torch's for TorchScript); its default when None.

    Returns:
        (Runner): The runner.

    Raises:
        FileNotFoundError: If `artifact` does not exist.
        ValueError: On an unknown format.
    """
    fmt = fmt or format_of(artifact)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}'; valid: {', '.join(FORMATS)}")
    path = Path(artifact)
    if not path.exists():
        raise FileNotFoundError(f"exported model '{artifact}' does not exist")
    if fmt == "onnx":
        from yolo_attention.export.runtimes.onnx import load_onnx

        return load_onnx(path, threads)
    if fmt == "openvino":
        from yolo_attention.export.runtimes.openvino import load_openvino

        return load_openvino(path, precision, threads)
    if fmt == "torchscript":
        from yolo_attention.export.runtimes.torchscript import load_torchscript

        return load_torchscript(path, precision, device, threads)
    if fmt == "qnn":
        from yolo_attention.export.runtimes.qnn import load_qnn

        return load_qnn(path, threads)
    from yolo_attention.export.runtimes.tensorrt import load_engine

    return load_engine(path, device)
