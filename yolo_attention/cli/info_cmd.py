"""`yolo-attn modules` and `yolo-attn models`: what the package offers, with parameter counts and GFLOPs."""

from __future__ import annotations

import click

from yolo_attention.cli.overrides import key_value_command, parse_overrides

__all__ = ["models", "modules", "table_row"]

SCALES = ("n", "s", "m", "l", "x")


def _channel_counts(text: str) -> list[int]:
    """``"64,128"`` -> [64, 128]; anything but positive ints is a one-line usage error, before the table starts."""
    try:
        counts = [int(c) for c in text.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise click.UsageError(f"channels must be positive ints separated by commas, e.g. 64,128,256; got '{text}'")
    return counts


def _one_value(key: str, option, overrides: tuple[str, ...], default: str) -> str:
    """The value of `key` given as ``key=value`` (as every other command takes it) or as ``--key value``."""

    def text(value) -> str:  # Ultralytics' value parser makes `64,128` a tuple
        return str(value).replace(" ", "").strip("()[]")

    given = parse_overrides(overrides, {key}).get(key)
    if given is not None and option is not None and text(given) != text(option):
        raise click.UsageError(f"two values for {key}: --{key} {option} and {key}={text(given)}; give one")
    value = given if given is not None else option
    return default if value is None else text(value)


@key_value_command()
@click.option("--channels", default=None, help="As channels=.")
def modules(channels, overrides):
    """List the registered attention modules: name, paper, parameters.

    \b
    channels=64,128,256   channel counts to report parameters at
    """
    from yolo_attention.modules import MODULES

    counts = _channel_counts(_one_value("channels", channels, overrides, "64,128,256"))
    rows = [f"{'module':<10}" + "".join(f"{'params@' + str(c):>12}" for c in counts) + "  paper"]
    for name, cls in MODULES.items():  # every row built first: a module refusing a count leaves no half table
        params = [sum(p.numel() for p in cls(c).parameters()) for c in counts]
        paper = getattr(cls, "paper", "") or (cls.__doc__ or "").strip().splitlines()[0]
        rows.append(f"{name:<10}" + "".join(f"{p:>12,}" for p in params) + f"  {paper}")
    click.echo("\n".join(rows))


def _model_summary(name: str) -> tuple[int, int, float]:
    """Return (layers, parameters, GFLOPs at imgsz 640) of a model YAML, as Ultralytics' model summary counts them."""
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    model = YOLO(name, verbose=False).model
    return len(model.model), sum(p.numel() for p in model.parameters()), get_flops(model, imgsz=640)


def table_row(name: str, layers, params, diff, flops, name_width: int = 28) -> str:
    """One row of the `yolo-attn models` table: two spaces between columns, so no two numbers run together.

    Args:
        name (str): The model YAML (the first column, left-aligned in `name_width`).
        layers (int | str): Number of layers (or the column title).
        params (int | str): Parameters.
        diff (int | str | None): Parameters minus the baseline's, signed; None for a baseline (left empty).
        flops (float | str): GFLOPs at imgsz 640.
        name_width (int): Width of the name column: the longest name.

    Examples:
        >>> table_row("yolov8s-face-ecasam-lite.yaml", 26, 1_369_647, -10_053_905, 4.1, 29).split()
        ['yolov8s-face-ecasam-lite.yaml', '26', '1,369,647', '-10,053,905', '4.10']
    """
    number = not isinstance(params, str)
    diff = "" if diff is None else f"{diff:+,}" if number else diff
    params = f"{params:,}" if number else params
    flops = f"{flops:.2f}" if number else flops
    return f"{name:<{name_width}}  {layers:>6}  {params:>11}  {diff:>11}  {flops:>7}"


@key_value_command()
@click.option("--scale", default=None, type=click.Choice(SCALES), help="As scale=.")
def models(scale, overrides):
    """List the bundled model YAMLs with layers, parameters and GFLOPs (imgsz 640) at one scale.

    \b
    scale=n   model scale: n, s, m, l or x
    """
    from yolo_attention.resources import bundled_model_cfgs

    scale = _one_value("scale", scale, overrides, "n")
    if scale not in SCALES:
        raise click.UsageError(f"scale must be one of {', '.join(SCALES)}, got '{scale}'")

    paths = sorted(bundled_model_cfgs(), key=lambda p: ("-pose" in p.name, "-pcb" in p.name, p.name))
    names = [path.name.replace("yolov8", f"yolov8{scale}", 1) for path in paths]
    width = max(len(name) for name in ["model", *names])
    click.echo(table_row("model", "layers", "params", "vs base", "GFLOPs", width))
    baselines = {}
    for name in names:
        kind = "-pose" if "-pose" in name else "-face" if "-face" in name else "-p2" if "-pcb" in name else ""
        base_name = f"yolov8{scale}{kind}.yaml"
        if base_name not in baselines:
            baselines[base_name] = layers, params, flops = _model_summary(base_name)
            click.echo(table_row(base_name, layers, params, None, flops, width))
        if name == base_name:  # a bundled baseline (yolov8-face.yaml) is listed once, as the baseline
            continue
        layers, params, flops = _model_summary(name)
        click.echo(table_row(name, layers, params, params - baselines[base_name][1], flops, width))
