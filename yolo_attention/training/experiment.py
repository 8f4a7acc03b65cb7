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
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

__all__ = ["Experiment", "read_results"]

SUBDIRS = ("logs", "checkpoints", "results", "configs", "models", "tensorboard")


def read_results(csv_path: Path) -> list[dict[str, float]]:
    """Rows of an Ultralytics results.csv as dicts of floats (column names stripped)."""
    if not Path(csv_path).is_file():
        return []
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k.strip(): float(v) for k, v in row.items() if k and v not in (None, "")} for row in rows]


class Experiment:
    """The folder of one experiment and its JSON state.

    Attributes:
        root (Path): The experiment folder.
        state (dict): ``{"name", "created", "phases": [{"name", "status", ...}], ...}``, saved to experiment.json.
    """

    def __init__(self, root: Path, state: dict):
        self.root, self.state = Path(root), state

    @classmethod
    def create(cls, output_dir: str | Path, name: str) -> Experiment:
        """Make a new timestamped experiment folder with its sub-folders."""
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        root = Path(output_dir).resolve() / f"{name}_{stamp}"
        n = 1
        while root.exists():  # two experiments started in the same second
            n += 1
            root = Path(output_dir).resolve() / f"{name}_{stamp}_{n}"
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
        tmp = self.root / "experiment.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=2, default=str))
        tmp.replace(self.root / "experiment.json")

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

    @contextmanager
    def logging_to_file(self):
        """Copy everything Ultralytics and the plugin log into logs/train.log (appending on resume)."""
        handler = logging.FileHandler(self.root / "logs" / "train.log", mode="a", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        loggers = [logging.getLogger("ultralytics"), logging.getLogger("yolo_attention")]
        for logger in loggers:
            logger.addHandler(handler)
        start = time.time()
        try:
            yield
        finally:
            self.state["elapsed_s"] = self.state.get("elapsed_s", 0.0) + time.time() - start
            self.save()
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
                "checkpoint": entry.get("checkpoint"),
            }
            for metric, column in (("mAP50", "metrics/mAP50(B)"), ("mAP50-95", "metrics/mAP50-95(B)")):
                values = [r[column] for r in rows if column in r]
                summary[f"final_{metric}"] = values[-1] if values else None
                summary[f"best_{metric}"] = max(values) if values else None
            phases.append(summary)
        data = {"experiment_info": {**info, "total_training_time_s": round(self.state.get("elapsed_s", 0.0), 1)}}
        data["phases"] = phases
        path = self.root / "results" / "training_summary.json"
        path.write_text(json.dumps(data, indent=2, default=str))
        return path
