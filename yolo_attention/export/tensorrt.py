"""TensorRT engines: what they need, a one-line error where it is missing, and the export itself.

An engine is built for one GPU and one TensorRT version, on the machine that runs it. On a Jetson, export ONNX here
and build the engine on the board with ``trtexec``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["TensorRTUnavailableError", "check_tensorrt", "export_engine", "jetson_hint"]


class TensorRTUnavailableError(RuntimeError):
    """format=engine was asked for on a machine without CUDA or without the tensorrt package."""


def jetson_hint(onnx_file: str | Path = "model.onnx") -> str:
    """Return how to build the engine on a Jetson from an exported ONNX file.

    Examples:
        >>> jetson_hint("best.onnx")
        'trtexec --onnx=best.onnx --saveEngine=best.engine --fp16'
    """
    onnx_file = Path(onnx_file)
    return f"trtexec --onnx={onnx_file} --saveEngine={onnx_file.with_suffix('.engine')} --fp16"


def check_tensorrt() -> None:
    """Raise a one-line `TensorRTUnavailableError` unless an NVIDIA GPU (CUDA) and the tensorrt package are present.

    Raises:
        TensorRTUnavailableError: Saying what is missing, how to install it, and the Jetson route.
    """
    import torch

    missing = []
    if not torch.cuda.is_available():
        missing.append("an NVIDIA GPU with CUDA (torch.cuda.is_available() is False)")
    if importlib.util.find_spec("tensorrt") is None:
        missing.append("the tensorrt package (pip install 'yolo-attention[tensorrt]')")
    if missing:
        raise TensorRTUnavailableError(
            f"format=engine needs {' and '.join(missing)}; for a Jetson, export format=onnx here and build the engine "
            f"on the device: {jetson_hint()}"
        )


def export_engine(
    model,
    imgsz: int = 640,
    half: bool = False,
    int8: bool = False,
    dynamic: bool = False,
    batch: int = 1,
    data: str | None = None,
    workspace: float | None = None,
    device: str | int = 0,
) -> Path:
    """Export a TensorRT engine through Ultralytics' exporter, after checking that the machine can build one.

    Args:
        model: A `YOLO` model.
        imgsz (int): Input size.
        half (bool): FP16 engine.
        int8 (bool): INT8 engine, calibrated on `data` (required).
        dynamic (bool): Dynamic batch and image size; `batch` is then the largest batch the engine accepts.
        batch (int): Batch size (the maximum with `dynamic`).
        data (str, optional): Dataset YAML for INT8 calibration.
        workspace (float, optional): TensorRT workspace in GiB.
        device (str | int): CUDA device.

    Returns:
        (Path): The ``.engine`` file.

    Raises:
        TensorRTUnavailableError: Without CUDA or tensorrt.
        ValueError: INT8 without a dataset.
    """
    check_tensorrt()
    if int8 and not data:
        raise ValueError("int8=True needs data=<dataset YAML> to calibrate the INT8 engine on")
    quantize = 8 if int8 else 16 if half else None
    kwargs = {"format": "engine", "imgsz": imgsz, "dynamic": dynamic, "batch": batch, "device": device}
    if quantize:
        kwargs["quantize"] = quantize
    if data:
        kwargs["data"] = data
    if workspace is not None:
        kwargs["workspace"] = workspace
    return Path(model.export(**kwargs))
