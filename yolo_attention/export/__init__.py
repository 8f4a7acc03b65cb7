"""Export that is proven right: ONNX, OpenVINO (FP32/FP16/INT8), TorchScript, TensorRT, each checked against PyTorch.

    >>> import yolo_attention
    >>> from yolo_attention.export import export_and_verify
    >>> from ultralytics import YOLO
    >>> [r.passed for r in export_and_verify(YOLO("yolov8n-cbam.yaml"), "onnx", imgsz=64)]  # doctest: +SKIP
    [True]

`verify` runs an export in its own runtime and compares raw head outputs with PyTorch; `int8` quantises OpenVINO models
with NNCF keeping attention gates in floating point; `tensorrt` holds the engine path; `benchmark` measures latency and
memory against the matching attention-free baseline that `baseline` builds.
"""

from __future__ import annotations

from yolo_attention.export.baseline import build_baseline, kept_layers, remove_attention
from yolo_attention.export.benchmark import BenchmarkResult, BenchmarkRow, run_benchmark
from yolo_attention.export.exporter import (
    add_attention_metadata,
    attention_metadata,
    experiment_models_dir,
    export_and_verify,
    parse_formats,
    resolve_precision,
)
from yolo_attention.export.int8 import Int8Report, compare_gate_protection, gate_nodes, quantize_openvino
from yolo_attention.export.tensorrt import TensorRTUnavailableError, check_tensorrt, export_engine, jetson_hint
from yolo_attention.export.verify import ParityReport, load_images, validate_map, verify_export

__all__ = [
    "BenchmarkResult",
    "BenchmarkRow",
    "Int8Report",
    "ParityReport",
    "TensorRTUnavailableError",
    "add_attention_metadata",
    "attention_metadata",
    "build_baseline",
    "check_tensorrt",
    "compare_gate_protection",
    "experiment_models_dir",
    "export_and_verify",
    "export_engine",
    "gate_nodes",
    "jetson_hint",
    "kept_layers",
    "load_images",
    "parse_formats",
    "quantize_openvino",
    "remove_attention",
    "resolve_precision",
    "run_benchmark",
    "validate_map",
    "verify_export",
]
