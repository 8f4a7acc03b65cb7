"""Run a staged experiment phase by phase through Ultralytics' own training, and resume an interrupted one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
import yaml

from yolo_attention.arch.correspondence import layer_map
from yolo_attention.arch.yaml_edit import remove_attention
from yolo_attention.modules import MODULES
from yolo_attention.training.callbacks import EarlyStopping, TensorBoardLog, phase_callbacks
from yolo_attention.training.config import apply_overrides, load_config, train_args
from yolo_attention.training.experiment import Experiment, read_results
from yolo_attention.training.freeze import freeze_indices
from yolo_attention.training.schedule import Phase, load_schedule
from yolo_attention.training.trainer import trainer_for

__all__ = ["train", "run_experiment", "resume_experiment"]

PRETRAIN = "pretrain"


def _log(message: str, warning: bool = False) -> None:
    from ultralytics.utils import LOGGER

    (LOGGER.warning if warning else LOGGER.info)(f"yolo-attention: {message}")


def _versions() -> dict:
    import ultralytics

    import yolo_attention

    return {
        "ultralytics": ultralytics.__version__,
        "torch": torch.__version__,
        "yolo_attention": yolo_attention.__version__,
    }


def _plan(config: dict, exp: Experiment, stage: str | None) -> dict:
    """Decide the model, the start weights and the phases (adding a baseline phase when there are no weights)."""
    from ultralytics import YOLO
    from ultralytics.nn.tasks import yaml_model_load

    from yolo_attention.arch.insert import insert
    from yolo_attention.arch.model_yaml import write_model_yaml

    model_cfg = config["model"]
    strategy = dict(config["training_strategy"])
    schedule = load_schedule(strategy.pop("schedule"), strategy)
    arch, weights = str(model_cfg["config_path"]), model_cfg["weights"]
    if model_cfg["attention_mechanism"]:
        inserted = insert(
            arch,
            model_cfg["attention_mechanism"],
            where=model_cfg["where"],
            attn_init=model_cfg["attn_init"],
            save_dir=exp.root / "configs",
        )
        if arch.endswith(".pt") and not weights:
            weights = arch  # the baseline checkpoint's weights go into the new model
        arch = str(inserted.cfg)
    arch = _with_dataset_classes(arch, str(config["data"]["config_path"]), exp.root / "configs")
    phases = schedule.phases
    if stage is not None:
        phases = [schedule.phase(stage)]
    plan = {"schedule": schedule.name, "arch": arch, "weights": str(weights) if weights else None, "phases": []}
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
            base_path = write_model_yaml(base_cfg, exp.root / "configs" / f"{Path(arch).stem}-baseline.yaml")
            _log(
                f"no pretrained weights (model.weights / pretrained=): freezing a random backbone is pointless, so "
                f"phase '{PRETRAIN}' first trains the baseline without attention ({base_path.name}) for {epochs} "
                "epochs on the same data; its weights then go into the attention model layer by layer"
            )
            plan["phases"].append({"name": PRETRAIN, "epochs": epochs, "freeze": "none", "arch": str(base_path)})
        elif freezes:
            _log("no pretrained weights and model.pretrain_epochs=0: the frozen backbone is random", warning=True)
    for phase in phases:
        try:  # an index out of range fails now, not hours later when its phase starts
            freeze_indices(model, config["overrides"].get("freeze", phase.freeze))
        except ValueError as e:
            raise ValueError(f"phase '{phase.name}': {e}") from None
        plan["phases"].append(phase.to_dict())
    return plan


def _with_dataset_classes(arch: str, data: str, folder: Path) -> str:
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


def _start_model(exp: Experiment, plan: dict, index: int):
    """The YOLO model a phase starts from: the previous phase's carried weights, or the plan's start."""
    from ultralytics import YOLO

    entry = plan["phases"][index]
    if "arch" in entry:  # the baseline phase
        return YOLO(entry["arch"])
    previous = [p for p in plan["phases"][:index]]
    if previous:
        prev = exp.phase_state(previous[-1]["name"])
        if previous[-1]["name"] == PRETRAIN:  # baseline weights into the attention model, layer by layer
            return YOLO(plan["arch"]).load(prev["checkpoint"])
        return YOLO(prev["checkpoint"])
    model = YOLO(plan["arch"])
    if plan["weights"]:
        model.load(plan["weights"])
    return model


def _phase(entry: dict) -> Phase:
    return Phase.from_dict({k: v for k, v in entry.items() if k != "arch"}, "plan")


def _early_stopping(config: dict, rows: list[dict]) -> EarlyStopping | None:
    settings = config["early_stopping"]
    if not settings["enabled"]:
        return None
    stopper = EarlyStopping(settings["monitor"], settings["patience"], settings["min_delta"])
    for i, row in enumerate(rows):  # a resumed phase continues from what results.csv recorded
        if stopper.key in row:
            stopper.update(i + 1, row[stopper.key])
    return stopper


def _phase_mode(state: dict, last: Path) -> str:
    """fresh: start the phase; resume: continue from last.pt; finished: training ended, bookkeeping did not."""
    if state["status"] != "running" or not last.is_file():
        return "fresh"
    epoch = torch.load(last, map_location="cpu", weights_only=False).get("epoch", -1)
    return "finished" if epoch == -1 else "resume"  # Ultralytics strips a finished run's last.pt to epoch -1


def _run_phase(exp: Experiment, config: dict, plan: dict, index: int) -> None:
    from ultralytics import YOLO

    phase = _phase(plan["phases"][index])
    state = exp.phase_state(phase.name)
    save_dir = exp.phase_dir(phase.name)
    last = save_dir / "weights" / "last.pt"
    mode = _phase_mode(state, last)
    if mode != "finished":
        if mode == "resume":
            _log(f"resuming phase '{phase.name}' from {last}")
            model = YOLO(str(last))
        else:
            if save_dir.exists():  # a phase interrupted before its first checkpoint starts again, cleanly
                shutil.rmtree(save_dir)
            model = _start_model(exp, plan, index)
        frozen = freeze_indices(model, config["overrides"].get("freeze", phase.freeze))
        frozen_attention = sorted(set(frozen) & set(layer_map(model).attention))
        if frozen_attention:
            _log(f"phase '{phase.name}': freeze={phase.freeze} freezes attention layers {frozen_attention}", True)
        stopper = _early_stopping(config, read_results(save_dir / "results.csv") if mode == "resume" else [])
        for event, callback in phase_callbacks(phase, stopper):
            model.add_callback(event, callback)
        if TensorBoardLog.available():
            before = sum(int(p.get("epochs") or 0) for p in exp.state["phases"][: exp.state["phases"].index(state)])
            model.add_callback("on_fit_epoch_end", TensorBoardLog(exp.root / "tensorboard", phase.name, before))
        args = {**train_args(config), **phase.train_args, **config["overrides"]}
        args.update(
            data=str(config["data"]["config_path"]),
            epochs=config["overrides"].get("epochs", phase.epochs),
            freeze=frozen or None,
            project=str(exp.root),
            name=phase.name,
            exist_ok=True,
        )
        state.update(
            status="running",
            epochs=args["epochs"],
            frozen_layers=frozen,
            optimizer=args.get("optimizer", "auto"),
            lr0=args.get("lr0"),
            attention=phase.attention,
            save_dir=str(save_dir),
        )
        exp.save()
        _log(f"phase '{phase.name}': {args['epochs']} epochs, freeze {frozen or 'none'}. {phase.description}")
        trainer = trainer_for(model.task)
        if mode == "resume":
            model.train(resume=True, trainer=trainer)
        else:
            model.train(trainer=trainer, **args)
        state["early_stopped"] = bool(stopper and stopper.stopped_epoch)
    carried = save_dir / "weights" / f"{phase.carry}.pt"
    checkpoint = exp.root / "checkpoints" / f"{phase.name}_complete.pt"
    shutil.copy2(carried if carried.is_file() else last, checkpoint)
    state.update(status="done", checkpoint=str(checkpoint))
    exp.save()


def _finish(exp: Experiment, config: dict, plan: dict) -> None:

    last_phase = exp.phase_state(plan["phases"][-1]["name"])
    final = exp.root / "checkpoints" / "final_model.pt"
    shutil.copy2(last_phase["checkpoint"], final)
    exp.state["final_model"] = str(final)
    formats = list(config["export"]["formats"])
    if formats:
        from yolo_attention.export import export_and_verify

        reports = export_and_verify(
            str(final), formats, imgsz=config["environment"]["imgsz"], out_dir=exp.root / "models"
        )
        failed = [r for r in reports if not r.passed]
        for report in reports:
            _log(f"export {report.line()}")
        if failed:
            raise ValueError(f"export verification failed: {failed[0].line()}")
    exp.save()


def _info(config: dict, plan: dict) -> dict:
    return {
        "name": config["project"]["experiment_name"],
        "project": config["project"]["name"],
        "model_architecture": Path(plan["arch"]).name,
        "attention_mechanism": config["model"]["attention_mechanism"] or _attention_in(plan["arch"]),
        "schedule": plan["schedule"],
        "pretrained_weights": plan["weights"],
        "data": str(config["data"]["config_path"]),
        "seed": config["environment"]["seed"],
        "versions": _versions(),
    }


def _attention_in(arch: str) -> list[str]:
    from ultralytics import YOLO

    model = YOLO(arch, verbose=False)
    return sorted({type(model.model.model[i]).__name__ for i in layer_map(model).attention})


def _execute(exp: Experiment, config: dict, plan: dict) -> Path:
    for index, entry in enumerate(plan["phases"]):
        if exp.phase_state(entry["name"])["status"] != "done":
            _run_phase(exp, config, plan, index)
            exp.write_summary(_info(config, plan))
    _finish(exp, config, plan)
    summary = json.loads(exp.write_summary(_info(config, plan)).read_text())
    lines = [f"{'phase':<12}{'epochs':>8}{'best mAP50':>12}{'best mAP50-95':>15}  checkpoint"]
    for p in summary["phases"]:
        best50, best = p["best_mAP50"], p["best_mAP50-95"]
        fmt = lambda v: f"{v:.4f}" if v is not None else "-"  # noqa: E731
        lines.append(
            f"{p['name']:<12}{p['epochs_run']:>8}{fmt(best50):>12}{fmt(best):>15}  {Path(p['checkpoint']).name}"
        )
    _log(f"experiment done: {exp.root}\n" + "\n".join(lines))
    return exp.root


def run_experiment(config: dict, stage: str | None = None) -> Path:
    """Run every phase of a resolved configuration (or only `stage`) in a new experiment folder.

    Returns:
        (Path): The experiment folder.
    """
    schedule_name = config["training_strategy"]["schedule"]
    if not config["project"]["experiment_name"]:
        stem = Path(str(config["model"]["config_path"])).stem
        attn = config["model"]["attention_mechanism"]
        tag = Path(str(schedule_name)).stem if isinstance(schedule_name, (str, Path)) else "custom"
        config["project"]["experiment_name"] = f"{stem}{'-' + str(attn).lower() if attn else ''}_{tag}"
    strategy = dict(config["training_strategy"])  # check the schedule and the stage before making any folder
    schedule = load_schedule(strategy.pop("schedule"), strategy)
    if stage is not None:
        schedule.phase(stage)
    from ultralytics.data.utils import check_det_dataset

    check_det_dataset(str(config["data"]["config_path"]))
    model_path = str(config["model"]["config_path"])
    if model_path.endswith(".pt"):
        if not Path(model_path).is_file():
            raise FileNotFoundError(f"model checkpoint '{model_path}' does not exist")
    else:
        from ultralytics.nn.tasks import yaml_model_load

        yaml_model_load(model_path)  # a misspelt model name fails here, with a suggestion
    exp = Experiment.create(config["project"]["output_dir"], config["project"]["experiment_name"])
    (exp.root / "configs" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    try:
        with exp.logging_to_file():
            _log(f"experiment {exp.root}")
            plan = _plan(config, exp, stage)
    except Exception:
        shutil.rmtree(exp.root, ignore_errors=True)  # nothing ran: leave no half-made experiment behind
        raise
    with exp.logging_to_file():
        exp.state.update(plan=plan, config=config, stage=stage)
        for entry in plan["phases"]:
            exp.phase_state(entry["name"])
        exp.save()
        return _execute(exp, config, plan)


def resume_experiment(path: str | Path) -> Path:
    """Continue an interrupted experiment: finished phases are kept, the phase in progress resumes from its last.pt.

    Returns:
        (Path): The experiment folder.
    """
    exp = Experiment.open(path)
    if "plan" not in exp.state:
        raise ValueError(f"'{path}' was interrupted before its plan was saved; start it again")
    done = [p["name"] for p in exp.state["phases"] if p["status"] == "done"]
    with exp.logging_to_file():
        _log(f"resuming {exp.root}: done {', '.join(done) or 'nothing yet'}")
        return _execute(exp, exp.state["config"], exp.state["plan"])


def train(model=None, data=None, schedule=None, config=None, stage=None, resume=None, **overrides) -> Path:
    """Train with a staged schedule in an experiment folder; the Python twin of `yolo-attn train`.

    Args:
        model (str, optional): Model YAML or checkpoint (default from the configuration: yolov8n-cbam.yaml).
        data (str, optional): Dataset YAML (default pcb-mini.yaml).
        schedule (str | Path | dict | list, optional): ``two-stage`` (default), ``four-phase``, ``none``, a YAML
            path, or the phases themselves.
        config (str | Path, optional): Master configuration file (see yolo_attention/configs/example.yaml).
        stage (str, optional): Run only this phase.
        resume (str | Path, optional): An interrupted experiment folder to continue.
        **overrides: Ultralytics-style keys (``imgsz=320``, ``pretrained="yolov8n.pt"``, ``lr0=0.01``) and dotted
            configuration keys (``{"training_strategy.warmup.epochs": 5}``).

    Returns:
        (Path): The experiment folder.

    Examples:
        >>> import yolo_attention
        >>> yolo_attention.train("yolov8n-cbam.yaml", data="pcb-mini.yaml", pretrained="yolov8n.pt")  # doctest: +SKIP
    """
    if resume:
        return resume_experiment(resume)
    cfg = load_config(config)
    given = {"model": model, "data": data, "schedule": schedule}
    values = {**{k: v for k, v in given.items() if v is not None}, **overrides}
    cfg = apply_overrides(cfg, {k: str(v) if isinstance(v, Path) else v for k, v in values.items()})
    json.dumps(cfg, default=str)  # a configuration must be plain data: it is saved with the run
    return run_experiment(cfg, stage=stage)
