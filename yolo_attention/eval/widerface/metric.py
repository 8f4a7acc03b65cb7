"""Easy / Medium / Hard AP computed exactly as WIDER FACE's official evaluation computes them.

The official MATLAB code (``wider_eval.m``) and its widely used Python port (Pytorch_Retinaface's
``widerface_evaluate/evaluation.py``) do, per subset:

1. Scores are rescaled over the whole set: ``(s - lo) / (hi - lo)`` with ``lo = min(1, all scores)`` and
   ``hi = max(0, all scores)`` (both codes start their running min at 1 and max at 0). With every score equal the
   division is 0/0: no prediction passes any threshold and every AP is 0 (``WiderFaceResult.warnings`` says so).
2. Per image, predictions in descending score order (the MATLAB code sorts on reading; ``write_predictions`` writes
   them sorted, which the port relies on), boxes ``x y w h`` turned into ``x1 y1 x1+w y1+h`` and compared by IoU with
   the +1 pixel convention. Each prediction looks only at its best ground-truth face (the first of equals):

   - IoU >= 0.5 with a face outside the subset: the prediction is no proposal and no hit (ignored);
   - IoU >= 0.5 with a face in the subset: a hit if that face was not hit before; a proposal either way;
   - otherwise: a proposal that hits nothing (a false positive).

   An image without ground-truth faces or without predictions is skipped; its predictions count nowhere.
3. At 1,000 thresholds ``t_k = 1 - (k + 1) / 1000``: proposals and hits with score >= ``t_k`` summed over images;
   precision = hits / proposals, recall = hits / faces of the subset (every listed face, found or not).
4. AP: VOC's all-point AP of that curve (precision made monotone from the right, summed over recall steps).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from yolo_attention.eval.widerface.reading import SUBSETS, WiderFaceGroundTruth
from yolo_attention.eval.widerface.result import SubsetScore, WiderFaceResult

__all__ = [
    "WIDERFACE_IOU",
    "WIDERFACE_THRESHOLDS",
    "box_overlaps",
    "image_matches",
    "pr_curve",
    "score_range",
    "score_widerface",
    "voc_ap",
]

WIDERFACE_IOU = 0.5
"""A prediction matches a face at IoU (+1 pixel convention) >= this."""
WIDERFACE_THRESHOLDS = 1000
"""Score thresholds of the precision-recall curve."""


def box_overlaps(boxes: np.ndarray, query_boxes: np.ndarray) -> np.ndarray:
    """IoU of every ``x1 y1 x2 y2`` box with every query box, +1 pixel convention (the evaluation's ``bbox_overlaps``).

    Examples:
        >>> iou = box_overlaps(np.array([[0, 0, 9, 9]]), np.array([[0, 0, 9, 9], [5, 0, 14, 9], [10, 0, 19, 9]]))
        >>> iou.round(4).tolist()
        [[1.0, 0.3333, 0.0]]
    """
    a, b = np.asarray(boxes, np.float64), np.asarray(query_boxes, np.float64)
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]) + 1
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]) + 1
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    overlap = (iw > 0) & (ih > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = iw * ih / (area_a[:, None] + area_b[None, :] - iw * ih)
    return np.where(overlap, iou, 0.0)


def score_range(predictions: Mapping[str, np.ndarray]) -> tuple[float, float]:
    """``(lo, hi)`` of the official rescaling: ``min(1, every score)`` and ``max(0, every score)``.

    Examples:
        >>> score_range({"a/b": np.array([[0, 0, 1, 1, 0.3], [0, 0, 1, 1, 0.8]])})
        (0.3, 0.8)
        >>> score_range({"a/b": np.array([[0, 0, 1, 1, 5.0]])})
        (1.0, 5.0)
    """
    lo, hi = 1.0, 0.0
    for rows in predictions.values():
        if len(rows):
            lo, hi = min(lo, float(np.min(rows[:, 4]))), max(hi, float(np.max(rows[:, 4])))
    return lo, hi


def image_matches(
    pred: np.ndarray, gt_boxes: np.ndarray, iou_threshold: float = WIDERFACE_IOU
) -> tuple[np.ndarray, np.ndarray]:
    """Each prediction's best ground-truth face and whether the IoU reaches the threshold (step 2 of the module doc).

    Args:
        pred (np.ndarray): (P, 5) ``x y w h score``, in the order they are scored.
        gt_boxes (np.ndarray): (G, 4) ``x y w h``, G > 0.
        iou_threshold (float): The match threshold.

    Returns:
        (tuple[np.ndarray, np.ndarray]): (P,) index of the best face (first of equals), (P,) bool IoU >= threshold.
    """
    p, g = pred[:, :4].copy(), gt_boxes.astype(np.float64, copy=True)
    p[:, 2:] += p[:, :2]
    g[:, 2:] += g[:, :2]
    overlaps = box_overlaps(p, g)
    best = overlaps.argmax(axis=1)
    return best, overlaps[np.arange(len(p)), best] >= iou_threshold


def subset_flags(best: np.ndarray, matched: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Proposal and hit flags of scored predictions, for one subset.

    Args:
        best (np.ndarray): (P,) best face per prediction (``image_matches``).
        matched (np.ndarray): (P,) bool, IoU reached the threshold.
        counts (np.ndarray): (G,) bool, the face counts in the subset.

    Returns:
        (tuple[np.ndarray, np.ndarray]): (P,) bool proposal (not matched to an ignored face), (P,) bool hit (the
        first prediction matched to each counting face).

    Examples:
        >>> subset_flags(np.array([0, 0, 1, 2]), np.array([True, True, True, False]), np.array([True, False, True]))
        (array([ True,  True, False,  True]), array([ True, False, False, False]))
    """
    in_subset = counts[best]
    proposal = ~(matched & ~in_subset)
    candidates = np.flatnonzero(matched & in_subset)
    hit = np.zeros(len(best), bool)
    if len(candidates):
        _, first = np.unique(best[candidates], return_index=True)
        hit[candidates[first]] = True
    return proposal, hit


def pr_curve(
    scores: np.ndarray, proposal: np.ndarray, hit: np.ndarray, n_faces: int, thresholds: int = WIDERFACE_THRESHOLDS
) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at ``thresholds`` score thresholds (step 3), highest threshold first.

    Args:
        scores (np.ndarray): (N,) rescaled scores of every scored prediction of the set (NaN passes no threshold).
        proposal (np.ndarray): (N,) bool.
        hit (np.ndarray): (N,) bool.
        n_faces (int): Faces that count in the subset.
        thresholds (int): Number of thresholds.

    Returns:
        (tuple[np.ndarray, np.ndarray]): (T,) precision (NaN where nothing is proposed), (T,) recall.

    Examples:
        >>> precision, recall = pr_curve(np.array([0.9, 0.4]), np.array([True, True]), np.array([True, False]), 2, 4)
        >>> precision.tolist(), recall.tolist()
        ([1.0, 1.0, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5])
    """
    keep = ~np.isnan(scores)
    order = np.argsort(-scores[keep], kind="stable")
    descending = scores[keep][order]
    cum_proposal = np.r_[0, np.cumsum(proposal[keep][order])].astype(np.float64)
    cum_hit = np.r_[0, np.cumsum(hit[keep][order])].astype(np.float64)
    thresh = 1 - (np.arange(thresholds) + 1) / thresholds
    passed = np.searchsorted(-descending, -thresh, side="right")  # predictions with score >= thresh
    proposals, hits = cum_proposal[passed], cum_hit[passed]
    with np.errstate(divide="ignore", invalid="ignore"):
        return hits / proposals, hits / n_faces


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """VOC's all-point AP (step 4), NaN handled as NumPy's ``maximum`` handles it in the official port.

    Examples:
        >>> voc_ap(np.array([0.5, 1.0]), np.array([1.0, 0.5]))
        0.75
    """
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def score_widerface(
    ground_truth: WiderFaceGroundTruth,
    predictions: Mapping[str, np.ndarray],
    iou_threshold: float = WIDERFACE_IOU,
    thresholds: int = WIDERFACE_THRESHOLDS,
) -> WiderFaceResult:
    """Easy, Medium and Hard AP of predictions against the official ground truth (see the module doc).

    Args:
        ground_truth (WiderFaceGroundTruth): From ``read_ground_truth``.
        predictions (Mapping[str, np.ndarray]): ``"<event>/<name>"`` -> (N, 5) ``x y w h score`` rows. Images
            missing here have no detections; keys that name no ground-truth image are not scored.
        iou_threshold (float): Match threshold. Defaults to 0.5.
        thresholds (int): Score thresholds. Defaults to 1000.

    Returns:
        (WiderFaceResult): The three APs, their curves and counts.

    Raises:
        ValueError: If ``iou_threshold`` is outside (0, 1], ``thresholds`` below 1, or a score is not finite (the
            official code's rescaling turns an infinite score into NaN and its ranking into noise).
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold={iou_threshold} must be in (0, 1]; the official evaluation uses 0.5")
    if thresholds < 1:
        raise ValueError(f"thresholds={thresholds} must be at least 1; the official evaluation uses 1000")
    keys = {image.key for image in ground_truth.images}
    scored = {k: np.asarray(v, np.float64).reshape(-1, 5) for k, v in predictions.items() if k in keys}
    bad = next((k for k, v in scored.items() if not np.isfinite(v).all()), None)
    if bad is not None:
        raise ValueError(f"predictions of {bad} hold a value that is not a finite number (inf or nan)")
    lo, hi = score_range(scored)
    warnings = []
    if scored and any(len(v) for v in scored.values()) and not hi > lo:
        warnings.append(
            f"every score is {lo}: the official rescaling divides by max - min = 0, so no prediction passes any "
            f"threshold and every AP is 0; give detections their confidences"
        )
    scores, flags = [], {s: ([], []) for s in SUBSETS}
    for image in ground_truth.images:
        pred = scored.get(image.key)
        if pred is None or len(pred) == 0 or len(image.boxes) == 0:
            continue
        pred = pred[np.argsort(-pred[:, 4], kind="stable")]
        best, matched = image_matches(pred, image.boxes, iou_threshold)
        scores.append((pred[:, 4] - lo) / (hi - lo) if hi > lo else np.full(len(pred), np.nan))
        for subset in SUBSETS:
            counts = np.zeros(len(image.boxes), bool)
            counts[image.subsets[subset]] = True
            proposal, hit = subset_flags(best, matched, counts)
            flags[subset][0].append(proposal)
            flags[subset][1].append(hit)
    all_scores = np.concatenate(scores) if scores else np.zeros(0)
    subsets = {}
    for subset in SUBSETS:
        proposal = np.concatenate(flags[subset][0]) if scores else np.zeros(0, bool)
        hit = np.concatenate(flags[subset][1]) if scores else np.zeros(0, bool)
        n_faces = ground_truth.n_faces(subset)
        precision, recall = pr_curve(all_scores, proposal, hit, n_faces, thresholds)
        subsets[subset] = SubsetScore(voc_ap(recall, precision), n_faces, precision, recall)
    return WiderFaceResult(
        subsets=subsets,
        n_images=len(ground_truth.images),
        n_predictions=sum(len(v) for v in scored.values()),
        images_without_predictions=sum(image.key not in scored for image in ground_truth.images),
        score_range=(lo, hi),
        iou_threshold=iou_threshold,
        thresholds=thresholds,
        warnings=warnings,
    )
