"""One phase of a run: the model it starts from, its Ultralytics arguments, training it, and the weights it hands on.

A phase trains through Ultralytics' own `YOLO.train` in its folder `<experiment>/<phase>/`; a phase killed part-way
continues from its newest readable checkpoint (`recovery.py`). When it is done, its carried weights (``last`` or
``best``) are copied to checkpoints/<phase>_complete.pt, the next phase's start, and measured on the held-out split.
"""

from __future__ import annotations

import shutil

from yolo_attention.arch.correspondence import layer_map
from yolo_attention.training.callbacks import EarlyStopping, TensorBoardLog, kill_point, phase_callbacks
from yolo_attention.training.config import train_args
from yolo_attention.training.evaluation import evaluate_and_record, row_before
from yolo_attention.training.experiment import Experiment, copy_atomic, log, read_results
from yolo_attention.training.freeze import freeze_indices
from yolo_attention.training.plan import SCHEDULE_ONLY, Plan, PlannedPhase
from yolo_attention.training.recovery import PhaseRecovery, checkpoint_epoch, recover_phase, trim_results
from yolo_attention.training.switch_on import gate_layers_switched_on
from yolo_attention.training.trainer import trainer_for

__all__ = ["phase_args", "run_phase", "start_model"]


def start_model(exp: Experiment, plan: Plan, index: int):
    """The `YOLO` model phase `index` starts from: the previous phase's carried weights, or the plan's start.

    The first schedule phase starts from the plan's model with the plan's weights transferred into it; after the
    baseline phase, the baseline's weights go into the attention model layer by layer.
    """
    from ultralytics import YOLO

    planned = plan.phases[index]
    if planned.is_baseline:
        return YOLO(str(exp.path(planned.arch)))
    arch = str(exp.path(plan.arch))
    if index > 0:
        previous = plan.phases[index - 1]
        checkpoint = str(exp.phase_checkpoint(previous.name))
        if previous.is_baseline:
            return YOLO(arch).load(checkpoint)
        return YOLO(checkpoint)
    model = YOLO(arch)
    if plan.weights:
        model.load(plan.weights)
    return model


def phase_args(config: dict, planned: PlannedPhase) -> dict:
    """The phase's Ultralytics arguments: shared environment, the phase's own, then the global overrides.

    The from-scratch baseline phase takes no schedule-tuning overrides (lr0, optimizer ...): they are the schedule's.
    """
    overrides = config["overrides"]
    if planned.is_baseline:
        overrides = {k: v for k, v in overrides.items() if k not in SCHEDULE_ONLY}
    args = {**train_args(config), **planned.phase.train_args, **overrides}
    if config["early_stopping"]["enabled"]:  # the plugin's early stopping replaces Ultralytics' own
        args.pop("patience", None)
    return args


def _early_stopping(config: dict, rows: list[dict]) -> EarlyStopping | None:
    settings = config["early_stopping"]
    if not settings["enabled"]:
        return None
    stopper = EarlyStopping(settings["monitor"], settings["patience"], settings["min_delta"])
    for i, row in enumerate(rows):  # a resumed phase continues from what results.csv recorded
        if stopper.key in row:
            stopper.update(i + 1, row[stopper.key])
    return stopper


def _train(exp: Experiment, plan: Plan, index: int, recovery: PhaseRecovery, start=None) -> None:
    """Train phase `index` through Ultralytics, fresh from its start model (`start` when given) or resumed."""
    from ultralytics import YOLO

    planned = plan.phases[index]
    phase, config = planned.phase, exp.config
    state, save_dir = exp.phase_state(phase.name), exp.phase_dir(phase.name)
    if recovery.mode == "resume":
        log(f"resuming phase '{phase.name}' from {exp.rel(recovery.checkpoint)} (epoch {recovery.epoch + 1})")
        trim_results(save_dir / "results.csv", recovery.epoch + 1)  # an older checkpoint redoes the later epochs
        model = YOLO(str(recovery.checkpoint))
    else:
        if save_dir.exists():  # a phase interrupted before its first readable checkpoint starts again, cleanly
            shutil.rmtree(save_dir)
        model = start if start is not None else start_model(exp, plan, index)
        if not planned.is_baseline:
            gated = gate_layers_switched_on(model.model, phase.attention or {})
            if gated:
                log(f"phase '{phase.name}': attention layers {gated} switched on from off start as identity (gate 0)")
    args = phase_args(config, planned)
    frozen = freeze_indices(model, args.get("freeze", phase.freeze))
    frozen_attention = sorted(set(frozen) & set(layer_map(model).attention))
    if frozen_attention:
        log(f"phase '{phase.name}': freeze={phase.freeze} freezes attention layers {frozen_attention}", True)
    stopper = _early_stopping(config, read_results(save_dir / "results.csv") if recovery.mode == "resume" else [])
    for event, callback in phase_callbacks(phase, stopper):
        model.add_callback(event, callback)
    if TensorBoardLog.available():
        before = exp.epochs_before(phase.name)
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
    log(f"phase '{phase.name}': {args['epochs']} epochs, freeze {frozen or 'none'}. {phase.description}")
    trainer = trainer_for(model.task)
    if recovery.mode == "resume":  # save_dir: the folder may have moved since the checkpoint was written
        model.train(resume=True, trainer=trainer, save_dir=str(save_dir))
    else:
        model.train(trainer=trainer, **args)
    state["early_stopped"] = bool(stopper and stopper.stopped_epoch)


def run_phase(exp: Experiment, plan: Plan, index: int, start=None) -> None:
    """Carry out phase `index` of the plan: train (or resume) it, keep its weights, measure them on held-out data.

    Args:
        exp (Experiment): The experiment.
        plan (Plan): Its plan.
        index (int): The phase's place in `plan.phases`.
        start (YOLO, optional): The model the phase starts from when it starts fresh, already built (the transferred
            model the held-out "after transfer" row measured); None builds it with `start_model`.
    """
    name = plan.phases[index].name
    carry = plan.phases[index].phase.carry
    state, weights = exp.phase_state(name), exp.phase_dir(name) / "weights"
    recovery = recover_phase(state["status"], weights, state.get("epochs"))
    for path in recovery.unreadable or []:
        log(f"phase '{name}': {exp.rel(path)} is unreadable (killed while saving?); not resuming from it", True)
    if recovery.mode != "finished":
        _train(exp, plan, index, recovery, start)
    carried = weights / f"{carry}.pt"
    if checkpoint_epoch(carried) is None:  # missing or truncated: the newest readable one
        carried = recover_phase("running", weights, None).checkpoint
    if carried is None:
        raise RuntimeError(f"phase '{name}' left no readable checkpoint in {weights}")
    checkpoint = exp.root / "checkpoints" / f"{name}_complete.pt"
    copy_atomic(carried, checkpoint)
    label = f"after {name}"
    after = evaluate_and_record(exp, label, checkpoint, epochs=len(read_results(weights.parent / "results.csv")))
    before = row_before(exp.evaluation, label)
    if before is not None:  # what the phase did to the model it started from
        log(f"{name}: mAP50 {before['mAP50']:.4f} -> {after['mAP50']:.4f} (held-out, from '{before['model']}')")
    state.update(status="done", checkpoint=exp.rel(checkpoint))
    exp.save()
    kill_point(name, "phase_done")
