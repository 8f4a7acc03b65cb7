"""What a killed phase left behind, and where to continue: the newest readable checkpoint, never a truncated one.

Ultralytics writes `last.pt` in place (not atomically), so a process killed while saving leaves a truncated file; a
process killed after the last epoch's save but before the final evaluation leaves an unstripped `last.pt` whose
epoch is the last one, which Ultralytics refuses to resume ("nothing to resume"). Both must still finish the run.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import torch

from yolo_attention.training.experiment import write_atomic

__all__ = ["PhaseRecovery", "checkpoint_epoch", "recover_phase", "trim_results"]


def checkpoint_epoch(path: Path) -> int | None:
    """The epoch an Ultralytics checkpoint saved (-1: a finished run's stripped file), None if it cannot be read."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # truncated or corrupt: torch raises RuntimeError, EOFError, UnpicklingError ...
        return None
    has_model = isinstance(ckpt, dict) and (ckpt.get("ema") or ckpt.get("model")) is not None
    return int(ckpt.get("epoch", -1)) if has_model else None


@dataclass
class PhaseRecovery:
    """How a phase continues.

    Attributes:
        mode (str): ``fresh`` (start the phase over), ``resume`` (continue from `checkpoint`) or ``finished``
            (every epoch ran; only the bookkeeping is missing).
        checkpoint (Path | None): The file to resume from, or the readable weights of a finished phase.
        epoch (int | None): The last epoch (0-based) `checkpoint` holds; -1 for a stripped, finished one.
        unreadable (list[Path]): Checkpoints that could not be read (truncated by a kill).
    """

    mode: str
    checkpoint: Path | None = None
    epoch: int | None = None
    unreadable: list[Path] | None = None


def recover_phase(status: str, weights_dir: Path, epochs: int | None) -> PhaseRecovery:
    """Decide how a phase continues from its status in the experiment state and the checkpoints on disk.

    Args:
        status (str): The phase's status in experiment.json (``pending``, ``running``, ``done``).
        weights_dir (Path): The phase's Ultralytics ``weights/`` folder.
        epochs (int, optional): The phase's epochs.

    Returns:
        (PhaseRecovery): Fresh when nothing readable is left; finished when the newest readable checkpoint is a
            stripped one or holds the last epoch; else resume from the newest readable checkpoint.
    """
    if status != "running":
        return PhaseRecovery("fresh")
    found = [p for p in (weights_dir / "last.pt", weights_dir / "best.pt") if p.is_file()]
    epochs_of = {p: checkpoint_epoch(p) for p in found}
    unreadable = [p for p, e in epochs_of.items() if e is None]
    readable = [(e, p) for p, e in epochs_of.items() if e is not None]
    if not readable:
        return PhaseRecovery("fresh", unreadable=unreadable)
    if any(e == -1 for e, _ in readable):
        path = next(p for e, p in readable if e == -1)
        return PhaseRecovery("finished", path, -1, unreadable)
    epoch, path = max(readable, key=lambda ep: (ep[0], ep[1].name == "last.pt"))
    mode = "finished" if epochs is not None and epoch >= epochs - 1 else "resume"
    return PhaseRecovery(mode, path, epoch, unreadable)


def trim_results(csv_path: Path, epochs_done: int) -> int:
    """Keep only the first `epochs_done` epochs of a results.csv (a resume from an older checkpoint redoes the rest).

    Returns:
        (int): Rows removed.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        return 0
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return 0
    header, body = rows[0], rows[1:]
    kept = [r for r in body if r and float(r[0]) <= epochs_done]
    if len(kept) == len(body):
        return 0
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *kept])
    write_atomic(csv_path, out.getvalue())
    return len(body) - len(kept)
