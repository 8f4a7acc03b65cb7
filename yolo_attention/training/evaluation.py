"""Held-out mAP at each step of a run: the pretrained model, the model right after transfer, after every phase.

All rows are measured the same way (Ultralytics' validator on the data's val split at the run's image size), so the
table printed at the end compares like with like; "pretrained" and "after transfer" must be equal when new attention
layers start as an identity. The rows are kept in the experiment's state (`Experiment.evaluation`).
"""

from __future__ import annotations

from pathlib import Path

from yolo_attention.training.experiment import Experiment, log

__all__ = ["evaluate", "evaluate_and_record", "results_table", "row_before", "same_classes"]


def evaluate(model, config: dict, save_dir: Path) -> dict[str, float]:
    """Validate `model` (a `YOLO`) on the configuration's val split; return its mAP50 and mAP50-95.

    Args:
        model: The `YOLO` model.
        config (dict): The resolved master configuration (data, image size, batch, workers, device).
        save_dir (Path): Where the validator writes (inside the experiment folder).
    """
    env = config["environment"]
    batch = env["batch_size"] if isinstance(env["batch_size"], int) and env["batch_size"] > 0 else 16
    extra = {"device": env["device"]} if env["device"] is not None else {}
    metrics = model.val(
        data=str(config["data"]["config_path"]),
        split="val",
        imgsz=env["imgsz"],
        batch=batch,
        workers=env["workers"],
        plots=False,
        verbose=False,
        project=str(Path(save_dir).parent),
        name=Path(save_dir).name,
        exist_ok=True,
        **extra,
    )
    return {"mAP50": round(float(metrics.box.map50), 6), "mAP50-95": round(float(metrics.box.map), 6)}


def evaluate_and_record(exp: Experiment, label: str, model, epochs: int | None = None) -> dict[str, float]:
    """Validate a model on the held-out split and record its row in the experiment (replacing one of the same label).

    Args:
        exp (Experiment): The experiment; its configuration says what to validate on, its state keeps the row.
        label (str): The row's model label (``pretrained``, ``after transfer``, ``after <phase>``).
        model: The `YOLO` to validate, or the path of its weights.
        epochs (int, optional): Epochs the phase behind the row ran.

    Returns:
        (dict[str, float]): Its mAP50 and mAP50-95.
    """
    from ultralytics import YOLO

    model = YOLO(str(model)) if isinstance(model, (str, Path)) else model
    metrics = evaluate(model, exp.config, exp.root / "eval" / label.replace(" ", "_"))
    exp.record_evaluation({"model": label, "epochs": epochs, **metrics})
    log(f"held-out mAP50 {metrics['mAP50']:.4f}, mAP50-95 {metrics['mAP50-95']:.4f}: {label}")
    return metrics


def row_before(rows: list[dict], label: str) -> dict | None:
    """The evaluation row of the model a phase started from: the last one recorded before its own row.

    Examples:
        >>> rows = [{"model": "pretrained"}, {"model": "after transfer"}, {"model": "after warmup"}]
        >>> row_before(rows, "after warmup")["model"]
        'after transfer'
    """
    labels = [r["model"] for r in rows]
    index = labels.index(label)
    previous = [r for r in rows[:index] if r["model"] != "pretrained"] or rows[:index]
    return previous[-1] if previous else None


def same_classes(model, data: str) -> bool:
    """Whether `model` (a `YOLO`) predicts the dataset's classes, so its mAP on the data means something."""
    from ultralytics.data.utils import check_det_dataset

    return len(model.names) == check_det_dataset(data)["nc"]


def results_table(rows: list[dict]) -> str:
    """The one results table: a line per evaluated model (pretrained, after transfer, after <phase>).

    Examples:
        >>> print(results_table([{"model": "pretrained", "epochs": None, "mAP50": 0.5, "mAP50-95": 0.25}]))
        model                     epochs     mAP50  mAP50-95
        pretrained                     -    0.5000    0.2500
    """
    lines = [f"{'model':<24}{'epochs':>8}{'mAP50':>10}{'mAP50-95':>10}"]
    for row in rows:
        epochs = "-" if row.get("epochs") is None else str(row["epochs"])
        lines.append(f"{row['model']:<24}{epochs:>8}{row['mAP50']:>10.4f}{row['mAP50-95']:>10.4f}")
    return "\n".join(lines)
