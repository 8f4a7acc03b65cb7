#!/usr/bin/env python
"""Check the package's WIDER FACE Easy / Medium / Hard AP against the widely used Python port of the official code.

Runs the port (Pytorch_Retinaface's ``widerface_evaluate/evaluation.py``, in ``--reference``, default
$WIDERFACE_REFERENCE or /work/shared/tools/widerface-reference) as a subprocess on a prediction folder and the
official ground truth, scores the same files with ``yolo_attention.eval.widerface.evaluate_widerface``, and prints
both. Exit status 1 if an AP differs by more than ``--tolerance`` (1e-4), 2 if something could not run.

    # synthetic predictions drawn from the real ground truth: detections missed more often the smaller the face,
    # jittered boxes, duplicates, false positives, tied scores; deterministic for a seed
    python tools/check_widerface_reference.py [--gt DIR] [--seed 0] [--logit-scores] [--events N]
    # your own predictions in the official layout (<event>/<name>.txt)
    python tools/check_widerface_reference.py --pred DIR [--gt DIR]

``--events N`` keeps the first N events of the ground truth (written to a temporary folder in the same ``.mat``
structure), for a quicker run: the port loops in Python over 1,000 thresholds per image and subset (about a minute
on the whole set). The port's own quirks are matched, not worked around: it reads every file in the prediction
folder, so the synthetic folder holds exactly the ground truth's images. The port imports IPython (unused): a stub
is put on its path when IPython is not installed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from yolo_attention.eval.widerface import (
    GT_FILES,
    SUBSETS,
    WiderFaceGroundTruth,
    evaluate_widerface,
    read_ground_truth,
    write_predictions,
)

DEFAULT_REFERENCE = Path(os.environ.get("WIDERFACE_REFERENCE", "/work/shared/tools/widerface-reference"))
DEFAULT_GT = Path("/work/shared/datasets/widerface-val-gt")
_AP_LINE = re.compile(r"^(Easy|Medium|Hard)\s+Val AP:\s*(\S+)", re.MULTILINE)


def synthetic_predictions(ground_truth: WiderFaceGroundTruth, seed: int = 0, logit_scores: bool = False) -> dict:
    """Predictions a plausible detector could give, drawn from the ground truth with a fixed seed.

    Per face: found with a probability rising with its size (small faces are mostly missed), the box jittered by a
    few percent of its size, a score rising with size plus noise, sometimes a duplicate with a lower score. Per
    image: a few false positives with low scores. A third of the scores are rounded to 2 decimals (ties). With
    ``logit_scores`` the scores are log-odds (outside [0, 1]), which the evaluation rescales.
    """
    rng = np.random.default_rng(seed)
    predictions = {}
    for image in ground_truth.images:
        rows = []
        extent = (image.boxes[:, :2] + image.boxes[:, 2:]).max(0) if len(image.boxes) else np.array([1024.0, 768.0])
        for x, y, w, h in image.boxes.tolist():
            size = max(np.sqrt(max(w, 0) * max(h, 0)), 1.0)
            if rng.random() > np.clip((size - 4) / 40, 0.03, 0.97):
                continue
            for copy in range(1 + (rng.random() < 0.05)):
                jx, jy = rng.normal(0, 0.08, 2) * (w, h)
                sw, sh = np.exp(rng.normal(0, 0.1, 2))
                score = np.clip(0.35 + 0.5 * np.tanh(size / 60) + rng.normal(0, 0.1) - 0.3 * copy, 0.021, 0.999)
                rows.append([x + jx, y + jy, max(w * sw, 1.0), max(h * sh, 1.0), score])
        for _ in range(rng.poisson(2)):
            side = rng.uniform(6, 90)
            fx, fy = rng.uniform(0, max(extent[0] - side, 1)), rng.uniform(0, max(extent[1] - side, 1))
            rows.append([fx, fy, side, side * rng.uniform(0.9, 1.4), rng.uniform(0.021, 0.5)])
        rows = np.asarray(rows, np.float64).reshape(-1, 5)
        tied = rng.random(len(rows)) < 1 / 3
        rows[tied, 4] = np.round(rows[tied, 4], 2)
        if logit_scores:
            p = np.clip(rows[:, 4], 0.005, 0.995)  # rounding may have made 1.0
            rows[:, 4] = np.log(p / (1 - p))
        predictions[image.key] = rows
    return predictions


def first_events(gt_dir: Path, n_events: int, out: Path) -> Path:
    """Write the four ``.mat`` files with only their first ``n_events`` events, in the same structure."""
    from scipy.io import loadmat, savemat

    out.mkdir(parents=True, exist_ok=True)
    for name in GT_FILES.values():
        mat = {k: v for k, v in loadmat(str(gt_dir / name)).items() if not k.startswith("__")}
        savemat(str(out / name), {k: v[:n_events] for k, v in mat.items()})
    return out


def run_reference(reference: Path, pred_dir: Path, gt_dir: Path) -> dict[str, float]:
    """The port's Easy / Medium / Hard AP, read from what it prints."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as stub:
        paths = [str(reference)]
        if find_spec("IPython") is None:  # evaluation.py imports IPython.embed and never calls it
            Path(stub, "IPython.py").write_text("def embed(*args, **kwargs):\n    pass\n")
            paths.append(stub)
        env["PYTHONPATH"] = os.pathsep.join(paths + [env["PYTHONPATH"]] if env.get("PYTHONPATH") else paths)
        done = subprocess.run(
            [sys.executable, "-W", "ignore", str(reference / "evaluation.py"), "-p", str(pred_dir), "-g", str(gt_dir)],
            capture_output=True,
            text=True,
            env=env,
            cwd=str(reference),
        )
    found = {m.group(1).lower(): float(m.group(2)) for m in _AP_LINE.finditer(done.stdout)}
    if done.returncode != 0 or set(found) != set(SUBSETS):
        raise RuntimeError(
            f"the reference port failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gt", type=Path, default=DEFAULT_GT, help="folder with the four official .mat files")
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE, help="folder holding evaluation.py")
    parser.add_argument("--pred", type=Path, help="prediction folder (<event>/<name>.txt); default: synthetic")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic predictions")
    parser.add_argument("--logit-scores", action="store_true", help="synthetic scores as log-odds (outside [0, 1])")
    parser.add_argument("--events", type=int, help="keep only the first N events of the ground truth")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args(argv)

    if not (args.reference / "evaluation.py").is_file():
        print(f"no evaluation.py in {args.reference} (--reference or $WIDERFACE_REFERENCE)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        gt_dir = first_events(args.gt, args.events, Path(tmp) / "gt") if args.events else args.gt
        try:
            ground_truth = read_ground_truth(gt_dir)
        except (FileNotFoundError, ValueError) as e:
            print(e, file=sys.stderr)
            return 2
        if args.pred is None:
            pred_dir = write_predictions(
                synthetic_predictions(ground_truth, args.seed, args.logit_scores), Path(tmp) / "pred"
            )
            what = f"synthetic predictions (seed {args.seed}{', log-odds scores' if args.logit_scores else ''})"
        else:
            pred_dir, what = args.pred, f"predictions in {args.pred}"
        try:
            reference = run_reference(args.reference, pred_dir, gt_dir)
        except RuntimeError as e:
            print(e, file=sys.stderr)
            return 2
        ours = evaluate_widerface(pred_dir, ground_truth)

    print(f"WIDER FACE val, {ground_truth.n_faces()} faces in {len(ground_truth.images)} images; {what}")
    print(f"{'subset':<8}{'faces':>7}{'reference port':>18}{'yolo_attention':>18}{'|diff|':>10}")
    worst = 0.0
    for subset in SUBSETS:
        diff = abs(reference[subset] - ours.subsets[subset].ap)
        worst = max(worst, diff)
        print(
            f"{subset:<8}{ours.subsets[subset].n_faces:>7}{reference[subset]:>18.10f}"
            f"{ours.subsets[subset].ap:>18.10f}{diff:>10.1e}"
        )
    ok = worst <= args.tolerance
    print(f"{'agree' if ok else 'DIFFER'} within {args.tolerance:g} (largest difference {worst:.1e})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
