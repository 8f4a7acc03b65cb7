"""`yolo-attn train`: a staged schedule in an experiment folder; the command-line twin of `yolo_attention.train`.

Keys are the Python function's: `model`, `data`, `schedule`, `config`, `stage`, `resume`, and every other key goes to
``**overrides`` (every ``yolo train`` key, `pretrained`, `attn`, `where`, `attn_init`, `export`, dotted
configuration keys). The training layer checks the values, before any folder is made.
"""

from __future__ import annotations

import click

from yolo_attention.cli.overrides import key_value_command, parse_overrides, ultralytics_keys
from yolo_attention.resources import SCHEDULE_DIR

__all__ = ["train", "train_keys"]


def train_keys() -> set[str]:
    """Return the keys `yolo-attn train` takes (besides dotted configuration keys)."""
    from yolo_attention.training.config import CLI_ALIASES, REFUSED, RUN_KEYS

    return (ultralytics_keys() - set(REFUSED)) | set(CLI_ALIASES) | RUN_KEYS


@key_value_command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Master configuration YAML.")
def train(config_file, overrides):
    """Train with a staged schedule in an experiment folder. KEY=VALUE pairs as for `yolo train`.

    \b
    With no arguments: the quick start - the shipped yolov8n-deeppcb.pt transferred into yolov8n-cbam,
    attention-only warm-up, then fine-tune on pcb-mini at imgsz 320 (a few minutes on 2 CPU cores).
    Any KEY=VALUE starts from the defaults instead; to change the quick start, add its configuration:
    `yolo-attn train config=quickstart.yaml epochs=1`.

    \b
    model=yolov8n-cbam.yaml   model YAML or .pt checkpoint      data=pcb-mini.yaml  dataset YAML
    pretrained=yolov8n.pt     weights transferred layer by layer into the attention model
    schedule=two-stage        {schedules}, none (plain Ultralytics training) or a schedule YAML
    stage=warmup              run one phase only            resume=runs/experiments/<exp>  continue it
    config=my_config.yaml     master configuration (as --config)
    attn=cbam where=backbone  insert attention into a baseline model= (where: backbone, neck, 4,6,9)
    attn_init=paper           new attention starts as in the papers (default identity: zero residual gate)
    export=onnx,openvino      export the final model into the experiment's models/ folder
    imgsz= batch= device= workers= seed= ...   environment; lr0= epochs= mixup= ... every phase
    training_strategy.warmup.epochs=5          dotted keys set any configuration value
    """
    from yolo_attention.training.config import REFUSED
    from yolo_attention.training.runner import train as run

    for token in overrides:  # Ultralytics keys a run sets itself or ignores: refused with the reason, never suggested
        key = token.split("=", 1)[0].strip()
        if "=" in token and key in REFUSED:
            raise click.UsageError(f"{token.strip()} is not a train argument: {REFUSED[key]}")
    args = parse_overrides(overrides, train_keys(), dotted=True)
    given = args.pop("config", None)
    if given and config_file and str(given) != str(config_file):
        raise click.UsageError(f"two configuration files: --config {config_file} and config={given}; give one")
    config_file = given or config_file
    if "schedule" in args and args["schedule"] is None:  # Ultralytics' value parsing turns `none` into None
        args["schedule"] = "none"
    if not args and not config_file:
        from yolo_attention.training.config import BUNDLED_CONFIG_DIR

        config_file = BUNDLED_CONFIG_DIR / "quickstart.yaml"
        click.echo(f"yolo-attn train: quick start ({config_file.name}); see `yolo-attn train --help` for options")
    run(config=config_file, stage=args.pop("stage", None), resume=args.pop("resume", None), **args)


def _schedule_names() -> str:
    """The bundled schedules, the default first (from their files, so a new schedule shows in `train -h`)."""
    names = sorted((p.stem for p in SCHEDULE_DIR.glob("*.yaml")), key=lambda name: (name != "two-stage", name))
    return ", ".join(names)


train.help = train.help.replace("{schedules}", _schedule_names())
