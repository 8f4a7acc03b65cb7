"""Run a staged experiment phase by phase through Ultralytics' own training, and resume an interrupted one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
import yaml

from yolo_attention.arch.correspondence import layer_map
from yolo_attention.training.callbacks import EarlyStopping, TensorBoardLog, kill_point, phase_callbacks
from yolo_attention.training.config import apply_overrides, load_config, train_args
from yolo_attention.training.evaluation import evaluate, results_table, same_classes
from yolo_attention.training.experiment import Experiment, copy_atomic, read_results
from yolo_attention.training.freeze import freeze_indices
from yolo_attention.training.plan import PRETRAIN, SCHEDULE_ONLY, make_plan
from yolo_attention.training.recovery import checkpoint_epoch, recover_phase, trim_results
from yolo_attention.training.schedule import Phase, load_schedule
from yolo_attention.training.trainer import trainer_for
from yolo_attention.training.values import check_run

__all__ = ["train", "run_experiment", "resume_experiment"]


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


def _start_model(exp: Experiment, plan: dict, index: int):
    """The YOLO model a phase starts from: the previous phase's carried weights, or the plan's start."""
    from ultralytics import YOLO

    entry = plan["phases"][index]
    if "arch" in entry:  # the baseline phase
        return YOLO(str(exp.path(entry["arch"])))
    arch = str(exp.path(plan["arch"]))
    if index > 0:
        previous = plan["phases"][index - 1]["name"]
        checkpoint = str(exp.path(exp.phase_state(previous)["checkpoint"]))
        if previous == PRETRAIN:  # baseline weights into the attention model, layer by layer
            return YOLO(arch).load(checkpoint)
        return YOLO(checkpoint)
    model = YOLO(arch)
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


def _phase_args(config: dict, phase: Phase) -> dict:
    """The phase's Ultralytics arguments: shared environment, the phase's own, then the global overrides.

    The from-scratch baseline phase takes no schedule-tuning overrides (lr0, optimizer ...): they are the schedule's.
    """
    overrides = config["overrides"]
    if phase.name == PRETRAIN:
        overrides = {k: v for k, v in overrides.items() if k not in SCHEDULE_ONLY}
    args = {**train_args(config), **phase.train_args, **overrides}
    if config["early_stopping"]["enabled"]:  # the plugin's early stopping replaces Ultralytics' own
        args.pop("patience", None)
    return args


def _train_phase(exp: Experiment, config: dict, plan: dict, index: int, recovery) -> None:
    from ultralytics import YOLO

    phase = _phase(plan["phases"][index])
    state, save_dir = exp.phase_state(phase.name), exp.phase_dir(phase.name)
    if recovery.mode == "resume":
        _log(f"resuming phase '{phase.name}' from {exp.rel(recovery.checkpoint)} (epoch {recovery.epoch + 1})")
        trim_results(save_dir / "results.csv", recovery.epoch + 1)  # an older checkpoint redoes the later epochs
        model = YOLO(str(recovery.checkpoint))
    else:
        if save_dir.exists():  # a phase interrupted before its first readable checkpoint starts again, cleanly
            shutil.rmtree(save_dir)
        model = _start_model(exp, plan, index)
    args = _phase_args(config, phase)
    frozen = freeze_indices(model, args.get("freeze", phase.freeze))
    frozen_attention = sorted(set(frozen) & set(layer_map(model).attention))
    if frozen_attention:
        _log(f"phase '{phase.name}': freeze={phase.freeze} freezes attention layers {frozen_attention}", True)
    stopper = _early_stopping(config, read_results(save_dir / "results.csv") if recovery.mode == "resume" else [])
    for event, callback in phase_callbacks(phase, stopper):
        model.add_callback(event, callback)
    if TensorBoardLog.available():
        before = sum(int(p.get("epochs") or 0) for p in exp.state["phases"][: exp.state["phases"].index(state)])
        model.add_callback("on_fit_epoch_end", TensorBoardLog(exp.root / "tensorboard", phase.name, before))
    args.update(
        data=str(config["data"]["config_path"]),
        epochs=args.get("epochs", phase.epochs),
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
        save_dir=exp.rel(save_dir),
    )
    exp.save()
    _log(f"phase '{phase.name}': {args['epochs']} epochs, freeze {frozen or 'none'}. {phase.description}")
    trainer = trainer_for(model.task)
    if recovery.mode == "resume":  # save_dir: the folder may have moved since the checkpoint was written
        model.train(resume=True, trainer=trainer, save_dir=str(save_dir))
    else:
        model.train(trainer=trainer, **args)
    state["early_stopped"] = bool(stopper and stopper.stopped_epoch)


def _run_phase(exp: Experiment, config: dict, plan: dict, index: int) -> None:
    phase = _phase(plan["phases"][index])
    state, weights = exp.phase_state(phase.name), exp.phase_dir(phase.name) / "weights"
    recovery = recover_phase(state["status"], weights, state.get("epochs"))
    for path in recovery.unreadable or []:
        _log(f"phase '{phase.name}': {exp.rel(path)} is unreadable (killed while saving?); not resuming from it", True)
    if recovery.mode != "finished":
        _train_phase(exp, config, plan, index, recovery)
    carried = weights / f"{phase.carry}.pt"
    if checkpoint_epoch(carried) is None:  # missing or truncated: the newest readable one
        carried = recover_phase("running", weights, None).checkpoint
    if carried is None:
        raise RuntimeError(f"phase '{phase.name}' left no readable checkpoint in {weights}")
    checkpoint = exp.root / "checkpoints" / f"{phase.name}_complete.pt"
    copy_atomic(carried, checkpoint)
    label = f"after {phase.name}"
    after = _evaluate(exp, config, label, checkpoint, epochs=len(read_results(weights.parent / "results.csv")))
    before = _row_before(exp.state["evaluation"], label)
    if before is not None:  # what the phase did to the model it started from
        _log(f"{phase.name}: mAP50 {before['mAP50']:.4f} -> {after['mAP50']:.4f} (held-out, from '{before['model']}')")
    state.update(status="done", checkpoint=exp.rel(checkpoint))
    exp.save()
    kill_point(phase.name, "phase_done")


def _evaluate(exp: Experiment, config: dict, label: str, weights, epochs: int | None = None, model=None) -> dict:
    """Validate a model on the held-out split and record the row (replacing one of the same label)."""
    from ultralytics import YOLO

    model = model if model is not None else YOLO(str(weights))
    metrics = evaluate(model, config, exp.root / "eval" / label.replace(" ", "_"))
    row = {"model": label, "epochs": epochs, **metrics}
    rows = [r for r in exp.state.setdefault("evaluation", []) if r["model"] != label]
    exp.state["evaluation"] = [*rows, row]
    exp.save()
    _log(f"held-out mAP50 {metrics['mAP50']:.4f}, mAP50-95 {metrics['mAP50-95']:.4f}: {label}")
    return metrics


def _row_before(rows: list[dict], label: str) -> dict | None:
    """The evaluation row of the model a phase started from: the last one recorded before its own row."""
    labels = [r["model"] for r in rows]
    index = labels.index(label)
    previous = [r for r in rows[:index] if r["model"] != "pretrained"] or rows[:index]
    return previous[-1] if previous else None


def _evaluate_start(exp: Experiment, config: dict, plan: dict) -> None:
    """Before training: the pretrained model and the model right after transfer, which must score the same."""
    from ultralytics import YOLO

    done = {r["model"] for r in exp.state.get("evaluation", [])}
    first = plan["phases"][0]
    if not plan["weights"] or "arch" in first or "pretrained" in done:
        return
    if exp.phase_state(first["name"])["status"] != "pending":  # resumed after training started
        return
    pretrained = YOLO(plan["weights"])
    if not same_classes(pretrained, str(config["data"]["config_path"])):
        _log(f"{Path(plan['weights']).name} predicts other classes than the data: no held-out mAP before training")
        return
    before = _evaluate(exp, config, "pretrained", None, model=pretrained)
    after = _evaluate(exp, config, "after transfer", None, model=_start_model(exp, plan, 0))
    if before != after:
        _log(f"the transferred model scores {after} but the pretrained one {before}: the transfer is not exact", True)


def _finish(exp: Experiment, config: dict, plan: dict) -> None:
    last_phase = exp.phase_state(plan["phases"][-1]["name"])
    final = exp.root / "checkpoints" / "final_model.pt"
    copy_atomic(exp.path(last_phase["checkpoint"]), final)
    exp.state["final_model"] = exp.rel(final)
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


def _info(exp: Experiment, config: dict, plan: dict) -> dict:
    arch = str(exp.path(plan["arch"]))
    return {
        "name": config["project"]["experiment_name"],
        "project": config["project"]["name"],
        "model_architecture": Path(arch).name,
        "attention_mechanism": config["model"]["attention_mechanism"] or _attention_in(arch),
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
    _evaluate_start(exp, config, plan)
    for index, entry in enumerate(plan["phases"]):
        if exp.phase_state(entry["name"])["status"] != "done":
            _run_phase(exp, config, plan, index)
            exp.write_summary(_info(exp, config, plan))
    _finish(exp, config, plan)
    exp.write_summary(_info(exp, config, plan))
    _log(f"experiment done: {exp.root}\nheld-out results (data val split)\n" + results_table(exp.state["evaluation"]))
    return exp.root


def run_experiment(config: dict, stage: str | None = None) -> Path:
    """Run every phase of a resolved configuration (or only `stage`) in a new experiment folder.

    Every value is checked (`values.check_run`) before the folder is made.

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
    phases = [schedule.phase(stage)] if stage is not None else schedule.phases
    from ultralytics.data.utils import check_det_dataset

    check_det_dataset(str(config["data"]["config_path"]))
    check_run(config, phases)
    exp = Experiment.create(config["project"]["output_dir"], config["project"]["experiment_name"])
    (exp.root / "configs" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    try:
        with exp.logging_to_file():
            _log(f"experiment {exp.root}")
            plan = make_plan(config, exp, stage)
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
    """Continue an interrupted experiment: finished phases are kept, the running one resumes where it can.

    The phase in progress continues from its newest readable checkpoint; the folder may have been moved.

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
