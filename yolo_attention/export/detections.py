"""FP16 and INT8 exports judged by what the user sees: their detections matched with PyTorch's, box by box.

A reduced-precision export cannot match PyTorch's raw outputs to FP32's tolerance, and a looser tensor tolerance is the
wrong measure twice over: 1% of a pixel coordinate moves a small box off its object at 640 px, while a 2% change in
the score of an anchor far below the confidence threshold changes nothing. So both models' raw head outputs go through
the same NMS as Ultralytics' predictor, and the detections are matched greedily by box IoU within the same class.

The verdict (`DetectionCriterion`): every PyTorch detection at ``conf`` is matched by an exported one with
IoU >= ``iou`` and the same class, and every exported detection at ``conf`` by a PyTorch one; matched scores differ by
at most ``score_tol``; at most ``max_unmatched`` (a fraction of PyTorch's detections) go unmatched. A box whose score
lies within ``score_tol`` of ``conf`` may cross the threshold on one side without counting as unmatched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["DETECTION_CRITERIA", "DetectionCriterion", "DetectionMatch", "compare_detections", "detections_of"]


@dataclass(frozen=True)
class DetectionCriterion:
    """When an export's detections count as PyTorch's.

    Attributes:
        iou (float): Smallest box IoU of a match (same class only).
        conf (float): Confidence threshold of the detections compared (Ultralytics' predict default).
        score_tol (float): Largest score difference of a matched pair; also the margin around `conf`.
        max_unmatched (float): Largest fraction of PyTorch's detections that may go unmatched (missed plus extra).
        nms_iou (float): NMS IoU threshold, as Ultralytics' predictor.
        max_det (int): Detections kept per image after NMS.
    """

    iou: float = 0.5
    conf: float = 0.25
    score_tol: float = 0.02
    max_unmatched: float = 0.0
    nms_iou: float = 0.7
    max_det: int = 300

    def text(self) -> str:
        """Return the criterion in words, for reports.

        Examples:
            >>> DetectionCriterion().text()
            'detections at conf 0.25 matched by IoU>=0.5, same class, |dscore|<=0.02, unmatched<=0%'
        """
        return (
            f"detections at conf {self.conf:g} matched by IoU>={self.iou:g}, same class, "
            f"|dscore|<={self.score_tol:g}, unmatched<={100 * self.max_unmatched:g}%"
        )


DETECTION_CRITERIA = {
    "fp16": DetectionCriterion(score_tol=0.02, max_unmatched=0.02),
    "int8": DetectionCriterion(score_tol=0.1, max_unmatched=0.1),
}
"""Default criterion per reduced precision. FP16 moves scores by ~1e-3; NMS between two overlapping boxes of nearly
equal score can still flip either way, so 2% may go unmatched. INT8 moves scores by a few hundredths: 10%."""


@dataclass
class DetectionMatch:
    """How an export's detections compare with PyTorch's on the verification images.

    Attributes:
        criterion (DetectionCriterion): The rule applied.
        reference (int): PyTorch's detections at `criterion.conf`.
        exported (int): The export's detections at `criterion.conf`.
        matched (int): PyTorch detections matched by an exported one.
        missed (int): PyTorch detections with no exported match.
        extra (int): Exported detections with no PyTorch match.
        max_score_diff (float): Largest ``|exported score - PyTorch score|`` over matched pairs (0 when none).
        mean_iou (float): Mean box IoU of the matched pairs (nan when none).
    """

    criterion: DetectionCriterion
    reference: int = 0
    exported: int = 0
    matched: int = 0
    missed: int = 0
    extra: int = 0
    max_score_diff: float = 0.0
    mean_iou: float = float("nan")

    @property
    def unmatched(self) -> int:
        """(int): Missed plus extra detections."""
        return self.missed + self.extra

    @property
    def allowed_unmatched(self) -> int:
        """(int): Unmatched detections the criterion tolerates."""
        return math.floor(self.criterion.max_unmatched * self.reference + 1e-9)

    @property
    def evidence(self) -> bool:
        """(bool): Whether either model detected anything; without detections the comparison says nothing."""
        return self.reference > 0 or self.exported > 0

    @property
    def ok(self) -> bool:
        """(bool): Whether the detections agree under `criterion`."""
        return self.unmatched <= self.allowed_unmatched and self.max_score_diff <= self.criterion.score_tol

    def text(self) -> str:
        """Return the counts in one short phrase.

        Examples:
            >>> DetectionMatch(DetectionCriterion(), reference=3, exported=3, matched=3, max_score_diff=0.004).text()
            'boxes 3/3 matched, 0 missed, 0 extra, max|dscore| 0.004'
        """
        return (
            f"boxes {self.matched}/{self.reference} matched, {self.missed} missed, {self.extra} extra, "
            f"max|dscore| {self.max_score_diff:.3f}"
        )


def detections_of(output: np.ndarray, nc: int, conf: float = 0.25, nms_iou: float = 0.7, max_det: int = 300):
    """Return the detections of a raw (B, 4 + nc + extra, anchors) head output, as Ultralytics' predictor finds them.

    Per image: anchors whose best class score exceeds `conf`, boxes from ``cx, cy, w, h`` to corners, class-aware NMS
    at `nms_iou`, the `max_det` best. Rows after the class scores (keypoints, mask coefficients) are ignored.

    Args:
        output (np.ndarray): The raw head output (decoded boxes and class scores, no NMS).
        nc (int): Number of classes.
        conf (float): Confidence threshold.
        nms_iou (float): NMS IoU threshold.
        max_det (int): Detections kept per image.

    Returns:
        (list[np.ndarray]): Per image an (n, 6) float array of ``x1, y1, x2, y2, score, class``, best first.

    Raises:
        ValueError: If `output` is not a (B, >= 4 + nc, anchors) array.

    Examples:
        >>> out = np.zeros((1, 6, 2), dtype=np.float32)
        >>> out[0, :, 0] = [10, 10, 4, 4, 0.9, 0.1]  # one box of class 0, one anchor below conf
        >>> detections_of(out, nc=2)[0].astype(float).round(2).tolist()
        [[8.0, 8.0, 12.0, 12.0, 0.9, 0.0]]
    """
    from torchvision.ops import batched_nms

    if output.ndim != 3 or output.shape[1] < 4 + nc:
        raise ValueError(f"expected a raw head output of shape (B, >= {4 + nc}, anchors), got {output.shape}")
    pred = torch.from_numpy(np.ascontiguousarray(output, dtype=np.float32)).transpose(1, 2)  # (B, anchors, C)
    found = []
    for image in pred:
        score, cls = image[:, 4 : 4 + nc].max(1)
        keep = score > conf
        xywh, score, cls = image[keep, :4], score[keep], cls[keep]
        xyxy = torch.cat([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
        kept = batched_nms(xyxy, score, cls, nms_iou)[:max_det]
        found.append(torch.cat([xyxy[kept], score[kept, None], cls[kept, None].float()], 1).numpy())
    return found


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    inter = np.clip(rb - lt, 0, None).prod(2)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def _greedy_match(a: np.ndarray, b: np.ndarray, iou: float) -> list[tuple[int, int, float]]:
    """Pairs (i, j, IoU) of `a` and `b` rows of the same class, highest IoU first, each row used once."""
    if not len(a) or not len(b):
        return []
    ious = _box_iou(a, b) * (a[:, None, 5] == b[None, :, 5])
    pairs, used_a, used_b = [], set(), set()
    for flat in np.argsort(-ious, axis=None, kind="stable"):
        i, j = divmod(int(flat), ious.shape[1])
        if ious[i, j] < iou:
            break
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j, float(ious[i, j])))
    return pairs


def compare_detections(
    outputs: Sequence[np.ndarray], references: Sequence[np.ndarray], nc: int, criterion: DetectionCriterion
) -> DetectionMatch:
    """Match an export's detections with PyTorch's, image by image (see the module docstring for the rule).

    Args:
        outputs (Sequence[np.ndarray]): The export's raw head outputs, (B, C, anchors) each.
        references (Sequence[np.ndarray]): PyTorch's, same shapes.
        nc (int): Number of classes.
        criterion (DetectionCriterion): Thresholds and tolerances.

    Returns:
        (DetectionMatch): The counts; `ok` is the verdict.

    Examples:
        >>> ref = np.zeros((1, 5, 2), dtype=np.float32)
        >>> ref[0, :, 0] = [100, 100, 12, 12, 0.9]  # one 12 px box
        >>> moved = ref.copy()
        >>> moved[0, :2, 0] += 6  # half a box off: IoU 0.14
        >>> compare_detections([moved], [ref], 1, DetectionCriterion()).text()
        'boxes 0/1 matched, 1 missed, 1 extra, max|dscore| 0.000'
    """
    low = max(criterion.conf - criterion.score_tol, 0.0)
    match = DetectionMatch(criterion)
    ious, diffs = [], []
    for output, reference in zip(outputs, references):
        find = lambda y, conf: detections_of(y, nc, conf, criterion.nms_iou, criterion.max_det)  # noqa: E731
        ref_strict, ref_loose = find(reference, criterion.conf), find(reference, low)
        out_strict, out_loose = find(output, criterion.conf), find(output, low)
        for rs, rl, es, el in zip(ref_strict, ref_loose, out_strict, out_loose):
            pairs = _greedy_match(rs, el, criterion.iou)  # each PyTorch box, against the export's near-threshold ones
            back = _greedy_match(es, rl, criterion.iou)  # each exported box, against PyTorch's near-threshold ones
            match.reference += len(rs)
            match.exported += len(es)
            match.matched += len(pairs)
            match.missed += len(rs) - len(pairs)
            match.extra += len(es) - len(back)
            ious += [iou for _, _, iou in pairs]
            diffs += [abs(float(el[j, 4]) - float(rs[i, 4])) for i, j, _ in pairs]
            diffs += [abs(float(es[i, 4]) - float(rl[j, 4])) for i, j, _ in back]
    match.max_score_diff = max(diffs, default=0.0)
    match.mean_iou = float(np.mean(ious)) if ious else float("nan")
    return match
