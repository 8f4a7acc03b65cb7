"""What a WIDER FACE evaluation returns: Easy / Medium / Hard AP, the curves behind them, counts and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yolo_attention.eval.widerface.reading import SUBSETS

__all__ = ["SubsetScore", "WiderFaceResult"]


@dataclass
class SubsetScore:
    """One subset's score.

    Attributes:
        ap (float): VOC all-point AP of the precision-recall curve.
        n_faces (int): Faces that count in the subset (recall's denominator).
        precision (np.ndarray): (T,) precision at each threshold, highest threshold first (NaN where nothing is
            proposed, as in the official code; it never reaches the AP).
        recall (np.ndarray): (T,) recall at each threshold.
    """

    ap: float
    n_faces: int
    precision: np.ndarray = field(repr=False)
    recall: np.ndarray = field(repr=False)


@dataclass
class WiderFaceResult:
    """Easy, Medium and Hard AP as WIDER FACE's official evaluation computes them.

    Attributes:
        subsets (dict[str, SubsetScore]): ``easy``, ``medium``, ``hard``.
        n_images (int): Ground-truth images.
        n_predictions (int): Prediction rows read for ground-truth images.
        images_without_predictions (int): Ground-truth images without a prediction file (scored as no detections).
        score_range (tuple[float, float]): The ``(min, max)`` the scores were normalised by.
        iou_threshold (float): A match needs IoU (+1 pixel convention) at least this.
        thresholds (int): Score thresholds of the curves.
        warnings (list[str]): What the figures should be read with (e.g. constant scores).

    Examples:
        >>> r = WiderFaceResult({s: SubsetScore(0.5, 2, np.zeros(1), np.zeros(1)) for s in SUBSETS}, 1, 2, 0)
        >>> r.easy, r.aps
        (0.5, {'easy': 0.5, 'medium': 0.5, 'hard': 0.5})
    """

    subsets: dict[str, SubsetScore]
    n_images: int
    n_predictions: int
    images_without_predictions: int
    score_range: tuple[float, float] = (0.0, 1.0)
    iou_threshold: float = 0.5
    thresholds: int = 1000
    warnings: list[str] = field(default_factory=list)

    @property
    def easy(self) -> float:
        """(float): Easy AP."""
        return self.subsets["easy"].ap

    @property
    def medium(self) -> float:
        """(float): Medium AP."""
        return self.subsets["medium"].ap

    @property
    def hard(self) -> float:
        """(float): Hard AP."""
        return self.subsets["hard"].ap

    @property
    def aps(self) -> dict[str, float]:
        """(dict[str, float]): AP per subset, in ``SUBSETS`` order."""
        return {s: self.subsets[s].ap for s in SUBSETS}

    def to_dict(self) -> dict:
        """A JSON-ready dict: the three APs, then counts and settings."""
        return {
            "rule": "WIDER FACE official evaluation (Easy / Medium / Hard AP)",
            **self.aps,
            "n_faces": {s: self.subsets[s].n_faces for s in SUBSETS},
            "n_images": self.n_images,
            "n_predictions": self.n_predictions,
            "images_without_predictions": self.images_without_predictions,
            "score_range": list(self.score_range),
            "iou_threshold": self.iou_threshold,
            "thresholds": self.thresholds,
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """A plain-text report: the three APs as the official code prints them, then counts and warnings."""
        lines = [
            f"{s.capitalize():<7}Val AP: {self.subsets[s].ap:.4f}  ({self.subsets[s].n_faces} faces)" for s in SUBSETS
        ]
        counts = f"{self.n_images} images, {self.n_predictions} predictions"
        if self.images_without_predictions:
            counts += f", {self.images_without_predictions} images without a prediction file"
        lines.append(counts)
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)
