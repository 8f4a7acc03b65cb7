"""The comparison table: one row per variant (means over seeds, paired deltas to plain), as CSV, Markdown and JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from yolo_attention.common.files import write_atomic
from yolo_attention.compare.stats import (
    f_score,
    mean_std,
    paired_bootstrap,
    paired_differences,
    significant,
    t_interval,
)

__all__ = ["BOOTSTRAP_RESAMPLES", "METRICS", "comparison_markdown", "summarize", "write_atomic", "write_comparison"]

METRICS = ("mAP50", "mAP50-95", "F")
BOOTSTRAP_RESAMPLES = 2000
INFO_KEYS = ("params", "gflops", "latency_ms", "latency_ratio")


def _plain(value):
    """A JSON/CSV-friendly value: nan becomes None, numpy scalars become Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def _order(records: Sequence[dict], variants: Sequence[dict], reference: str) -> list[str]:
    """The reference first, then variants in the order first seen in the runs, then those without a finished run."""
    seen = list(dict.fromkeys([r["variant"] for r in records] + [v["variant"] for v in variants]))
    return ([reference] if reference in seen else []) + [v for v in seen if v != reference]


def _warmup(runs: list[dict]) -> dict:
    """Means of the first phase's start and end mAP50 and of its change (over the runs that have both)."""
    firsts = [r["phases"][0] for r in runs if r.get("phases")]
    starts = [p.get("start_mAP50") for p in firsts]
    ends = [p.get("end_mAP50") for p in firsts]
    changes = [e - s for s, e in zip(starts, ends) if s is not None and e is not None]
    return {
        "warmup_phase": firsts[0]["name"] if firsts else None,
        "warmup_start_mAP50": mean_std(starts)[0],
        "warmup_end_mAP50": mean_std(ends)[0],
        "warmup_change_mAP50": mean_std(changes)[0],
    }


def _mean_f(n_seeds: int):
    """The statistic of a pooled bootstrap: the mean over seeds of the F-scores of side-by-side [tp, fp, fn] sums."""
    return lambda sums: sum(f_score(sums[3 * i : 3 * i + 3]) for i in range(n_seeds)) / n_seeds


def _bootstrap_f(runs: list[dict], ref_runs: list[dict]) -> dict:
    """Paired bootstrap of the F delta, pooled over the seeds both sides have per-image counts for.

    Each resample draws images once and uses them for every seed and both models; the statistic is the mean over
    seeds of the F-score, so the delta is the mean of the per-seed F deltas.
    """
    empty = dict.fromkeys(("F_boot_delta", "F_boot_delta_low", "F_boot_delta_high", "F_boot_significant"))
    empty.update(F_boot_n_seeds=0, F_boot_n_images=0)
    ours = {r["seed"]: r["per_image"] for r in runs if r.get("per_image")}
    theirs = {r["seed"]: r["per_image"] for r in ref_runs if r.get("per_image")}
    seeds = sorted(set(ours) & set(theirs))
    if not seeds:
        return empty
    ours_t = [dict(zip(ours[s]["image_ids"], ours[s]["counts"])) for s in seeds]
    theirs_t = [dict(zip(theirs[s]["image_ids"], theirs[s]["counts"])) for s in seeds]
    images = [i for i in ours[seeds[0]]["image_ids"] if all(i in t for t in ours_t + theirs_t)]
    if not images:
        return empty
    a = np.array([[c for t in ours_t for c in t[i]] for i in images], dtype=float)  # (n_images, 3 * n_seeds)
    b = np.array([[c for t in theirs_t for c in t[i]] for i in images], dtype=float)
    delta, low, high = paired_bootstrap(a, b, _mean_f(len(seeds)), n_resamples=BOOTSTRAP_RESAMPLES)
    return {"F_boot_delta": delta, "F_boot_delta_low": low, "F_boot_delta_high": high,
            "F_boot_significant": significant(low, high), "F_boot_n_seeds": len(seeds),
            "F_boot_n_images": len(images)}  # fmt: skip


def summarize(
    records: Sequence[dict], variants: Sequence[dict], metrics: Sequence[str] = METRICS, reference: str = "plain"
) -> list[dict]:
    """One row per variant: means and stds over seeds, paired deltas to the reference, warm-up, size and latency.

    Args:
        records (Sequence[dict]): Finished run records (see `yolo_attention.compare`).
        variants (Sequence[dict]): Variant infos ``{"variant", "params", "gflops", "latency_ms", "latency_ratio"}``.
        metrics (Sequence[str]): Held-out metrics to summarise; a metric is left empty (None) for a variant unless
            every one of its runs has it.
        reference (str): The comparator every delta is taken against.

    Returns:
        (list[dict]): Flat rows, the reference first; missing values are None. For each metric ``m``: ``m_mean``,
            ``m_std``, ``m_delta`` (mean of the paired per-seed differences), ``m_delta_low``/``_high`` (95 %
            Student-t interval over seeds), ``m_significant`` and ``m_n_pairs``.
    """
    info = {v["variant"]: v for v in variants}
    diffs = {m: paired_differences(records, m, reference) for m in metrics}
    ref_runs = [r for r in records if r["variant"] == reference]
    rows = []
    for name in _order(records, variants, reference):
        runs = [r for r in records if r["variant"] == name]
        row = {
            "variant": name,
            "schedule": runs[0].get("schedule") if runs else None,
            "n_seeds": len({r["seed"] for r in runs}),
            "epochs": max((r["epochs"] for r in runs if r.get("epochs") is not None), default=None),
            "time_s_mean": mean_std([r.get("time_s") for r in runs])[0],
        }
        for m in metrics:
            values = [(r.get("metrics") or {}).get(m) for r in runs]
            present = bool(runs) and all(v is not None for v in values)
            row[f"{m}_mean"], row[f"{m}_std"] = mean_std(values) if present else (None, None)
            pairs = diffs[m].get(name, []) if present and name != reference else []
            delta, low, high = t_interval(pairs)
            reference_row = name == reference
            row[f"{m}_delta"] = None if reference_row else delta
            row[f"{m}_delta_low"] = None if reference_row else low
            row[f"{m}_delta_high"] = None if reference_row else high
            row[f"{m}_significant"] = None if reference_row else significant(low, high)
            row[f"{m}_n_pairs"] = None if reference_row else len(pairs)
        row.update(_warmup(runs))
        row.update({k: info.get(name, {}).get(k) for k in INFO_KEYS})
        row.update(_bootstrap_f(runs, ref_runs) if name != reference else _bootstrap_f([], []))
        rows.append({k: _plain(v) for k, v in row.items()})
    return rows


def _num(value, digits: int = 4, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _mean_std(row: dict, m: str) -> str:
    mean, std = row.get(f"{m}_mean"), row.get(f"{m}_std")
    return _num(mean) if std is None else f"{_num(mean)} ± {_num(std)}"


def _delta(row: dict, prefix: str, reference: str) -> str:
    if row["variant"] == reference:
        return "(reference)"
    delta, low, high = (row.get(f"{prefix}_delta{end}") for end in ("", "_low", "_high"))
    if delta is None:
        return "–"
    interval = "[n/a]" if low is None or high is None else f"[{_num(low, sign=True)}, {_num(high, sign=True)}]"
    star = "*" if row.get(f"{prefix}_significant") else ""
    return f"{_num(delta, sign=True)} {interval}{star}"


def _span(values: list) -> str:
    """``"3"`` for one distinct value, ``"2–3"`` for several, ``"?"`` for none."""
    values = sorted(set(values))
    return "?" if not values else str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"


def _verdict(rows: list[dict], reference: str) -> str:
    """One sentence: the best variant by mean mAP50 and how it compares with the reference."""
    others = [r for r in rows if r["variant"] != reference and r.get("mAP50_mean") is not None]
    if not any(r["variant"] == reference and r.get("mAP50_mean") is not None for r in rows):
        return f"No '{reference}' runs finished, so no variant can be compared with {reference}."
    if not others:
        return f"Only {reference} finished: there is no variant to compare."
    best = max(others, key=lambda r: r["mAP50_mean"])
    delta = _delta(best, "mAP50", reference)
    head = f"Best variant by mean mAP50: **{best['variant']}** ({_num(best['mAP50_mean'])})"
    if best.get("mAP50_delta_low") is None:
        return f"{head}; too few paired seeds ({best.get('mAP50_n_pairs') or 0}) for an interval (Δ {delta})."
    if best["mAP50_significant"]:
        better = best["mAP50_delta"] > 0
        verdict = f"it beats {reference} significantly" if better else f"it is significantly worse than {reference}"
        return f"{head}; {verdict} (Δ mAP50 {delta})."
    return f"{head}; it is not significantly different from {reference} (Δ mAP50 {delta})."


def comparison_markdown(rows: list[dict], reference: str = "plain") -> str:
    """The comparison as a Markdown table with its footnote (seeds, interval, budget and the verdict)."""
    has_f = any(r.get("F_mean") is not None for r in rows)
    has_boot = any(r.get("F_boot_delta") is not None for r in rows)
    header = ["variant", "schedule", "seeds", "mAP50 mean ± std", f"Δ mAP50 vs {reference} [95% CI]"]
    header += ["mAP50-95 mean ± std", f"Δ mAP50-95 vs {reference} [95% CI]"]
    header += ["F mean ± std", f"Δ F vs {reference} [95% CI]"] if has_f else []
    header += [f"Δ F vs {reference} [bootstrap 95% CI]"] if has_boot else []
    header += ["warm-up mAP50 start → end", "params (M)", "GFLOPs", f"latency vs {reference}"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r["variant"], r.get("schedule") or "–", str(r["n_seeds"])]
        cells += [_mean_std(r, "mAP50"), _delta(r, "mAP50", reference)]
        cells += [_mean_std(r, "mAP50-95"), _delta(r, "mAP50-95", reference)]
        cells += [_mean_std(r, "F"), _delta(r, "F", reference)] if has_f else []
        cells += [_delta(r, "F_boot", reference)] if has_boot else []
        start, end = r.get("warmup_start_mAP50"), r.get("warmup_end_mAP50")
        cells.append(f"{_num(start)} → {_num(end)}" + (f" ({r.get('warmup_phase')})" if r.get("warmup_phase") else ""))
        cells.append("–" if r.get("params") is None else f"{r['params'] / 1e6:.2f}")
        cells.append(_num(r.get("gflops"), 1))
        ratio = r.get("latency_ratio")
        cells.append("–" if ratio is None else f"{ratio:.2f}×")
        lines.append("| " + " | ".join(cells) + " |")
    seeds = _span([r["n_seeds"] for r in rows if r["n_seeds"]])
    epochs = _span([r["epochs"] for r in rows if r.get("epochs") is not None])
    notes = [
        f"Seeds per variant: {seeds}. Budget: {epochs} epochs per run in total, {reference} included.",
        f"Mean ± sample std over seeds. Δ: mean of the per-seed differences to {reference} (paired by seed) with its "
        "95 % paired Student-t interval over seeds; * marks an interval that excludes 0.",
        "Warm-up: held-out mAP50 at the start and the end of each run's first phase (named in brackets), seed mean.",
    ]
    if has_boot:
        notes.append(
            f"Bootstrap: the held-out images resampled {BOOTSTRAP_RESAMPLES} times, the same images for every seed and"
            f" both models; Δ of the F-score averaged over the seeds both have per-image counts for; 95 % percentile"
            " interval."
        )
    notes.append(_verdict(rows, reference))
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def write_comparison(
    out_dir: str | Path, records: Sequence[dict], variants: Sequence[dict], reference: str = "plain"
) -> dict[str, Path]:
    """Write results/comparison.csv, comparison.md and comparison.json under `out_dir` (atomically).

    Returns:
        (dict[str, Path]): ``{"csv": ..., "md": ..., "json": ...}``.
    """
    rows = summarize(records, variants, reference=reference)
    results = Path(out_dir) / "results"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["variant"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    paths = {"csv": results / "comparison.csv", "md": results / "comparison.md", "json": results / "comparison.json"}
    write_atomic(paths["csv"], buffer.getvalue())
    write_atomic(paths["md"], "# Comparison\n\n" + comparison_markdown(rows, reference))
    data = {"rows": rows, "runs": list(records), "variants": list(variants)}
    write_atomic(paths["json"], json.dumps(data, indent=2, default=str))
    return paths
