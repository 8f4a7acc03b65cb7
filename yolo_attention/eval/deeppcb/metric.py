"""DeepPCB's scores, computed as the release's ``evaluation/script.py`` computes them: one AP, precision, recall, F.

Over every image of the ground truth, in its order, each image paired as ``matching.match_image`` says:

- AP: all counted detections of all images (each image's in the script's order), sorted again by
  ``np.argsort(-confidences)``; the sum over correct ones of ``correct so far / rank`` (rank from 1), divided by the
  number of counted ground-truth boxes. One AP over all types, not a mean of per-type APs; no interpolation.
- Precision = correct / detections, recall = correct / ground-truth boxes, F-score ``2RP / (R + P)`` (the script's
  "hmean"), each 0 when its denominator is. They depend on the confidence the submission was cut at.
- Detections on an image without ground truth are counted, never correct. A prediction for an image that is not in
  the ground truth is an error (the script refuses the submission).

Also computed, as figures that are NOT the release's: AP under same-type-only pairing (a detection may pass over a
box of another type), and per-type AP / precision / recall / F from the official pairing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from yolo_attention.eval.deeppcb.matching import DEEPPCB_IOU, match_image, release_order
from yolo_attention.eval.deeppcb.result import ClassScore, DeepPCBResult
from yolo_attention.eval.deeppcb.submission import ground_truth_rows, submission_rows, type_name

__all__ = ["ImageBoxes", "evaluate_deeppcb", "release_ap", "score_images"]


@dataclass(frozen=True)
class ImageBoxes:
    """One image's boxes as scored: ground truth in file order, detections in file (submission) order.

    Attributes:
        image_id (str): The image's id.
        gt_boxes (np.ndarray): (G, 4) ``x1, y1, x2, y2``.
        gt_types (tuple[str, ...]): G type names.
        det_boxes (np.ndarray): (D, 4) ``x1, y1, x2, y2``.
        det_conf (tuple[float, ...]): D confidences.
        det_types (tuple[str, ...]): D type names.
    """

    image_id: str
    gt_boxes: np.ndarray
    gt_types: tuple[str, ...]
    det_boxes: np.ndarray
    det_conf: tuple[float, ...]
    det_types: tuple[str, ...]

    def keep(self, conf: float) -> ImageBoxes:
        """The same image with only the detections of confidence >= ``conf``, in the same order."""
        kept = [i for i, c in enumerate(self.det_conf) if c >= conf]
        return ImageBoxes(
            self.image_id,
            self.gt_boxes,
            self.gt_types,
            self.det_boxes[kept].reshape(-1, 4),
            tuple(self.det_conf[i] for i in kept),
            tuple(self.det_types[i] for i in kept),
        )


def release_ap(confidences: Sequence[float], correct: Sequence[bool], n_gt: int) -> float:
    """The script's ``compute_ap``: sort by ``np.argsort(-confidences)``, sum ``correct so far / rank``, over ``n_gt``.

    Examples:
        >>> release_ap([0.9, 0.8, 0.7], [True, False, True], 2)  # (1/1 + 2/3) / 2
        0.8333333333333333
    """
    ap = 0.0
    if len(confidences) > 0:
        hits = np.flatnonzero(np.asarray(correct, bool)[release_order(confidences)])
        for k, rank0 in enumerate(hits.tolist()):  # the same additions, in the same order, as the script's loop
            ap += float(k + 1) / (rank0 + 1)
        if n_gt > 0:
            ap /= n_gt
    return ap


def _prf(n_correct: int, n_gt: int, n_det: int) -> tuple[float, float, float]:
    recall = 0 if n_gt == 0 else float(n_correct) / n_gt
    precision = 0 if n_det == 0 else float(n_correct) / n_det
    hmean = 0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)
    return float(precision), float(recall), float(hmean)


def score_images(
    images: Sequence[ImageBoxes],
    iou_threshold: float = DEEPPCB_IOU,
    names: Sequence[str] | None = None,
    conf: float = 0.0,
) -> DeepPCBResult:
    """Score images (already normalized) under the release's rule; see the module docstring.

    Args:
        images (Sequence[ImageBoxes]): The images, in the ground truth's order.
        iou_threshold (float): A pair needs IoU strictly above this. Defaults to 0.33.
        names (Sequence[str], optional): Type names, to order the per-type table.
        conf (float): The lowest confidence the detections were cut at (recorded only). Defaults to 0.

    Returns:
        (DeepPCBResult): The scores.
    """
    confs, correct, same_type, types = [], [], [], []
    n_gt = n_det = n_correct = n_paired = 0
    gt_per_type = {str(n): 0 for n in names or ()}
    for image in images:
        order = release_order(image.det_conf) if image.det_conf else np.zeros(0, int)
        det_boxes, det_types = image.det_boxes[order], [image.det_types[i] for i in order]
        det_conf = [image.det_conf[i] for i in order]
        official = match_image(image.gt_boxes, image.gt_types, det_boxes, det_types, iou_threshold)
        same = match_image(image.gt_boxes, image.gt_types, det_boxes, det_types, iou_threshold, same_type_only=True)
        for d in np.flatnonzero(official.det_care).tolist():
            confs.append(det_conf[d])
            correct.append(bool(official.correct[d]))
            same_type.append(bool(same.correct[d]))
            types.append(det_types[d])
        for t, care in zip(image.gt_types, official.gt_care):
            if care:
                gt_per_type[t] = gt_per_type.get(t, 0) + 1
        n_gt += int(official.gt_care.sum())
        n_det += int(official.det_care.sum())
        n_correct += int(official.correct.sum())
        n_paired += int(official.paired.sum())

    precision, recall, fscore = _prf(n_correct, n_gt, n_det)
    per_class = {}
    for t in list(gt_per_type) + [t for t in dict.fromkeys(types) if t not in gt_per_type]:
        idx = [i for i, ti in enumerate(types) if ti == t]
        t_correct = [correct[i] for i in idx]
        t_gt = gt_per_type.get(t, 0)
        ap = release_ap([confs[i] for i in idx], t_correct, t_gt) if t_gt else 0.0
        per_class[t] = ClassScore(ap, *_prf(sum(t_correct), t_gt, len(idx)), t_gt, len(idx), sum(t_correct))
    return DeepPCBResult(
        ap=release_ap(confs, correct, n_gt),
        precision=precision,
        recall=recall,
        fscore=fscore,
        n_images=len(images),
        n_gt=n_gt,
        n_det=n_det,
        n_correct=n_correct,
        n_wrong_type=n_paired - n_correct,
        same_class_ap=release_ap(confs, same_type, n_gt),
        per_class=per_class,
        iou_threshold=iou_threshold,
        conf=conf,
        _images=list(images),
        _det_conf=np.asarray(confs, float),
        _det_correct=np.asarray(correct, bool),
        _names=tuple(names) if names is not None else None,
    )


def _image_boxes(image_id: str, gt_rows: Sequence, det_rows: Sequence, names, as_submitted: bool) -> ImageBoxes:
    for rows, width, what in ((gt_rows, 5, "ground-truth"), (det_rows, 6, "prediction")):
        for row in rows:
            if len(row) != width:
                layout = "x1, y1, x2, y2, class" if width == 5 else "x1, y1, x2, y2, confidence, class"
                raise ValueError(f"{what} row {tuple(row)!r} of image {image_id!r}: expected ({layout})")
    if as_submitted:
        gt_rows, det_rows = ground_truth_rows(gt_rows, names), submission_rows(det_rows, names)
    return ImageBoxes(
        image_id,
        np.array([r[:4] for r in gt_rows], float).reshape(-1, 4),
        tuple(type_name(r[4], names) for r in gt_rows),
        np.array([r[:4] for r in det_rows], float).reshape(-1, 4),
        tuple(float(r[4]) for r in det_rows),
        tuple(type_name(r[5], names) for r in det_rows),
    )


def evaluate_deeppcb(
    ground_truth: Mapping[str, Sequence[Sequence]],
    predictions: Mapping[str, Sequence[Sequence]],
    names: Sequence[str] | None = None,
    iou_threshold: float = DEEPPCB_IOU,
    as_submitted: bool = True,
) -> DeepPCBResult:
    """Score detections against ground truth exactly as DeepPCB's released evaluation script does.

    Args:
        ground_truth (Mapping[str, Sequence[Sequence]]): Image id -> ``(x1, y1, x2, y2, class)`` rows in pixels, in
            file order. Every image scored must be here (an empty list for an image without defects); images are
            taken in this mapping's order (it decides how tied confidences across images rank, as the zip's order
            does for the script).
        predictions (Mapping[str, Sequence[Sequence]]): Image id -> ``(x1, y1, x2, y2, confidence, class)`` rows. An
            image missing here has no detections. Classes are names or indices into ``names``.
        names (Sequence[str], optional): Class names by index (e.g. ``DEEPPCB_TYPES``); with them indices and names
            compare alike, and the per-type table follows their order. Without them an index is its digits.
        iou_threshold (float): A pair needs IoU strictly above this. Defaults to 0.33.
        as_submitted (bool): Score what ``write_submission`` / ``write_ground_truth`` would write: integer pixels,
            6-decimal confidences, lines ordered by confidence. Then the scores equal the release's script run on
            those files. Defaults to True.

    Returns:
        (DeepPCBResult): The release's AP, precision, recall and F-score, and figures that are not the release's.

    Raises:
        ValueError: If predictions name an image without ground truth, or a row is malformed.

    Examples:
        >>> gt = {"1": [(0, 0, 10, 10, "open")]}
        >>> evaluate_deeppcb(gt, {"1": [(0, 0, 10, 10, 0.9, "open")]}).fscore
        1.0
        >>> evaluate_deeppcb(gt, {"1": [(0, 0, 10, 10, 0.9, "short"), (0, 0, 10, 10, 0.8, "open")]}).ap
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
    images = [
        _image_boxes(image_id, gt_rows, predictions.get(image_id, ()), names, as_submitted)
        for image_id, gt_rows in ground_truth.items()
    ]
    return score_images(images, iou_threshold, names)
