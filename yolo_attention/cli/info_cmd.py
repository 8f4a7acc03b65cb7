"""`yolo-attn modules` and `yolo-attn models`: what the package offers, with parameter counts and GFLOPs."""

from __future__ import annotations

import click

from yolo_attention.cli.errors import OneLineCommand

__all__ = ["models", "modules"]


@click.command(cls=OneLineCommand)
@click.option("--channels", default="64,128,256", show_default=True, help="Channel counts to report parameters at.")
def modules(channels):
    """List the registered attention modules: name, paper, parameters."""
    from yolo_attention.modules import MODULES

    counts = [int(c) for c in channels.split(",")]
    header = f"{'module':<10}" + "".join(f"{'params@' + str(c):>12}" for c in counts) + "  paper"
    click.echo(header)
    for name, cls in MODULES.items():
        params = [sum(p.numel() for p in cls(c).parameters()) for c in counts]
        paper = getattr(cls, "paper", "") or (cls.__doc__ or "").strip().splitlines()[0]
        click.echo(f"{name:<10}" + "".join(f"{p:>12,}" for p in params) + f"  {paper}")


def _model_summary(name: str) -> tuple[int, int, float]:
    """Return (layers, parameters, GFLOPs at imgsz 640) of a model YAML, as Ultralytics' model summary counts them."""
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    model = YOLO(name, verbose=False).model
    return len(model.model), sum(p.numel() for p in model.parameters()), get_flops(model, imgsz=640)


@click.command(cls=OneLineCommand)
@click.option("--scale", default="n", show_default=True, type=click.Choice(list("nsmlx")), help="Model scale.")
def models(scale):
    """List the bundled model YAMLs with layers, parameters and GFLOPs (imgsz 640) at one scale."""
    from yolo_attention.resources import bundled_model_cfgs

    click.echo(f"{'model':<28}{'layers':>8}{'params':>12}{'vs base':>10}{'GFLOPs':>9}")
    baselines = {}
    for path in sorted(bundled_model_cfgs(), key=lambda p: ("-pose" in p.name, "-pcb" in p.name, p.name)):
        name = path.name.replace("yolov8", f"yolov8{scale}", 1)
        kind = "-pose" if "-pose" in name else "-face" if "-face" in name else "-p2" if "-pcb" in name else ""
        base_name = f"yolov8{scale}{kind}.yaml"
        if base_name not in baselines:
            baselines[base_name] = layers, params, flops = _model_summary(base_name)
            click.echo(f"{base_name:<28}{layers:>8}{params:>12,}{'':>10}{flops:>9.2f}")
        if name == base_name:  # a bundled baseline (yolov8-face.yaml) is listed once, as the baseline
            continue
        layers, params, flops = _model_summary(name)
        click.echo(f"{name:<28}{layers:>8}{params:>12,}{params - baselines[base_name][1]:>+10,}{flops:>9.2f}")
