"""Plain-text reports of DeepPCB results: the release's numbers labelled as such, the other figures labelled not."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yolo_attention.eval.deeppcb.result import DeepPCBResult

__all__ = ["OFFICIAL_LABEL", "format_report", "format_summary"]

OFFICIAL_LABEL = "DeepPCB AP (official rule)"
"""How the release's AP is labelled wherever it is printed."""


def format_summary(result: DeepPCBResult) -> str:
    """The official numbers of one result, then the same-class AP and the per-type table, marked as not official.

    Args:
        result (DeepPCBResult): Scores from ``evaluate_deeppcb`` or ``evaluate_model``.

    Returns:
        (str): Several lines, no trailing newline.
    """
    r = result
    lines = [
        f"{OFFICIAL_LABEL}: {r.ap:.4f}   precision {r.precision:.4f}  recall {r.recall:.4f}  F-score {r.fscore:.4f}",
        f"  {r.n_images} images, {r.n_gt} defects, {r.n_det} detections (conf >= {r.conf:g}); {r.n_correct} correct, "
        f"{r.n_wrong_type} paired with a defect of another type",
        f"  (each defect pairs with the first free detection by confidence at IoU > {r.iou_threshold:g}, whatever "
        f"its type; the pair is correct when the types are equal)",
        f"same-class AP (not official): {r.same_class_ap:.4f}   mean of per-type AP (not official): {r.map:.4f}",
        f"  per type (not official) {'AP':>8}{'P':>8}{'R':>8}{'F':>8}{'gt':>7}{'det':>7}",
    ]
    for name, s in r.per_class.items():
        lines.append(
            f"  {name:<22}{s.ap:>8.4f}{s.precision:>8.4f}{s.recall:>8.4f}{s.fscore:>8.4f}{s.n_gt:>7}{s.n_det:>7}"
        )
    return "\n".join(lines)


def format_report(result: DeepPCBResult, conf: float, submission: str | Path | None = None) -> str:
    """What ``yolo-attn val protocol=deeppcb`` prints: all predictions, the submission cut at ``conf``, best F.

    Args:
        result (DeepPCBResult): Scores over all predictions (``evaluate_model``'s first return value).
        conf (float): The confidence the submission was cut at.
        submission (str | Path, optional): The submission folder (holding ``res.zip``), when one was written.

    Returns:
        (str): Several lines, no trailing newline.
    """
    at_conf = result.at_conf(conf)
    best_f, best_conf = result.best_fscore()
    lines = [
        f"All predictions (conf >= {result.conf:g}):",
        format_summary(result),
        f"Submission (conf >= {conf:g}), what the release's script reports for it: {OFFICIAL_LABEL} {at_conf.ap:.4f}  "
        f"precision {at_conf.precision:.4f}  recall {at_conf.recall:.4f}  F-score {at_conf.fscore:.4f}",
        f"best F-score {best_f:.4f} at conf >= {best_conf:.3f}",
    ]
    if submission is not None:
        root = Path(submission).parent
        lines.append(
            f"submission: {Path(submission) / 'res.zip'}; ground truth: {root / 'ground_truth' / 'gt.zip'} "
            f'(release script: python script.py -g=gt.zip -s=res.zip "-p=\'{{\\"LTRB\\": true}}\'" -o=<folder>)'
        )
    return "\n".join(lines)
