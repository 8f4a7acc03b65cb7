"""The `yolo-attn` command: list modules and models, train, with Ultralytics' key=value grammar."""

from __future__ import annotations

import sys

import click

from yolo_attention.cli.overrides import parse_overrides, ultralytics_keys

__all__ = ["cli"]

KEY_VALUE_HELP = "Arguments are Ultralytics-style key=value pairs, e.g. `epochs=3 imgsz=320`."


class OneLineErrors(click.Group):
    """A click group that turns the errors a user can cause into one line instead of a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (ValueError, FileNotFoundError, SyntaxError, KeyError, TypeError) as e:
            message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            click.echo(f"Error: {message}", err=True)
            sys.exit(1)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="yolo-attention", prog_name="yolo-attn")
def cli():
    """Attention modules for Ultralytics YOLOv8: CBAM, ECA, CoordAtt, SE, ECA-SAM.

    \b
    yolo-attn modules                      list the attention modules
    yolo-attn models                       list the bundled model YAMLs
    yolo-attn train [key=value ...]        train (defaults: yolov8n-cbam.yaml on pcb-mini.yaml)
    yolo-attn convert deeppcb|hripcb ...   DeepPCB / HRIPCB release -> YOLO dataset
    yolo-attn predict model= source=       sliced prediction on full boards
    yolo-attn export model= format=        export (onnx, openvino, torchscript, engine), then verify vs PyTorch
    yolo-attn benchmark model= format=     latency and memory against the attention-free baseline
    yolo-attn val model= data= protocol=   validation, also with DeepPCB's own protocol
    """
    import yolo_attention  # noqa: F401  registers the modules with Ultralytics


@cli.command()
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


@cli.command()
@click.option("--scale", default="n", show_default=True, type=click.Choice(list("nsmlx")), help="Model scale.")
def models(scale):
    """List the bundled model YAMLs with layers, parameters and GFLOPs (imgsz 640) at one scale."""
    from yolo_attention.resources import bundled_model_cfgs

    click.echo(f"{'model':<28}{'layers':>8}{'params':>12}{'vs base':>10}{'GFLOPs':>9}")
    baselines = {}
    for path in sorted(bundled_model_cfgs(), key=lambda p: ("-pose" in p.name, "-pcb" in p.name, p.name)):
        name = path.name.replace("yolov8", f"yolov8{scale}", 1)
        base_name = f"yolov8{scale}{'-pose' if '-pose' in name else '-p2' if '-pcb' in name else ''}.yaml"
        if base_name not in baselines:
            baselines[base_name] = layers, params, flops = _model_summary(base_name)
            click.echo(f"{base_name:<28}{layers:>8}{params:>12,}{'':>10}{flops:>9.2f}")
        layers, params, flops = _model_summary(name)
        click.echo(f"{name:<28}{layers:>8}{params:>12,}{params - baselines[base_name][1]:>+10,}{flops:>9.2f}")


@cli.command(context_settings={"ignore_unknown_options": True})
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Master configuration YAML.")
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def train(config_file, overrides):
    """Train with a staged schedule in an experiment folder. KEY=VALUE pairs as for `yolo train`.

    \b
    With no arguments: the quick start - the shipped yolov8n-deeppcb.pt transferred into yolov8n-cbam,
    frozen-backbone warm-up, then fine-tune on pcb-mini at imgsz 320 (a few minutes on 2 CPU cores).

    \b
    model=yolov8n-cbam.yaml   model YAML or .pt checkpoint      data=pcb-mini.yaml  dataset YAML
    pretrained=yolov8n.pt     weights transferred layer by layer into the attention model
    schedule=two-stage        two-stage, four-phase, none (plain Ultralytics training) or a schedule YAML
    stage=warmup              run one phase only            resume=runs/experiments/<exp>  continue it
    attn=cbam where=backbone  insert attention into a baseline model= (where: backbone, neck, 4,6,9)
    attn_init=paper           new attention starts as in the papers (default identity: zero residual gate)
    export=onnx,openvino      export the final model into the experiment's models/ folder
    imgsz= batch= device= workers= seed= ...   environment; lr0= epochs= mixup= ... every phase
    training_strategy.warmup.epochs=5          dotted keys set any configuration value
    """
    from yolo_attention.training.config import CLI_ALIASES, RUN_KEYS
    from yolo_attention.training.runner import train as run

    args = parse_overrides(overrides, ultralytics_keys() | set(CLI_ALIASES) | RUN_KEYS, dotted=True)
    config_file = args.pop("config", None) or config_file
    if "schedule" in args and args["schedule"] is None:  # Ultralytics' value parsing turns `none` into None
        args["schedule"] = "none"
    if not args and not config_file:
        from yolo_attention.training.config import BUNDLED_CONFIG_DIR

        config_file = BUNDLED_CONFIG_DIR / "quickstart.yaml"
        click.echo(f"yolo-attn train: quick start ({config_file.name}); see `yolo-attn train --help` for options")
    run(config=config_file, stage=args.pop("stage", None), resume=args.pop("resume", None), **args)


@cli.group()
def convert():
    """Convert public datasets to YOLO format."""


@convert.command(context_settings={"ignore_unknown_options": True})
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def deeppcb(overrides):
    """DeepPCB release -> YOLO dataset: src=<PCBData folder> out=<dir> [templates=True].

    train/val from trainval.txt (val: the held-out 20 % of each dominant class, seed 0); test from test.txt,
    for the final figure only (yolo-attn val ... split=test).
    """
    from yolo_attention.data import convert_deeppcb

    args = parse_overrides(overrides, {"src", "out", "templates"})
    missing = [k for k in ("src", "out") if k not in args]
    if missing:
        raise click.UsageError(f"missing {' and '.join(k + '=...' for k in missing)}")
    report = convert_deeppcb(str(args["src"]), str(args["out"]), templates=bool(args.get("templates", False)))
    click.echo(report.summary())
    click.echo(f"data YAML: {report.out / 'data.yaml'}")


from yolo_attention.cli.export_cmd import benchmark, export  # noqa: E402
from yolo_attention.cli.pcb_cmd import hripcb, predict, val  # noqa: E402

cli.add_command(export)
cli.add_command(benchmark)

cli.add_command(predict)
cli.add_command(val)
convert.add_command(hripcb)


if __name__ == "__main__":
    cli()
