"""Per-phase behaviour through Ultralytics callbacks: switches, head dropout, clipping, ramp, early stopping.

Every callback is a module-level function bound with `functools.partial`, or an instance of a module-level class,
so that DDP workers can unpickle them; none is a closure.
"""

from __future__ import annotations

import functools
import math
import os
import signal

import torch
import torch.nn.functional as F

from yolo_attention.common.models import unwrap_parallel
from yolo_attention.modules import set_attention
from yolo_attention.training.freeze import ema_moves_frozen, keep_frozen_exact

__all__ = [
    "KILL_ENV",
    "EarlyStopping",
    "TensorBoardLog",
    "head_output_convs",
    "kill_point",
    "phase_callbacks",
]

# Test hook: `<phase>:<event>:<epoch>` (epoch 0-based, `*` any) kills the process with SIGKILL at that point, to test
# resume deterministically. Events: Ultralytics callback events (on_model_save, on_train_end ...) and the runner's
# `phase_done` (after a phase is recorded as done, before the next one starts).
KILL_ENV = "YOLO_ATTN_TEST_KILL_AT"


def _switch_callback(trainer, switches: dict[str, bool]) -> None:
    """on_pretrain_routine_end: the model being trained and the EMA copy that is validated and saved."""
    set_attention(unwrap_parallel(trainer.model), switches)
    if getattr(trainer, "ema", None) is not None:
        set_attention(trainer.ema.ema, switches)


def head_output_convs(model: torch.nn.Module) -> list[torch.nn.Module]:
    """Return the last convolution of every branch of the output layer (Detect: cv2, cv3; Pose adds cv4)."""
    head = unwrap_parallel(model).model[-1]
    convs = []
    for name in ("cv2", "cv3", "cv4"):
        branches = getattr(head, name, None)
        if isinstance(branches, torch.nn.ModuleList):
            convs += [branch[-1] for branch in branches if isinstance(branch, torch.nn.Sequential)]
    return convs


def _dropout_pre_hook(module, args, p: float):
    if module.training:
        return (F.dropout(args[0], p=p, training=True), *args[1:])
    return None


def _head_dropout_callback(trainer, p: float) -> None:
    """on_pretrain_routine_end: dropout before the head's output convolutions of the trained model only.

    The hooks go on the model being trained after Ultralytics copied it into the EMA, so validation and the saved
    checkpoints (both EMA) never drop anything, and the checkpoints carry no hooks.
    """
    for conv in head_output_convs(trainer.model):
        conv.register_forward_pre_hook(functools.partial(_dropout_pre_hook, p=p))


def _clip_callback(trainer, max_norm: float | None) -> None:
    trainer.clip_grad_norm = max_norm


def _ramp_callback(trainer, epochs: float | None) -> None:
    trainer.ramp_epochs = epochs


METRIC_ALIASES = {
    "val/mAP50-95": "metrics/mAP50-95(B)",
    "val/mAP50": "metrics/mAP50(B)",
    "val/precision": "metrics/precision(B)",
    "val/recall": "metrics/recall(B)",
    "val/pose_mAP50-95": "metrics/mAP50-95(P)",
    "val/pose_mAP50": "metrics/mAP50(P)",
}


class EarlyStopping:
    """Stop a phase when `monitor` has not improved by more than `min_delta` for `patience` validated epochs.

    Losses (monitors with "loss" in the name) must fall, everything else must rise. Used as an `on_fit_epoch_end`
    callback; `stopped_epoch` is set when it ends the phase.

    Args:
        monitor (str): ``val/mAP50-95``, ``val/mAP50``, ``val/box_loss`` ... or any key of the trainer's metrics.
        patience (int): Validated epochs without improvement before stopping.
        min_delta (float): Smallest change that counts as an improvement.
    """

    def __init__(self, monitor: str = "val/mAP50-95", patience: int = 20, min_delta: float = 0.0):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"early_stopping.patience={patience!r} is not valid: patience must be an integer >= 1")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise ValueError(f"early_stopping.min_delta={min_delta!r} is not valid: min_delta must be a number >= 0")
        self.monitor, self.patience, self.min_delta = monitor, patience, float(min_delta)
        self.key = METRIC_ALIASES.get(monitor, monitor)
        self.minimize = "loss" in monitor
        self.best, self.best_epoch, self.bad_epochs, self.stopped_epoch = None, None, 0, None

    def update(self, epoch: int, value: float) -> bool:
        """Record one validated epoch; return True when the phase should stop."""
        if value is None or math.isnan(value):
            return False
        improved = self.best is None or (
            value < self.best - self.min_delta if self.minimize else value > self.best + self.min_delta
        )
        if improved:
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def __call__(self, trainer) -> None:
        """on_fit_epoch_end: read the monitored metric and stop the phase when patience runs out."""
        metrics = getattr(trainer, "metrics", None) or {}
        if self.key not in metrics:
            known = ", ".join([*METRIC_ALIASES, *metrics])
            raise ValueError(f"early_stopping.monitor '{self.monitor}' is not a validation metric; known: {known}")
        if self.update(trainer.epoch + 1, float(metrics[self.key])) and not trainer.stop:
            self.stopped_epoch = trainer.epoch + 1
            trainer.stop = True
            from ultralytics.utils import LOGGER

            LOGGER.info(
                f"Early stopping: {self.monitor} has not improved by more than {self.min_delta} for "
                f"{self.patience} epochs (best {self.best:.5f} at epoch {self.best_epoch})"
            )


class TensorBoardLog:
    """Log every phase's losses, metrics and learning rates into the experiment's tensorboard/ folder.

    Steps continue across phases (`step_offset` is the epochs of the phases before), so one run shows the whole
    schedule. Used as an `on_fit_epoch_end` callback; `available()` says whether tensorboard is installed.
    """

    def __init__(self, log_dir: str, phase: str, step_offset: int = 0):
        self.log_dir, self.phase, self.step_offset = str(log_dir), phase, step_offset

    @staticmethod
    def available() -> bool:
        """Whether torch's tensorboard writer (the `tensorboard` package) can be imported."""
        try:
            from torch.utils.tensorboard import SummaryWriter  # noqa: F401
        except ImportError:
            return False
        return True

    def __call__(self, trainer) -> None:
        """on_fit_epoch_end: append this epoch's scalars."""
        from torch.utils.tensorboard import SummaryWriter

        step = self.step_offset + trainer.epoch + 1
        scalars = {**trainer.label_loss_items(trainer.tloss, prefix="train"), **trainer.metrics, **trainer.lr}
        with SummaryWriter(self.log_dir) as writer:
            for key, value in scalars.items():
                writer.add_scalar(key, float(value), step)
            writer.add_text("phase", self.phase, step)


def kill_point(phase: str, event: str, epoch: int | None = None) -> None:
    """SIGKILL this process if the test hook in ``$YOLO_ATTN_TEST_KILL_AT`` names this point; otherwise nothing."""
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    want_phase, want_event, want_epoch = (spec.split(":") + ["*"])[:3]
    if want_phase == phase and want_event == event and want_epoch in ("*", str(epoch)):
        os.kill(os.getpid(), signal.SIGKILL)


def _kill_callback(trainer, phase: str, event: str) -> None:
    kill_point(phase, event, trainer.epoch)


def phase_callbacks(phase, early_stopping: EarlyStopping | None = None) -> list[tuple[str, object]]:
    """Return the (event, callback) pairs that make a phase's promises true in the weights.

    Args:
        phase (Phase): The schedule phase.
        early_stopping (EarlyStopping, optional): This phase's early stopping, if enabled.

    Returns:
        (list[tuple[str, callable]]): Pairs for `YOLO.add_callback`.
    """
    # Ultralytics 8.4's EMA leaves frozen tensors exact; older releases rounded them, and only then the callbacks help.
    callbacks = list(keep_frozen_exact().items()) if ema_moves_frozen() else []
    callbacks.append(("on_pretrain_routine_start", functools.partial(_clip_callback, max_norm=phase.clip_grad_norm)))
    if phase.ramp_epochs is not None:
        callbacks.append(("on_pretrain_routine_start", functools.partial(_ramp_callback, epochs=phase.ramp_epochs)))
    if phase.attention:
        callbacks.append(("on_pretrain_routine_end", functools.partial(_switch_callback, switches=phase.attention)))
    if phase.head_dropout:
        callbacks.append(("on_pretrain_routine_end", functools.partial(_head_dropout_callback, p=phase.head_dropout)))
    if early_stopping is not None:
        callbacks.append(("on_fit_epoch_end", early_stopping))
    spec = os.environ.get(KILL_ENV, "")
    if spec.startswith(f"{phase.name}:") and not spec.split(":")[1].startswith("phase_"):
        event = spec.split(":")[1]
        callbacks.append((event, functools.partial(_kill_callback, phase=phase.name, event=event)))
    return callbacks
