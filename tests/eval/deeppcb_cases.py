"""Shared DeepPCB test material: random cases with known traps, and the release script's loops written out literally."""

from __future__ import annotations

import os
import random
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from yolo_attention.eval.deeppcb import DEEPPCB_TYPES

NAMES = list(DEEPPCB_TYPES)
OFFICIAL_DIR = Path(os.environ.get("DEEPPCB_OFFICIAL", "/work/shared/tools/deeppcb-official"))
DEEPPCB_DATASET = Path("/work/shared/datasets/deeppcb-trainval")

needs_official = pytest.mark.skipif(
    not (OFFICIAL_DIR / "script.py").is_file() or find_spec("Polygon") is None,
    reason=f"needs the release's evaluation script in {OFFICIAL_DIR} ($DEEPPCB_OFFICIAL) and Polygon3",
)


def random_case(seed: int, images: int = 12, decimals: int = 6) -> tuple[dict, dict]:
    """Ground truth and predictions: jittered boxes, duplicates, 15% wrong types, false positives, empty images.

    Image ids are digits (what the release's script reads); classes are indices into the first three ``NAMES``.
    ``decimals`` rounds the confidences: 2 makes ties common.
    """
    rng = random.Random(seed)
    gt, det = {}, {}
    for i in range(images):
        boxes = []
        for _ in range(rng.randint(0, 6)):
            x, y, s = rng.randint(8, 500), rng.randint(8, 500), rng.randint(14, 60)
            boxes.append((x, y, x + s, y + rng.randint(14, 60), rng.randint(0, 2)))
        gt[f"{i:08d}"] = boxes
        preds = []
        for x1, y1, x2, y2, c in boxes:
            for _ in range(rng.randint(0, 2)):
                j = [rng.randint(-6, 6) for _ in range(4)]  # boxes stay valid: x2 > x1 > 0
                cls = c if rng.random() < 0.85 else (c + 1) % 3
                preds.append((x1 + j[0], y1 + j[1], x2 + j[2], y2 + j[3], round(rng.random(), decimals), cls))
        for _ in range(rng.randint(0, 3)):
            x, y = rng.randint(0, 500), rng.randint(0, 500)
            preds.append((x, y, x + 30, y + 30, round(rng.random(), decimals), rng.randint(0, 2)))
        det[f"{i:08d}"] = preds
    return gt, det


def reference(gt: dict, det: dict, thr: float = 0.33) -> dict:
    """The release script's loops (script.py ``evaluate_method``, LTRB, no don't-care boxes), written out literally.

    ``gt``: id -> ``(x1, y1, x2, y2, type)``; ``det``: id -> ``(x1, y1, x2, y2, confidence, type)`` in file order;
    types compared as the script compares DeepPCB's names (upper-cased, equal).
    """

    def area(b):
        return (b[2] - b[0]) * (b[3] - b[1])

    def iou(a, b):
        w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
        inter = w * h if w > 0 and h > 0 else 0
        try:
            return inter / (area(b) + area(a) - inter)
        except ZeroDivisionError:
            return 0

    confs, matches, n_gt, n_det, matched_sum = [], [], 0, 0, 0
    for image, gts in gt.items():
        lines = list(det.get(image, []))
        order = np.argsort(-np.array([d[4] for d in lines])) if lines else []
        dets = [lines[i] for i in order]
        gt_done, det_done, det_matched = [0] * len(gts), [0] * len(dets), []
        for g in range(len(gts)):
            for d in range(len(dets)):
                if gt_done[g] == 0 and det_done[d] == 0 and iou(gts[g], dets[d]) > thr:
                    gt_done[g] = det_done[d] = 1
                    if str(gts[g][4]).upper() == str(dets[d][5]).upper():
                        matched_sum += 1
                        det_matched.append(d)
        confs += [d[4] for d in dets]
        matches += [d in det_matched for d in range(len(dets))]
        n_gt, n_det = n_gt + len(gts), n_det + len(dets)
    correct, ap = 0, 0.0
    if confs:
        for n, i in enumerate(np.argsort(-np.array(confs))):
            if matches[i]:
                correct += 1
                ap += float(correct) / (n + 1)
        ap = ap / n_gt if n_gt else ap
    recall = 0 if n_gt == 0 else float(matched_sum) / n_gt
    precision = 0 if n_det == 0 else float(matched_sum) / n_det
    hmean = 0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)
    return {"ap": ap, "precision": precision, "recall": recall, "fscore": hmean}


def named(rows: dict, column: int) -> dict:
    """The same rows with the class index in ``column`` replaced by its name."""
    return {k: [(*r[:column], NAMES[r[column]], *r[column + 1 :]) for r in v] for k, v in rows.items()}
