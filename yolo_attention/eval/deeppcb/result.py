"""What a DeepPCB evaluation returns: the release's four numbers, extra figures marked as not official, re-scoring."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yolo_attention.eval.deeppcb.matching import DEEPPCB_IOU

__all__ = ["ClassScore", "DeepPCBResult"]


@dataclass
class ClassScore:
    """Scores of one type under the release's pairing. Not a figure the release reports (it reports one AP).

    Attributes:
        ap (float): AP of the type's detections (the release's formula) against the type's ground truth.
        precision (float): Correct / detections of the type.
        recall (float): Correct / ground-truth boxes of the type.
        fscore (float): ``2RP / (R + P)``.
        n_gt (int): Ground-truth boxes.
        n_det (int): Detections.
        n_correct (int): Correct detections.
    """

    ap: float
    precision: float
    recall: float
    fscore: float
    n_gt: int
    n_det: int
    n_correct: int


@dataclass
class DeepPCBResult:
    """Scores by DeepPCB's released evaluation script, and what is needed to re-score at another confidence.

    Attributes:
        ap (float): DeepPCB AP (official rule): one AP over all types, as the release's script computes it.
        precision (float): Correct detections / detections (official).
        recall (float): Correct detections / ground-truth boxes (official).
        fscore (float): ``2RP / (R + P)``, the script's "hmean" (official).
        n_images (int): Images scored.
        n_gt (int): Ground-truth boxes counted.
        n_det (int): Detections counted.
        n_correct (int): Detections paired with a ground-truth box of their type.
        n_wrong_type (int): Pairs with different types (both boxes used up, neither correct).
        same_class_ap (float): NOT official: the AP if detections paired only with boxes of their own type.
        per_class (dict[str, ClassScore]): NOT official: per-type scores under the release's pairing.
        iou_threshold (float): The pairing threshold (IoU strictly above it).
        conf (float): Lowest confidence the detections were cut at (0: all given).
    """

    ap: float
    precision: float
    recall: float
    fscore: float
    n_images: int
    n_gt: int
    n_det: int
    n_correct: int
    n_wrong_type: int
    same_class_ap: float
    per_class: dict[str, ClassScore]
    iou_threshold: float = DEEPPCB_IOU
    conf: float = 0.0
    _images: list = field(default_factory=list, repr=False)
    _det_conf: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    _det_correct: np.ndarray = field(default_factory=lambda: np.zeros(0, bool), repr=False)
    _names: tuple | None = field(default=None, repr=False)

    @property
    def map(self) -> float:
        """(float): NOT official: the mean over types with ground truth of the per-type AP."""
        aps = [s.ap for s in self.per_class.values() if s.n_gt > 0]
        return float(np.mean(aps)) if aps else 0.0

    def at_conf(self, conf: float) -> DeepPCBResult:
        """The scores of a submission of only the detections with confidence >= ``conf``: re-scored from scratch.

        This is what the release's script reports for ``write_submission(..., conf=conf)``.
        """
        from yolo_attention.eval.deeppcb.metric import score_images  # metric builds results: imported when used

        kept = [image.keep(conf) for image in self._images]
        return score_images(kept, self.iou_threshold, self._names, max(conf, self.conf))

    def best_fscore(self) -> tuple[float, float]:
        """The highest F-score over confidence cuts, and the cut giving it.

        The cut is found from this result's pairing (dropping detections below a cut never changes the pairing of
        those above it, except in the order numpy gives tied confidences); the F-score returned is re-scored exactly
        at that cut.

        Returns:
            (tuple[float, float]): ``(F-score, confidence)``; ``(0.0, 0.0)`` without any correct detection.
        """
        if len(self._det_conf) == 0 or self.n_gt == 0 or not self._det_correct.any():
            return 0.0, 0.0
        order = np.argsort(-self._det_conf, kind="stable")
        conf, hits = self._det_conf[order], np.cumsum(self._det_correct[order])
        last = np.r_[conf[1:] != conf[:-1], True]  # a cut keeps every detection tied with it
        f = 2 * hits / (np.arange(1, len(conf) + 1) + self.n_gt)  # 2PR/(P+R) with P = hits/n_det, R = hits/n_gt
        cut = float(conf[int(np.argmax(np.where(last, f, -1)))])
        return self.at_conf(cut).fscore, cut

    def to_dict(self) -> dict:
        """A JSON-ready dict: the official numbers, then the figures that are not official."""
        keys = ("ap", "precision", "recall", "fscore", "n_images", "n_gt", "n_det", "n_correct", "n_wrong_type")
        out = {k: getattr(self, k) for k in keys}
        out.update(iou_threshold=self.iou_threshold, conf=self.conf)
        out["not_official"] = {
            "same_class_ap": self.same_class_ap,
            "mean_of_per_class_ap": self.map,
            "per_class": {name: vars(score).copy() for name, score in self.per_class.items()},
        }
        return out

    def summary(self) -> str:
        """A plain-text report: "DeepPCB AP (official rule)" and the official numbers, then the extra figures."""
        from yolo_attention.eval.deeppcb.report import format_summary

        return format_summary(self)
