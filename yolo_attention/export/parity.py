"""Run an exported model in its own runtime on real images and compare it with PyTorch under its precision's rule.

Both sides see the same letterboxed float tensor; what is compared is the exported graph's output (for detection the
(B, 4 + nc, anchors) tensor of decoded boxes and class scores, before NMS) against the PyTorch model's.

- FP32: element by element, ``|exported - torch| <= rtol * max(|torch|, 1)`` (`RTOL`, 1e-3). The floor of 1 makes
  class scores (0..1) an absolute comparison and pixel coordinates a relative one.
- FP16 and INT8: by detections: both outputs go through NMS and the boxes are matched by IoU within the same class
  (`yolo_attention.export.detections`); the tensor differences are reported alongside.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from yolo_attention.common.models import layers_of, task_model
from yolo_attention.export.detections import DETECTION_CRITERIA, DetectionCriterion, compare_detections
from yolo_attention.export.report import RTOL, ParityReport
from yolo_attention.export.runtimes import format_of, load_runtime
from yolo_attention.export.runtimes.outputs import first_output

__all__ = ["attention_effect", "class_count", "compare_outputs", "reference_outputs", "verify_export"]


def compare_outputs(output: np.ndarray, reference: np.ndarray, rtol: float) -> dict[str, float | bool]:
    """Compare an exported model's output with the reference, element by element.

    Returns:
        (dict): ``max_abs``, ``mean_abs``, ``max_rel`` (the largest ``|d| / max(|ref|, 1)``) and ``ok``
        (``max_rel <= rtol`` and every value finite).

    Examples:
        >>> ref = np.array([[0.5, 320.0]], dtype=np.float32)
        >>> r = compare_outputs(ref + np.array([[1e-4, 0.1]], dtype=np.float32), ref, rtol=1e-3)
        >>> r["ok"], round(r["max_rel"], 6)
        (True, 0.000313)
    """
    if output.shape != reference.shape:
        raise ValueError(f"exported output shape {output.shape} differs from PyTorch's {reference.shape}")
    diff = np.abs(output.astype(np.float64) - reference.astype(np.float64))
    finite = bool(np.isfinite(output).all())
    rel = diff / np.maximum(np.abs(reference.astype(np.float64)), 1.0)
    max_rel = float(rel.max()) if finite else float("inf")
    return {
        "max_abs": float(diff.max()) if finite else float("inf"),
        "mean_abs": float(diff.mean()) if finite else float("inf"),
        "max_rel": max_rel,
        "ok": finite and max_rel <= rtol,
    }


def _reference_net(model) -> torch.nn.Module:
    """A float32 eval-mode copy of the task model on the CPU (the caller's model keeps its mode and device)."""
    return copy.deepcopy(task_model(model)).float().eval().cpu()


def reference_outputs(model, images: torch.Tensor) -> np.ndarray:
    """Return the PyTorch model's raw head output for `images`, in float32 on the CPU, without touching `model`.

    The head's inference output in eval mode is the tensor Ultralytics exports (decoded boxes and scores, no NMS).
    """
    net = _reference_net(model)
    with torch.inference_mode():
        return first_output(net(images.float())).numpy()


def class_count(model) -> int:
    """Return the number of classes of a `YOLO` or task model (its ``names``, else its head's ``nc``).

    Raises:
        ValueError: If the model has neither.
    """
    net = task_model(model)
    names = getattr(net, "names", None)
    if names:
        return len(names)
    nc = getattr(layers_of(net)[-1], "nc", None) if hasattr(net, "model") else None
    if nc is None:
        raise ValueError(f"cannot tell the number of classes of {type(net).__name__}: it has no names and no head nc")
    return int(nc)


def attention_effect(model, images: torch.Tensor) -> float | None:
    """Return how far the raw outputs move (``max |d| / max(|ref|, 1)``) when every attention module is switched off.

    None for a model without attention modules. A value at or below a parity tolerance means that tolerance cannot
    tell a correct export of the attention from one that lost it.
    """
    from yolo_attention.modules import AttentionModule

    net = _reference_net(model)
    modules = [m for m in net.modules() if isinstance(m, AttentionModule)]
    if not modules:
        return None
    with torch.inference_mode():
        on = first_output(net(images.float())).numpy()
        for m in modules:
            m.enabled = False
        off = first_output(net(images.float())).numpy()
    return compare_outputs(off, on, float("inf"))["max_rel"]


def _dynamic_shapes(images: torch.Tensor, stride: int) -> list[torch.Tensor]:
    """The inputs a dynamic export is checked on: the whole batch, and two images at a taller, different size."""
    h, w = images.shape[2:]
    taller = torch.nn.functional.interpolate(images[:2], size=(h + stride, w), mode="bilinear", align_corners=False)
    return [images, taller.contiguous()]


def _batches(model, images: torch.Tensor, dynamic: bool, batch: int) -> list[torch.Tensor]:
    if dynamic:
        stride = int(max(getattr(task_model(model), "stride", torch.tensor([32])).tolist()))
        return _dynamic_shapes(images, stride)
    if len(images) < batch:
        images = images.repeat((batch + len(images) - 1) // len(images), 1, 1, 1)
    return [images[i : i + batch] for i in range(0, len(images) - batch + 1, batch)]


def _error_text(e: Exception) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0] if text else ''}"


def verify_export(
    model,
    artifact: str | Path,
    images: torch.Tensor,
    precision: str = "fp32",
    dynamic: bool = False,
    rtol: float | None = None,
    fmt: str | None = None,
    device: str = "cpu",
    batch: int = 1,
    criterion: DetectionCriterion | None = None,
) -> ParityReport:
    """Run `artifact` in its own runtime and compare it with `model` on the same images (see the module docstring).

    A static export is run on consecutive groups of `batch` images; a dynamic one on the whole batch and on a second
    batch of a different height, which is where adaptive pooling and shape arithmetic in attention modules break.

    Args:
        model: The PyTorch source: a `YOLO` or its task model.
        artifact (str | Path): The exported file or folder.
        images (torch.Tensor): (N, 3, H, W) float images in [0, 1] at the export size (see `load_images`).
        precision (str): The artifact's precision: ``fp32``, ``fp16`` or ``int8``.
        dynamic (bool): Whether the export has dynamic shapes.
        rtol (float, optional): Tolerance on ``|d| / max(|torch|, 1)``. Defaults to `RTOL` for the precision.
        fmt (str, optional): One of `FORMATS`; guessed from the name by default.
        device (str): Device for TorchScript and TensorRT runtimes.
        batch (int): The static export's batch size (images are repeated when fewer are given).
        criterion (DetectionCriterion, optional): FP16/INT8 detection rule; `DETECTION_CRITERIA` for the precision.

    Returns:
        (ParityReport): The comparison; `error` is set instead of raising when the runtime fails.

    Examples:
        >>> import shutil, tempfile, yolo_attention
        >>> from ultralytics import YOLO
        >>> from yolo_attention.export import load_images
        >>> model = YOLO("yolov8n-eca.yaml")
        >>> f = shutil.move(model.export(format="torchscript", imgsz=64, verbose=False), tempfile.mkdtemp())
        >>> verify_export(model, f, load_images(imgsz=64, n=2)).passed
        True
    """
    fmt = fmt or format_of(artifact)
    if precision not in RTOL:
        raise ValueError(f"precision must be one of {', '.join(RTOL)}, got {precision!r}")
    rtol = RTOL[precision] if rtol is None else float(rtol)
    report = ParityReport(fmt, str(artifact), precision, bool(dynamic), rtol=rtol)
    batches = _batches(model, images, dynamic, batch)
    try:
        run = load_runtime(artifact, fmt, precision, device)
        net = _reference_net(model)
        outputs, references = [], []
        for inputs in batches:
            output = run(inputs.numpy())
            with torch.inference_mode():
                reference = first_output(net(inputs.float())).numpy()
            if output.size != reference.size:
                raise ValueError(
                    f"output has {output.size} values for input {tuple(inputs.shape)}, PyTorch's has {reference.size}"
                )
            outputs.append(output.reshape(reference.shape))
            references.append(reference)
            report.shapes.append(tuple(inputs.shape))
        flat = [np.concatenate([y.reshape(-1) for y in ys]) for ys in (outputs, references)]
        stats = compare_outputs(*flat, rtol)
        if precision != "fp32":
            rule = criterion or DETECTION_CRITERIA[precision]
            report.detections = compare_detections(outputs, references, class_count(model), rule)
    except Exception as e:  # a runtime that cannot load or run the export is a failed verification, not a crash
        report.error = _error_text(e)
        return report
    report.max_abs, report.mean_abs, report.max_rel = stats["max_abs"], stats["mean_abs"], stats["max_rel"]
    report.attention_effect = attention_effect(model, batches[0])
    if report.attention_effect is not None and report.attention_effect <= rtol:
        report.notes.append(
            f"switching the attention off moves the outputs by only {report.attention_effect:.1e} <= rtol: this "
            "parity check cannot see the attention (untrained weights?); verify a trained checkpoint"
        )
    if report.detections is not None and not report.detections.evidence:
        report.notes.append(
            f"neither model detects anything at conf {report.detections.criterion.conf:g} on these images: judged "
            f"by the {precision.upper()} tensor tolerance instead (verify a trained checkpoint on images with objects)"
        )
    return report
