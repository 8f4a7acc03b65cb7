"""Export that is proven right: ONNX, OpenVINO, TorchScript, TensorRT, Snapdragon (QNN), each checked against PyTorch.

    >>> import yolo_attention
    >>> from yolo_attention.export import export_and_verify
    >>> from ultralytics import YOLO
    >>> [r.passed for r in export_and_verify(YOLO("yolov8n-cbam.yaml"), "onnx", imgsz=64)]  # doctest: +SKIP
    [True]

`exporter` is the API: export through Ultralytics, then verify. `runtimes` runs each format in its own runtime (one
module per runtime); `parity` compares a run with PyTorch on real images (`images`) and `report` holds the verdict:
FP32 by a tensor tolerance, FP16/INT8 by their detections matched with PyTorch's (`detections`) and, with a dataset,
by their mAP (`validation`). `int8` quantises OpenVINO models with NNCF keeping attention gates in floating point,
after an optional quantisation-aware fine-tuning (`qat`, run in a process of its own by `qat_process`); `tensorrt`
holds the engine path; `qnn` quantises ONNX to a QDQ INT8 model that onnxruntime's QNN EP runs whole on a Snapdragon
HTP; `metadata` records the attention modules in the export; `benchmark` measures latency (and `memory` the peak
memory) against the matching attention-free baseline that `baseline` builds.
"""

from __future__ import annotations

from yolo_attention.export.baseline import build_baseline, kept_layers, remove_attention
from yolo_attention.export.benchmark import BenchmarkResult, BenchmarkRow, run_benchmark
from yolo_attention.export.detections import DETECTION_CRITERIA, DetectionCriterion, DetectionMatch
from yolo_attention.export.exporter import (
    experiment_models_dir,
    export_and_verify,
    parse_formats,
    resolve_precision,
)
from yolo_attention.export.images import image_files, load_images
from yolo_attention.export.int8 import Int8Report, compare_gate_protection, gate_nodes, quantize_openvino
from yolo_attention.export.metadata import add_attention_metadata, attention_metadata
from yolo_attention.export.parity import compare_outputs, verify_export
from yolo_attention.export.qat import fake_quantised, qat_fine_tune
from yolo_attention.export.qnn import QNNSupport, compare_qnn_cpu, qnn_support, quantize_qnn
from yolo_attention.export.report import RTOL, ParityReport
from yolo_attention.export.runtimes import FORMATS, load_runtime
from yolo_attention.export.runtimes.qnn import QNNRefusedError, QNNUnavailableError, check_qnn
from yolo_attention.export.tensorrt import TensorRTUnavailableError, check_tensorrt, export_engine, jetson_hint
from yolo_attention.export.validation import validate_map

__all__ = [
    "DETECTION_CRITERIA",
    "FORMATS",
    "RTOL",
    "BenchmarkResult",
    "BenchmarkRow",
    "DetectionCriterion",
    "DetectionMatch",
    "Int8Report",
    "ParityReport",
    "QNNRefusedError",
    "QNNSupport",
    "QNNUnavailableError",
    "TensorRTUnavailableError",
    "add_attention_metadata",
    "attention_metadata",
    "build_baseline",
    "check_qnn",
    "check_tensorrt",
    "compare_gate_protection",
    "compare_outputs",
    "compare_qnn_cpu",
    "experiment_models_dir",
    "export_and_verify",
    "export_engine",
    "fake_quantised",
    "gate_nodes",
    "image_files",
    "jetson_hint",
    "kept_layers",
    "load_images",
    "load_runtime",
    "parse_formats",
    "qat_fine_tune",
    "qnn_support",
    "quantize_openvino",
    "quantize_qnn",
    "remove_attention",
    "resolve_precision",
    "run_benchmark",
    "validate_map",
    "verify_export",
]
