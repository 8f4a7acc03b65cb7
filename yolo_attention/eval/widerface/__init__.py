"""WIDER FACE's benchmark: Easy / Medium / Hard AP exactly as the official evaluation computes it, and landmark NME.

- ``reading``: the four official ``.mat`` files (faces per image, which count in Easy / Medium / Hard).
- ``predictions``: the official prediction layout, ``<event>/<name>.txt``, written and read.
- ``metric``: the official scoring: scores rescaled over the set, IoU >= 0.5 (+1 pixel), faces outside the subset
  ignored, 1,000 thresholds, VOC all-point AP (``score_widerface``).
- ``result``: what is returned (``WiderFaceResult``).
- ``landmarks``: normalised mean error of the five points on matched faces (``landmark_nme``).
- ``evaluate``: score a prediction folder (``evaluate_widerface``), predict with an Ultralytics model
  (``predict_widerface``), both at once (``evaluate_model``), and landmark NME of a model (``evaluate_landmarks``).
"""

from __future__ import annotations

from yolo_attention.eval.widerface.evaluate import (
    WIDERFACE_PREDICT,
    evaluate_landmarks,
    evaluate_model,
    evaluate_widerface,
    predict_widerface,
)
from yolo_attention.eval.widerface.landmarks import NORMALIZERS, LandmarkResult, ScoredFace, landmark_nme, match_faces
from yolo_attention.eval.widerface.metric import (
    WIDERFACE_IOU,
    WIDERFACE_THRESHOLDS,
    box_overlaps,
    pr_curve,
    score_range,
    score_widerface,
    voc_ap,
)
from yolo_attention.eval.widerface.predictions import read_prediction_file, read_predictions, write_predictions
from yolo_attention.eval.widerface.reading import (
    GT_FILES,
    SUBSETS,
    GroundTruthImage,
    WiderFaceGroundTruth,
    read_ground_truth,
)
from yolo_attention.eval.widerface.result import SubsetScore, WiderFaceResult

__all__ = [
    "GT_FILES",
    "NORMALIZERS",
    "SUBSETS",
    "WIDERFACE_IOU",
    "WIDERFACE_PREDICT",
    "WIDERFACE_THRESHOLDS",
    "GroundTruthImage",
    "LandmarkResult",
    "ScoredFace",
    "SubsetScore",
    "WiderFaceGroundTruth",
    "WiderFaceResult",
    "box_overlaps",
    "evaluate_landmarks",
    "evaluate_model",
    "evaluate_widerface",
    "landmark_nme",
    "match_faces",
    "pr_curve",
    "predict_widerface",
    "read_ground_truth",
    "read_prediction_file",
    "read_predictions",
    "score_range",
    "score_widerface",
    "voc_ap",
    "write_predictions",
]
