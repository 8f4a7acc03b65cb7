"""The comparison's plots (mAP per variant, mAP against latency, validation curves across phases) as PNG files.

matplotlib is imported inside the functions and used through `matplotlib.figure.Figure`, which needs no backend and
leaves pyplot's global state alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from yolo_attention.compare.stats import mean_std
from yolo_attention.compare.table import summarize

__all__ = ["curve_series", "plot_phase_curves", "write_plots"]


def _figure(width: float = 7.0, height: float = 4.5):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    return fig, fig.add_subplot()


def _save(fig, path: Path) -> Path:
    """Save a figure as PNG through a temporary file and `os.replace` (a reader never sees half an image)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fig.tight_layout()
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)
    return path


def _nan_to_zero(value: float | None) -> float:
    return 0.0 if value is None or value != value else value


def curve_series(records: Sequence[dict], metric: str = "mAP50") -> list[dict]:
    """Per variant (in the order first seen), the per-epoch validation metric of each phase, averaged over seeds.

    Args:
        records (Sequence[dict]): Run records whose ``phases`` carry ``curve`` rows ``{"epoch", metric}``.
        metric (str): The curve key to plot.

    Returns:
        (list[dict]): ``{"label", "start", "phases": [{"name", "epochs", "values"}]}`` per variant; ``start`` is the
            mean of the first phase's ``start_<metric>`` (None where missing).
    """
    variants = list(dict.fromkeys(r["variant"] for r in records))
    series = []
    for variant in variants:
        runs = [r for r in records if r["variant"] == variant and r.get("phases")]
        if not runs:
            continue
        phases = []
        for i in range(max(len(r["phases"]) for r in runs)):
            at_epoch: dict[int, list[float]] = {}
            for run in runs:
                if i < len(run["phases"]):
                    for point in run["phases"][i].get("curve") or []:
                        if point.get(metric) is not None:
                            at_epoch.setdefault(int(point["epoch"]), []).append(point[metric])
            name = next(r["phases"][i]["name"] for r in runs if i < len(r["phases"]))
            epochs = sorted(at_epoch)
            phases.append({"name": name, "epochs": epochs, "values": [mean_std(at_epoch[e])[0] for e in epochs]})
        start = mean_std([r["phases"][0].get(f"start_{metric}") for r in runs])[0]
        series.append({"label": variant, "start": None if start != start else start, "phases": phases})
    return series


def plot_phase_curves(series: Sequence[dict], path: str | Path, ylabel: str = "val mAP50", title: str = "") -> Path:
    """Plot curves whose phases are concatenated on one epoch axis, with dotted lines at the phase boundaries.

    Args:
        series (Sequence[dict]): ``{"label", "start" (value at epoch 0 or None), "phases": [{"name", "epochs",
            "values"}]}``, epochs counted within each phase from 1; an optional ``"color"``.
        path (str | Path): The PNG file to write.
        ylabel (str): The y-axis label.
        title (str): The plot title.

    Returns:
        (Path): `path`.
    """
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import blended_transform_factory

    fig, ax = _figure()
    text_at = blended_transform_factory(ax.transData, ax.transAxes)
    for k, line in enumerate(series):
        color = line.get("color") or f"C{k % 10}"
        xs, ys = ([0], [line["start"]]) if line.get("start") is not None else ([], [])
        offset = 0
        for i, phase in enumerate(line["phases"]):
            if i > 0:
                ax.axvline(offset, color=color, linestyle=":", linewidth=1)
            at = offset if i > 0 or xs else offset + min(phase["epochs"], default=0)  # the first phase: at its start
            ax.text(at, 0.98 - 0.05 * k, f" {phase['name']}", transform=text_at, color=color, va="top", fontsize=8)
            xs += [offset + e for e in phase["epochs"]]
            ys += list(phase["values"])
            offset += max(phase["epochs"], default=0)
        ax.plot(xs, ys, marker="o", markersize=3, color=color, label=line["label"])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch (phases concatenated; dotted: phase boundary)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if series:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, Path(path))


def _map_bars(rows: list[dict], path: Path) -> Path:
    import numpy as np

    fig, ax = _figure(max(5.0, 1.2 * len(rows) + 2))
    x, width = np.arange(len(rows)), 0.38
    for j, metric in enumerate(("mAP50", "mAP50-95")):
        means = [_nan_to_zero(r.get(f"{metric}_mean")) for r in rows]
        stds = [_nan_to_zero(r.get(f"{metric}_std")) for r in rows]
        ax.bar(x + (j - 0.5) * width, means, width, yerr=stds, capsize=3, label=f"{metric} (mean ± std)")
    ax.set_xticks(x, [r["variant"] for r in rows], rotation=20, ha="right")
    top = max((_nan_to_zero(r.get("mAP50_mean")) + _nan_to_zero(r.get("mAP50_std")) for r in rows), default=0.0)
    ax.set_ylim(0, max(top, 1e-3) * 1.2)  # room for the legend above the bars
    ax.set_ylabel("held-out mAP")
    ax.set_title("mAP per variant (error bars: std over seeds)")
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def _map_vs_latency(rows: list[dict], path: Path) -> Path | None:
    """mAP50 against latency (the ratio to plain where measured, else ms); None when no variant has a latency."""
    key = "latency_ratio" if any(r.get("latency_ratio") is not None for r in rows) else "latency_ms"
    points = [r for r in rows if r.get(key) is not None and r.get("mAP50_mean") is not None]
    if not points:
        return None
    fig, ax = _figure()
    for k, r in enumerate(rows):
        if r in points:  # a variant keeps its colour (its row index) in every plot
            ax.errorbar(r[key], r["mAP50_mean"], yerr=_nan_to_zero(r.get("mAP50_std")), fmt="o", color=f"C{k % 10}",
                        capsize=3)  # fmt: skip
            ax.annotate(r["variant"], (r[key], r["mAP50_mean"]), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel("latency relative to plain" if key == "latency_ratio" else "latency (ms)")
    ax.set_ylabel("held-out mAP50 (mean ± std)")
    ax.set_title("accuracy against speed")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def write_plots(out_dir: str | Path, records: Sequence[dict], variants: Sequence[dict]) -> list[Path]:
    """Write map_bars.png, map_vs_latency.png (skipped when no variant has a latency) and curves.png.

    Args:
        out_dir (str | Path): The comparison folder; the plots go to ``results/plots/`` inside it.
        records (Sequence[dict]): Finished run records.
        variants (Sequence[dict]): Variant infos (params, latency).

    Returns:
        (list[Path]): The files written.
    """
    plots = Path(out_dir) / "results" / "plots"
    rows = summarize(records, variants)
    written = [_map_bars(rows, plots / "map_bars.png")]
    latency = _map_vs_latency(rows, plots / "map_vs_latency.png")
    if latency:
        written.append(latency)
    else:  # an earlier run's plot would describe other variants
        (plots / "map_vs_latency.png").unlink(missing_ok=True)
    order = [r["variant"] for r in rows]
    series = sorted(curve_series(records), key=lambda s: order.index(s["label"]))  # the table's order and colours
    series = [{**s, "color": f"C{order.index(s['label']) % 10}"} for s in series]
    title = "validation mAP50 per epoch (mean over seeds)"
    written.append(plot_phase_curves(series, plots / "curves.png", title=title))
    return written
