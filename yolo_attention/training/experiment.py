"""An experiment folder: its layout, its state (for resume), its log file and its training summary.

runs/experiments/<experiment_name>_<YYYYmmdd_HHMMSS>/
    experiment.json            state: resolved phases, which are done, where their weights are
    configs/config.yaml        the resolved configuration
    logs/train.log             the full log
    checkpoints/               <phase>_complete.pt for each phase, final_model.pt
    results/training_summary.json
    models/                    exports
    tensorboard/               when tensorboard is installed
    <phase>/                   each phase's own Ultralytics run (results.csv, weights/, plots)
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from yolo_attention.common.files import write_atomic

__all__ = ["Experiment", "copy_atomic", "log", "read_results", "write_atomic"]

SUBDIRS = ("logs", "checkpoints", "results", "configs", "models", "tensorboard")


def log(message: str, warning: bool = False) -> None:
    """Log a plugin message through Ultralytics' logger (a running experiment copies it into logs/train.log)."""
    from ultralytics.utils import LOGGER

    (LOGGER.warning if warning else LOGGER.info)(f"yolo-attention: {message}")


def read_results(csv_path: Path) -> list[dict[str, float]]:
    """Rows of an Ultralytics results.csv as dicts of floats (column names stripped)."""
    if not Path(csv_path).is_file():
        return []
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k.strip(): float(v) for k, v in row.items() if k and v not in (None, "")} for row in rows]


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy `src` to `dst` through a temporary file and `os.replace` (a checkpoint is never half-copied)."""
    tmp = Path(dst).with_name(f".{Path(dst).name}.{os.getpid()}.tmp")
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


class Experiment:
    """The folder of one experiment and its JSON state.

    Attributes:
        root (Path): The experiment folder.
        state (dict): ``{"name", "created", "elapsed_s", "phases": [{"name", "status", ...}], "plan", "config",
            "stage", "evaluation": [rows], "final_model"}``, saved to experiment.json.
    """

    def __init__(self, root: Path, state: dict):
        self.root, self.state = Path(root), state
        self._session_start: float | None = None  # wall time the current logging session began

    @classmethod
    def create(cls, output_dir: str | Path, name: str) -> Experiment:
        """Make a new timestamped experiment folder with its sub-folders."""
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        parent = Path(output_dir).resolve()
        parent.mkdir(parents=True, exist_ok=True)
        root, n = parent / f"{name}_{stamp}", 1
        while True:  # two experiments started in the same second, even in two processes, get distinct folders
            try:
                root.mkdir()
                break
            except FileExistsError:
                n += 1
                root = parent / f"{name}_{stamp}_{n}"
        for sub in SUBDIRS:
            if sub != "tensorboard":  # made by the tensorboard writer, when tensorboard is installed
                (root / sub).mkdir(parents=True, exist_ok=True)
        experiment = cls(root, {"name": name, "created": stamp, "elapsed_s": 0.0, "phases": []})
        experiment.save()
        return experiment

    @classmethod
    def open(cls, root: str | Path) -> Experiment:
        """Open an existing experiment folder (to resume it)."""
        root = Path(root)
        state_file = root / "experiment.json"
        if not state_file.is_file():
            raise FileNotFoundError(f"'{root}' is not an experiment folder: it has no experiment.json")
        return cls(root.resolve(), json.loads(state_file.read_text()))

    def save(self) -> None:
        """Write the state atomically, so an interrupted run never leaves a half-written file."""
        if self._session_start is not None:  # bank the time so far: a killed run keeps it
            now = time.time()
            self.state["elapsed_s"] = self.state.get("elapsed_s", 0.0) + now - self._session_start
            self._session_start = now
        write_atomic(self.root / "experiment.json", json.dumps(self.state, indent=2, default=str))

    def rel(self, path: str | Path | None) -> str | None:
        """`path` relative to the experiment folder when inside it (the folder can be moved), else as given."""
        if path is None:
            return None
        path = Path(path)
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def path(self, stored: str | Path) -> Path:
        """The file a stored path names: inside the experiment folder wherever it is now, else the path as stored."""
        inside = self.root / stored
        return inside if inside.exists() else Path(stored)

    def elapsed_s(self) -> float:
        """Wall time of the run so far: previous sessions (before a resume) plus the current one."""
        current = time.time() - self._session_start if self._session_start is not None else 0.0
        return self.state.get("elapsed_s", 0.0) + current

    def phase_state(self, name: str) -> dict:
        """The state entry of a phase (created pending if new)."""
        for entry in self.state["phases"]:
            if entry["name"] == name:
                return entry
        entry = {"name": name, "status": "pending"}
        self.state["phases"].append(entry)
        return entry

    def phase_dir(self, name: str) -> Path:
        """The phase's Ultralytics run folder."""
        return self.root / name

    def phase_checkpoint(self, name: str) -> Path:
        """The weights a finished phase hands on (checkpoints/<phase>_complete.pt, wherever the folder is now)."""
        return self.path(self.phase_state(name)["checkpoint"])

    def epochs_before(self, name: str) -> int:
        """Epochs planned for the phases before phase `name` (where it starts on a run-wide epoch axis)."""
        names = [entry["name"] for entry in self.state["phases"]]
        return sum(int(entry.get("epochs") or 0) for entry in self.state["phases"][: names.index(name)])

    @property
    def config(self) -> dict:
        """The resolved configuration the run carries out (saved in the state when the plan is)."""
        return self.state["config"]

    @property
    def evaluation(self) -> list[dict]:
        """The held-out evaluation rows so far, in the order measured: ``{"model", "epochs", "mAP50", "mAP50-95"}``."""
        return self.state.get("evaluation", [])

    def record_evaluation(self, row: dict) -> None:
        """Add a held-out evaluation row, replacing the one with the same ``model`` label, and save the state."""
        self.state["evaluation"] = [*(r for r in self.evaluation if r["model"] != row["model"]), row]
        self.save()

    @contextmanager
    def logging_to_file(self):
        """Copy everything Ultralytics and the plugin log into logs/train.log (appending on resume)."""
        handler = logging.FileHandler(self.root / "logs" / "train.log", mode="a", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        loggers = [logging.getLogger("ultralytics"), logging.getLogger("yolo_attention")]
        for logger in loggers:
            logger.addHandler(handler)
        self._session_start = time.time()
        try:
            yield
        finally:
            self.save()
            self._session_start = None
            for logger in loggers:
                logger.removeHandler(handler)
            handler.close()

    def write_summary(self, info: dict) -> Path:
        """Write results/training_summary.json from the state and the run's info; return its path."""
        phases = []
        for entry in self.state["phases"]:
            rows = read_results(self.phase_dir(entry["name"]) / "results.csv")
            summary = {
                "name": entry["name"],
                "status": entry["status"],
                "epochs_planned": entry.get("epochs"),
                "epochs_run": len(rows),
                "frozen_layers": entry.get("frozen_layers", []),
                "optimizer": entry.get("optimizer"),
                "lr0": entry.get("lr0"),
                "attention": entry.get("attention", {}),
                "early_stopped": entry.get("early_stopped", False),
                "checkpoint": entry.get("checkpoint"),  # relative to the experiment folder
            }
            for metric, column in (("mAP50", "metrics/mAP50(B)"), ("mAP50-95", "metrics/mAP50-95(B)")):
                values = [r[column] for r in rows if column in r]
                summary[f"final_{metric}"] = values[-1] if values else None
                summary[f"best_{metric}"] = max(values) if values else None
            phases.append(summary)
        data = {"experiment_info": {**info, "total_training_time_s": round(self.elapsed_s(), 1)}}
        data["phases"] = phases
        data["evaluation"] = self.evaluation
        data["final_model"] = self.state.get("final_model")
        path = self.root / "results" / "training_summary.json"
        write_atomic(path, json.dumps(data, indent=2, default=str))
        return path
