"""Landmark quality beside AP: the normalised mean error (NME) of the five points on matched faces.

Each image's predictions, highest score first, take the unmatched ground-truth face they overlap most, at IoU >= 0.5
(plain IoU, one prediction per face). On every matched face with labelled points, a point's error is its distance to
the labelled point divided by the face's **ground-truth box diagonal**; the face's NME is the mean over its labelled
points, and the NME the mean over faces. Faces no prediction matches do not count (the AP covers them).

Why the box diagonal and not the inter-ocular distance (300-W's convention): WIDER FACE's faces turn far from
frontal, where the distance between the eyes shrinks towards zero and inflates the error without bound, and the
training labels often mark an eye as missing (-1), where the distance is undefined. The diagonal exists for every
face and scales with it. ``normalize="interocular"`` gives the 300-W convention for comparison (faces without both
eyes are then left out).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from yolo_attention.data.widerface_pose import FACE_LANDMARKS, FacePose

__all__ = ["NORMALIZERS", "LandmarkResult", "ScoredFace", "landmark_nme", "match_faces"]

ScoredFace = tuple[FacePose, float]
"""A predicted face and its confidence."""


def _diagonal(face: FacePose) -> float:
    x1, y1, x2, y2 = face.box
    return float(np.hypot(x2 - x1, y2 - y1))


def _interocular(face: FacePose) -> float:
    (lx, ly, lv), (rx, ry, rv) = face.keypoints[0], face.keypoints[1]
    return float(np.hypot(rx - lx, ry - ly)) if lv > 0 and rv > 0 else 0.0


NORMALIZERS: dict[str, Callable[[FacePose], float]] = {"diagonal": _diagonal, "interocular": _interocular}
"""How a face's point errors are normalised, by name: its ground-truth box diagonal, or its eyes' distance."""


@dataclass
class LandmarkResult:
    """NME of the five points on matched faces.

    Attributes:
        nme (float): Mean over matched faces of the mean normalised point error; NaN without any.
        per_point (dict[str, float]): Mean normalised error of each landmark over the matched faces labelling it.
        n_faces (int): Ground-truth faces with at least one labelled point (and a usable normaliser).
        n_matched (int): Those of them a prediction matched: the faces the NME is over.
        normalize (str): ``diagonal`` or ``interocular``.
        iou_threshold (float): The matching threshold.

    Examples:
        >>> r = LandmarkResult(0.05, dict.fromkeys(FACE_LANDMARKS, 0.05), 4, 2)
        >>> r.summary().splitlines()[0]
        'landmark NME 0.0500 (box diagonal) over 2 of 4 labelled faces matched at IoU >= 0.5'
    """

    nme: float
    per_point: dict[str, float]
    n_faces: int
    n_matched: int
    normalize: str = "diagonal"
    iou_threshold: float = 0.5

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(vars(self))

    def summary(self) -> str:
        """One line for the NME, one for the per-landmark errors."""
        how = "box diagonal" if self.normalize == "diagonal" else "inter-ocular distance"
        points = "  ".join(f"{name} {value:.4f}" for name, value in self.per_point.items())
        return (
            f"landmark NME {self.nme:.4f} ({how}) over {self.n_matched} of {self.n_faces} labelled faces matched at "
            f"IoU >= {self.iou_threshold}\n{points}"
        )


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plain IoU of (N, 4) and (M, 4) ``x1 y1 x2 y2`` boxes."""
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(inter / (area_a[:, None] + area_b[None, :] - inter))


def match_faces(
    ground_truth: Sequence[FacePose], predictions: Sequence[ScoredFace], iou_threshold: float = 0.5
) -> list[tuple[int, int]]:
    """One-to-one matches ``(gt index, prediction index)`` of one image, greedy by descending score.

    Examples:
        >>> gt = [FacePose((0, 0, 10, 10), ()), FacePose((20, 0, 30, 10), ())]
        >>> pred = [(FacePose((0, 0, 10, 10), ()), 0.5), (FacePose((1, 0, 11, 10), ()), 0.9)]
        >>> match_faces(gt, pred)
        [(0, 1)]
    """
    if not ground_truth or not predictions:
        return []
    iou = _iou(
        np.array([p.box for p, _ in predictions], np.float64).reshape(-1, 4),
        np.array([g.box for g in ground_truth], np.float64).reshape(-1, 4),
    )
    taken = np.zeros(len(ground_truth), bool)
    matches = []
    for d in np.argsort(-np.array([s for _, s in predictions]), kind="stable").tolist():
        candidates = np.where(taken, -1.0, iou[d])
        g = int(candidates.argmax())
        if candidates[g] >= iou_threshold:
            taken[g] = True
            matches.append((g, d))
    return matches


def landmark_nme(
    ground_truth: Mapping[str, Sequence[FacePose]],
    predictions: Mapping[str, Sequence[ScoredFace]],
    iou_threshold: float = 0.5,
    normalize: str = "diagonal",
) -> LandmarkResult:
    """NME of the five landmarks on the faces a prediction matches (see the module doc).

    Args:
        ground_truth (Mapping[str, Sequence[FacePose]]): Image -> labelled faces (``v > 0`` marks a labelled point;
            e.g. ``widerface_pose.read_pose_labels``).
        predictions (Mapping[str, Sequence[ScoredFace]]): Image -> ``(face, confidence)``; the predicted points'
            visibility is not used.
        iou_threshold (float): Matching threshold. Defaults to 0.5.
        normalize (str): ``"diagonal"`` (default) or ``"interocular"``.

    Returns:
        (LandmarkResult): The NME, per-landmark errors and counts.

    Raises:
        ValueError: If ``normalize`` is unknown.

    Examples:
        >>> points = ((10, 10, 2), (30, 10, 2), (20, 20, 2), (12, 30, 2), (28, 30, 2))
        >>> gt = {"a": [FacePose((0, 0, 30, 40), points)]}
        >>> shifted = FacePose((0, 0, 30, 40), tuple((x + 5, y, 2) for x, y, _ in points))
        >>> landmark_nme(gt, {"a": [(shifted, 0.9)]}).nme  # 5 px over a 50 px diagonal
        0.1
    """
    if normalize not in NORMALIZERS:
        raise ValueError(f"normalize={normalize!r} is not one of {', '.join(NORMALIZERS)}")
    norm_of = NORMALIZERS[normalize]
    face_nme, point_errors = [], {name: [] for name in FACE_LANDMARKS}
    n_faces = 0
    for image, faces in ground_truth.items():
        usable = [i for i, f in enumerate(faces) if f.n_visible > 0 and norm_of(f) > 0]
        n_faces += len(usable)
        for g, d in match_faces(faces, predictions.get(image, ()), iou_threshold):
            if g not in usable:
                continue
            gt_face, pred_face = faces[g], predictions[image][d][0]
            norm = norm_of(gt_face)
            errors = []
            for name, (gx, gy, v), (px, py, _) in zip(FACE_LANDMARKS, gt_face.keypoints, pred_face.keypoints):
                if v > 0:
                    errors.append(float(np.hypot(px - gx, py - gy)) / norm)
                    point_errors[name].append(errors[-1])
            face_nme.append(float(np.mean(errors)))
    return LandmarkResult(
        nme=float(np.mean(face_nme)) if face_nme else float("nan"),
        per_point={name: float(np.mean(e)) if e else float("nan") for name, e in point_errors.items()},
        n_faces=n_faces,
        n_matched=len(face_nme),
        normalize=normalize,
        iou_threshold=iou_threshold,
    )
