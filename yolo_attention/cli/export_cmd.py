"""`yolo-attn export` (export, then verify against PyTorch) and `yolo-attn benchmark` (latency against the baseline).

Keys are the parameter names of `yolo_attention.export.export_and_verify` and `yolo_attention.export.run_benchmark`;
``format=`` is Ultralytics' word, a comma-separated list where several formats are allowed.
"""

from __future__ import annotations

import click

from yolo_attention.cli.errors import one_line
from yolo_attention.cli.overrides import DEPRECATED_KEYS, check_model_path, key_value_command, parse_overrides

__all__ = ["BENCHMARK_KEYS", "EXPORT_KEYS", "benchmark", "export"]

EXPORT_KEYS = {
    "model": str,
    "format": str,
    "imgsz": int,
    "half": bool,
    "int8": bool,
    "dynamic": bool,
    "data": (str, None),
    "out_dir": (str, None),
    "batch": (int, None),
    "images": int,
    "rtol": (float, None),
    "map_tol": (float, None),
    "int8_compare": bool,
    "subset_size": int,
    "simplify": bool,
    "device": (str, None),
    "qat_epochs": float,
    "qat_lr": float,
}

BENCHMARK_KEYS = {
    "model": str,
    "format": str,
    "imgsz": int,
    "runs": int,
    "warmup": int,
    "memory": bool,
    "baseline": (str, None),
    "out_dir": (str, None),
    "threads": (int, None),
    "blocks": int,
    "target_halfwidth": (float, None),
    "data": (str, None),
    "subset_size": int,
}


def _model_arg(args: dict) -> str:
    model = args.pop("model", None)
    if model is None:
        raise click.UsageError("missing model=... (a checkpoint such as best.pt, or a model YAML)")
    check_model_path(model)
    return model


@key_value_command()
def export(overrides):
    """Export a model and verify each export against PyTorch on real images. KEY=VALUE pairs.

    \b
    model=best.pt                     checkpoint (or model YAML) to export; required
    format=onnx,openvino,torchscript  any of onnx, openvino, torchscript, engine (TensorRT: NVIDIA GPU only),
                                      qnn (Snapdragon: QDQ INT8 ONNX for onnxruntime's QNN EP; needs data=)
    imgsz=640 dynamic=False batch=1   export size; dynamic batch/size (verified on two shapes)
    half=False int8=False             FP16 where offered; INT8 for openvino (NNCF, attention gates kept in
                                      float) and engine; INT8 needs data=
    data=my.yaml                      verification images from its val split (default: bundled pcb-mini);
                                      also validate every export and print its mAP next to PyTorch's
    out_dir=dir                       where exports go (default: the experiment's models/ folder, else
                                      next to the checkpoint)
    images=8 rtol=1e-3 map_tol=       images compared; output tolerance; mAP50 drop allowed for FP16/INT8
    int8_compare=True                 also measure INT8 without gate protection
    subset_size=300                   INT8 calibration images
    qat_epochs=0 qat_lr=1e-5          INT8 of a checkpoint only: first fine-tune it this many epochs on
                                      data='s train split with fake quantisation (NNCF; on device=, else
                                      the CPU), save it as <stem>_qat.pt in out_dir (else beside the
                                      checkpoint) and export that: <stem>_qat_int8_openvino_model
    simplify=True device=             simplify ONNX graphs (onnxslim); export device
    (out= and subset= are the deprecated names of out_dir= and subset_size=)

    Fails (exit 1) when an export does not compute what PyTorch does: FP32 beyond rtol (default 1e-3 of
    max(|value|, 1)), FP16/INT8 beyond map_tol mAP50 points with data= (0.5 and 1.0 by default).
    """
    from yolo_attention.export.exporter import export_and_verify
    from yolo_attention.export.runtimes.qnn import QNNUnavailableError
    from yolo_attention.export.tensorrt import TensorRTUnavailableError

    args = parse_overrides(overrides, EXPORT_KEYS, aliases=DEPRECATED_KEYS["export"])
    model = _model_arg(args)
    try:
        reports = export_and_verify(model, **args)
    except (TensorRTUnavailableError, QNNUnavailableError) as e:  # the user's to fix: one line with what to do
        raise one_line(e) from e
    click.echo("\nverification against PyTorch (raw head outputs on real images):")
    for report in reports:
        click.echo(report.line())
        for note in report.notes:
            click.echo(f"{'':<18}note: {note}")
        if report.artifact:
            click.echo(f"{'':<18}{report.artifact}")
    failed = [r for r in reports if not r.passed]
    if failed:  # an export that failed was never verified: say which step failed
        steps: dict[str, list[str]] = {}
        for r in failed:
            step = "export" if (r.error or "").startswith("export failed") else "verification"
            steps.setdefault(step, []).append(f"{r.format} ({r.precision})")
        failures = "; ".join(f"{step} failed for {', '.join(names)}" for step, names in sorted(steps.items()))
        raise click.ClickException(f"{failures}; see above")
    click.echo(f"all {len(reports)} exports verified")


@key_value_command()
def benchmark(overrides):
    """Latency and memory of a model and of its attention-free baseline, per backend, in one table. KEY=VALUE pairs.

    \b
    model=best.pt                       the attention model (checkpoint or YAML); required
    format=pytorch,onnx,openvino,openvino-bf16,openvino-int8
                                        backends (also torchscript); OpenVINO at each precision, stated:
                                        openvino forces f32, openvino-bf16 where the CPU has bf16 (else
                                        the row says so), openvino-int8 NNCF INT8 (gates in float), needs data=
    imgsz=640 runs=100 warmup=10        runs per model (>= 30) after warm-up, batch 1
    blocks=20                           the runs alternate between the models in this many blocks (>= 5);
                                        the ratio is the blocks' mean with its 95% t-interval over blocks
    target_halfwidth=                   add blocks until the interval is at most +- this (e.g. 0.005),
                                        up to 5 x runs
    data=my.yaml subset_size=300        INT8 calibration images (train split) for openvino-int8
    memory=True                         peak RSS per backend, each in a fresh process
    baseline=                           compare with this model instead of the model without its attention
    threads=                            CPU threads per runtime (default: all CPUs)
    out_dir=dir                         keep the exports and write benchmark.csv and benchmark.md there
                                        (default: a temporary folder, table printed only)
    (formats= and out= are the deprecated names of format= and out_dir=)
    """
    from yolo_attention.export.benchmark import run_benchmark

    args = parse_overrides(overrides, BENCHMARK_KEYS, aliases=DEPRECATED_KEYS["benchmark"])
    model = _model_arg(args)
    if args.get("baseline"):
        check_model_path(args["baseline"], key="baseline")
    result = run_benchmark(model, **args)
    click.echo(result.table())
    files = getattr(result, "files", None)
    click.echo(f"\ntables: {', '.join(str(f) for f in files)}" if files else "\nadd out_dir=... to write the table")
