"""`yolo-attn compare` and `yolo-attn report`: variants against the plain comparator over seeds, and the page of it.

Keys of `compare` are the parameter names of `yolo_attention.compare.compare`; every other key is an Ultralytics
train argument given to every run (``imgsz=320 batch=16 fraction=0.5``).
"""

from __future__ import annotations

import click

from yolo_attention.cli.overrides import key_value_command, parse_overrides, require, ultralytics_keys

__all__ = ["COMPARE_KEYS", "COMPARE_SETS", "compare", "report"]

COMPARE_KEYS = {
    "data": str,
    "models": str,
    "pretrained": str,
    "schedule": str,
    "seeds": int,
    "epochs": int,
    "out": str,
    "latency": bool,
}

# Ultralytics keys compare sets for every run itself: refused with why (not passed on, not suggested for a typo).
COMPARE_SETS = {
    "model": "give the attention models as models=a.yaml,b.yaml (plain is always trained)",
    "seed": "every variant runs seeds 0..seeds-1 (set seeds=)",
    "project": "the runs go under out=/runs (set out=)",
    "name": "each run is named <variant>_seed<n> under out=/runs (set out=)",
    "resume": "a rerun with the same out= resumes unfinished runs and skips finished ones",
    "mode": "compare always trains",
    "task": "the models decide the task",
    "save_dir": "the runs go under out=/runs (set out=)",
    "exist_ok": "the runs go under out=/runs (set out=)",
    **{k: "compare trains; export a run's checkpoint with yolo-attn export" for k in ("format", "int8", "dynamic")},
}


@key_value_command()
def compare(overrides):
    """Train plain and each model over seeds under one budget; write the comparison with confidence intervals.

    \b
    data=pcb-mini.yaml           dataset YAML; its val split measures every run
    models=yolov8n-cbam.yaml,yolov8n-eca.yaml   attention models (model@schedule: a schedule of its own)
    pretrained=yolov8n-deeppcb.pt   the trained checkpoint every run starts from (and plain continues)
    schedule=two-stage           schedule of the models that name none
    seeds=3                      seeds 0..seeds-1 per variant
    epochs=                      total epochs of every run (default: the schedule's own total)
    out=runs/compare             the comparison folder; a rerun skips finished runs
    latency=True                 export each variant to ONNX and time it on this CPU
    imgsz= batch= fraction= ...  Ultralytics train arguments for every run

    \b
    Writes out/results/comparison.csv, .md, .json (mean +- std, delta vs plain with a paired 95% t-interval
    over seeds, DeepPCB's F-score with a paired bootstrap over images for DeepPCB data) and out/results/plots/.
    """
    from ultralytics.cfg import merge_equals_args

    from yolo_attention.compare.runner import compare as run

    keys = {**{k: object for k in ultralytics_keys() - set(COMPARE_SETS)}, **COMPARE_KEYS}
    tokens = merge_equals_args(list(overrides))
    for token in tokens:
        key = token.split("=", 1)[0].strip()
        if key in COMPARE_SETS:
            raise click.UsageError(f"'{key}=' is not an argument of compare: {COMPARE_SETS[key]}")
    args = parse_overrides(tokens, keys)
    require(args, "data", "models", "pretrained")
    out = run(**args)
    click.echo(f"comparison: {out / 'results' / 'comparison.md'}")


@key_value_command()
def report(overrides):
    """Write report.md for an experiment or a comparison folder: folder=<path> (or the path alone).

    \b
    An experiment (runs/experiments/<name>_<time>): summary, held-out table, phases, curves.
    A comparison (yolo-attn compare's out=): the table with confidence intervals, the plots, every run.
    """
    from ultralytics.cfg import merge_equals_args

    from yolo_attention.report import write_report

    tokens = [t if "=" in t else f"folder={t}" for t in merge_equals_args(list(overrides))]
    folders = [t.split("=", 1)[1] for t in tokens if t.split("=", 1)[0].strip() == "folder"]
    if len(folders) > 1:  # one page per folder: a second would silently replace the first
        raise click.UsageError(
            f"report takes one folder, got {len(folders)}: {', '.join(folders)}; run it once per folder"
        )
    args = parse_overrides(tokens, {"folder": str})
    require(args, "folder")
    click.echo(f"report: {write_report(args['folder'])}")
