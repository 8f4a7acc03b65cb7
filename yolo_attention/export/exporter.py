"""Export through Ultralytics' public `YOLO.export`, then prove each export computes what the PyTorch model does.

For every format: export, move the artifact into the output folder (an experiment's ``models/`` folder by default),
write which attention modules the model carries into its metadata, run it in its own runtime on real images and
compare it with PyTorch (`parity`: FP32 raw outputs within a tolerance, FP16/INT8 detections matched box by box);
with a dataset, validate it too and put its mAP next to PyTorch's.
"""

from __future__ import annotations

import math
import numbers
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path

from ultralytics.utils import LOGGER

from yolo_attention.export.detections import DetectionCriterion
from yolo_attention.export.images import load_images
from yolo_attention.export.metadata import add_attention_metadata, attention_metadata
from yolo_attention.export.parity import class_count, verify_export
from yolo_attention.export.qat import QAT_LR
from yolo_attention.export.report import ParityReport
from yolo_attention.export.runtimes import FORMATS
from yolo_attention.export.runtimes.qnn import check_qnn
from yolo_attention.export.tensorrt import check_tensorrt
from yolo_attention.export.validation import validate_map
from yolo_attention.modules.suggest import did_you_mean

__all__ = [
    "ALIASES",
    "MAP_TOL",
    "experiment_models_dir",
    "export_and_verify",
    "parse_formats",
    "qat_hint",
    "resolve_precision",
]

ALIASES = {"tensorrt": "engine", "trt": "engine", "ov": "openvino", "ts": "torchscript", "snapdragon": "qnn"}
QAT_HINT_DROP = 0.5
"""An INT8 mAP50 drop (points) above which the report suggests ``qat_epochs=``."""
MAP_TOL = {"fp16": 0.5, "int8": 1.0}
"""Largest mAP50 drop (points, 0..100) against PyTorch that passes, per precision, when a dataset is given."""


def parse_formats(formats: str | Iterable[str]) -> list[str]:
    """Return the export formats of ``"onnx,openvino"`` or a list, lower-cased, aliases resolved, duplicates dropped.

    Raises:
        ValueError: On an unknown format, naming the valid ones and the closest, or on something that is neither a
            string nor a list.

    Examples:
        >>> parse_formats("onnx, OpenVINO,trt")
        ['onnx', 'openvino', 'engine']
    """
    if not isinstance(formats, (str, Iterable)):
        raise ValueError(
            f"format must be a name, a comma-separated string or a list of names, got {formats!r}; "
            f"valid: {', '.join(FORMATS)}"
        )
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = []
    for item in items:
        name = str(item).strip().lower()
        if not name:
            continue
        name = ALIASES.get(name, name)
        if name not in FORMATS:
            raise ValueError(
                f"unknown export format '{item}'; valid: {', '.join(FORMATS)}.{did_you_mean(name, list(FORMATS))}"
            )
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError(f"no export format given; valid: {', '.join(FORMATS)}")
    return out


def resolve_precision(fmt: str, half: bool = False, int8: bool = False, cuda: bool = False) -> tuple[str, str | None]:
    """Return the precision `fmt` is exported at for the flags asked, and a note when it differs from the request.

    INT8 is offered for OpenVINO (NNCF, gates kept in float) and TensorRT; FP16 for ONNX, OpenVINO (FP16 weights),
    TensorRT, and TorchScript on a GPU. A format that cannot give the lowest precision asked for gives the next one.
    ``qnn`` (Snapdragon: a QDQ model for the QNN EP's HTP) is INT8 by definition, whatever is asked.

    Examples:
        >>> resolve_precision("openvino", half=True, int8=True)
        ('int8', None)
        >>> resolve_precision("qnn")
        ('int8', None)
        >>> resolve_precision("torchscript", half=True)
        ('fp32', 'FP16 TorchScript needs a GPU; torchscript exported in FP32')
    """
    if fmt == "qnn" or (int8 and fmt in ("openvino", "engine")):
        return "int8", None
    wanted = "int8" if int8 else "fp16" if half else "fp32"
    got = "fp16" if half and (fmt != "torchscript" or cuda) else "fp32"
    if got == wanted:
        return got, None
    reason = "INT8 is offered for openvino and engine" if wanted == "int8" else "FP16 TorchScript needs a GPU"
    return got, f"{reason}; {fmt} exported in {got.upper()}"


def experiment_models_dir(path: str | Path) -> Path | None:
    """Return the ``models/`` folder of the experiment a checkpoint belongs to, or None.

    An experiment folder holds ``experiment.json``; checkpoints sit in ``checkpoints/`` or ``<phase>/weights/``.

    Examples:
        >>> experiment_models_dir("yolov8n-cbam.yaml") is None
        True
    """
    path = Path(str(path)).resolve()
    for parent in list(path.parents)[:4]:
        if (parent / "experiment.json").is_file():
            return parent / "models"
    return None


class _DefaultFormats(tuple):
    """The default of `export_and_verify`'s ``format``, told apart from the same formats given explicitly."""


_DEFAULT_FORMATS = _DefaultFormats(("onnx", "openvino", "torchscript"))


def _export_size(yolo, imgsz: int) -> int:
    """Round `imgsz` up to a multiple of the model's largest stride (at least 32), as Ultralytics' exporter does.

    The exporter would round it anyway (Ultralytics' `check_imgsz`); verification must feed the size exported at.
    """
    stride = getattr(getattr(yolo, "model", None), "stride", None)
    stride = max(int(stride.max()) if stride is not None else 32, 32)
    size = math.ceil(imgsz / stride) * stride
    if size != imgsz:
        LOGGER.warning(
            f"yolo-attention export: imgsz={imgsz} is not a multiple of the model's stride {stride}; "
            f"exporting and verifying at imgsz={size}"
        )
    return size


def _shipped(yolo) -> bool:
    """Whether `yolo` was loaded from a checkpoint shipped inside the package (``yolov8n-deeppcb.pt`` by name)."""
    from yolo_attention.resources import PACKAGE_DIR

    path = getattr(yolo, "ckpt_path", None)
    return bool(path) and Path(str(path)).resolve().is_relative_to(PACKAGE_DIR)


@contextmanager
def _exporting_into(yolo, out: Path | None, scratch: bool):
    """Let Ultralytics write an export into `out` itself: its "Results saved to" line and commands then name it there.

    Ultralytics names and places an export after the model's ``pt_path`` (else its YAML file); it is pointed into
    `out` for the export and restored afterwards. With `scratch` (formats that write files on the way: TensorRT's
    ONNX, the FP32 model INT8 and QNN quantise) it points into a temporary folder instead, removed afterwards: those
    files would overwrite, and then delete, an earlier export in `out`. The final artifact must be moved out of it
    inside the block.
    """
    model = yolo.model
    had, before = hasattr(model, "pt_path"), getattr(model, "pt_path", None)
    folder = Path(tempfile.mkdtemp(prefix="yolo-attn-export-")) if scratch and out is not None else out
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        source = before or getattr(model, "yaml_file", None) or model.yaml.get("yaml_file") or "model"
        model.pt_path = str(folder.resolve() / f"{Path(str(source)).stem}.pt")
    try:
        yield
    finally:
        if had:
            model.pt_path = before
        elif hasattr(model, "pt_path"):
            del model.pt_path
        if folder is not None and folder != out:
            shutil.rmtree(folder, ignore_errors=True)


def _move(artifact: Path, out_dir: Path | None) -> Path:
    if out_dir is None:
        return artifact
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / artifact.name
    if target.resolve() == artifact.resolve():
        return artifact
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    return Path(shutil.move(str(artifact), str(target)))


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def export_and_verify(
    model,
    format: str | Sequence[str] = _DEFAULT_FORMATS,
    imgsz: int = 640,
    half: bool = False,
    int8: bool = False,
    dynamic: bool = False,
    data: str | Path | None = None,
    out_dir: str | Path | None = None,
    batch: int | None = None,
    images: int = 8,
    rtol: float | None = None,
    map_tol: float | None = None,
    int8_compare: bool = True,
    subset_size: int = 300,
    simplify: bool = True,
    device: str | int | None = None,
    criterion: DetectionCriterion | None = None,
    qat_epochs: float = 0.0,
    qat_lr: float = QAT_LR,
    *,
    formats: str | Sequence[str] | None = None,
) -> list[ParityReport]:
    """Export `model` to each format and verify each export against the PyTorch model.

    Args:
        model: A `YOLO`, or a checkpoint / model YAML path.
        format (str | Sequence[str]): ``onnx``, ``openvino``, ``torchscript``, ``engine``, ``qnn`` (Snapdragon:
            QDQ INT8 ONNX for onnxruntime's QNN EP, run on its HTP backend; see `yolo_attention.export.qnn`),
            comma-separated or a list (Ultralytics' ``format``, several at once).
        imgsz (int): Export size (square), rounded up to a multiple of the model's largest stride (as Ultralytics
            rounds it, with a warning); the reports verify that size.
        half (bool): FP16 where the format offers it (see `resolve_precision`).
        int8 (bool): INT8 for openvino (NNCF, attention gates in float) and engine; needs `data` (as ``qnn`` does).
        dynamic (bool): Dynamic batch and image size; verified on two input shapes.
        data (str | Path, optional): Dataset YAML. Verification images come from its val split (else the bundled
            pcb-mini's); with it, every export and the PyTorch model are validated and their mAPs compared.
        out_dir (str | Path, optional): Folder the artifacts are moved into. Defaults to the experiment's
            ``models/`` folder when `model` is a checkpoint inside an experiment, the working directory for a
            checkpoint shipped with the package, else where Ultralytics writes (beside the checkpoint).
        batch (int, optional): Export batch size (the largest batch for dynamic TensorRT engines, default 8 there).
        images (int): Number of real images to compare outputs on.
        rtol (float, optional): Tolerance (> 0) on ``|d| / max(|torch|, 1)``, FP32's verdict; defaults to
            `report.RTOL`.
        map_tol (float, optional): Largest mAP50 drop in points for FP16/INT8 exports; defaults to `MAP_TOL`.
        int8_compare (bool): For INT8 OpenVINO with `data`, also quantise without gate protection and report its mAP.
        subset_size (int): INT8 calibration images (from the train split).
        simplify (bool): Let Ultralytics simplify ONNX graphs (onnxslim).
        device (str | int, optional): Export device; TensorRT uses GPU 0 by default.
        criterion (DetectionCriterion, optional): How FP16/INT8 detections must match PyTorch's; defaults to
            `detections.DETECTION_CRITERIA` for the precision.
        qat_epochs (float): Before an INT8 export, fine-tune the checkpoint this many epochs on the train split of
            `data` with NNCF's fake quantisers in its graph (`qat.qat_fine_tune`, on `device`, else the CPU; in a
            Python process of its own, `qat_process`), then export and quantise the fine-tuned weights. The
            fine-tuned checkpoint ``<stem>_qat.pt`` is written to `out_dir` (else beside the checkpoint) and the
            exports are named after it
            (``<stem>_qat_int8_openvino_model``); parity is checked against it and mAP against the original model.
            Needs a checkpoint, `data`, and INT8 for every format. 0 (default) quantises the model as it is.
        qat_lr (float): Adam learning rate of that fine-tuning.
        formats (str | Sequence[str], optional): Deprecated name of ``format``; give one of the two.

    Returns:
        (list[ParityReport]): One report per format, in order; check `passed`.

    Raises:
        ValueError: Bad formats (or both ``format`` and ``formats``), ``rtol <= 0``, INT8 without `data`, or
            `qat_epochs` for an export that is not INT8.
        TensorRTUnavailableError: ``engine`` asked for without CUDA and tensorrt (checked before exporting anything).
        QNNUnavailableError: ``qnn`` asked for without onnxruntime-qnn (checked before exporting anything).

    Examples:
        >>> import tempfile, yolo_attention
        >>> from ultralytics import YOLO
        >>> reports = export_and_verify(YOLO("yolov8n-se.yaml"), "onnx", imgsz=64, out_dir=tempfile.mkdtemp())
        >>> reports[0].passed
        True
    """
    import torch
    from ultralytics import YOLO
    from ultralytics.engine.model import Model

    import yolo_attention  # noqa: F401  registers the modules before a checkpoint is unpickled

    if formats is not None:
        if format is not _DEFAULT_FORMATS:
            raise ValueError(f"give one of format={format!r} and formats={formats!r} (its deprecated name), not both")
        warnings.warn("export_and_verify(formats=...) is deprecated: use format=...", DeprecationWarning, stacklevel=2)
        format = formats
    fmts = parse_formats(format)
    if rtol is not None and (isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not rtol > 0):
        raise ValueError(f"rtol must be a number > 0 (FP32's tolerance, e.g. 1e-3), got {rtol!r}")
    if isinstance(subset_size, bool) or not isinstance(subset_size, int) or subset_size < 1:
        raise ValueError(f"subset_size must be an int >= 1 (INT8 calibration images), got {subset_size!r}")
    if "engine" in fmts:
        check_tensorrt()
    if int8 and not data and any(f in ("openvino", "engine") for f in fmts):
        raise ValueError("int8=True needs data=<dataset YAML>: INT8 is calibrated on its images and judged by its mAP")
    if "qnn" in fmts:
        _check_qnn_request(data, dynamic, batch)
    if not isinstance(imgsz, int) or isinstance(imgsz, bool) or imgsz < 32:
        raise ValueError(f"imgsz must be an int >= 32 (a square export size), got {imgsz!r}")
    cuda = torch.cuda.is_available()
    source = model if isinstance(model, (str, Path)) else getattr(model, "ckpt_path", None)
    if qat_epochs or qat_lr != QAT_LR:
        _check_qat_request(fmts, half, int8, cuda, data, qat_epochs, qat_lr, source)
    yolo = model if isinstance(model, Model) else YOLO(str(model))
    imgsz = _export_size(yolo, imgsz)
    out = Path(out_dir) if out_dir is not None else (experiment_models_dir(source) if source else None)
    if out is None and _shipped(yolo):  # Ultralytics writes beside the checkpoint: not into the installed package
        out = Path.cwd()
    exported, qat_notes = yolo, {}
    if qat_epochs:
        from yolo_attention.export.qat_process import fine_tune_in_child

        src = Path(str(source))
        checkpoint = (out or src.parent) / f"{src.stem}_qat.pt"
        checkpoint = fine_tune_in_child(yolo, data, checkpoint, imgsz, qat_epochs, qat_lr, device=device)
        exported = YOLO(str(checkpoint))
        qat_notes = {fmt: _qat_note(fmt, checkpoint, qat_epochs, data) for fmt in fmts}
    inputs = load_images(data, imgsz, images)
    attention = attention_metadata(yolo)
    reports: list[ParityReport] = []
    int8_maps: dict[str, tuple[float, float, float]] = {}
    for fmt in fmts:
        precision, note = resolve_precision(fmt, half, int8, cuda)
        if note:
            LOGGER.warning(f"yolo-attention export: {note}")
        kwargs = {"format": "onnx" if fmt == "qnn" else fmt, "imgsz": imgsz, "dynamic": dynamic, "verbose": False}
        kwargs["batch"] = batch or (8 if fmt == "engine" and dynamic else 1)
        if fmt in ("onnx", "engine", "qnn"):
            kwargs["simplify"] = simplify
        if precision == "fp16":
            kwargs["quantize"] = 16
        if precision == "int8" and fmt == "engine":
            kwargs.update(quantize=8, data=str(data))
        if fmt == "engine" or (fmt == "torchscript" and precision == "fp16"):
            kwargs["device"] = device if device is not None else 0
        elif device is not None:
            kwargs["device"] = device
        try:
            on_the_way = fmt in ("engine", "qnn") or (fmt == "openvino" and precision == "int8")
            with _exporting_into(exported, out, scratch=on_the_way):
                artifact = Path(exported.export(**kwargs))
                if precision == "int8" and fmt == "openvino":
                    artifact = _int8_openvino(
                        exported, artifact, data, imgsz, out, int8_compare, subset_size, int8_maps
                    )
                elif fmt == "qnn":
                    artifact = _qnn(artifact, data, out, subset_size, keep={r.artifact for r in reports})
                else:
                    artifact = _move(artifact, out)
            add_attention_metadata(artifact, attention)
        except Exception as e:  # one format failing must not hide the others' results
            report = ParityReport(fmt, "", precision, dynamic, error=f"export failed: {type(e).__name__}: {e}")
            report.notes += [n for n in (note, qat_notes.get(fmt)) if n]
            reports.append(report)
            continue
        images_in = inputs[: kwargs["batch"]] if fmt == "engine" and dynamic else inputs  # an engine's largest batch
        report = verify_export(
            exported, artifact, images_in, precision, dynamic, rtol, fmt, batch=kwargs["batch"], criterion=criterion
        )
        report.notes += [n for n in (note, qat_notes.get(fmt)) if n]
        if fmt == "qnn" and report.error is None:
            from yolo_attention.export.qnn import verification_notes

            try:
                report.notes += verification_notes(artifact, images_in, class_count(yolo), validated=bool(data))
            except Exception as e:  # the parity verdict stands; say what could not be checked beyond it
                report.notes.append(f"QNN op support / HTP-against-CPU check failed: {type(e).__name__}: {e}")
        reports.append(report)
        LOGGER.info(f"yolo-attention verify: {report.line()}")
    if data:
        _validate(yolo, reports, data, imgsz, map_tol, int8_maps)
        if exported is not yolo:
            fine_tuned = validate_map(exported, data, imgsz, batch=8)[0]
            for report in reports:
                report.notes.append(f"the fine-tuned model's own mAP50 (PyTorch FP32): {100 * fine_tuned:.2f}")
        else:
            for report in reports:
                report.notes += [hint] if (hint := qat_hint(report)) else []
    return reports


def qat_hint(report: ParityReport) -> str | None:
    """A note suggesting ``qat_epochs=`` for a validated INT8 OpenVINO export losing more than `QAT_HINT_DROP` points.

    OpenVINO only: that is where the fine-tuning was measured (tools/qat_deeppcb.py). (On ``qnn`` it lowered one
    DeepPCB model's loss from 2.0 to 1.4 points, still beyond the 1-point tolerance.)

    Examples:
        >>> qat_hint(ParityReport("openvino", "m", "int8", map50=0.70, ref_map50=0.71)).split(";")[0]
        'INT8 loses 1.00 mAP50 points'
        >>> qat_hint(ParityReport("openvino", "m", "int8", map50=0.708, ref_map50=0.71)) is None
        True
    """
    if report.format != "openvino" or report.precision != "int8" or not report.validated:
        return None
    if report.map50_drop <= QAT_HINT_DROP:
        return None
    return (
        f"INT8 loses {report.map50_drop:.2f} mAP50 points; qat_epochs=1 fine-tunes one epoch with fake quantisation "
        "first: on DeepPCB that lowered the loss by 0.2 point on average, not for every model (README, INT8)"
    )


def _check_qat_request(fmts: list[str], half: bool, int8: bool, cuda: bool, data, epochs, lr, source) -> None:
    """qat_epochs fine-tunes trained weights for INT8: a checkpoint, every format INT8, and data= to train on."""
    from yolo_attention.export.qat import check_qat_settings

    if not epochs:
        raise ValueError(f"qat_lr={lr} is the learning rate of qat_epochs=, which is not set (add e.g. qat_epochs=1)")
    check_qat_settings(epochs, lr)
    if source is None or Path(str(source)).suffix != ".pt":
        raise ValueError(
            f"qat_epochs fine-tunes trained weights for INT8: give a checkpoint (model=best.pt), not "
            f"{'a model built from ' + str(source) if source else 'a model that has no checkpoint file'}"
        )
    not_int8 = [f for f in fmts if resolve_precision(f, half, int8, cuda)[0] != "int8"]
    if not_int8:
        raise ValueError(
            f"qat_epochs={epochs:g} fine-tunes the weights for INT8, but {', '.join(not_int8)} would be exported in "
            "floating point from the fine-tuned weights: add int8=True (openvino, engine) or export those formats "
            "in a separate call without qat_epochs"
        )
    if not data:
        raise ValueError(f"qat_epochs={epochs:g} needs data=<dataset YAML>: the model is fine-tuned on its train split")


def _qat_note(fmt: str, checkpoint: Path, epochs: float, data) -> str:
    """What a report exported after quantisation-aware fine-tuning says about it."""
    note = (
        f"exported from {checkpoint} ({epochs:g} quantisation-aware epoch(s) on the train split of {data}): parity is "
        "against it, mAP against the original model"
    )
    if fmt != "openvino":
        note += (
            f"; measured on OpenVINO INT8 only (the fake quantisers are NNCF's, OpenVINO's scheme), not on {fmt}"
            + (" (one DeepPCB model: 2.0 -> 1.4 points lost, still beyond 1)" if fmt == "qnn" else "")
        )
    return note


def _check_qnn_request(data, dynamic: bool, batch: int | None) -> None:
    """What format=qnn needs, checked before anything is exported."""
    check_qnn()
    if not data:
        raise ValueError("format=qnn needs data=<dataset YAML>: the QDQ INT8 model is calibrated on its train split")
    if dynamic or (batch or 1) != 1:
        raise ValueError(
            f"format=qnn needs a static batch-1 model (dynamic=False batch=1), got dynamic={dynamic} batch={batch}: "
            "the QNN EP does not run dynamic shapes"
        )


def _qnn(fp32: Path, data, out: Path | None, subset_size: int, keep: set[str]) -> Path:
    """Quantise the FP32 ONNX export into ``<stem>_int8_qdq.onnx``; drop the FP32 file unless another format made it."""
    from yolo_attention.export.qnn import quantize_qnn

    target = (out or fp32.parent) / f"{fp32.stem}_int8_qdq.onnx"
    _remove(target)
    artifact = quantize_qnn(fp32, data, target, subset_size)
    if str(fp32) not in keep:
        _remove(fp32)
    return artifact


def _int8_openvino(yolo, fp32_dir: Path, data, imgsz: int, out: Path | None, compare: bool, subset_size: int, maps):
    """Quantise the FP32 OpenVINO export with gate protection (and without, to compare); drop the FP32 folder."""
    from yolo_attention.common.models import layers_of
    from yolo_attention.export.int8 import compare_gate_protection, quantize_openvino
    from yolo_attention.integration import attention_layer_indices

    stem = fp32_dir.name.removesuffix("_openvino_model")
    target = (out or fp32_dir.parent) / f"{stem}_int8_openvino_model"
    _remove(target)
    if compare:
        report = compare_gate_protection(yolo, fp32_dir, data, imgsz, target, subset_size)
        maps[str(report.protected)] = (report.protected_map50, report.protected_map50_95, report.unprotected_map50)
        LOGGER.info(f"yolo-attention INT8 OpenVINO (calibrated on the train split of {data}):\n{report.table()}")
        artifact = report.protected
    else:
        head = len(layers_of(yolo)) - 1
        artifact = quantize_openvino(
            fp32_dir, data, attention_layer_indices(yolo), head, imgsz, target, True, subset_size
        )
    _remove(fp32_dir)
    return artifact


def _validate(yolo, reports: list[ParityReport], data, imgsz: int, map_tol: float | None, int8_maps: dict) -> None:
    """Validate PyTorch and every export on `data` with the same settings; fill in the mAP fields."""
    ref50, ref = validate_map(yolo, data, imgsz, batch=8)
    for report in reports:
        if report.error is not None:
            continue
        if report.artifact in int8_maps:
            report.map50, report.map50_95, report.map50_unprotected = int8_maps[report.artifact]
        else:
            report.map50, report.map50_95 = validate_map(report.artifact, data, imgsz)
        report.ref_map50, report.ref_map50_95 = ref50, ref
        report.map_tol = map_tol if map_tol is not None else MAP_TOL.get(report.precision)
