"""DeepPCB's benchmark, scored exactly as the release's own evaluation script scores it.

The release (https://github.com/tangsanli5201/DeepPCB) scores a zip of per-image ``<id>.txt`` files with an adaptation
of the ICDAR 2015 Robust Reading script: per image, each ground-truth box (file order) pairs with the first unpaired
detection (by confidence) whose IoU with it is > 0.33, whatever its type; the pair is correct only if the types match.
One AP over all types, and precision, recall, F-score at the submission's confidence cut.

- ``submission``: writing the file formats (per-image ``.txt``, flat zips) the script reads.
- ``reading``: reading zips and folders exactly as the script reads them.
- ``matching``: the per-image pairing and the rectangle IoU.
- ``metric``: AP, precision, recall, F-score over a dataset (``evaluate_deeppcb``).
- ``result``: what is returned (``DeepPCBResult``), re-scoring at other confidence cuts.
- ``report``: the printed tables, "DeepPCB AP (official rule)" apart from figures that are not official.
- ``evaluate``: predict with an Ultralytics model over a dataset split and score it (``evaluate_model``).
- ``official``: run the release's script itself on two zips, to check the above against it.
"""

from __future__ import annotations

from yolo_attention.eval.deeppcb.evaluate import evaluate_model, yolo_ground_truth
from yolo_attention.eval.deeppcb.matching import DEEPPCB_IOU, ImageMatch, box_iou, match_image, types_match
from yolo_attention.eval.deeppcb.metric import ImageBoxes, evaluate_deeppcb, release_ap, score_images
from yolo_attention.eval.deeppcb.official import OFFICIAL_KEYS, run_official_script
from yolo_attention.eval.deeppcb.reading import read_ground_truth, read_submission
from yolo_attention.eval.deeppcb.report import OFFICIAL_LABEL, format_report, format_summary
from yolo_attention.eval.deeppcb.result import ClassScore, DeepPCBResult
from yolo_attention.eval.deeppcb.submission import (
    DEEPPCB_TYPES,
    ground_truth_rows,
    submission_lines,
    submission_rows,
    write_ground_truth,
    write_submission,
)

__all__ = [
    "DEEPPCB_IOU",
    "DEEPPCB_TYPES",
    "OFFICIAL_KEYS",
    "OFFICIAL_LABEL",
    "ClassScore",
    "DeepPCBResult",
    "ImageBoxes",
    "ImageMatch",
    "box_iou",
    "evaluate_deeppcb",
    "evaluate_model",
    "format_report",
    "format_summary",
    "ground_truth_rows",
    "match_image",
    "read_ground_truth",
    "read_submission",
    "release_ap",
    "run_official_script",
    "score_images",
    "submission_lines",
    "submission_rows",
    "types_match",
    "write_ground_truth",
    "write_submission",
    "yolo_ground_truth",
]
