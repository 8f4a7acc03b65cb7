"""Plan a run once: the model, its start weights and the phases (a baseline phase first when there are no weights).

The plan is plain data saved in experiment.json, so a resumed run carries out exactly the plan it started with.
Paths of files written into the experiment folder are stored relative to it (the folder can be moved).
"""

from __future__ import annotations

from pathlib import Path

from yolo_attention.arch.correspondence import layer_map
from yolo_attention.arch.yaml_edit import remove_attention
from yolo_attention.modules import MODULES
from yolo_attention.training.freeze import freeze_indices
from yolo_attention.training.schedule import load_schedule

__all__ = ["PRETRAIN", "make_plan", "with_dataset_classes"]

PRETRAIN = "pretrain"
# Overrides that tune the schedule's optimisation; the from-scratch baseline phase keeps Ultralytics' defaults.
SCHEDULE_ONLY = {
    "optimizer", "lr0", "lrf", "momentum", "weight_decay", "cos_lr", "epochs", "freeze",
    "warmup_epochs", "warmup_momentum", "warmup_bias_lr",
}  # fmt: skip


def _log(message: str, warning: bool = False) -> None:
    from ultralytics.utils import LOGGER

    (LOGGER.warning if warning else LOGGER.info)(f"yolo-attention: {message}")


def with_dataset_classes(arch: str, data: str, folder: Path) -> str:
    """A model YAML whose `nc` is the dataset's, written beside the run when it differs.

    Ultralytics' trainer builds the model with the dataset's class count; a model built from a YAML with another
    `nc` and loaded with the weights would hand the trainer a head that does not fit, and the class logits of the
    pretrained (or pretrain-phase) weights would be dropped.
    """
    if not arch.endswith((".yaml", ".yml")):
        return arch
    from ultralytics.data.utils import check_det_dataset
    from ultralytics.nn.tasks import yaml_model_load

    from yolo_attention.arch.model_yaml import write_model_yaml

    nc = check_det_dataset(data)["nc"]
    cfg = yaml_model_load(arch)
    if cfg.get("nc") == nc:
        return arch
    cfg["nc"] = nc
    path = write_model_yaml(cfg, folder / Path(arch).name, [f"{Path(arch).name} with nc={nc} for {Path(data).name}"])
    return str(path)


def make_plan(config: dict, exp, stage: str | None) -> dict:
    """Decide the model, the start weights and the phases; model YAMLs it writes go into the experiment's configs/.

    Returns:
        (dict): ``{"schedule", "arch", "weights", "phases": [phase mappings]}``; the baseline phase carries its own
            ``arch``. Paths inside the experiment folder are relative to it.
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
    arch = with_dataset_classes(arch, str(config["data"]["config_path"]), configs)
    phases = [schedule.phase(stage)] if stage is not None else schedule.phases
    plan = {"schedule": schedule.name, "arch": exp.rel(arch), "weights": str(weights) if weights else None}
    plan["phases"] = []
    has_weights = bool(weights) or arch.endswith(".pt")
    model = YOLO(arch, verbose=False)
    attention = layer_map(model).attention
    freezes = any(p.freeze not in (None, False, "none", 0, []) for p in phases)
    if not has_weights and attention and schedule.name != "none":
        epochs = int(model_cfg["pretrain_epochs"] or 0)
        if epochs > 0:
            cfg = yaml_model_load(arch)
            base_cfg = remove_attention(cfg, list(MODULES))
            base_cfg["scale"] = cfg.get("scale")
            base_path = write_model_yaml(base_cfg, configs / f"{Path(arch).stem}-baseline.yaml")
            _log(
                f"no pretrained weights (model.weights / pretrained=): freezing a random backbone is pointless, so "
                f"phase '{PRETRAIN}' first trains the baseline without attention ({base_path.name}) for {epochs} "
                "epochs on the same data; its weights then go into the attention model layer by layer"
            )
            ignored = sorted(SCHEDULE_ONLY & set(config["overrides"]))
            if ignored:
                _log(
                    f"overrides {', '.join(ignored)} apply to the schedule's phases, not to phase '{PRETRAIN}' "
                    "(the baseline trains with Ultralytics' defaults)"
                )
            plan["phases"].append({"name": PRETRAIN, "epochs": epochs, "freeze": "none", "arch": exp.rel(base_path)})
        elif freezes:
            _log("no pretrained weights and model.pretrain_epochs=0: the frozen backbone is random", warning=True)
    for phase in phases:
        try:  # an index out of range fails now, not hours later when its phase starts
            freeze_indices(model, config["overrides"].get("freeze", phase.freeze))
        except ValueError as e:
            raise ValueError(f"phase '{phase.name}': {e}") from None
        plan["phases"].append(phase.to_dict())
    return plan
