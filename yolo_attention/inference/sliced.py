"""Sliced prediction on full PCB boards with sahi: overlapping tiles, merged back into board coordinates.

A board photo of 3000x1600 px shrunk to a 640 px model input turns a 25 px defect into 5 px. Predicting on
overlapping tiles at their own resolution keeps defects at training scale; sahi
(https://github.com/obss/sahi, ``sahi/models/ultralytics.py``) does the slicing, the shift of each tile's boxes back to
board coordinates and the merge of duplicates from overlapping tiles. This module is the one adapter between sahi and
the plugin: it builds the sahi model from an Ultralytics ``YOLO`` (so attention models load after ``import
yolo_attention``), collects ``Defect`` rows in board pixels and writes annotated images and a JSON or CSV file.

Nothing here downloads anything: sahi draws labels with OpenCV's built-in Hershey font, no TrueType font is fetched.
"""

from __future__ import annotations

import csv
import json
import logging
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from yolo_attention.inference.values import check_conf, check_imgsz

__all__ = [
    "MERGE_METHODS",
    "Defect",
    "image_files",
    "load_detector",
    "predict_board",
    "predict_boards",
    "write_defects",
]

LOGGER = logging.getLogger(__name__)

MERGE_METHODS = ("GREEDYNMM", "NMM", "NMS")
"""sahi's ways to merge the boxes of overlapping tiles: greedy non-maximum merging (sahi's default), merging, NMS."""

FORMATS = ("json", "csv", "both")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class Defect:
    """One detected defect in board pixels.

    Attributes:
        image (str): The board image it was found on (the path given).
        cls (str): Class name.
        class_id (int): Class index of the model.
        confidence (float): Detection confidence.
        x1 (float): Left edge in board pixels.
        y1 (float): Top edge in board pixels.
        x2 (float): Right edge in board pixels.
        y2 (float): Bottom edge in board pixels.
    """

    image: str
    cls: str
    class_id: int
    confidence: float
    x1: float
    y1: float
    x2: float
    y2: float


def load_detector(model, conf: float = 0.25, imgsz: int | None = None, device: str | None = None):
    """Wrap an Ultralytics model for sahi.

    Args:
        model (str | Path | ultralytics.YOLO): Weights (``best.pt``), a model YAML, or a loaded ``YOLO``.
        conf (float): Confidence threshold applied per tile. Defaults to 0.25.
        imgsz (int, optional): Inference size of each tile; None uses Ultralytics' default (640).
        device (str, optional): ``"cpu"``, ``"cuda:0"``, ...; None picks one as sahi does.

    Returns:
        (sahi.models.ultralytics.UltralyticsDetectionModel): The sahi detection model.

    Examples:
        >>> import yolo_attention
        >>> detector = load_detector("yolov8n-cbam.yaml", conf=0.5)
        >>> type(detector).__name__
        'UltralyticsDetectionModel'
    """
    from sahi import AutoDetectionModel
    from ultralytics import YOLO

    import yolo_attention  # noqa: F401  attention modules and bundled YAMLs resolve before the model loads

    check_conf(conf)
    check_imgsz(imgsz)
    yolo = model if isinstance(model, YOLO) else YOLO(str(model))
    if yolo.task != "detect":
        raise ValueError(f"sliced prediction takes a detection model; '{model}' is a {yolo.task} model")
    return AutoDetectionModel.from_pretrained(
        model_type="ultralytics", model=yolo, confidence_threshold=conf, image_size=imgsz, device=device
    )


def _read_rgb(image: str | Path) -> np.ndarray:
    """The image as an RGB uint8 array, EXIF orientation applied (grayscale and palette scans included)."""
    with Image.open(image) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def _check_slice_size(slice_size: int) -> None:
    if slice_size < 0 or 0 < slice_size < 32:
        raise ValueError(f"slice_size={slice_size} is not a tile side: give at least 32 px, or 0 for the whole image")


def predict_board(
    detector,
    image: str | Path,
    slice_size: int = 640,
    overlap: float = 0.2,
    merge: str = "GREEDYNMM",
    merge_metric: str = "IOS",
    merge_threshold: float = 0.5,
    full_image: bool = False,
):
    """Predict one board on overlapping tiles and merge the tiles' boxes into board coordinates.

    Args:
        detector (sahi.models.base.DetectionModel): From ``load_detector``.
        image (str | Path): Board image.
        slice_size (int): Tile side in pixels; 0 predicts the whole image at once. Defaults to 640.
        overlap (float): Overlap of neighbouring tiles as a fraction of ``slice_size``, in [0, 1). Defaults to 0.2.
        merge (str): How duplicates from overlapping tiles are merged: ``GREEDYNMM`` (sahi's default), ``NMM`` or
            ``NMS``. sahi switches to NMS by IoU itself when the confidence threshold is below 0.1.
        merge_metric (str): ``IOS`` (intersection over the smaller box, sahi's default) or ``IOU``.
        merge_threshold (float): Boxes overlapping more than this are merged. Defaults to 0.5.
        full_image (bool): Also predict the whole image shrunk to the model input and merge it in (sahi's
            ``perform_standard_pred``): helps large objects, adds little for small defects. Defaults to False.

    Returns:
        (tuple[list[Defect], sahi.prediction.PredictionResult]): Defects in board pixels, highest confidence first,
        and sahi's result (for ``export_visuals``).
    """
    from sahi.predict import get_prediction, get_sliced_prediction

    if merge.upper() not in MERGE_METHODS:
        raise ValueError(f"merge={merge!r} is not one of {', '.join(MERGE_METHODS)}")
    if merge_metric.upper() not in ("IOS", "IOU"):
        raise ValueError(f"merge_metric={merge_metric!r} is not IOS or IOU")
    _check_slice_size(slice_size)
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap={overlap} is not a fraction in [0, 1), e.g. 0.2")
    pixels = _read_rgb(image)
    if slice_size:
        result = get_sliced_prediction(
            pixels,
            detector,
            slice_height=slice_size,
            slice_width=slice_size,
            overlap_height_ratio=overlap,
            overlap_width_ratio=overlap,
            perform_standard_pred=full_image,
            postprocess_type=merge.upper(),
            postprocess_match_metric=merge_metric.upper(),
            postprocess_match_threshold=merge_threshold,
            verbose=0,
        )
    else:
        result = get_prediction(pixels, detector, shift_amount=[0, 0], full_shape=list(pixels.shape[:2]))
    defects = [
        Defect(
            str(image),
            str(p.category.name),
            int(p.category.id),
            float(p.score.value),
            *(float(v) for v in p.bbox.to_xyxy()),
        )
        for p in result.object_prediction_list
    ]
    defects.sort(key=lambda d: -d.confidence)
    return defects, result


def image_files(source: str | Path) -> list[Path]:
    """Board images named by ``source``: one image, every image in a folder (recursively), or a glob pattern.

    Raises:
        FileNotFoundError: If nothing matches.
    """
    path = Path(source)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    else:
        anchor = Path(path.anchor) if path.is_absolute() else Path()
        pattern = str(path.relative_to(anchor)) if path.is_absolute() else str(path)
        files = sorted(p for p in anchor.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no board image at '{source}': give an image, a folder of images or a glob pattern")
    return files


def write_defects(
    defects: Iterable[Defect], path: str | Path, fmt: str = "json", images: Iterable[tuple] = (), meta=None
) -> list[Path]:
    """Write defects as JSON (grouped per image, with its size) and/or CSV (one row per defect).

    Args:
        defects (Iterable[Defect]): Defects in board pixels.
        path (str | Path): Output path without suffix; ``.json`` / ``.csv`` are added.
        fmt (str): ``json``, ``csv`` or ``both``. Defaults to ``json``.
        images (Iterable[tuple]): ``(image, width, height)`` of every image predicted, defect-free ones included.
        meta (dict, optional): Settings recorded at the top of the JSON (model, slice, overlap, conf).

    Returns:
        (list[Path]): The files written.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"format={fmt!r} is not one of {', '.join(FORMATS)}")
    defects, path, written = list(defects), Path(path), []
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ["image", "class", "class_id", "confidence", "x1", "y1", "x2", "y2"]

    def row(d: Defect) -> dict:
        values = asdict(d)
        values["class"] = values.pop("cls")
        return {k: round(values[k], 2) if k[0] in "xy" else values[k] for k in columns}

    if fmt in ("json", "both"):
        sizes = {str(name): (w, h) for name, w, h in images}
        per_image = {name: [] for name in sizes}
        for d in defects:
            per_image.setdefault(d.image, []).append({k: v for k, v in row(d).items() if k != "image"})
        entries = [
            {"image": name, "width": sizes.get(name, (None, None))[0], "height": sizes.get(name, (None, None))[1],
             "defects": found}
            for name, found in per_image.items()
        ]  # fmt: skip
        file = path.with_suffix(".json")
        file.write_text(json.dumps({**(meta or {}), "images": entries}, indent=2), encoding="utf-8")
        written.append(file)
    if fmt in ("csv", "both"):
        file = path.with_suffix(".csv")
        with file.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(row(d) for d in defects)
        written.append(file)
    return written


def _model_name(model) -> str:
    if isinstance(model, (str, Path)):
        return str(model)
    return str(getattr(model, "ckpt_path", None) or getattr(model, "cfg", None) or type(model).__name__)


def predict_boards(
    model,
    source: str | Path,
    slice_size: int = 640,
    overlap: float = 0.2,
    conf: float = 0.25,
    imgsz: int | None = None,
    device: str | None = None,
    out: str | Path | None = None,
    format: str = "json",
    visuals: bool = True,
    progress: bool = True,
    **merge,
) -> list[Defect]:
    """Sliced prediction over one or many board images, written as annotated images and a JSON/CSV of defects.

    Args:
        model (str | Path | ultralytics.YOLO): Weights, a model YAML, or a loaded ``YOLO``.
        source (str | Path): An image, a folder of images, or a glob pattern.
        slice_size (int): Tile side; 0 predicts whole images. Defaults to 640.
        overlap (float): Tile overlap fraction. Defaults to 0.2.
        conf (float): Confidence threshold. Defaults to 0.25.
        imgsz (int, optional): Inference size per tile; defaults to ``slice_size`` (tiles are not rescaled), or
            640 for whole images.
        device (str, optional): Inference device.
        out (str | Path, optional): Output folder: ``<stem>.png`` per board (boxes drawn) and ``defects.json`` /
            ``defects.csv``; None writes nothing.
        format (str): ``json``, ``csv`` or ``both``. Defaults to ``json``. ``fmt=``, its old name, still works and
            warns (deprecated).
        visuals (bool): Write the annotated images. Defaults to True.
        progress (bool): Show a progress bar over the images.
        **merge: ``merge``, ``merge_metric``, ``merge_threshold``, ``full_image`` for ``predict_board``.

    Returns:
        (list[Defect]): Every defect found, in board pixels, image by image.

    Examples:
        >>> defects = predict_boards("best.pt", "board.jpg", slice_size=640, out="runs/pcb")  # doctest: +SKIP
    """
    if "fmt" in merge:
        warnings.warn("predict_boards(fmt=...) is deprecated: use format=...", DeprecationWarning, stacklevel=2)
        format = merge.pop("fmt")
    if format.lower() not in FORMATS:
        raise ValueError(f"format={format!r} is not one of {', '.join(FORMATS)}")
    check_conf(conf)
    check_imgsz(imgsz)  # before `imgsz or slice_size`: imgsz=0 is an error, not the slice size
    _check_slice_size(slice_size)
    files = image_files(source)
    detector = load_detector(model, conf=conf, imgsz=imgsz or slice_size or 640, device=device)
    defects, sizes = [], []
    out = Path(out) if out is not None else None
    stems = [f.stem for f in files]
    for file in tqdm(files, desc="Sliced prediction", unit="board", disable=not progress):
        found, result = predict_board(detector, file, slice_size=slice_size, overlap=overlap, **merge)
        defects += found
        sizes.append((str(file), result.image_width, result.image_height))
        if out is not None and visuals:
            # a stem shared by two images in different folders gets the folder name too, so no visual is overwritten
            name = file.stem if stems.count(file.stem) == 1 else f"{file.parent.name}_{file.stem}"
            result.export_visuals(export_dir=str(out), file_name=name)
    if out is not None:
        meta = {"model": _model_name(model), "slice": slice_size, "overlap": overlap, "conf": conf}
        files_written = write_defects(defects, out / "defects", format, sizes, meta)
        LOGGER.info(f"{len(defects)} defects on {len(files)} image(s) written to {', '.join(map(str, files_written))}")
    return defects
