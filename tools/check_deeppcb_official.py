#!/usr/bin/env python
"""Check the package's DeepPCB scores against the release's own evaluation script, on the same files.

Writes ``gt.zip`` and ``res.zip``, runs the release's ``script.py`` on them (a subprocess, LTRB mode; the result is read
from ``results.zip`` / ``method.json``, not the exit status), scores the same zips with
``yolo_attention.eval.deeppcb``, and prints both side by side. Exit status 1 if any figure differs by more than the
tolerance (1e-6), 2 if something could not run.

Three sources of predictions:

    # your own files: folders or zips of <id>.txt (predictions: x1,y1,x2,y2,confidence,type; ground truth either
    # the release's annotation lines "x1 y1 x2 y2 type-id" or the script's "x1,y1,x2,y2,type")
    python tools/check_deeppcb_official.py --gt <gt folder|zip> --pred <pred folder|zip>
    # predict first with the package's driver (evaluate_model), then check the submission it wrote
    python tools/check_deeppcb_official.py --model best.pt --data deeppcb.yaml --split val [--conf 0.25]
    # no model: real DeepPCB ground truth, perturbed (jitter, wrong types, duplicates, false positives, tied
    # confidences) with a fixed seed
    python tools/check_deeppcb_official.py --synthetic [--seed 0] [--limit 200]

The release's script needs ``pip install Polygon3``; its folder is ``--official-dir`` (default: $DEEPPCB_OFFICIAL or
/work/shared/tools/deeppcb-official).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from yolo_attention.eval.deeppcb import (
    DEEPPCB_TYPES,
    OFFICIAL_KEYS,
    OFFICIAL_LABEL,
    evaluate_deeppcb,
    read_ground_truth,
    read_submission,
    run_official_script,
    write_ground_truth,
    write_submission,
)

DEFAULT_OFFICIAL = Path(os.environ.get("DEEPPCB_OFFICIAL", "/work/shared/tools/deeppcb-official"))
DEFAULT_DATASET = Path("/work/shared/datasets/deeppcb-trainval")
LABELS = {"ap": OFFICIAL_LABEL, "precision": "precision", "recall": "recall", "fscore": "F-score (hmean)"}
_RELEASE_ANNOTATION = re.compile(r"^\s*\d+\s+\d+\s+\d+\s+\d+\s+\d+\s*$")  # "x1 y1 x2 y2 type-id", as released


def _members(source: Path) -> list[tuple[str, bytes]]:
    if source.is_dir():
        return [(p.name, p.read_bytes()) for p in sorted(source.glob("*.txt"))]
    with zipfile.ZipFile(source) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def _script_gt_line(line: str) -> str:
    """A release annotation line ``x1 y1 x2 y2 t`` as the script's ``x1,y1,x2,y2,name`` (as convert_gt.py does)."""
    if not _RELEASE_ANNOTATION.match(line):
        return line
    *box, t = line.split()
    if not 1 <= int(t) <= len(DEEPPCB_TYPES):
        raise ValueError(f"annotation line {line!r}: type {t} is not 1..{len(DEEPPCB_TYPES)}")
    return ",".join([*box, DEEPPCB_TYPES[int(t) - 1]])


def zip_ground_truth(source: Path, gt_zip: Path) -> None:
    """Zip a ground-truth folder or zip flat, release annotation lines rewritten in the script's line format."""
    with zipfile.ZipFile(gt_zip, "w", zipfile.ZIP_DEFLATED) as out:
        for name, raw in _members(source):
            lines = re.split(r"(\r?\n)", raw.decode("utf-8-sig"))  # keeps the separators, as convert_gt.py does
            out.writestr(Path(name).name, "".join(_script_gt_line(x) if x.strip() else x for x in lines))


def zip_predictions(source: Path, res_zip: Path) -> None:
    """Zip a prediction folder's ``.txt`` files flat, unchanged (a zip is copied as it is)."""
    with zipfile.ZipFile(res_zip, "w", zipfile.ZIP_DEFLATED) as out:
        for name, raw in _members(source):
            out.writestr(name, raw)


def read_release_annotations(dataset: Path, limit: int | None) -> dict[str, list[tuple[int, int, int, int, str]]]:
    """Ground truth of the release's list file (``trainval.txt``): image id -> ``(x1, y1, x2, y2, type)`` rows."""
    listing = dataset / "trainval.txt"
    if not listing.is_file():
        raise FileNotFoundError(f"no trainval.txt in '{dataset}': give the DeepPCB release folder with --dataset")
    gt = {}
    for line in listing.read_text().split("\n")[: limit or None]:
        if not line.strip():
            continue
        annotation = dataset / line.split()[1]
        rows = []
        for text in annotation.read_text().splitlines():
            if text.strip():
                x1, y1, x2, y2, t = (int(v) for v in re.split(r"[,\s]+", text.strip()))
                rows.append((x1, y1, x2, y2, DEEPPCB_TYPES[t - 1]))
        gt[annotation.stem] = rows
    return gt


def perturb(gt: dict[str, list], seed: int) -> tuple[dict[str, list], dict[str, list]]:
    """Synthetic predictions from ground truth: misses, jittered boxes, wrong types, duplicates, false positives.

    Confidences are rounded to 2, 3 or 6 decimals so that ties (within and across images) are common. Three
    defect-free images (ids 99999990..2) are added to the ground truth, with false positives on two of them.

    Returns:
        (tuple[dict[str, list], dict[str, list]]): The ground truth (with the added images) and the predictions.
    """
    rng = random.Random(seed)
    gt = {**gt, **{f"9999999{i}": [] for i in range(3)}}
    predictions = {}
    for image_id, rows in gt.items():
        if image_id == "99999992" or rng.random() < 0.03:
            continue  # no file for this image: no detections
        preds = []
        for x1, y1, x2, y2, kind in rows:
            for _ in range(rng.choice([0, 1, 1, 1, 1, 1, 2, 2, 3])):
                w, h = x2 - x1, y2 - y1
                box = [v + rng.randint(-s, s) for v, s in zip((x1, y1, x2, y2), (w // 3, h // 3, w // 3, h // 3))]
                box = [max(0, box[0]), max(0, box[1]), max(box[0], box[2]), max(box[1], box[3])]
                other = rng.choice([t for t in DEEPPCB_TYPES if t != kind])
                preds.append((*box, _confidence(rng), kind if rng.random() < 0.8 else other))
        for _ in range(rng.choice([0, 0, 1, 2, 4])):
            x, y, s = rng.randint(0, 600), rng.randint(0, 600), rng.randint(6, 60)
            preds.append((x, y, x + s, y + rng.randint(6, 60), _confidence(rng), rng.choice(DEEPPCB_TYPES)))
        rng.shuffle(preds)
        predictions[image_id] = preds
    return gt, predictions


def _confidence(rng: random.Random) -> float:
    return round(rng.random(), rng.choice([2, 3, 6]))


def compare(official: dict[str, float], columns: dict[str, object], tolerance: float) -> bool:
    """Print the official figures beside each project column; True when every difference is within ``tolerance``."""
    names = list(columns)
    print(f"{'figure':<30}{'official':>14}" + "".join(f"{n:>22}{'difference':>12}" for n in names))
    ok = True
    for key, official_key in OFFICIAL_KEYS.items():
        row = f"{LABELS[key]:<30}{official[official_key]:>14.10f}"
        for result in columns.values():
            ours = getattr(result, key)
            diff = ours - official[official_key]
            ok &= abs(diff) <= tolerance
            row += f"{ours:>22.10f}{diff:>12.1e}"
        print(row)
    first = next(iter(columns.values()))
    print(f"same-class AP (not official, project only): {first.same_class_ap:.10f}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--pred", type=Path, help="predictions: folder or zip of <id>.txt (with --gt)")
    source.add_argument("--model", help="weights to predict with first (with --data)")
    source.add_argument("--synthetic", action="store_true", help="perturbed real ground truth, no model")
    parser.add_argument("--gt", type=Path, help="ground truth: folder or zip of <id>.txt (with --pred)")
    parser.add_argument("--data", help="data YAML (with --model)")
    parser.add_argument("--split", default="val", help="dataset split (with --model); default val")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--conf", type=float, default=0.25, help="confidence cut of the submission (--model)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="DeepPCB release folder (--synthetic)")
    parser.add_argument("--seed", type=int, default=0, help="seed of --synthetic")
    parser.add_argument("--limit", type=int, default=None, help="first N images of the list (--synthetic)")
    parser.add_argument("--official-dir", type=Path, default=DEFAULT_OFFICIAL, help="folder of the release's script")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args(argv)
    if args.pred is not None and args.gt is None:
        parser.error("--pred needs --gt")
    for given in (args.gt, args.pred):
        if given is not None and not given.exists():
            parser.error(f"'{given}' not found: give a folder or a zip of <id>.txt files")
    if args.model is not None and args.data is None:
        parser.error("--model needs --data")

    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        columns = {}
        if args.pred is not None:
            gt_zip, res_zip = work / "gt.zip", work / "res.zip"
            zip_ground_truth(args.gt, gt_zip)
            zip_predictions(args.pred, res_zip)
        elif args.model is not None:
            from yolo_attention.eval.deeppcb import evaluate_model

            result, submission = evaluate_model(
                args.model, args.data, args.split, args.imgsz, conf=args.conf, device=args.device, out=work
            )
            gt_zip, res_zip = work / "ground_truth" / "gt.zip", submission / "res.zip"
            columns["project (in memory)"] = result.at_conf(args.conf)
        else:
            gt, predictions = perturb(read_release_annotations(args.dataset, args.limit), args.seed)
            gt_zip = write_ground_truth(gt, work / "ground_truth", DEEPPCB_TYPES) / "gt.zip"
            res_zip = write_submission(predictions, work / "submission", DEEPPCB_TYPES) / "res.zip"
            columns["project (in memory)"] = evaluate_deeppcb(gt, predictions, DEEPPCB_TYPES)
        from_files = evaluate_deeppcb(read_ground_truth(gt_zip), read_submission(res_zip), as_submitted=False)
        columns = {"project (same zips)": from_files, **columns}
        official = run_official_script(gt_zip, res_zip, args.official_dir, work / "official")
        r = from_files
        print(f"{gt_zip} and {res_zip}: {r.n_images} images, {r.n_gt} defects, {r.n_det} detections")
        ok = compare(official, columns, args.tolerance)
    print(f"OK: every difference <= {args.tolerance:g}" if ok else f"MISMATCH: a difference > {args.tolerance:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
