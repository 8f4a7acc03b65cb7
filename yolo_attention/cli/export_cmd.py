"""`yolo-attn export` (export, then verify against PyTorch) and `yolo-attn benchmark` (latency against the baseline).

Both take Ultralytics' ``key=value`` grammar. Register them on the group in cli/main.py with
``cli.add_command(export)`` and ``cli.add_command(benchmark)``.
"""

from __future__ import annotations

from pathlib import Path

import click

from yolo_attention.cli.overrides import parse_overrides

__all__ = ["EXPORT_DEFAULTS", "BENCHMARK_DEFAULTS", "export", "benchmark"]

EXPORT_DEFAULTS = {
    "format": "onnx,openvino,torchscript",
    "imgsz": 640,
    "half": False,
    "int8": False,
    "dynamic": False,
    "data": None,
    "out": None,
    "batch": None,
    "images": 8,
    "rtol": None,
    "map_tol": None,
    "int8_compare": True,
    "subset": 300,
    "simplify": True,
    "device": None,
}

BENCHMARK_DEFAULTS = {
    "formats": "pytorch,onnx,openvino",
    "imgsz": 640,
    "runs": 50,
    "warmup": 10,
    "memory": True,
    "baseline": None,
    "out": None,
    "threads": None,
}


def _one_line(e: Exception) -> click.ClickException:
    text = str(e).strip()
    return click.ClickException(text.splitlines()[0] if text else type(e).__name__)


def _model_arg(args: dict) -> str:
    model = args.pop("model", None)
    if model is None:
        raise click.UsageError("missing model=... (a checkpoint such as best.pt, or a model YAML)")
    model = str(model)
    if Path(model).suffix == ".pt" and not Path(model).is_file():
        raise FileNotFoundError(f"model '{model}' not found (nothing is downloaded; give the path of a checkpoint)")
    return model


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def export(overrides):
    """Export a model and verify each export against PyTorch on real images. KEY=VALUE pairs.

    \b
    model=best.pt                     checkpoint (or model YAML) to export; required
    format=onnx,openvino,torchscript  any of onnx, openvino, torchscript, engine (TensorRT: NVIDIA GPU only)
    imgsz=640 dynamic=False batch=1   export size; dynamic batch/size (verified on two shapes)
    half=False int8=False             FP16 where offered; INT8 for openvino (NNCF, attention gates kept in
                                      float) and engine; INT8 needs data=
    data=my.yaml                      verification images from its val split (default: bundled pcb-mini);
                                      also validate every export and print its mAP next to PyTorch's
    out=dir                           where exports go (default: the experiment's models/ folder, else
                                      next to the checkpoint)
    images=8 rtol=1e-3 map_tol=       images compared; output tolerance; mAP50 drop allowed for FP16/INT8
    int8_compare=True subset=300      also measure INT8 without gate protection; calibration images

    Fails (exit 1) when an export does not compute what PyTorch does: FP32 beyond rtol (default 1e-3 of
    max(|value|, 1)), FP16/INT8 beyond map_tol mAP50 points with data= (0.5 and 1.0 by default).
    """
    from yolo_attention.export.exporter import export_and_verify
    from yolo_attention.export.tensorrt import TensorRTUnavailableError

    args = {**EXPORT_DEFAULTS, **parse_overrides(overrides, set(EXPORT_DEFAULTS) | {"model"})}
    try:
        model = _model_arg(args)
        reports = export_and_verify(
            model,
            formats=str(args["format"]),
            imgsz=args["imgsz"],
            half=bool(args["half"]),
            int8=bool(args["int8"]),
            dynamic=bool(args["dynamic"]),
            data=args["data"],
            out_dir=args["out"],
            batch=args["batch"],
            images=args["images"],
            rtol=args["rtol"],
            map_tol=args["map_tol"],
            int8_compare=bool(args["int8_compare"]),
            subset_size=args["subset"],
            simplify=bool(args["simplify"]),
            device=args["device"],
        )
    except (ValueError, FileNotFoundError, TypeError, TensorRTUnavailableError) as e:
        raise _one_line(e) from e
    click.echo("\nverification against PyTorch (raw head outputs on real images):")
    for report in reports:
        click.echo(report.line())
        for note in report.notes:
            click.echo(f"{'':<18}note: {note}")
        if report.artifact:
            click.echo(f"{'':<18}{report.artifact}")
    failed = [r for r in reports if not r.passed]
    if failed:
        raise click.ClickException(
            "verification failed for " + ", ".join(f"{r.format} ({r.precision})" for r in failed) + "; see above"
        )
    click.echo(f"all {len(reports)} exports verified")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def benchmark(overrides):
    """Latency and memory of a model and of its attention-free baseline, per backend. KEY=VALUE pairs.

    \b
    model=best.pt                       the attention model (checkpoint or YAML); required
    formats=pytorch,onnx,openvino       backends (also torchscript)
    imgsz=640 runs=50 warmup=10         median of runs (>= 30) after warm-up, batch 1
    memory=True                         peak RSS per backend, each in a fresh process
    baseline=                           compare with this model instead of the model without its attention
    threads=                            CPU threads per runtime (default: all CPUs)
    out=dir                             keep the checkpoints and exports (default: a temporary folder)
    """
    from yolo_attention.export.benchmark import run_benchmark

    args = parse_overrides(overrides, set(BENCHMARK_DEFAULTS) | {"model", "format"})
    if "format" in args:  # `format=` as in `yolo-attn export`
        args["formats"] = args.pop("format")
    args = {**BENCHMARK_DEFAULTS, **args}
    try:
        model = _model_arg(args)
        result = run_benchmark(
            model,
            formats=str(args["formats"]),
            imgsz=args["imgsz"],
            runs=args["runs"],
            warmup=args["warmup"],
            memory=bool(args["memory"]),
            baseline=args["baseline"],
            out_dir=args["out"],
            threads=args["threads"],
        )
    except (ValueError, FileNotFoundError, TypeError) as e:
        raise _one_line(e) from e
    click.echo(result.table())
