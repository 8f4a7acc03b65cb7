"""The master configuration of an experiment: sections, defaults, `key=value` and dotted overrides, validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from yolo_attention.modules.suggest import did_you_mean
from yolo_attention.resources import CONFIG_DIR

__all__ = [
    "BUNDLED_CONFIG_DIR",
    "DEFAULT_CONFIG",
    "CLI_ALIASES",
    "REFUSED",
    "RUN_KEYS",
    "default_schedule",
    "load_config",
    "apply_overrides",
    "train_args",
]

BUNDLED_CONFIG_DIR = CONFIG_DIR
DEFAULT_CONFIG: dict[str, Any] = {
    "project": {
        "name": "yolo-attention",
        "experiment_name": None,  # default: <model stem>_<schedule>
        "output_dir": "runs/experiments",
    },
    "model": {
        "config_path": "yolov8n-cbam.yaml",  # a model YAML, or a .pt checkpoint (architecture and weights)
        "weights": None,  # pretrained weights transferred layer by layer (yolov8n.pt ...)
        "attention_mechanism": None,  # insert this module into a baseline model (cbam, eca ...)
        "where": "backbone",  # where to insert it: backbone, neck or layer indices
        "attn_init": None,  # identity (default) or paper: how new attention layers start
        "pretrain_epochs": 10,  # without weights: epochs of the baseline phase trained first (0: none)
    },
    "data": {"config_path": "pcb-mini.yaml"},
    # None: the model's default (`default_schedule`): four-phase-face for face models, else two-stage; plus
    # {<phase name>: {<key>: value}} overrides
    "training_strategy": {"schedule": None},
    "environment": {
        "imgsz": 640,
        "batch_size": 16,
        "device": None,
        "workers": 8,
        "mixed_precision": True,
        "cache_images": False,
        "seed": 0,
        "deterministic": True,
    },
    "early_stopping": {"enabled": False, "monitor": "val/mAP50-95", "patience": 20, "min_delta": 0.0},
    "loss": {"box": 7.5, "cls": 0.5, "dfl": 1.5},
    "overrides": {},  # Ultralytics train arguments applied to every phase, over the schedule's values
    "export": {"formats": []},  # exported at the end into the experiment's models/ folder
}

# Ultralytics-style keys on the command line and where they go in the configuration.
CLI_ALIASES = {
    "model": "model.config_path",
    "pretrained": "model.weights",
    "attn": "model.attention_mechanism",
    "where": "model.where",
    "attn_init": "model.attn_init",
    "data": "data.config_path",
    "schedule": "training_strategy.schedule",
    "imgsz": "environment.imgsz",
    "batch": "environment.batch_size",
    "device": "environment.device",
    "workers": "environment.workers",
    "amp": "environment.mixed_precision",
    "cache": "environment.cache_images",
    "seed": "environment.seed",
    "deterministic": "environment.deterministic",
    "patience": "early_stopping.patience",
    "box": "loss.box",
    "cls": "loss.cls",
    "dfl": "loss.dfl",
    "name": "project.experiment_name",
    "project": "project.output_dir",
    "export": "export.formats",
}
# Keys of a run, not of the configuration.
RUN_KEYS = {"config", "stage", "resume"}
# Ultralytics keys a run must not take (its trainer would ignore them, or the runner sets them): why, in one line.
REFUSED = {
    "mode": "yolo-attn train always trains",
    "task": "the model's YAML or checkpoint decides the task",
    "save_dir": "each phase saves into the experiment folder (set project= and name=)",
    "exist_ok": "every run gets a new experiment folder",
    **{key: "to export after training, give export=<formats> (onnx, ...)" for key in ("format", "int8", "dynamic")},
}
ENVIRONMENT_ARGS = {
    "imgsz": "imgsz",
    "batch_size": "batch",
    "device": "device",
    "workers": "workers",
    "mixed_precision": "amp",
    "cache_images": "cache",
    "seed": "seed",
    "deterministic": "deterministic",
}


def _ultralytics_keys() -> set[str]:
    from ultralytics.cfg import DEFAULT_CFG_DICT

    return set(DEFAULT_CFG_DICT)


def _merge(base: dict, update: dict, path: str = "") -> dict:
    """Merge `update` into a copy of `base`, refusing keys `base` does not have (with a suggestion)."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        where = f"{path}{key}"
        if path == "" and key not in out:
            raise ValueError(f"unknown configuration section '{key}'.{did_you_mean(str(key), list(out))}")
        if path.startswith(("training_strategy", "overrides")):  # validated against the schedule / Ultralytics
            out[key] = copy.deepcopy(value) if not isinstance(out.get(key), dict) else _merge_free(out[key], value)
        elif key not in out:
            raise ValueError(f"unknown configuration key '{where}'.{did_you_mean(str(key), list(out))}")
        elif isinstance(out[key], dict):
            if not isinstance(value, dict):
                raise ValueError(f"configuration '{where}' must be a mapping, got {value!r}")
            out[key] = _merge(out[key], value, f"{where}.")
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_free(base: dict, update) -> Any:
    if not isinstance(update, dict):
        return copy.deepcopy(update)
    out = copy.deepcopy(base)
    for key, value in update.items():
        out[key] = _merge_free(out[key], value) if isinstance(out.get(key), dict) else copy.deepcopy(value)
    return out


def default_schedule(model) -> str:
    """Return the schedule a model trains with when none is named.

    ``four-phase-face`` for the face models (the FeatherFace recipe, issue 15), ``two-stage`` for everything else.

    Examples:
        >>> default_schedule("yolov8n-face-ecasam-lite.yaml"), default_schedule("yolov8n-cbam.yaml")
        ('four-phase-face', 'two-stage')
    """
    return "four-phase-face" if "-face" in Path(str(model or "")).stem else "two-stage"


def load_config(path: str | Path | None = None) -> dict:
    """Return the defaults merged with a configuration file (if given); unknown keys fail with a suggestion.

    Examples:
        >>> load_config()["training_strategy"]["schedule"] is None  # the model's default, see default_schedule
        True
    """
    config = copy.deepcopy(DEFAULT_CONFIG)
    if path is None:
        return config
    path = Path(path)
    if not path.is_file() and path.name == str(path) and (BUNDLED_CONFIG_DIR / path.name).is_file():
        path = BUNDLED_CONFIG_DIR / path.name  # a bundled configuration by name: quickstart.yaml, example.yaml
    if not path.is_file():
        bundled = ", ".join(sorted(p.name for p in BUNDLED_CONFIG_DIR.glob("*.yaml")))
        raise FileNotFoundError(f"configuration file '{path}' does not exist (bundled, by name: {bundled})")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ValueError(f"configuration file '{path}' is not valid YAML: {problem}{where}") from None
    if not isinstance(data, dict):
        raise ValueError(f"configuration file '{path}' must hold a mapping of sections, got {type(data).__name__}")
    if isinstance(data.get("training_strategy"), (str, list)):  # `training_strategy: four-phase` or a phase list
        data["training_strategy"] = {"schedule": data["training_strategy"]}
    return _merge(config, data)


def _set_dotted(config: dict, dotted: str, value: Any) -> dict:
    keys = dotted.split(".")
    nested: Any = value
    for key in reversed(keys):
        nested = {key: nested}
    return _merge(config, nested)


def apply_overrides(config: dict, overrides: dict[str, Any]) -> dict:
    """Apply `key=value` overrides: Ultralytics keys (`imgsz`, `lr0`), dotted keys, run keys are left out.

    Ultralytics keys with a place in the configuration go there (`imgsz` -> environment.imgsz, `pretrained` ->
    model.weights, see `CLI_ALIASES`); other Ultralytics train keys (`lr0`, `epochs`, `mixup` ...) go to
    `overrides` and apply to every phase; `training_strategy.warmup.epochs=5` sets one phase.

    Examples:
        >>> c = apply_overrides(load_config(), {"imgsz": 320, "training_strategy.warmup.epochs": 5, "lr0": 0.02})
        >>> c["environment"]["imgsz"], c["training_strategy"]["warmup"], c["overrides"]
        (320, {'epochs': 5}, {'lr0': 0.02})
    """
    ultralytics = _ultralytics_keys() - set(REFUSED)
    for key, value in overrides.items():
        if key in RUN_KEYS:
            continue
        if key in REFUSED:
            raise ValueError(f"{key}={value} is not a train argument: {REFUSED[key]}")
        if key == "export" and isinstance(value, str):
            value = [f.strip() for f in value.split(",") if f.strip()]
        if key == "schedule" and value is None:  # Ultralytics' value parsing turns `schedule=none` into None
            value = "none"
        if key == "patience":  # asking for a patience asks for early stopping
            config = _set_dotted(config, "early_stopping.enabled", True)
        if key in CLI_ALIASES:
            config = _set_dotted(config, CLI_ALIASES[key], value)
        elif "." in key:
            config = _set_dotted(config, key, value)
        elif key in ultralytics:
            config = _set_dotted(config, f"overrides.{key}", value)
        else:
            known = sorted(set(CLI_ALIASES) | ultralytics | RUN_KEYS)
            raise ValueError(f"'{key}' is not a valid argument.{did_you_mean(key, known)}")
    bad = [k for k in config["overrides"] if k not in ultralytics]
    if bad:
        hint = did_you_mean(bad[0], ultralytics)
        raise ValueError(f"overrides: '{bad[0]}' is not an Ultralytics train argument.{hint}")
    return config


def train_args(config: dict) -> dict:
    """Ultralytics train arguments every phase shares: environment and loss gains."""
    env = config["environment"]
    args = {ENVIRONMENT_ARGS[k]: v for k, v in env.items() if v is not None}
    args.update({k: v for k, v in config["loss"].items() if v is not None})
    return args
