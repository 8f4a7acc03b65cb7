"""DeepPCB's evaluation protocol: a detection counts at IoU > 0.33 with a box of the same class; AP and F-score.

The DeepPCB release (https://github.com/tangsanli5201/DeepPCB, README "Benchmarks") scores a submission with an
adaptation of the ICDAR 2015 Robust Reading "Incidental Scene Text, task 1" script (``evaluation/script.py`` with
``rrc_evaluation_funcs.py``): "A detection is correct only if the IoU between the detected bounding box and any of
the ground truth box with the same class is larger than 0.33", and mAP and the F-score ``2PR / (P + R)`` are reported.
The release's own modified script was not available to read here (only its README); this module reproduces the ICDAR
2015 script it adapts, read from public copies of that script, with the README's two changes (IoU > 0.33, same class):

- Per image, the detections are sorted by confidence (highest first) and the ground-truth boxes taken in file order;
  for each ground-truth box, the first still-unmatched detection of the same class with IoU strictly above 0.33 is
  its match. One detection matches at most one box. (Not VOC/COCO's "each detection takes its best box".)
- Boxes are the integer pixel rectangles of the files (``x1,y1,x2,y2``); their area is ``(x2 - x1) * (y2 - y1)``.
- AP: all detections of all images sorted by confidence; ``AP = sum over matched detections of (matches so far /
  rank) / number of ground-truth boxes``: non-interpolated, pooled over classes (the ICDAR script has no classes).
  ``map`` additionally averages the same AP computed per class. Detections on images without defects count as
  false positives.
- Precision, recall and F-score are over every detection submitted: the F-score depends on the confidence threshold
  the submission was written with (the README says so); ``DeepPCBResult.at_conf`` and ``best_fscore`` re-score
  exactly at other thresholds (a detection's match does not depend on the detections below it in confidence).
- The submission format: one ``<image id>.txt`` per image, lines ``x1,y1,x2,y2,confidence,type`` with integer
  pixel coordinates (the script's pattern accepts only digits there, and no minus sign in x2, y2), a confidence
  between 0 and 1 written without exponent, and ``type`` a class name (``open,short,mousebite,spur,copper,pin-hole``),
  no spaces. ``write_submission`` writes exactly that and zips it as ``res.zip`` with no sub-folder.

The metric code is numpy only; ``evaluate_model`` imports Ultralytics when called.
"""

from __future__ import annotations

import json
import logging
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "DEEPPCB_IOU",
    "ClassScore",
    "DeepPCBResult",
    "evaluate_deeppcb",
    "evaluate_model",
    "match_image",
    "read_submission",
    "submission_lines",
    "write_submission",
]

LOGGER = logging.getLogger(__name__)

DEEPPCB_IOU = 0.33
"""A detection counts when its IoU with a same-class ground-truth box is strictly above this."""


# The release script's line rule (LTRB with confidence and type): integers, x2/y2 without sign, confidence 0..1.
_SUBMISSION_LINE = re.compile(r"^\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*([01]\.?\d*)\s*,(.*)$")


def _submitted_box(x1: float, y1: float, x2: float, y2: float) -> tuple[int, int, int, int]:
    """The integer rectangle a submission line carries: rounded half up, no negative corner, x2 >= x1, y2 >= y1."""
    x1, y1, x2, y2 = (max(0, math.floor(v + 0.5)) for v in (x1, y1, x2, y2))
    return x1, y1, max(x1, x2), max(y1, y2)


def _submitted_conf(conf: float) -> float:
    return round(min(max(float(conf), 0.0), 1.0), 6)


def submission_lines(rows: Sequence[Sequence], names: Sequence[str] | None = None) -> list[str]:
    """Format detections as the release's submission lines ``x1,y1,x2,y2,confidence,type``.

    Args:
        rows (Sequence[Sequence]): ``(x1, y1, x2, y2, confidence, class)`` per detection, pixels; ``class`` an index
            into ``names`` or a class name.
        names (Sequence[str], optional): Class names by index (DeepPCB: open, short, mousebite, spur, copper,
            pin-hole); needed when classes are indices.

    Returns:
        (list[str]): One line per detection, without newline.

    Examples:
        >>> submission_lines([(10.4, 20.6, 50.5, 80, 0.91234567, 2)], ["open", "short", "mousebite"])
        ['10,21,51,80,0.912346,mousebite']
    """
    lines = []
    for x1, y1, x2, y2, conf, cls in rows:
        name = _class_name(cls, names)
        if not name or "," in name or any(c.isspace() for c in name):
            raise ValueError(f"class {cls!r} gives type {name!r}: a submission type must be a name without commas")
        bx1, by1, bx2, by2 = _submitted_box(x1, y1, x2, y2)
        lines.append(f"{bx1},{by1},{bx2},{by2},{_submitted_conf(conf):.6f},{name}")
    return lines


def _class_name(cls, names: Sequence[str] | None) -> str:
    if isinstance(cls, str):
        return cls
    index = int(cls)
    if names is None:
        raise ValueError(f"class index {index} given without `names`: pass the class names (e.g. DEEPPCB_CLASSES)")
    if not 0 <= index < len(names):
        raise ValueError(f"class index {index} is out of range for {len(names)} names {list(names)}")
    return str(names[index])


def write_submission(
    predictions: Mapping[str, Sequence[Sequence]],
    out_dir: str | Path,
    names: Sequence[str] | None = None,
    conf: float = 0.0,
    zip_name: str | None = "res.zip",
) -> Path:
    """Write detections in the release's submission format: ``<out_dir>/<image id>.txt`` and a flat ``res.zip``.

    Every image in ``predictions`` gets a file, an empty one when it has no detection at or above ``conf``.

    Args:
        predictions (Mapping[str, Sequence[Sequence]]): Image id (the ground truth's file stem, e.g. ``00041000``) ->
            ``(x1, y1, x2, y2, confidence, class)`` rows in pixels.
        out_dir (str | Path): Folder for the ``.txt`` files; created if needed.
        names (Sequence[str], optional): Class names by index, when classes are indices.
        conf (float): Leave out detections below this confidence (the F-score depends on it). Defaults to 0.
        zip_name (str, optional): Name of the zip written inside ``out_dir`` (only the ``.txt`` files, no folder);
            None writes no zip. Defaults to ``"res.zip"``.

    Returns:
        (Path): ``out_dir``.

    Examples:
        >>> write_submission({"00041000": [(1, 2, 30, 40, 0.9, 0)]}, "runs/sub", ["open"])  # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for image_id, rows in predictions.items():
        _check_image_id(image_id)
        kept = [row for row in rows if float(row[4]) >= conf]
        kept.sort(key=lambda row: -float(row[4]))
        text = "".join(line + "\n" for line in submission_lines(kept, names))
        file = out_dir / f"{image_id}.txt"
        file.write_text(text, encoding="utf-8", newline="\n")
        files.append(file)
    if zip_name:
        with zipfile.ZipFile(out_dir / zip_name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, arcname=file.name)
    return out_dir


def _check_image_id(image_id: str) -> None:
    if not image_id or Path(image_id).name != image_id or image_id.endswith(".txt"):
        raise ValueError(f"image id {image_id!r} must be a bare file stem such as '00041000' (no folder, no .txt)")


def read_submission(source: str | Path) -> dict[str, list[tuple[int, int, int, int, float, str]]]:
    """Read a submission folder or zip, checking every line against the release script's line rule.

    Args:
        source (str | Path): A folder of ``<image id>.txt`` files or a zip of them.

    Returns:
        (dict[str, list[tuple[int, int, int, int, float, str]]]): Image id -> ``(x1, y1, x2, y2, confidence, type)``.

    Raises:
        ValueError: On a line the release's script would refuse (with the file and the line).
        FileNotFoundError: If ``source`` does not exist.
    """
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"submission '{source}' not found: give a folder of <image id>.txt files or a zip")
    if source.is_dir():
        contents = {p.stem: p.read_bytes() for p in sorted(source.glob("*.txt"))}
    else:
        with zipfile.ZipFile(source) as archive:
            contents = {Path(n).stem: archive.read(n) for n in archive.namelist() if n.endswith(".txt")}
    out = {}
    for image_id, raw in contents.items():
        rows = []
        for line in raw.decode("utf-8-sig").split("\n"):
            line = line.replace("\r", "")
            if not line:
                continue
            m = _SUBMISSION_LINE.match(line)
            if m is None:
                raise ValueError(f"{image_id}.txt: {line!r} is not 'x1,y1,x2,y2,confidence,type' with integer pixels")
            x1, y1, x2, y2 = (int(m.group(i)) for i in range(1, 5))
            if x2 < x1 or y2 < y1:
                raise ValueError(f"{image_id}.txt: {line!r} has x2 < x1 or y2 < y1")
            rows.append((x1, y1, x2, y2, float(m.group(5)), m.group(6).strip()))
        out[image_id] = rows
    return out


@dataclass
class ClassScore:
    """DeepPCB scores of one class.

    Attributes:
        ap (float): Non-interpolated AP of the class's detections against its ground truth.
        precision (float): Matched / detections of the class.
        recall (float): Matched / ground-truth boxes of the class.
        fscore (float): ``2PR / (P + R)``.
        n_gt (int): Ground-truth boxes.
        n_det (int): Detections.
        n_matched (int): Matched detections.
    """

    ap: float
    precision: float
    recall: float
    fscore: float
    n_gt: int
    n_det: int
    n_matched: int


def _fscore(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _ap(conf: np.ndarray, matched: np.ndarray, n_gt: int) -> float:
    """The ICDAR script's AP: sum of precision at each matched rank, over the number of ground-truth boxes."""
    if len(conf) == 0 or n_gt == 0:
        return 0.0
    order = np.argsort(-conf, kind="stable")
    hits = matched[order]
    ranks = np.arange(1, len(hits) + 1)
    return float((np.cumsum(hits)[hits] / ranks[hits]).sum() / n_gt)


def _score(conf: np.ndarray, matched: np.ndarray, n_gt: int) -> ClassScore:
    n_det, n_matched = len(conf), int(matched.sum())
    recall = n_matched / n_gt if n_gt else 0.0
    precision = n_matched / n_det if n_det else 0.0
    return ClassScore(_ap(conf, matched, n_gt), precision, recall, _fscore(precision, recall), n_gt, n_det, n_matched)


@dataclass
class DeepPCBResult:
    """Scores under DeepPCB's protocol, and what is needed to re-score at another confidence threshold.

    Attributes:
        ap (float): AP pooled over classes, as the ICDAR-derived script computes it (all detections given).
        precision (float): Matched detections / detections.
        recall (float): Matched detections / ground-truth boxes.
        fscore (float): ``2PR / (P + R)`` over every detection given.
        n_images (int): Images scored.
        n_gt (int): Ground-truth boxes.
        n_det (int): Detections.
        n_matched (int): Detections matched to a ground-truth box.
        per_class (dict[str, ClassScore]): The same per class name (or class index as a string without names).
        iou_threshold (float): The match threshold (IoU strictly above it).
        conf (float): Lowest confidence included (0 when all detections were given).
    """

    ap: float
    precision: float
    recall: float
    fscore: float
    n_images: int
    n_gt: int
    n_det: int
    n_matched: int
    per_class: dict[str, ClassScore]
    iou_threshold: float = DEEPPCB_IOU
    conf: float = 0.0
    _det_conf: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    _det_matched: np.ndarray = field(default_factory=lambda: np.zeros(0, bool), repr=False)
    _det_class: list = field(default_factory=list, repr=False)
    _gt_per_class: dict = field(default_factory=dict, repr=False)

    @property
    def map(self) -> float:
        """(float): Mean over classes with ground truth of the per-class AP."""
        aps = [s.ap for s in self.per_class.values() if s.n_gt > 0]
        return float(np.mean(aps)) if aps else 0.0

    def at_conf(self, conf: float) -> DeepPCBResult:
        """The scores a submission of only the detections with confidence >= ``conf`` would get.

        Exact, without re-matching: under the protocol a detection's match never depends on detections of lower
        confidence.
        """
        keep = self._det_conf >= conf
        return _result(
            self._det_conf[keep],
            self._det_matched[keep],
            [c for c, k in zip(self._det_class, keep) if k],
            self._gt_per_class,
            self.n_images,
            self.iou_threshold,
            max(conf, self.conf),
        )

    def best_fscore(self) -> tuple[float, float]:
        """The highest F-score over confidence thresholds, and the threshold giving it.

        Returns:
            (tuple[float, float]): ``(F-score, confidence threshold)``; ``(0.0, 0.0)`` without any match.
        """
        if len(self._det_conf) == 0 or self.n_gt == 0:
            return 0.0, 0.0
        order = np.argsort(-self._det_conf, kind="stable")
        conf, hits = self._det_conf[order], np.cumsum(self._det_matched[order])
        last = np.r_[conf[1:] != conf[:-1], True]  # a threshold keeps every detection tied with it
        n_det = np.arange(1, len(conf) + 1)
        f = 2 * hits / (n_det + self.n_gt)  # 2PR/(P+R) with P = hits/n_det, R = hits/n_gt
        best = int(np.argmax(np.where(last, f, -1)))
        if f[best] == 0:
            return 0.0, 0.0
        return float(f[best]), float(conf[best])

    def to_dict(self) -> dict:
        """A JSON-ready dict of the scores (per class included)."""
        keys = ("ap", "precision", "recall", "fscore", "n_images", "n_gt", "n_det", "n_matched")
        out = {k: getattr(self, k) for k in keys}
        out.update(map=self.map, iou_threshold=self.iou_threshold, conf=self.conf)
        out["per_class"] = {name: vars(score).copy() for name, score in self.per_class.items()}
        return out

    def summary(self) -> str:
        """A plain-text table: the pooled scores, then one row per class."""
        lines = [
            f"DeepPCB protocol (IoU > {self.iou_threshold}, same class): {self.n_images} images, {self.n_gt} defects, "
            f"{self.n_det} detections (conf >= {self.conf:g})",
            f"{'class':<16}{'AP':>8}{'P':>8}{'R':>8}{'F':>8}{'gt':>7}{'det':>7}",
            f"{'all (pooled)':<16}{self.ap:>8.4f}{self.precision:>8.4f}{self.recall:>8.4f}{self.fscore:>8.4f}"
            f"{self.n_gt:>7}{self.n_det:>7}",
        ]
        for name, s in self.per_class.items():
            lines.append(
                f"{name:<16}{s.ap:>8.4f}{s.precision:>8.4f}{s.recall:>8.4f}{s.fscore:>8.4f}{s.n_gt:>7}{s.n_det:>7}"
            )
        lines.append(f"{'mean of classes':<16}{self.map:>8.4f}")
        return "\n".join(lines)


def _result(
    conf: np.ndarray,
    matched: np.ndarray,
    classes: list,
    gt_per_class: dict,
    n_images: int,
    iou_threshold: float,
    min_conf: float,
) -> DeepPCBResult:
    pooled = _score(conf, matched, sum(gt_per_class.values()))
    labels = list(gt_per_class) + [c for c in dict.fromkeys(classes) if c not in gt_per_class]
    per_class = {}
    class_array = np.array(classes + [None], dtype=object)[:-1]  # keeps tuples/strings as scalars
    for label in labels:
        mask = class_array == label
        per_class[str(label)] = _score(conf[mask], matched[mask], gt_per_class.get(label, 0))
    return DeepPCBResult(
        pooled.ap,
        pooled.precision,
        pooled.recall,
        pooled.fscore,
        n_images,
        pooled.n_gt,
        pooled.n_det,
        pooled.n_matched,
        per_class,
        iou_threshold,
        min_conf,
        conf,
        matched,
        list(classes),
        dict(gt_per_class),
    )


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of (N, 4) and (M, 4) x1y1x2y2 boxes; 0 where the union is empty (as the script's except: 0)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def match_image(
    gt_boxes: np.ndarray,
    gt_classes: Sequence,
    det_boxes: np.ndarray,
    det_classes: Sequence,
    iou_threshold: float = DEEPPCB_IOU,
) -> np.ndarray:
    """Match one image's detections (already sorted by confidence, highest first) as the ICDAR script does.

    Args:
        gt_boxes (np.ndarray): (M, 4) ground-truth x1y1x2y2, in file order.
        gt_classes (Sequence): M class labels.
        det_boxes (np.ndarray): (N, 4) detections, highest confidence first.
        det_classes (Sequence): N class labels.
        iou_threshold (float): A match needs IoU strictly above this.

    Returns:
        (np.ndarray): (N,) bool, True for each matched detection.
    """
    det_matched = np.zeros(len(det_boxes), bool)
    if len(gt_boxes) == 0 or len(det_boxes) == 0:
        return det_matched
    iou = _iou(np.asarray(gt_boxes, float), np.asarray(det_boxes, float))
    for g in range(len(gt_boxes)):
        for d in range(len(det_boxes)):
            if not det_matched[d] and det_classes[d] == gt_classes[g] and iou[g, d] > iou_threshold:
                det_matched[d] = True
                break
    return det_matched


def _label(cls, names: Sequence[str] | None):
    """A comparable class label: the name when names are known, else the value (indices stay ints)."""
    if isinstance(cls, str):
        return cls
    if isinstance(cls, (float, np.floating)) and not float(cls).is_integer():
        raise ValueError(f"class {cls!r} is neither a name nor an integer index")
    return _class_name(int(cls), names) if names is not None else int(cls)


def evaluate_deeppcb(
    ground_truth: Mapping[str, Sequence[Sequence]],
    predictions: Mapping[str, Sequence[Sequence]],
    names: Sequence[str] | None = None,
    iou_threshold: float = DEEPPCB_IOU,
    as_submitted: bool = True,
) -> DeepPCBResult:
    """Score detections against ground truth under DeepPCB's protocol (see the module docstring for the rules).

    Args:
        ground_truth (Mapping[str, Sequence[Sequence]]): Image id -> ``(x1, y1, x2, y2, class)`` rows in pixels, in
            file order. Every image scored must be here (an empty list for an image without defects).
        predictions (Mapping[str, Sequence[Sequence]]): Image id -> ``(x1, y1, x2, y2, confidence, class)`` rows.
            An image missing here has no detections. Classes are names or indices into ``names``.
        names (Sequence[str], optional): Class names by index; with them indices and names compare alike, and the
            per-class table is keyed and ordered by them.
        iou_threshold (float): A detection matches at IoU strictly above this. Defaults to 0.33.
        as_submitted (bool): Round boxes to the integer pixels and confidences to the 6 decimals that
            ``write_submission`` writes, so the scores equal the release's script on that submission. Defaults to True.

    Returns:
        (DeepPCBResult): AP (pooled and per class), precision, recall, F-score.

    Raises:
        ValueError: If predictions name an image that has no ground truth (the release's script refuses those), or
            a row is malformed.

    Examples:
        >>> gt = {"a": [(0, 0, 10, 10, "open")]}
        >>> evaluate_deeppcb(gt, {"a": [(0, 0, 10, 10, 0.9, "open")]}).fscore
        1.0
        >>> evaluate_deeppcb(gt, {"a": [(0, 0, 10, 10, 0.9, "short")]}).fscore
        0.0
    """
    unknown = sorted(set(predictions) - set(ground_truth))
    if unknown:
        raise ValueError(
            f"predictions for {len(unknown)} image(s) without ground truth, e.g. {unknown[:3]}; every scored image "
            f"needs a ground-truth entry (an empty list for a defect-free image)"
        )
    if not 0 <= iou_threshold < 1:
        raise ValueError(f"iou_threshold={iou_threshold} must be in [0, 1); DeepPCB uses 0.33")
    order = list(names) if names is not None else []
    gt_per_class: dict = {name: 0 for name in order}
    all_conf, all_matched, all_classes = [], [], []
    for image_id, gt_rows in ground_truth.items():
        gt_boxes, gt_classes = _rows(gt_rows, 5, image_id, "ground truth", as_submitted)
        gt_labels = [_label(c, names) for c in gt_classes]
        for label in gt_labels:
            gt_per_class[label] = gt_per_class.get(label, 0) + 1
        det_rows = list(predictions.get(image_id, ()))
        det_boxes, det_classes = _rows(det_rows, 6, image_id, "prediction", as_submitted)
        conf = np.array([float(r[4]) for r in det_rows], float)
        if as_submitted:
            conf = np.array([_submitted_conf(c) for c in conf], float)
        order_desc = np.argsort(-conf, kind="stable")
        det_boxes, conf = det_boxes[order_desc], conf[order_desc]
        det_labels = [_label(det_classes[i], names) for i in order_desc]
        matched = match_image(gt_boxes, gt_labels, det_boxes, det_labels, iou_threshold)
        all_conf.append(conf)
        all_matched.append(matched)
        all_classes += det_labels
    conf = np.concatenate(all_conf) if all_conf else np.zeros(0)
    matched = np.concatenate(all_matched) if all_matched else np.zeros(0, bool)
    return _result(conf, matched, all_classes, gt_per_class, len(ground_truth), iou_threshold, 0.0)


def _rows(rows: Sequence[Sequence], width: int, image_id: str, what: str, as_submitted: bool):
    """(N, 4) float boxes and the class column of rows ``x1,y1,x2,y2,[conf,]class``."""
    boxes, classes = [], []
    for row in rows:
        if len(row) != width:
            layout = "x1, y1, x2, y2, class" if width == 5 else "x1, y1, x2, y2, confidence, class"
            raise ValueError(f"{what} row {tuple(row)!r} of image {image_id!r}: expected ({layout})")
        x1, y1, x2, y2 = (float(v) for v in row[:4])
        boxes.append(_submitted_box(x1, y1, x2, y2) if as_submitted else (x1, y1, x2, y2))
        classes.append(row[-1])
    return np.asarray(boxes, float).reshape(-1, 4), classes


def _image_files(source) -> list[Path]:
    """Image files of an Ultralytics split entry: a folder (recursive), a .txt list, a file, or a list of these."""
    from ultralytics.data.utils import IMG_FORMATS

    if isinstance(source, (list, tuple)):
        return [f for s in source for f in _image_files(s)]
    path = Path(source)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix[1:].lower() in IMG_FORMATS)
    if path.suffix == ".txt" and path.is_file():
        lines = [x.strip() for x in path.read_text().splitlines() if x.strip()]
        return [(path.parent / x[2:]) if x.startswith("./") else Path(x) for x in lines]
    if path.is_file():
        return [path]
    raise FileNotFoundError(f"dataset split '{source}' not found: expected an image folder, a .txt list or an image")


def _yolo_ground_truth(image: Path, label: Path) -> list[tuple[float, float, float, float, int]]:
    """Pixel ``(x1, y1, x2, y2, class)`` rows from a YOLO label file (boxes, or polygons reduced to their extent)."""
    from PIL import Image

    if not label.is_file():
        return []
    with Image.open(image) as im:
        width, height = im.size
    rows = []
    for line in label.read_text().splitlines():
        values = line.split()
        if not values:
            continue
        cls, coords = int(float(values[0])), [float(v) for v in values[1:]]
        if len(coords) == 4:
            cx, cy, w, h = coords
            x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        else:
            xs, ys = coords[0::2], coords[1::2]
            x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
        rows.append((x1 * width, y1 * height, x2 * width, y2 * height, cls))
    return rows


def evaluate_model(
    model,
    data: str | Path,
    split: str = "val",
    imgsz: int = 640,
    conf: float = 0.25,
    predict_conf: float = 0.001,
    iou_threshold: float = DEEPPCB_IOU,
    batch: int = 16,
    device: str | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> tuple[DeepPCBResult, Path | None]:
    """Predict an Ultralytics model on a YOLO dataset split and score it under DeepPCB's protocol.

    Ground truth comes from the split's YOLO labels, in pixels of each image; predictions are Ultralytics' boxes at
    ``predict_conf`` (low, so AP sees the whole ranking). The returned result holds every prediction: its ``ap`` and
    ``map`` are the threshold-free numbers; ``result.at_conf(conf)`` gives the precision, recall and F-score of the
    submission written to ``out`` (predictions with confidence >= ``conf``), which is what the release's script would
    report for it.

    Args:
        model (str | Path | ultralytics.YOLO): Weights, a model YAML, or a loaded model.
        data (str | Path): A data YAML (bundled names such as ``deeppcb.yaml`` resolve after ``import
            yolo_attention``).
        split (str): Dataset split to score. Defaults to ``"val"``.
        imgsz (int): Inference size. Defaults to 640.
        conf (float): Confidence threshold of the submission and of the F-score. Defaults to 0.25.
        predict_conf (float): Confidence threshold of the predictions scored for AP. Defaults to 0.001.
        iou_threshold (float): Match threshold. Defaults to 0.33.
        batch (int): Inference batch size. Defaults to 16.
        device (str, optional): Inference device, as Ultralytics takes it.
        out (str | Path, optional): Folder for ``submission/`` (per-image ``.txt`` and ``res.zip``) and
            ``deeppcb_metrics.json``; None writes nothing.
        progress (bool): Show a progress bar.

    Returns:
        (tuple[DeepPCBResult, Path | None]): The scores over all predictions, and the submission folder (or None).

    Raises:
        ValueError: If the model's classes do not match the dataset's, or image names repeat within the split.
        FileNotFoundError: If the dataset or split is not found.
    """
    from tqdm import tqdm
    from ultralytics import YOLO
    from ultralytics.data.utils import check_det_dataset, img2label_paths

    import yolo_attention  # noqa: F401  registers the modules and the bundled-file lookups

    info = check_det_dataset(str(data), autodownload=False, split=split)  # checks that split's images exist
    names = [info["names"][i] for i in sorted(info["names"])]
    images = _image_files(info[split])
    stems = [p.stem for p in images]
    if len(set(stems)) != len(stems):
        raise ValueError(f"image names repeat in split '{split}' of {data}: submission files are named by image name")
    yolo = model if isinstance(model, YOLO) else YOLO(str(model))
    if len(yolo.names) != len(names):
        model_names = list(yolo.names.values())
        raise ValueError(f"the model predicts {len(model_names)} classes {model_names}; {data} has {names}")

    ground_truth = {
        p.stem: _yolo_ground_truth(p, Path(lbl)) for p, lbl in zip(images, img2label_paths([str(p) for p in images]))
    }
    predictions = {}
    results = yolo.predict(
        [str(p) for p in images], imgsz=imgsz, conf=predict_conf, batch=batch, device=device, stream=True, verbose=False
    )
    for r in tqdm(results, total=len(images), desc=f"DeepPCB protocol {split}", unit="img", disable=not progress):
        boxes = r.boxes
        rows = np.concatenate(
            [boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy()[:, None], boxes.cls.cpu().numpy()[:, None]], axis=1
        )
        predictions[Path(r.path).stem] = [(*row[:5], int(row[5])) for row in rows.tolist()]
    result = evaluate_deeppcb(ground_truth, predictions, names, iou_threshold)

    submission = None
    if out is not None:
        out = Path(out)
        submission = write_submission(predictions, out / "submission", names, conf=conf)
        at_conf = result.at_conf(conf)
        best_f, best_conf = result.best_fscore()
        metrics = {
            "all_predictions": result.to_dict(),
            "submission": at_conf.to_dict(),
            "best_fscore": {"fscore": best_f, "conf": best_conf},
            "data": str(data),
            "split": split,
            "imgsz": imgsz,
            "predict_conf": predict_conf,
        }
        (out / "deeppcb_metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return result, submission
