"""Every training value checked before anything runs: types and ranges of train arguments, weights, model files.

Ultralytics checks types late (some only when the trainer starts, some never: `imgsz=-5` fails deep in the data
loader, `lr0=-1` trains). Here each value is checked once, before the experiment folder is made, and a bad one
raises one `ValueError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yolo_attention.modules.suggest import did_you_mean
from yolo_attention.resources import bundled_weights, find_bundled

__all__ = [
    "OPTIMIZERS",
    "RULES",
    "check_attention_switches",
    "check_checkpoint",
    "check_device",
    "check_model_file",
    "check_train_values",
    "check_value",
    "resolve_weights",
]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rule(kind: str, low: float | None = None, high: float | None = None, low_open: bool = False, high_open=False):
    """A (check, description) pair: an int or a number within [low, high] (open ends where asked)."""
    is_kind = _int if kind == "int" else _number

    def check(value: Any) -> bool:
        if not is_kind(value):
            return False
        if low is not None and (value <= low if low_open else value < low):
            return False
        return not (high is not None and (value >= high if high_open else value > high))

    noun = "an integer" if kind == "int" else "a number"
    if low is not None and high is not None:
        text = f"{noun} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        text = f"{noun} {'>' if low_open else '>='} {low}"
    else:
        text = noun
    return check, text


def _batch(value: Any) -> bool:
    return (_int(value) and (value >= 1 or value == -1)) or (_number(value) and 0 < value < 1)


def _bool(value: Any) -> bool:
    return isinstance(value, bool)


OPTIMIZERS = ("SGD", "MuSGD", "Adam", "Adamax", "AdamW", "NAdam", "RAdam", "RMSprop", "auto")
"""Ultralytics' optimizer names (any case); it raises NotImplementedError for others only when a phase starts."""


def _optimizer(value: Any) -> bool:
    return isinstance(value, str) and value.lower() in {name.lower() for name in OPTIMIZERS}


FRACTION = _rule("float", 0, 1)
# key -> (check, what is allowed). Ultralytics' common numeric train arguments; `batch` as in Ultralytics: -1 picks
# the batch size automatically, a fraction in (0, 1) targets that share of GPU memory.
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "epochs": _rule("int", 1),
    "imgsz": _rule("int", 32),
    "batch": (_batch, "an integer >= 1, -1 (auto) or a fraction in (0, 1) of GPU memory"),
    "lr0": _rule("float", 0, low_open=True),
    "lrf": _rule("float", 0, 1, low_open=True),
    "momentum": _rule("float", 0, 1, high_open=True),
    "weight_decay": _rule("float", 0),
    "warmup_epochs": _rule("float", 0),
    "warmup_momentum": _rule("float", 0, 1, high_open=True),
    "warmup_bias_lr": _rule("float", 0),
    "patience": _rule("int", 0),
    "workers": _rule("int", 0),
    "seed": _rule("int", 0),
    "close_mosaic": _rule("int", 0),
    "nbs": _rule("int", 1),
    "save_period": _rule("int", -1),
    "time": _rule("float", 0, low_open=True),
    "dropout": _rule("float", 0, 1, high_open=True),
    "box": _rule("float", 0),
    "cls": _rule("float", 0),
    "dfl": _rule("float", 0),
    "scale": _rule("float", 0),
    "degrees": _rule("float"),
    "shear": _rule("float"),
    "fraction": _rule("float", 0, 1, low_open=True),
    **{k: FRACTION for k in ("mosaic", "mixup", "cutmix", "copy_paste", "fliplr", "flipud", "translate", "erasing")},
    **{k: FRACTION for k in ("hsv_h", "hsv_s", "hsv_v", "perspective", "bgr")},
    **{k: (_bool, "True or False") for k in ("cos_lr", "val", "amp", "plots", "deterministic", "rect", "single_cls")},
    "optimizer": (_optimizer, f"one of {', '.join(OPTIMIZERS)}"),
}


def check_value(key: str, value: Any, where: str = "") -> None:
    """Raise a `ValueError` naming `key`, `value` and what is allowed when `value` is not valid for `key`.

    Keys without a rule pass (Ultralytics checks them).

    Examples:
        >>> check_value("epochs", 3)
        >>> check_value("imgsz", -5)
        Traceback (most recent call last):
        ...
        ValueError: imgsz=-5 is not valid: imgsz must be an integer >= 32
    """
    if key == "device" and value is not None:
        check_device(value, where)
        return
    rule = RULES.get(key)
    if rule is None or value is None:
        return
    check, allowed = rule
    if not check(value):
        prefix = f"{where}: " if where else ""
        hint = did_you_mean(value, list(OPTIMIZERS)) if key == "optimizer" and isinstance(value, str) else ""
        raise ValueError(f"{prefix}{key}={value!r} is not valid: {key} must be {allowed}.{hint}".rstrip("."))


def check_device(device: Any, where: str = "") -> None:
    """Raise a one-line `ValueError` when this machine lacks `device` (Ultralytics' trainer would fail on it later).

    Ultralytics' own device check (`select_device`) decides, with what it accepts: ``cpu``, ``0``, ``0,1``, ``mps``...

    Examples:
        >>> check_device("cpu")
    """
    from ultralytics.utils import LOGGER
    from ultralytics.utils.torch_utils import select_device

    disabled, LOGGER.disabled = LOGGER.disabled, True  # it logs its version banner before raising, verbose or not
    try:
        select_device(device, verbose=False)
    except ValueError as e:
        import torch

        prefix = f"{where}: " if where else ""
        reason = str(e).strip().splitlines()[0]
        raise ValueError(f"{prefix}{reason} (torch sees {torch.cuda.device_count()} CUDA device(s))") from None
    finally:
        LOGGER.disabled = disabled


def check_train_values(args: dict[str, Any], where: str = "") -> None:
    """Check every train argument in `args` (see `RULES`); the first bad one raises a `ValueError`."""
    for key, value in args.items():
        check_value(key, value, where)


def resolve_weights(name: str | Path, key: str = "weights") -> Path:
    """Return the checkpoint file `name` names: a path as given, else a shipped checkpoint by bare name.

    `key` is the argument `name` was given as, for the message.

    Raises:
        FileNotFoundError: Neither a file nor a shipped checkpoint (the shipped ones are listed).
    """
    path = Path(str(name))
    if path.is_file():
        return path
    bundled = find_bundled(str(name))
    if bundled is not None:
        return bundled
    shipped = ", ".join(p.name for p in bundled_weights()) or "none"
    raise FileNotFoundError(f"{key} '{name}' not found: not a file, and not a shipped checkpoint ({shipped})")


def check_checkpoint(name: str | Path) -> Path:
    """Resolve `name` (see `resolve_weights`) and read it: a file that is not a checkpoint fails now.

    Raises:
        FileNotFoundError: The file does not exist.
        CheckpointError: "'bad.pt' is not a PyTorch checkpoint (...)" (a `ValueError`).
    """
    from yolo_attention.integration import read_checkpoint

    path = resolve_weights(name)
    read_checkpoint(path)
    return path


def check_model_file(model: str) -> None:
    """Check a model YAML builds (a misspelt name fails with Ultralytics' suggestion, a broken file with its reason)."""
    from ultralytics import YOLO

    if Path(model).suffix not in (".yaml", ".yml"):
        hint = f"; did you mean {model}.yaml?" if not Path(model).suffix else ""
        raise ValueError(f"model={model} is neither a model YAML (.yaml) nor a checkpoint (.pt){hint}")

    try:
        YOLO(model, verbose=False)
    except FileNotFoundError:
        raise
    except Exception as e:  # a YAML that does not parse or names an unknown module raises many types
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"model '{model}' is not a valid model YAML ({reason[:200]})") from None


def check_run(config: dict, phases: list) -> None:
    """Check a resolved configuration and its phases before any folder is made; resolve weights names in place.

    Args:
        config (dict): The resolved master configuration (``model.weights`` and a ``.pt`` ``model.config_path`` are
            replaced by the checkpoint files they name).
        phases (list[Phase]): The phases that will run.
    """
    from yolo_attention.training.callbacks import EarlyStopping
    from yolo_attention.training.config import train_args

    shared = train_args(config)
    check_train_values(shared, "environment")
    check_train_values(config["overrides"], "overrides")
    for phase in phases:
        check_train_values({**phase.train_args, "epochs": phase.epochs}, f"phase '{phase.name}'")
    pretrain = config["model"]["pretrain_epochs"]
    if pretrain is not None and not (_int(pretrain) and pretrain >= 0):
        raise ValueError(f"model.pretrain_epochs={pretrain!r} is not valid: it must be an integer >= 0")
    stopping = config["early_stopping"]
    if stopping["enabled"]:
        EarlyStopping(stopping["monitor"], stopping["patience"], stopping["min_delta"])
    for phase in phases:
        args = {**shared, **phase.train_args, **config["overrides"]}
        if args.get("val") is False and (stopping["enabled"] or "patience" in config["overrides"]):
            raise ValueError(
                f"early stopping needs validation, but val=False (phase '{phase.name}'): drop val=False or patience"
            )
    for phase in phases:
        check_attention_switches(phase.attention, f"phase '{phase.name}'")
    model_cfg = config["model"]
    model = str(model_cfg["config_path"])
    if not model_cfg["attention_mechanism"] and model_cfg["where"] not in (None, "backbone"):
        raise ValueError(
            f"where={model_cfg['where']} places the module that attn= inserts, but attn= is not set "
            f"(model={Path(model).name} trains as it is): add attn=<module> or drop where="
        )
    if model_cfg["attn_init"] is not None:
        from yolo_attention.arch.transfer import resolve_attn_init

        resolve_attn_init({}, model_cfg["attn_init"])
        if model.endswith(".pt") and not model_cfg["attention_mechanism"]:
            raise ValueError(
                f"attn_init={model_cfg['attn_init']} sets how attention layers new to the weights start, but "
                f"model={Path(model).name} is a checkpoint that holds its own: give a model YAML, or attn= to add one"
            )
    formats = config["export"]["formats"]
    if formats:  # a typo fails now, not after the last phase
        from yolo_attention.export.exporter import parse_formats

        config["export"]["formats"] = parse_formats(formats)
    if model.endswith(".pt"):
        model_cfg["config_path"] = str(check_checkpoint(model))
    else:
        check_model_file(model)
    if model_cfg["weights"]:
        model_cfg["weights"] = str(check_checkpoint(model_cfg["weights"]))


def check_attention_switches(switches: dict[str, bool], where: str = "") -> None:
    """Raise a `ValueError` for an attention kind in a phase's switches that no module is registered as.

    ``all`` names every attention module. A registered kind the model lacks is not an error here (the plan warns).

    Examples:
        >>> check_attention_switches({"all": False, "ECA": True, "ChannelAttention": False})
        >>> check_attention_switches({"CBMA": False}, "phase 'warmup'")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: phase 'warmup': unknown attention kind 'CBMA' in attention:. Known: all, BAM, ...
    """
    from yolo_attention.modules import MODULES, AttentionModule

    def subclasses(cls: type) -> set[str]:  # set_attention also takes the class name of a part (ChannelAttention)
        return {name for sub in cls.__subclasses__() for name in (sub.__name__, *subclasses(sub))}

    known = ["all", *sorted(MODULES, key=str.lower)]
    accepted = {name.lower() for name in (*MODULES, *subclasses(AttentionModule))}
    for kind in switches:
        if kind != "all" and (not isinstance(kind, str) or kind.lower() not in accepted):
            prefix = f"{where}: " if where else ""
            raise ValueError(
                f"{prefix}unknown attention kind {kind!r} in attention:. Known: {', '.join(known)}."
                f"{did_you_mean(str(kind), known)}"
            )
