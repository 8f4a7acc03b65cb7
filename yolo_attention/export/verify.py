"""Run an exported model in its own runtime on real images and compare its raw head outputs with PyTorch's.

Both sides see the same letterboxed float tensor; what is compared is the exported graph's output (for detection the
(B, 4 + nc, anchors) tensor of decoded boxes and class scores, before NMS) against the PyTorch model's, element by
element: ``|exported - torch| <= rtol * max(|torch|, 1)``. The floor of 1 makes class scores (0..1) an absolute
comparison and pixel coordinates a relative one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "FORMATS",
    "RTOL",
    "ParityReport",
    "attention_effect",
    "compare_outputs",
    "format_of",
    "image_files",
    "letterbox_image",
    "load_images",
    "load_runtime",
    "reference_outputs",
    "validate_map",
    "verify_export",
]

FORMATS = ("onnx", "openvino", "torchscript", "engine")
"""Export formats this module runs in their own runtime."""

RTOL = {"fp32": 1e-3, "fp16": 1e-2, "int8": 1e-1}
"""Default relative tolerance per precision; FP16 and INT8 are judged by mAP instead when a dataset is given."""

IMAGE_SUFFIXES = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")


def format_of(artifact: str | Path) -> str:
    """Return the export format of a file or folder written by Ultralytics' exporter.

    Examples:
        >>> format_of("runs/best_openvino_model"), format_of("best.onnx"), format_of("best.torchscript")
        ('openvino', 'onnx', 'torchscript')
    """
    path = Path(artifact)
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


def _split_entries(data: str | Path, split: str) -> list[Path]:
    from ultralytics.data.utils import check_det_dataset

    info = check_det_dataset(str(data))
    if not info.get(split):
        valid = [k for k in ("train", "val", "test") if info.get(k)]
        raise ValueError(f"dataset '{data}' has no '{split}' split; it has: {', '.join(valid)}")
    entries = info[split] if isinstance(info[split], list) else [info[split]]
    return [Path(e) for e in entries]


def image_files(data: str | Path | None = None, split: str = "val", n: int | None = None) -> list[Path]:
    """Return the sorted image files of a dataset split (the bundled pcb-mini's when `data` is None).

    Args:
        data (str | Path, optional): Ultralytics dataset YAML. Defaults to ``pcb-mini.yaml``.
        split (str): ``train``, ``val`` or ``test``.
        n (int, optional): Return the first `n` files only.

    Returns:
        (list[Path]): Image paths.

    Raises:
        FileNotFoundError: If the split holds no images.

    Examples:
        >>> len(image_files(n=3))
        3
    """
    files: list[Path] = []
    for entry in _split_entries(data or "pcb-mini.yaml", split):
        if entry.is_dir():
            files += sorted(p for p in entry.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif entry.suffix == ".txt" and entry.is_file():
            for line in entry.read_text().splitlines():
                line = line.strip()
                if line:
                    p = Path(line)
                    files.append(p if p.is_absolute() else (entry.parent / line).resolve())
        elif entry.suffix.lower() in IMAGE_SUFFIXES and entry.is_file():
            files.append(entry)
    if not files:
        raise FileNotFoundError(f"no images in the '{split}' split of '{data or 'pcb-mini.yaml'}'")
    files = sorted(files)
    return files[:n] if n is not None else files


def letterbox_image(path: str | Path, imgsz: int | Sequence[int]) -> np.ndarray:
    """Load an image and letterbox it as Ultralytics' predictor does; return a (3, h, w) RGB float32 array in [0, 1].

    Examples:
        >>> letterbox_image(image_files(n=1)[0], 64).shape
        (3, 64, 64)
    """
    import cv2
    from ultralytics.data.augment import LetterBox

    shape = (imgsz, imgsz) if isinstance(imgsz, int) else tuple(imgsz)
    image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError(f"cannot read image '{path}'")
    boxed = LetterBox(shape, auto=False)(image=image)  # as predict does at a fixed size: scale to fit, pad 114
    return np.ascontiguousarray(boxed[..., ::-1].transpose(2, 0, 1), dtype=np.float32) / 255.0


def load_images(
    data: str | Path | None = None, imgsz: int | Sequence[int] = 640, n: int = 8, split: str = "val"
) -> torch.Tensor:
    """Return `n` real images of a dataset split as one letterboxed (n, 3, h, w) float tensor in [0, 1].

    Examples:
        >>> load_images(imgsz=64, n=2).shape
        torch.Size([2, 3, 64, 64])
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"the number of images must be an int >= 1, got {n!r}")
    files = image_files(data, split, n)
    return torch.from_numpy(np.stack([letterbox_image(p, imgsz) for p in files]))


def _task_model(model) -> torch.nn.Module:
    from ultralytics.engine.model import Model

    return model.model if isinstance(model, Model) else model


def _first_output(y):
    while isinstance(y, (list, tuple)):
        y = y[0]
    return y


def reference_outputs(model, images: torch.Tensor) -> np.ndarray:
    """Return the PyTorch model's raw head output for `images`, in float32 on the CPU, without touching `model`.

    The head's inference output in eval mode is the tensor Ultralytics exports (decoded boxes and scores, no NMS).
    """
    net = _reference_net(model)
    with torch.inference_mode():
        return _first_output(net(images.float())).numpy()


def _reference_net(model) -> torch.nn.Module:
    """A float32 eval-mode copy of the task model on the CPU (the caller's model keeps its mode and device)."""
    return copy.deepcopy(_task_model(model)).float().eval().cpu()


def _as_numpy(y) -> np.ndarray:
    y = _first_output(y)
    if isinstance(y, torch.Tensor):
        y = y.detach().float().cpu().numpy()
    return np.asarray(y, dtype=np.float32)


def load_runtime(
    artifact: str | Path,
    fmt: str | None = None,
    precision: str = "fp32",
    device: str = "cpu",
    threads: int | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """Load an exported model in its own runtime; return a function from a (B, 3, H, W) float32 array to its output.

    ONNX runs in onnxruntime (CPU provider, default graph optimisations), OpenVINO in its CPU plugin (an FP32
    artifact with ``INFERENCE_PRECISION_HINT=f32``, so that CPUs with bf16 units do not silently lower it),
    TorchScript through ``torch.jit.load``, TensorRT engines through Ultralytics' `AutoBackend` on CUDA.

    Args:
        artifact (str | Path): The exported file or folder.
        fmt (str, optional): One of `FORMATS`; guessed from the name by default.
        precision (str): ``fp32``, ``fp16`` or ``int8``, the artifact's precision.
        device (str): ``cpu``, or a CUDA device for TorchScript and engines.
        threads (int, optional): CPU threads for the runtime (torch's for TorchScript); its default when None.

    Returns:
        (Callable[[np.ndarray], np.ndarray]): The runner.
    """
    fmt = fmt or format_of(artifact)
    path = Path(artifact)
    if not path.exists():
        raise FileNotFoundError(f"exported model '{artifact}' does not exist")
    if fmt == "onnx":
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda x: _as_numpy(session.run(None, {name: np.ascontiguousarray(x, dtype=np.float32)}))
    if fmt == "openvino":
        import openvino as ov

        xml = path if path.suffix == ".xml" else next(path.glob("*.xml"), None)
        if xml is None:
            raise FileNotFoundError(f"no .xml model in OpenVINO folder '{artifact}'")
        core = ov.Core()
        config = {"PERFORMANCE_HINT": "LATENCY"}
        if precision == "fp32":
            config["INFERENCE_PRECISION_HINT"] = "f32"
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        compiled = core.compile_model(core.read_model(str(xml)), "CPU", config)
        return lambda x: _as_numpy(compiled(np.ascontiguousarray(x, dtype=np.float32))[0])
    if fmt == "torchscript":
        if threads:
            torch.set_num_threads(threads)
        module = torch.jit.load(str(path), map_location=device).eval()
        half = precision == "fp16" and device != "cpu"

        def run_torchscript(x: np.ndarray) -> np.ndarray:
            tensor = torch.from_numpy(np.ascontiguousarray(x)).to(device)
            with torch.inference_mode():
                return _as_numpy(module(tensor.half() if half else tensor))

        return run_torchscript
    if fmt == "engine":
        from ultralytics.nn.autobackend import AutoBackend

        from yolo_attention.export.tensorrt import check_tensorrt

        check_tensorrt()
        backend = AutoBackend(str(path), device=torch.device(device if device != "cpu" else "cuda:0"), verbose=False)

        def run_engine(x: np.ndarray) -> np.ndarray:
            tensor = torch.from_numpy(np.ascontiguousarray(x)).to(backend.device)
            return _as_numpy(backend(tensor.half() if backend.fp16 else tensor))

        return run_engine
    raise ValueError(f"unknown export format '{fmt}'; valid: {', '.join(FORMATS)}")


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


@dataclass
class ParityReport:
    """What verifying one exported model found.

    Attributes:
        format (str): ``onnx``, ``openvino``, ``torchscript`` or ``engine``.
        artifact (str): The exported file or folder.
        precision (str): ``fp32``, ``fp16`` or ``int8``.
        dynamic (bool): Whether the export has dynamic shapes (then several input shapes were checked).
        shapes (list[tuple[int, ...]]): Input shapes run through both models.
        max_abs (float): Largest absolute difference of the raw head outputs.
        mean_abs (float): Mean absolute difference.
        max_rel (float): Largest ``|d| / max(|torch|, 1)``.
        rtol (float): Tolerance on `max_rel`.
        map50 (float, optional): The exported model's mAP50 on the dataset (0..1), when one was given.
        map50_95 (float, optional): Its mAP50-95.
        ref_map50 (float, optional): PyTorch's mAP50 on the same data and settings.
        ref_map50_95 (float, optional): PyTorch's mAP50-95.
        map_tol (float, optional): Largest mAP50 drop allowed, in points (0..100).
        map50_unprotected (float, optional): INT8 only: mAP50 when the attention gates are quantised too.
        attention_effect (float, optional): How far the PyTorch outputs move (same measure as `max_rel`) when every
            attention module is switched off. At or below `rtol` the parity check cannot tell whether the attention
            survived the export (an untrained head outputs nearly constants), and a note says so.
        error (str, optional): Why the export or its runtime failed, if it did.
        notes (list[str]): Anything the user should know (a precision the format does not offer, ...).
    """

    format: str
    artifact: str
    precision: str = "fp32"
    dynamic: bool = False
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    max_abs: float = float("nan")
    mean_abs: float = float("nan")
    max_rel: float = float("nan")
    rtol: float = RTOL["fp32"]
    map50: float | None = None
    map50_95: float | None = None
    ref_map50: float | None = None
    ref_map50_95: float | None = None
    map_tol: float | None = None
    map50_unprotected: float | None = None
    attention_effect: float | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def judged_by(self) -> str:
        """(str): ``mAP50`` for FP16/INT8 artifacts validated on a dataset, else ``parity``."""
        if self.precision != "fp32" and self.map50 is not None and self.ref_map50 is not None:
            return "mAP50"
        return "parity"

    @property
    def parity_ok(self) -> bool:
        """(bool): Whether the raw outputs agree within `rtol`."""
        return self.error is None and bool(self.max_rel <= self.rtol)

    @property
    def map50_drop(self) -> float | None:
        """(float, optional): PyTorch's mAP50 minus the exported model's, in points (0..100)."""
        if self.map50 is None or self.ref_map50 is None:
            return None
        return 100.0 * (self.ref_map50 - self.map50)

    @property
    def passed(self) -> bool:
        """(bool): The verdict: parity for FP32 (and FP16 without data), the mAP50 drop for FP16/INT8 with data."""
        if self.error is not None:
            return False
        if self.judged_by == "mAP50":
            return self.map50_drop <= (self.map_tol if self.map_tol is not None else 1.0)
        return self.parity_ok

    def line(self) -> str:
        """Return a one-line summary: format, precision, differences, tolerance, mAP when validated, verdict."""
        verdict = "PASS" if self.passed else "FAIL"
        if self.error is not None:
            return f"{self.format:<12}{self.precision:<6}{'ERROR':<52}{verdict}  {self.error}"
        text = (
            f"{self.format:<12}{self.precision:<6}max|d| {self.max_abs:8.2e}  mean|d| {self.mean_abs:8.2e}  "
            f"rel {self.max_rel:8.2e} {'<=' if self.parity_ok else '> '} {self.rtol:.0e}"
        )
        if self.map50 is not None:
            text += f"  mAP50 {100 * self.map50:5.1f} (PyTorch {100 * self.ref_map50:5.1f})"
            if self.map50_unprotected is not None:
                text += f"  unprotected gates {100 * self.map50_unprotected:5.1f}"
        return f"{text}  {verdict}" + (f" by {self.judged_by}" if self.judged_by != "parity" else "")


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
        on = _first_output(net(images.float())).numpy()
        for m in modules:
            m.enabled = False
        off = _first_output(net(images.float())).numpy()
    return compare_outputs(off, on, float("inf"))["max_rel"]


def _dynamic_shapes(images: torch.Tensor, stride: int) -> list[torch.Tensor]:
    """The inputs a dynamic export is checked on: the whole batch, and two images at a taller, different size."""
    h, w = images.shape[2:]
    taller = torch.nn.functional.interpolate(images[:2], size=(h + stride, w), mode="bilinear", align_corners=False)
    return [images, taller.contiguous()]


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
) -> ParityReport:
    """Run `artifact` in its own runtime and compare its raw head outputs with `model`'s on the same images.

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

    Returns:
        (ParityReport): The comparison; `error` is set instead of raising when the runtime fails.

    Examples:
        >>> import shutil, tempfile, yolo_attention
        >>> from ultralytics import YOLO
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
    stride = int(max(getattr(_task_model(model), "stride", torch.tensor([32])).tolist()))
    if dynamic:
        batches = _dynamic_shapes(images, stride)
    else:
        if len(images) < batch:
            images = images.repeat((batch + len(images) - 1) // len(images), 1, 1, 1)
        batches = [images[i : i + batch] for i in range(0, len(images) - batch + 1, batch)]
    try:
        run = load_runtime(artifact, fmt, precision, device)
        net = _reference_net(model)
        outputs, references = [], []
        for batch in batches:
            outputs.append(run(batch.numpy()).reshape(-1))
            with torch.inference_mode():
                references.append(_first_output(net(batch.float())).numpy().reshape(-1))
            if outputs[-1].shape != references[-1].shape:
                raise ValueError(
                    f"output has {outputs[-1].size} values for input {tuple(batch.shape)}, PyTorch's "
                    f"has {references[-1].size}"
                )
            report.shapes.append(tuple(batch.shape))
        stats = compare_outputs(np.concatenate(outputs), np.concatenate(references), rtol)
    except Exception as e:  # a runtime that cannot load or run the export is a failed verification, not a crash
        report.error = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        return report
    report.max_abs, report.mean_abs, report.max_rel = stats["max_abs"], stats["mean_abs"], stats["max_rel"]
    report.attention_effect = attention_effect(model, batches[0])
    if report.attention_effect is not None and report.attention_effect <= rtol:
        report.notes.append(
            f"switching the attention off moves the outputs by only {report.attention_effect:.1e} <= rtol: this "
            "parity check cannot see the attention (untrained weights?); verify a trained checkpoint"
        )
    return report


def validate_map(model, data: str | Path, imgsz: int = 640, batch: int = 1, save_dir: str | Path | None = None):
    """Validate a PyTorch model or an exported one on `data`; return (mAP50, mAP50-95), both 0..1.

    Every model is validated the same way (square letterboxed batches, ``rect=False``), so that the mAP of an export
    and of its PyTorch source differ only by what the export changed.

    Args:
        model: A `YOLO`, a checkpoint path or an exported file or folder.
        data (str | Path): Dataset YAML.
        imgsz (int): Validation size.
        batch (int): Batch size (static exports run one image at a time regardless).
        save_dir (str | Path, optional): Where Ultralytics writes the validation run; a temporary folder by default.
    """
    import tempfile

    from ultralytics import YOLO
    from ultralytics.engine.model import Model

    yolo = model if isinstance(model, Model) else YOLO(str(model))  # an export's task comes from its metadata
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(save_dir) if save_dir else Path(tmp)
        metrics = yolo.val(
            data=str(data),
            imgsz=imgsz,
            batch=batch,
            rect=False,
            plots=False,
            verbose=False,
            project=str(project),
            name="val",
            exist_ok=True,
            workers=0,
        )
    return float(metrics.box.map50), float(metrics.box.map)
