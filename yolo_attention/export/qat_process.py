"""Quantisation-aware fine-tuning in a Python process of its own, so NNCF's PyTorch backend never enters the caller's.

NNCF's PyTorch backend compiles and loads a CPU extension on first use and patches torch functions for the life of
the process. A test process that had run `qat.qat_fine_tune` crashed minutes later with a segmentation fault inside
CPython, in code unrelated to NNCF (six runs out of six; the pattern of heap corruption). A notebook or service that
exported with ``qat_epochs=`` would carry that state on. `fine_tune_in_child` therefore runs the fine-tuning in a
fresh interpreter (``python -m yolo_attention.export.qat_process``), relays its progress lines, and raises its errors
in the caller: a bad setting or a model that does not fit the data stays a one-line ``ValueError``, a missing file a
``FileNotFoundError``. A fresh process
also loads NNCF's kernels first, every time, so the same seed gives the same weights call after call.

The model travels as a checkpoint file. Modules whose class lives in ``__main__`` (defined in a notebook or script)
cannot be unpickled by another interpreter: such a model is fine-tuned in this process, with a warning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

__all__ = ["QATProcessError", "fine_tune_in_child", "main_module_classes"]

_USER_ERRORS = {error.__name__: error for error in (FileNotFoundError, ValueError, SyntaxError, KeyError, TypeError)}
"""What bad input raises (the CLI's one-line errors, `cli.errors.USER_ERRORS`), first match first: an error of one of
these kinds, subclasses included (a `CheckpointError` is a ValueError), is raised again in the caller as that kind."""


class QATProcessError(RuntimeError):
    """The fine-tuning process failed other than by a bad setting, or died (its output was relayed above)."""


def main_module_classes(model) -> list[str]:
    """Names of the classes in `model` (a YOLO or an nn.Module) defined in ``__main__``: another process lacks them.

    Examples:
        >>> import torch
        >>> main_module_classes(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3)))
        []
    """
    net = getattr(model, "model", model)
    return sorted({type(m).__name__ for m in net.modules() if type(m).__module__ == "__main__"})


def fine_tune_in_child(
    model,
    data: str | Path,
    out: str | Path,
    imgsz: int = 640,
    epochs: float = 1.0,
    lr: float | None = None,
    device: str | None = None,
    **kwargs,
) -> Path:
    """Run `qat.qat_fine_tune` on `model` in a child Python process; return the fine-tuned checkpoint `out`.

    Args:
        model: A `YOLO` (saved to a temporary checkpoint for the child, as it is in memory) or a checkpoint path.
        data (str | Path): Dataset YAML; its train split is trained and calibrated on.
        out (str | Path): The checkpoint file to write.
        imgsz (int): Training size (the export size).
        epochs (float): Passes over the train split; fractions allowed.
        lr (float, optional): Adam learning rate; `qat.QAT_LR` by default.
        device (str, optional): Where to train (Ultralytics' ``device``); the CPU by default.
        **kwargs: Further `qat.qat_fine_tune` settings (``batch``, ``seed``, ``subset_size``, ``workers``), which
            must be JSON values.

    Returns:
        (Path): `out`.

    Raises:
        ValueError: What `qat.qat_fine_tune` raised as a ValueError (bad settings, a model not built for `data`).
        FileNotFoundError: A dataset or file that `qat.qat_fine_tune` did not find.
        QATProcessError: The child raised anything else or died; its output has been relayed to stdout.
    """
    from ultralytics.utils import LOGGER

    from yolo_attention.export.qat import QAT_LR, qat_fine_tune

    lr = QAT_LR if lr is None else lr
    local = main_module_classes(model) if not isinstance(model, (str, Path)) else []
    if local:
        LOGGER.warning(
            f"yolo-attention QAT: {', '.join(local)} defined in __main__ cannot be loaded by another process; "
            "fine-tuning in this one (NNCF's PyTorch backend stays loaded in it)"
        )
        return qat_fine_tune(model, data, out, imgsz, epochs, lr, device=device, **kwargs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="yolo-attn-qat-") as tmp:
        if isinstance(model, (str, Path)):
            source = str(model)
        else:
            source = str(Path(tmp) / "source.pt")
            model.save(source)
        result = Path(tmp) / "result.json"
        spec = {
            "model": source,
            "data": str(data),
            "out": str(out.resolve()),
            "imgsz": imgsz,
            "epochs": epochs,
            "lr": lr,
            "device": None if device is None else str(device),
            "kwargs": kwargs,
            "result": str(result),
        }
        (Path(tmp) / "spec.json").write_text(json.dumps(spec))
        returncode = _run_relaying([sys.executable, "-m", __name__, str(Path(tmp) / "spec.json")])
        outcome = json.loads(result.read_text()) if result.exists() else None
    if outcome is None or "error" in outcome:
        if outcome and outcome["type"] in _USER_ERRORS:
            raise _USER_ERRORS[outcome["type"]](outcome["error"])
        what = f"{outcome['type']}: {outcome['error']}" if outcome else f"exit status {returncode}"
        raise QATProcessError(f"the QAT fine-tuning process failed ({what}); its output is above")
    return Path(outcome["checkpoint"])


def _run_relaying(cmd: list[str]) -> int:
    """Run `cmd`, copying its output line by line to this process's stdout (a notebook shows it); stop it on exit.

    The child gets this process's import path (a package or module found through ``sys.path.insert`` in a notebook
    is found there too).
    """
    path = os.pathsep.join(p for p in [*sys.path, os.environ.get("PYTHONPATH", "")] if p)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        try:
            for line in proc.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
            return proc.wait()
        finally:  # interrupted (Ctrl-C, an exception in the relay): the child must not train on alone
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _end_with_parent() -> None:
    """Linux: have the kernel stop this process when its parent dies (killed, not only interrupted)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no prctl here: the parent's relay still stops it on exit
            pass


def _child(spec_file: str) -> int:
    """The child's side: fine-tune as `spec_file` says; write the checkpoint path or the error to its result file."""
    _end_with_parent()
    spec = json.loads(Path(spec_file).read_text())
    try:
        import yolo_attention  # noqa: F401  the modules (and entry points) before the checkpoint is unpickled
        from yolo_attention.export.qat import qat_fine_tune

        checkpoint = qat_fine_tune(
            spec["model"], spec["data"], spec["out"], spec["imgsz"], spec["epochs"], spec["lr"],
            device=spec["device"], **spec["kwargs"],
        )  # fmt: skip
        outcome = {"checkpoint": str(checkpoint)}
    except Exception as e:  # reported to the parent, which raises it there
        kind = next((name for name, error in _USER_ERRORS.items() if isinstance(e, error)), None)
        if kind is None:  # not bad input: its traceback goes out with the relayed output
            traceback.print_exc()
        message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)  # str(KeyError) adds quotes
        outcome = {"type": kind or type(e).__name__, "error": str(message)}
    Path(spec["result"]).write_text(json.dumps(outcome))
    return 0 if "checkpoint" in outcome else 1


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
