"""Plan a run once: the model, its start weights and the phases (a baseline phase first when there are no weights).

The plan is checked when it is made (every phase's freezing against the model) and saved in experiment.json as plain
data (`Plan.to_dict`), so a resumed run carries out exactly the plan it started with. Paths of files written into the
experiment folder are stored relative to it (the folder can be moved).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yolo_attention.arch.correspondence import layer_map
from yolo_attention.arch.yaml_edit import remove_attention
from yolo_attention.modules import MODULES
from yolo_attention.training.experiment import log
from yolo_attention.training.freeze import freeze_indices
from yolo_attention.training.schedule import Phase, load_schedule

__all__ = ["PRETRAIN", "Plan", "PlannedPhase", "make_plan", "with_attn_init", "with_dataset_classes"]

PRETRAIN = "pretrain"
# Overrides that tune the schedule's optimisation; the from-scratch baseline phase keeps Ultralytics' defaults.
SCHEDULE_ONLY = {
    "optimizer", "lr0", "lrf", "momentum", "weight_decay", "cos_lr", "epochs", "freeze",
    "warmup_epochs", "warmup_momentum", "warmup_bias_lr",
}  # fmt: skip


@dataclass
class PlannedPhase:
    """A phase of the plan: one of the schedule's, or the from-scratch baseline phase that trains its own model.

    Attributes:
        phase (Phase): What the phase trains and how.
        arch (str | None): The baseline phase's model YAML (the model without attention); None for the schedule's
            phases, which train the plan's model.
    """

    phase: Phase
    arch: str | None = None

    @property
    def name(self) -> str:
        """The phase's name (its folder and its entry in the experiment state)."""
        return self.phase.name

    @property
    def is_baseline(self) -> bool:
        """Whether this is the baseline phase (its weights then go into the attention model layer by layer)."""
        return self.arch is not None

    def to_dict(self) -> dict:
        """The phase mapping, with the baseline phase's ``arch`` added."""
        return {**self.phase.to_dict(), **({"arch": self.arch} if self.is_baseline else {})}

    @classmethod
    def from_dict(cls, data: dict) -> PlannedPhase:
        """Read a phase mapping saved by `to_dict` (checked again as a phase)."""
        return cls(Phase.from_dict({k: v for k, v in data.items() if k != "arch"}, "plan"), data.get("arch"))


@dataclass
class Plan:
    """What a run carries out, decided once before its first phase.

    Attributes:
        schedule (str): The schedule's name.
        arch (str): The model (YAML or checkpoint) the schedule's phases train; relative to the experiment folder when
            written into it.
        weights (str | None): Weights loaded into `arch` before the first schedule phase; None to train from scratch
            (or from `arch` itself when it is a checkpoint).
        phases (list[PlannedPhase]): The phases in order; the baseline phase first when there are no weights.

    Examples:
        >>> data = {"schedule": "none", "arch": "yolov8n.yaml", "weights": None,
        ...         "phases": [{"name": "train", "epochs": 3, "freeze": "none"}]}
        >>> plan = Plan.from_dict(data)
        >>> plan.phases[0].phase.epochs, plan.to_dict() == data
        (3, True)
    """

    schedule: str
    arch: str
    weights: str | None
    phases: list[PlannedPhase]

    def to_dict(self) -> dict:
        """The plan as plain data, as experiment.json stores it."""
        return {
            "schedule": self.schedule,
            "arch": self.arch,
            "weights": self.weights,
            "phases": [p.to_dict() for p in self.phases],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        """Read a plan saved by `to_dict` (the experiment.json of a run to resume)."""
        phases = [PlannedPhase.from_dict(p) for p in data["phases"]]
        return cls(data["schedule"], data["arch"], data["weights"], phases)


def with_dataset_classes(arch: str, data: str, folder: Path) -> str:
    """A model YAML whose `nc` is the dataset's, written beside the run when it differs.

    Ultralytics' trainer builds the model with the dataset's class count; a model built from a YAML with another
    `nc` and loaded with the weights would hand the trainer a head that does not fit, and the class logits of the
    pretrained (or pretrain-phase) weights would be dropped.
    """
    if not arch.endswith((".yaml", ".yml")):
        return arch
    from ultralytics.data.utils import check_det_dataset

    nc = check_det_dataset(data)["nc"]
    return _with_key(arch, "nc", nc, folder, f"with nc={nc} for {Path(data).name}")


def with_attn_init(arch: str, attn_init: str, folder: Path) -> str:
    """A model YAML carrying ``attn_init`` (how its attention layers start when weights are loaded into it).

    The weight transfer reads the key from the model's YAML, whether the weights are the pretrained checkpoint or the
    baseline phase's; a YAML that already says so is used as it is.
    """
    return _with_key(arch, "attn_init", attn_init, folder, f"with attn_init: {attn_init}")


def _with_key(arch: str, key: str, value, folder: Path, why: str) -> str:
    """`arch` if its YAML already has ``key: value``, else a copy that has, written into `folder` (same file name)."""
    from ultralytics.nn.tasks import yaml_model_load

    from yolo_attention.arch.model_yaml import write_model_yaml

    cfg = yaml_model_load(arch)
    if cfg.get(key) == value:
        return arch
    cfg[key] = value
    return str(write_model_yaml(cfg, folder / Path(arch).name, [f"{Path(arch).name} {why}"]))


def _warn_switches_that_match_nothing(model, phases: list[Phase]) -> None:
    """Log a warning for each phase switching attention kinds the model does not have (the switch does nothing)."""
    import copy

    from yolo_attention.modules import AttentionModule, set_attention

    net = copy.deepcopy(model.model)  # set_attention sets flags: count on a copy
    present = sorted({type(m).__name__ for m in net.modules() if isinstance(m, AttentionModule)})
    for phase in phases:
        named = {kind: on for kind, on in phase.attention.items() if kind != "all"}
        absent = [kind for kind, n in set_attention(net, named).items() if n == 0] if named else []
        if absent:
            log(
                f"phase '{phase.name}' switches {', '.join(absent)}, which the model does not have "
                f"(its attention: {', '.join(present) or 'none'}): that switch does nothing",
                warning=True,
            )


def make_plan(config: dict, exp, stage: str | None) -> Plan:
    """Decide the model, the start weights and the phases; model YAMLs it writes go into the experiment's configs/.

    Args:
        config (dict): The resolved master configuration.
        exp (Experiment): The new experiment (its configs/ folder, and paths relative to it).
        stage (str, optional): Plan only this phase of the schedule.

    Returns:
        (Plan): The plan; paths inside the experiment folder are relative to it.

    Raises:
        ValueError: If a phase freezes layers the model does not have.
    """
    from ultralytics import YOLO
    from ultralytics.nn.tasks import yaml_model_load

    from yolo_attention.arch.insert import insert
    from yolo_attention.arch.model_yaml import write_model_yaml

    model_cfg = config["model"]
    strategy = dict(config["training_strategy"])
    schedule = load_schedule(strategy.pop("schedule"), strategy)
    arch, weights = str(model_cfg["config_path"]), model_cfg["weights"]
    configs = exp.root / "configs"
    if model_cfg["attention_mechanism"]:
        inserted = insert(
            arch, model_cfg["attention_mechanism"], where=model_cfg["where"], attn_init=model_cfg["attn_init"],
            save_dir=configs,
        )  # fmt: skip
        if arch.endswith(".pt") and not weights:
            weights = arch  # the baseline checkpoint's weights go into the new model
        arch = str(inserted.cfg)
    elif model_cfg["attn_init"] and arch.endswith((".yaml", ".yml")):
        arch = with_attn_init(arch, model_cfg["attn_init"], configs)
    arch = with_dataset_classes(arch, str(config["data"]["config_path"]), configs)
    phases = [schedule.phase(stage)] if stage is not None else schedule.phases
    plan = Plan(schedule.name, exp.rel(arch), str(weights) if weights else None, [])
    has_weights = bool(weights) or arch.endswith(".pt")
    model = YOLO(arch, verbose=False)
    attention = layer_map(model).attention
    _warn_switches_that_match_nothing(model, phases)
    freezes = any(p.freeze not in (None, False, "none", 0, []) for p in phases)
    # A schedule whose first phase trains with all attention off trains the baseline itself (four-phase's phase1)
    trains_baseline_first = bool(phases) and phases[0].attention.get("all") is False
    if not has_weights and attention and schedule.name != "none" and not trains_baseline_first:
        epochs = int(model_cfg["pretrain_epochs"] or 0)
        if epochs > 0:
            cfg = yaml_model_load(arch)
            base_cfg = remove_attention(cfg, list(MODULES))
            base_cfg["scale"] = cfg.get("scale")
            base_path = write_model_yaml(base_cfg, configs / f"{Path(arch).stem}-baseline.yaml")
            log(
                f"no pretrained weights (model.weights / pretrained=): freezing a random backbone is pointless, so "
                f"phase '{PRETRAIN}' first trains the baseline without attention ({base_path.name}) for {epochs} "
                "epochs on the same data; its weights then go into the attention model layer by layer"
            )
            ignored = sorted(SCHEDULE_ONLY & set(config["overrides"]))
            if ignored:
                log(
                    f"overrides {', '.join(ignored)} apply to the schedule's phases, not to phase '{PRETRAIN}' "
                    "(the baseline trains with Ultralytics' defaults)"
                )
            plan.phases.append(PlannedPhase(Phase(PRETRAIN, epochs, freeze="none"), exp.rel(base_path)))
        elif freezes:
            log("no pretrained weights and model.pretrain_epochs=0: the frozen backbone is random", warning=True)
    for phase in phases:
        try:  # an index out of range fails now, not hours later when its phase starts
            freeze_indices(model, config["overrides"].get("freeze", phase.freeze))
        except ValueError as e:
            raise ValueError(f"phase '{phase.name}': {e}") from None
        plan.phases.append(PlannedPhase(phase))
    return plan
