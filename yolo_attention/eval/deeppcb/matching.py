"""DeepPCB's per-image pairing of detections with ground truth, as the release's ``evaluation/script.py`` does it.

The release scores with the ICDAR 2015 script in LTRB mode, which pairs boxes by overlap alone and checks the type
("transcription") afterwards:

- The detections are put in the script's order, ``np.argsort(-confidences)`` over the file's lines (numpy's default
  sort, so ties come out in numpy's order, not necessarily the file's); the ground-truth boxes stay in file order.
- Each ground-truth box, in turn, is paired with the first not-yet-paired detection whose IoU with it is strictly
  above 0.33, whatever its type. The pair is correct only if the types are equal (case-insensitively; a ground-truth
  type may carry one of ``!?.:,*"()·[]/'`` first or last). A wrong-type pair uses up both boxes.
- IoU of the integer rectangles, areas ``(x2 - x1) * (y2 - y1)`` (no +1); 0 when the union is empty.
- A ground-truth box of type ``###`` is "don't care": never paired, not counted; a detection covering more than half
  its own area of one is don't care too. DeepPCB's annotations have none; kept so the rule is the script's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEEPPCB_IOU",
    "DONT_CARE",
    "ImageMatch",
    "box_iou",
    "match_image",
    "release_order",
    "types_match",
]

DEEPPCB_IOU = 0.33
"""A detection pairs with a ground-truth box when their IoU is strictly above this (the script's IOU_CONSTRAINT)."""

DONT_CARE = "###"
"""The ground-truth type the ICDAR script treats as "don't care"."""

_AREA_PRECISION = 0.5  # the script's AREA_PRECISION_CONSTRAINT, for don't-care detections
_SPECIAL_CHARACTERS = "!?.:,*\"()·[]/'"  # the script's SPECIAL_CHARACTERS


def release_order(confidences: Sequence[float] | np.ndarray) -> np.ndarray:
    """The order the release's script puts detections in: its own call, ``np.argsort(-confidences)``.

    Ties come out in the order of numpy's default (unstable) sort, as they do in the script.

    Examples:
        >>> release_order([0.2, 0.9, 0.5]).tolist()
        [1, 2, 0]
    """
    return np.argsort(-np.array(confidences, dtype=float))


def types_match(gt_type: str, det_type: str) -> bool:
    """Whether a detection's type is correct for a ground-truth type, by the script's ``transcription_match``.

    Case-insensitive; the ground-truth type may have one special character first and/or last that the detection
    lacks. For DeepPCB's type names this is case-insensitive equality.

    Examples:
        >>> types_match("open", "OPEN"), types_match("open", "short"), types_match("open", " open")
        (True, False, False)
    """
    gt, det = gt_type.upper(), det_type.upper()
    if gt == det:
        return True
    if not gt:
        raise ValueError(f"empty ground-truth type against detection type {det_type!r}: the release's script fails")
    first, last = _SPECIAL_CHARACTERS.find(gt[0]) > -1, _SPECIAL_CHARACTERS.find(gt[-1]) > -1
    return (first and gt[1:] == det) or (last and gt[:-1] == det) or (first and last and gt[1:-1] == det)


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def _area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(gt_boxes: np.ndarray, det_boxes: np.ndarray) -> np.ndarray:
    """IoU matrix of (G, 4) and (D, 4) ``x1, y1, x2, y2`` rectangles, areas without +1; 0 where the union is empty.

    Examples:
        >>> box_iou(np.array([[0, 0, 100, 100]]), np.array([[0, 0, 100, 34], [0, 0, 0, 0]])).tolist()
        [[0.34, 0.0]]
    """
    a = np.asarray(gt_boxes, float).reshape(-1, 4)
    b = np.asarray(det_boxes, float).reshape(-1, 4)
    inter = _intersection(a, b)
    union = _area(b)[None, :] + _area(a)[:, None] - inter  # the script's get_union(pD, pG): area(D) + area(G) - I
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union != 0, inter / np.where(union != 0, union, 1), 0.0)


@dataclass
class ImageMatch:
    """The pairing of one image.

    Attributes:
        correct (np.ndarray): (D,) bool, detections paired with a ground-truth box of their type.
        paired (np.ndarray): (D,) bool, detections paired with any ground-truth box.
        det_care (np.ndarray): (D,) bool, detections that count (False: don't care).
        gt_care (np.ndarray): (G,) bool, ground-truth boxes that count (False: type ``###``).
    """

    correct: np.ndarray
    paired: np.ndarray
    det_care: np.ndarray
    gt_care: np.ndarray


def match_image(
    gt_boxes: np.ndarray,
    gt_types: Sequence[str],
    det_boxes: np.ndarray,
    det_types: Sequence[str],
    iou_threshold: float = DEEPPCB_IOU,
    same_type_only: bool = False,
) -> ImageMatch:
    """Pair one image's detections with its ground truth as the release's script does.

    Args:
        gt_boxes (np.ndarray): (G, 4) ground-truth ``x1, y1, x2, y2``, in file order.
        gt_types (Sequence[str]): G type names.
        det_boxes (np.ndarray): (D, 4) detections, already in the script's order (``release_order``).
        det_types (Sequence[str]): D type names.
        iou_threshold (float): A pair needs IoU strictly above this. Defaults to 0.33.
        same_type_only (bool): Pair only boxes of the same type (not the release's rule; the "same-class" figure).

    Returns:
        (ImageMatch): Which detections are correct, paired, and counted.

    Examples:
        >>> box = np.array([[0, 0, 10, 10]])
        >>> m = match_image(box, ["open"], np.array([[0, 0, 10, 10], [0, 0, 10, 10]]), ["short", "open"])
        >>> m.correct.tolist(), m.paired.tolist()  # the wrong-type detection, ranked first, uses the box up
        ([False, False], [True, False])
    """
    gt = np.asarray(gt_boxes, float).reshape(-1, 4)
    det = np.asarray(det_boxes, float).reshape(-1, 4)
    n_gt, n_det = len(gt), len(det)
    if len(gt_types) != n_gt or len(det_types) != n_det:
        raise ValueError(f"{n_gt} boxes with {len(gt_types)} types; {n_det} detections with {len(det_types)} types")
    gt_care = np.array([t != DONT_CARE for t in gt_types], bool)
    det_care = np.ones(n_det, bool)
    if n_det and not gt_care.all():
        covered = _intersection(gt[~gt_care], det)
        det_area = _area(det)
        with np.errstate(divide="ignore", invalid="ignore"):
            covered_share = np.where(det_area != 0, covered / np.where(det_area != 0, det_area, 1), 0.0)
        det_care = ~(covered_share > _AREA_PRECISION).any(axis=0)
    correct, paired = np.zeros(n_det, bool), np.zeros(n_det, bool)
    if n_gt and n_det:
        candidates = (box_iou(gt, det) > iou_threshold) & det_care[None, :] & gt_care[:, None]
        for g in range(n_gt):
            fits = candidates[g] & ~paired
            if same_type_only:
                fits &= np.array([types_match(gt_types[g], t) for t in det_types], bool)
            hits = np.flatnonzero(fits)
            if hits.size:
                d = int(hits[0])
                paired[d] = True
                correct[d] = types_match(gt_types[g], det_types[d])
    return ImageMatch(correct, paired, det_care, gt_care)
