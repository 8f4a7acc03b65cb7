"""report.md for a finished folder: a comparison (results/comparison.json) or one experiment (experiment.json)."""

from __future__ import annotations

import json
from pathlib import Path

from yolo_attention.compare.plots import plot_phase_curves, write_plots
from yolo_attention.compare.table import comparison_markdown, write_atomic

__all__ = ["write_report"]

MAP50_COLUMN = "metrics/mAP50(B)"  # Ultralytics' results.csv column of the validation mAP50
COMPARISON_PLOTS = (
    ("map_bars.png", "mAP per variant"),
    ("map_vs_latency.png", "mAP50 against latency"),
    ("curves.png", "validation mAP50 per epoch"),
)


def write_report(folder: str | Path) -> Path:
    """Write ``report.md`` into a comparison folder or an experiment folder and return its path.

    A comparison report has the summary, the comparison table, the plots (made when missing) and a line per run; an
    experiment report has the summary, the held-out evaluation, a table of the phases and the validation curves.

    Args:
        folder (str | Path): A folder with ``results/comparison.json`` (from `yolo-attn compare`) or with
            ``experiment.json`` (from `yolo-attn train`).

    Returns:
        (Path): ``folder/report.md``.

    Raises:
        FileNotFoundError: When the folder is neither.
    """
    folder = Path(folder)
    if (folder / "results" / "comparison.json").is_file():
        return _comparison_report(folder)
    if (folder / "experiment.json").is_file():
        return _experiment_report(folder)
    raise FileNotFoundError(
        f"'{folder}' is neither an experiment folder (no experiment.json) nor a comparison folder "
        "(no results/comparison.json)"
    )


def _num(value, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _lr(value) -> str | None:
    return None if value is None else f"{value:g}"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_num(c) for c in row) + " |" for row in rows]


def _comparison_report(folder: Path) -> Path:
    data = json.loads((folder / "results" / "comparison.json").read_text())
    rows, runs, variants = data["rows"], data.get("runs", []), data.get("variants", [])
    plots = folder / "results" / "plots"
    if not all((plots / name).is_file() for name in ("map_bars.png", "curves.png")):
        write_plots(folder, runs, variants)
    seeds = sorted({r["seed"] for r in runs})
    epochs = sorted({r["epochs"] for r in runs if r.get("epochs") is not None})
    lines = [
        f"# Comparison: {folder.name}",
        "",
        f"- Variants: {', '.join(r['variant'] for r in rows)}",
        f"- Seeds: {', '.join(map(str, seeds)) or 'none'} ({len(runs)} finished runs)",
        f"- Budget: {' / '.join(map(str, epochs)) or '?'} epochs per run in total",
        "",
        "## Results",
        "",
        comparison_markdown(rows),
        "## Plots",
        "",
    ]
    for name, caption in COMPARISON_PLOTS:
        if (plots / name).is_file():
            lines += [f"![{caption}](results/plots/{name})", ""]
    lines += ["## Runs", ""]
    table = []
    for run in sorted(runs, key=lambda r: (r["variant"], r["seed"])):
        metrics = run.get("metrics") or {}
        link = f"[{run['experiment']}]({run['experiment']})" if run.get("experiment") else "–"
        table.append([run["variant"], run["seed"], metrics.get("mAP50"), metrics.get("mAP50-95"), link])
    lines += _table(["variant", "seed", "final mAP50", "final mAP50-95", "experiment"], table)
    path = folder / "report.md"
    write_atomic(path, "\n".join(lines) + "\n")
    return path


def _summary(folder: Path, state: dict) -> dict:
    """The experiment's facts: training_summary.json's experiment_info where written, else the saved plan and config."""
    summary_file = folder / "results" / "training_summary.json"
    info = json.loads(summary_file.read_text()).get("experiment_info", {}) if summary_file.is_file() else {}
    plan, config = state.get("plan", {}), state.get("config", {})
    versions = info.get("versions") or {}
    attention = info.get("attention_mechanism")
    return {
        "model": info.get("model_architecture") or plan.get("arch"),
        "attention": ", ".join(attention) if isinstance(attention, list) else attention,
        "schedule": info.get("schedule") or plan.get("schedule"),
        "pretrained weights": info.get("pretrained_weights") or plan.get("weights"),
        "data": info.get("data") or config.get("data", {}).get("config_path"),
        "seed": info.get("seed", config.get("environment", {}).get("seed")),
        "training time (s)": info.get("total_training_time_s", state.get("elapsed_s")),
        "final model": state.get("final_model"),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()) or None,
    }


def _experiment_report(folder: Path) -> Path:
    from yolo_attention.training.experiment import read_results  # loads the training layer: only when needed

    state = json.loads((folder / "experiment.json").read_text())
    name = state.get("name", folder.name)
    lines = [f"# Experiment: {name}", ""]
    lines += [f"- {key}: {value}" for key, value in _summary(folder, state).items() if value not in (None, "")]
    lines += ["", "## Held-out evaluation", ""]
    evaluation = state.get("evaluation") or []
    if evaluation:
        rows = [[r["model"], r.get("epochs"), r.get("mAP50"), r.get("mAP50-95")] for r in evaluation]
        lines += _table(["model", "epochs", "mAP50", "mAP50-95"], rows)
    else:
        lines.append("No held-out evaluation was recorded.")
    phase_rows, curves = [], []
    for phase in state.get("phases", []):
        results = read_results(folder / phase.get("save_dir", phase["name"]) / "results.csv")
        points = [(int(r.get("epoch", i + 1)), r[MAP50_COLUMN]) for i, r in enumerate(results) if MAP50_COLUMN in r]
        epochs = phase.get("epochs")
        run = f"{len(results)} of {epochs}" if epochs is not None else str(len(results))
        phase_rows.append([
            phase["name"], phase.get("status"), run, len(phase.get("frozen_layers") or []), phase.get("optimizer"),
            _lr(phase.get("lr0")), points[-1][1] if points else None, max((v for _, v in points), default=None),
        ])  # fmt: skip
        curves.append({"name": phase["name"], "epochs": [e for e, _ in points], "values": [v for _, v in points]})
    lines += ["", "## Phases", ""]
    header = ["phase", "status", "epochs run", "frozen layers", "optimizer", "lr0", "final val mAP50", "best val mAP50"]
    lines += _table(header, phase_rows) if phase_rows else ["No phase has started."]
    if any(c["epochs"] for c in curves):
        plot = folder / "results" / "plots" / "curves.png"
        title = "validation mAP50 per epoch (dotted: phase boundaries)"
        plot_phase_curves([{"label": name, "start": None, "phases": curves}], plot, title=title)
        lines += ["", "## Validation curves", "", "![validation mAP50 per epoch](results/plots/curves.png)"]
    path = folder / "report.md"
    write_atomic(path, "\n".join(lines) + "\n")
    return path
