"""Training schedules as data: a list of phases, each with its epochs, freezing, optimiser, switches and extras."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from yolo_attention.modules.suggest import did_you_mean
from yolo_attention.resources import SCHEDULE_DIR as _SCHEDULE_DIR

__all__ = ["Phase", "Schedule", "SCHEDULE_DIR", "bundled_schedules", "load_schedule"]

SCHEDULE_DIR = _SCHEDULE_DIR
CARRY = ("last", "best")
# Keys a phase understands besides Ultralytics' own train arguments.
PHASE_KEYS = {
    "name", "epochs", "freeze", "attention", "head_dropout", "clip_grad_norm", "ramp_epochs", "carry", "description",
}  # fmt: skip
FREEZE_WORDS = ("backbone", "all-but-attention", "none")
# Ultralytics keys a phase must not set: the runner owns them.
RESERVED = {"model", "data", "project", "name", "resume", "pretrained", "mode", "task", "save_dir", "exist_ok"}


def _ultralytics_keys() -> set[str]:
    from ultralytics.cfg import DEFAULT_CFG_DICT

    return set(DEFAULT_CFG_DICT)


@dataclass
class Phase:
    """One phase of a schedule.

    Attributes:
        name (str): Phase name, unique in the schedule (``warmup``, ``finetune``, ``phase2a`` ...).
        epochs (int): Epochs of this phase.
        freeze: ``backbone`` (original backbone layers, never attention), ``all-but-attention`` (every layer but the
            attention layers: only what is new trains), ``none``, an int or a list of indices.
        attention (dict[str, bool]): Switch per attention kind, e.g. ``{"ECA": True, "SAM": False}``; kinds not named
            stay as they are (on by default).
        head_dropout (float): Dropout on the features entering the detection head's output convolutions, training only.
        clip_grad_norm (float | None): Gradient clipping max norm; None keeps Ultralytics' 10.0.
        ramp_epochs (float | None): Ramp the learning rates up from zero over this many epochs (fractions allowed),
            also in a one-epoch phase, where Ultralytics' ``warmup_epochs`` (capped at epochs - 1) gives none; it
            replaces ``warmup_epochs`` for the phase. None keeps Ultralytics' warm-up.
        carry (str): Which weights of this phase the next phase starts from: ``last`` or ``best``.
        train_args (dict): Every other Ultralytics train argument (optimizer, lr0, lrf, momentum, weight_decay, cos_lr,
            warmup_epochs, mixup, box, cls, dfl, ...).
        description (str): Free text.
    """

    name: str
    epochs: int
    freeze: Any = "none"
    attention: dict[str, bool] = field(default_factory=dict)
    head_dropout: float = 0.0
    clip_grad_norm: float | None = None
    ramp_epochs: float | None = None
    carry: str = "last"
    train_args: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def from_dict(cls, data: dict, where: str = "schedule") -> Phase:
        """Build and validate a phase from its YAML mapping; errors name the phase and the key."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: each phase must be a mapping, got {data!r}")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: every phase needs a name, got {data!r}")
        where = f"{where}, phase '{name}'"
        if "epochs" not in data:
            raise ValueError(f"{where}: 'epochs' is missing")
        epochs = data["epochs"]
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"{where}: epochs must be an int >= 1, got {epochs!r}")
        allowed = PHASE_KEYS | (_ultralytics_keys() - RESERVED)
        for key in data:
            if key not in allowed:
                hint = " (the runner sets it)" if key in RESERVED else did_you_mean(str(key), sorted(allowed))
                raise ValueError(f"{where}: unknown key '{key}'.{hint}")
        switches = data.get("attention") or {}
        if not isinstance(switches, dict) or not all(isinstance(v, bool) for v in switches.values()):
            raise ValueError(
                f"{where}: attention must map module kinds to on/off (True/False), e.g. {{ECA: on, SAM: off}}, "
                f"got {switches!r}"
            )
        dropout = data.get("head_dropout", 0.0)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"{where}: head_dropout must be in [0, 1), got {dropout!r}")
        clip = data.get("clip_grad_norm")
        if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float)) or clip <= 0):
            raise ValueError(f"{where}: clip_grad_norm must be a positive number, got {clip!r}")
        ramp = data.get("ramp_epochs")
        if ramp is not None and (isinstance(ramp, bool) or not isinstance(ramp, (int, float)) or ramp < 0):
            raise ValueError(f"{where}: ramp_epochs must be a number >= 0, got {ramp!r}")
        carry = data.get("carry", "last")
        if carry not in CARRY:
            raise ValueError(f"{where}: carry must be one of {', '.join(CARRY)}, got {carry!r}")
        freeze = data.get("freeze", "none")
        if not (
            freeze in (None, False)
            or (isinstance(freeze, str) and freeze.lower() in FREEZE_WORDS)
            or (isinstance(freeze, int) and not isinstance(freeze, bool) and freeze >= 0)
            or (isinstance(freeze, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in freeze))
        ):
            raise ValueError(
                f"{where}: freeze must be {', '.join(FREEZE_WORDS)}, an int or a list of indices, got {freeze!r}"
            )
        train_args = {k: v for k, v in data.items() if k not in PHASE_KEYS}
        if any(k in train_args for k in ("lr0", "momentum")) and train_args.get("optimizer", "auto") == "auto":
            raise ValueError(
                f"{where}: sets lr0/momentum but optimizer is auto, which ignores them (Ultralytics #8400); "
                "name the optimizer (SGD, Adam, AdamW, ...)"
            )
        return cls(
            name=name,
            epochs=epochs,
            freeze=freeze,
            attention=dict(switches),
            head_dropout=float(dropout),
            clip_grad_norm=None if clip is None else float(clip),
            ramp_epochs=None if ramp is None else float(ramp),
            carry=carry,
            train_args=train_args,
            description=str(data.get("description", "")),
        )

    def to_dict(self) -> dict:
        """The phase as the YAML mapping it was read from (resolved)."""
        out = {"name": self.name, "epochs": self.epochs, "freeze": self.freeze}
        if self.attention:
            out["attention"] = dict(self.attention)
        if self.head_dropout:
            out["head_dropout"] = self.head_dropout
        if self.clip_grad_norm is not None:
            out["clip_grad_norm"] = self.clip_grad_norm
        if self.ramp_epochs is not None:
            out["ramp_epochs"] = self.ramp_epochs
        if self.carry != "last":
            out["carry"] = self.carry
        if self.description:
            out["description"] = self.description
        return {**out, **self.train_args}


@dataclass
class Schedule:
    """An ordered list of phases.

    Attributes:
        name (str): Schedule name (``two-stage``, ``four-phase``, a file stem, or ``none``).
        phases (list[Phase]): The phases, in order.
    """

    name: str
    phases: list[Phase]

    def phase(self, name: str) -> Phase:
        """Return the phase called `name`; an unknown name lists the phases and suggests the closest."""
        for p in self.phases:
            if p.name == name:
                return p
        names = [p.name for p in self.phases]
        hint = did_you_mean(name, names)
        raise ValueError(f"schedule '{self.name}' has no phase '{name}'; phases: {', '.join(names)}.{hint}")

    def to_dict(self) -> dict:
        """The schedule as YAML data."""
        return {"name": self.name, "phases": [p.to_dict() for p in self.phases]}


def bundled_schedules() -> dict[str, Path]:
    """Return {name: path} of the schedules shipped with the package."""
    return {p.stem: p for p in sorted(SCHEDULE_DIR.glob("*.yaml"))}


def load_schedule(spec, overrides: dict[str, dict] | None = None) -> Schedule:
    """Load a schedule from a bundled name, a YAML path, a mapping or a list of phases, then apply per-phase overrides.

    Args:
        spec: ``"two-stage"``, ``"four-phase"``, ``"none"`` (one plain phase), a path to a YAML file with ``phases:``,
            a dict with ``phases`` or a list of phase mappings.
        overrides (dict[str, dict], optional): {phase name: {key: value}} merged into those phases.

    Returns:
        (Schedule): The validated schedule.

    Examples:
        >>> s = load_schedule("two-stage", {"warmup": {"epochs": 2}})
        >>> [(p.name, p.epochs, p.freeze) for p in s.phases]
        [('warmup', 2, 'all-but-attention'), ('finetune', 125, 'none')]
    """
    if isinstance(spec, (str, Path)):
        text = str(spec)
        if text == "none":
            data, name = {"phases": [{"name": "train", "epochs": 100}]}, "none"
        elif text in bundled_schedules():
            data, name = yaml.safe_load(bundled_schedules()[text].read_text()), text
        else:
            path = Path(text)
            if not path.is_file():
                known = [*bundled_schedules(), "none"]
                raise FileNotFoundError(
                    f"schedule '{text}' is neither a bundled schedule ({', '.join(known)}) nor a file."
                    f"{did_you_mean(text, known)}"
                )
            data, name = yaml.safe_load(path.read_text()), path.stem
    elif isinstance(spec, list):
        data, name = {"phases": spec}, "custom"
    elif isinstance(spec, dict):
        data, name = spec, str(spec.get("name", "custom"))
    else:
        raise ValueError(f"schedule must be a name, a path, a mapping or a list of phases, got {spec!r}")
    if not isinstance(data, dict) or not isinstance(data.get("phases"), list) or not data["phases"]:
        raise ValueError(f"schedule '{name}' must have a non-empty 'phases:' list")
    raw = copy.deepcopy(data["phases"])
    names = [p.get("name") if isinstance(p, dict) else None for p in raw]
    for phase_name, values in (overrides or {}).items():
        if phase_name not in names:
            raise ValueError(
                f"schedule '{name}' has no phase '{phase_name}'; phases: {', '.join(map(str, names))}."
                f"{did_you_mean(str(phase_name), [str(n) for n in names])}"
            )
        raw[names.index(phase_name)].update(values)
    phases = [Phase.from_dict(p, f"schedule '{name}'") for p in raw]
    duplicates = sorted({p.name for p in phases if names.count(p.name) > 1})
    if duplicates:
        raise ValueError(f"schedule '{name}': phase names must be unique, repeated: {', '.join(duplicates)}")
    return Schedule(name=str(data.get("name", name)), phases=phases)
