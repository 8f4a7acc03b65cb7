"""Run a staged experiment phase by phase through Ultralytics' own training, and resume an interrupted one.

`run_experiment` checks every value, makes the experiment folder and its plan (`plan.py`), then carries the plan out:
the held-out rows before training, each phase (`phases.py`), the final model and its exports, the training summary.
`resume_experiment` carries out the plan saved in experiment.json from where the run stopped.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import torch
import yaml

from yolo_attention.arch.correspondence import layer_map
from yolo_attention.training.config import apply_overrides, default_schedule, load_config
from yolo_attention.training.evaluation import evaluate_and_record, results_table, same_classes
from yolo_attention.training.experiment import Experiment, copy_atomic, log
from yolo_attention.training.phases import run_phase, start_model
from yolo_attention.training.plan import Plan, make_plan
from yolo_attention.training.schedule import load_schedule
from yolo_attention.training.values import check_run

__all__ = ["train", "run_experiment", "resume_experiment"]


def _evaluate_start(exp: Experiment, plan: Plan):
    """Before training: the pretrained model and the model right after transfer, which must score the same.

    Returns:
        (YOLO | None): The transferred model, for the first phase to start from (it is not transferred twice); None
            when no row was measured.
    """
    from ultralytics import YOLO

    first = plan.phases[0]
    if not plan.weights or first.is_baseline or "pretrained" in {r["model"] for r in exp.evaluation}:
        return None
    if exp.phase_state(first.name)["status"] != "pending":  # resumed after training started
        return None
    pretrained = YOLO(plan.weights)
    if not same_classes(pretrained, str(exp.config["data"]["config_path"])):
        log(f"{Path(plan.weights).name} predicts other classes than the data: no held-out mAP before training")
        return None
    before = evaluate_and_record(exp, "pretrained", pretrained)
    transferred = start_model(exp, plan, 0)
    # A copy is validated: validation may fuse Conv+BN in place and attaches callbacks to the model it is given.
    after = evaluate_and_record(exp, "after transfer", copy.deepcopy(transferred))
    if before != after:
        log(f"the transferred model scores {after} but the pretrained one {before}: the transfer is not exact", True)
    return transferred


def _finish(exp: Experiment, plan: Plan) -> None:
    config = exp.config
    final = exp.root / "checkpoints" / "final_model.pt"
    copy_atomic(exp.phase_checkpoint(plan.phases[-1].name), final)
    exp.state["final_model"] = exp.rel(final)
    formats = list(config["export"]["formats"])
    if formats:
        from yolo_attention.export import export_and_verify

        reports = export_and_verify(
            str(final), formats, imgsz=config["environment"]["imgsz"], out_dir=exp.root / "models"
        )
        failed = [r for r in reports if not r.passed]
        for report in reports:
            log(f"export {report.line()}")
        if failed:
            raise ValueError(f"export verification failed: {failed[0].line()}")
    exp.save()


def _versions() -> dict:
    import ultralytics

    import yolo_attention

    return {
        "ultralytics": ultralytics.__version__,
        "torch": torch.__version__,
        "yolo_attention": yolo_attention.__version__,
    }


def _info(exp: Experiment, plan: Plan) -> dict:
    config, arch = exp.config, str(exp.path(plan.arch))
    return {
        "name": config["project"]["experiment_name"],
        "project": config["project"]["name"],
        "model_architecture": Path(arch).name,
        "attention_mechanism": config["model"]["attention_mechanism"] or _attention_in(arch),
        "schedule": plan.schedule,
        "pretrained_weights": plan.weights,
        "data": str(config["data"]["config_path"]),
        "seed": config["environment"]["seed"],
        "versions": _versions(),
    }


def _attention_in(arch: str) -> list[str]:
    from ultralytics import YOLO

    model = YOLO(arch, verbose=False)
    return sorted({type(model.model.model[i]).__name__ for i in layer_map(model).attention})


def _execute(exp: Experiment, plan: Plan) -> Path:
    """Carry out the plan from where the experiment stands: phases already done are kept."""
    start = _evaluate_start(exp, plan)  # the transferred model, built once: the first phase trains it
    for index, planned in enumerate(plan.phases):
        if exp.phase_state(planned.name)["status"] != "done":
            run_phase(exp, plan, index, start)
            exp.write_summary(_info(exp, plan))
        start = None
    _finish(exp, plan)
    exp.write_summary(_info(exp, plan))
    log(f"experiment done: {exp.root}\nheld-out results (data val split)\n" + results_table(exp.evaluation))
    return exp.root


def run_experiment(config: dict, stage: str | None = None) -> Path:
    """Run every phase of a resolved configuration (or only `stage`) in a new experiment folder.

    Every value is checked (`values.check_run`) before the folder is made.

    Returns:
        (Path): The experiment folder.
    """
    if config["training_strategy"].get("schedule") is None:
        config["training_strategy"]["schedule"] = default_schedule(config["model"]["config_path"])
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
            log(f"experiment {exp.root}")
            plan = make_plan(config, exp, stage)
    except Exception:
        shutil.rmtree(exp.root, ignore_errors=True)  # nothing ran: leave no half-made experiment behind
        log(f"nothing ran: {exp.root.name} removed")
        raise
    with exp.logging_to_file():
        exp.state.update(plan=plan.to_dict(), config=config, stage=stage)
        for planned in plan.phases:
            exp.phase_state(planned.name)
        exp.save()
        return _execute(exp, plan)


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
        log(f"resuming {exp.root}: done {', '.join(done) or 'nothing yet'}")
        return _execute(exp, Plan.from_dict(exp.state["plan"]))


def train(model=None, data=None, schedule=None, config=None, stage=None, resume=None, **overrides) -> Path:
    """Train with a staged schedule in an experiment folder; the Python twin of `yolo-attn train`.

    Args:
        model (str, optional): Model YAML or checkpoint (default from the configuration: yolov8n-cbam.yaml).
        data (str, optional): Dataset YAML (default pcb-mini.yaml).
        schedule (str | Path | dict | list, optional): ``two-stage`` (default), ``four-phase``, ``none``, a YAML
            path, or the phases themselves.
        config (str | Path, optional): Master configuration file (see yolo_attention/configs/example.yaml).
        stage (str, optional): Run only this phase.
        resume (str | Path, optional): An interrupted experiment folder to continue, with the configuration it was
            started with (no other argument may be given).
        **overrides: Ultralytics-style keys (``imgsz=320``, ``pretrained="yolov8n.pt"``, ``lr0=0.01``) and dotted
            configuration keys (``{"training_strategy.warmup.epochs": 5}``).

    Returns:
        (Path): The experiment folder.

    Examples:
        >>> import yolo_attention
        >>> yolo_attention.train("yolov8n-cbam.yaml", data="pcb-mini.yaml", pretrained="yolov8n.pt")  # doctest: +SKIP
    """
    if resume is True:  # Ultralytics' `resume=True` resumes its last run; an experiment is named by its folder
        raise ValueError("resume= takes the experiment folder to continue (resume=runs/experiments/<name>), got True")
    if resume:
        given = {"model": model, "data": data, "schedule": schedule, "config": config, "stage": stage, **overrides}
        ignored = [key for key, value in given.items() if value is not None]
        if ignored:
            raise ValueError(
                f"resume={resume} continues that experiment with the configuration it was started with; drop "
                f"{', '.join(ignored)} (start a new run to change them)"
            )
        return resume_experiment(resume)
    cfg = load_config(config)
    given = {"model": model, "data": data, "schedule": schedule}
    values = {**{k: v for k, v in given.items() if v is not None}, **overrides}
    cfg = apply_overrides(cfg, {k: str(v) if isinstance(v, Path) else v for k, v in values.items()})
    json.dumps(cfg, default=str)  # a configuration must be plain data: it is saved with the run
    return run_experiment(cfg, stage=stage)
