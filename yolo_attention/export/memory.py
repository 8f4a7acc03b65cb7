"""Peak memory of a loaded model, measured in a fresh Python process that has already imported the runtime.

The peak resident set size (RSS) that loading the model and running it adds: Linux's VmHWM after resetting it
(``/proc/self/clear_refs``), minus the RSS before loading, so the weights, the runtime's graph and arena, and the
activations; not the runtime's own code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

__all__ = ["measure_memory"]


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmRSS in /proc/self/status")


def _hwm() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status")


def _memory_in_this_process(backend: str, artifact: str, imgsz: int, runs: int, threads: int | None = None) -> dict:
    """Load and run one model here; the peak RSS it added. Meant for a fresh process (see `measure_memory`)."""
    if backend == "onnx":
        import onnxruntime  # noqa: F401  the runtime's own code is not the model's memory
    elif backend.startswith("openvino"):  # openvino, openvino-bf16, openvino-int8
        import openvino  # noqa: F401
    import torch  # noqa: F401
    import ultralytics  # noqa: F401

    from yolo_attention.export.benchmark import backend_runner

    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the high-water mark to the current RSS
    before = _rss()
    run = backend_runner(backend, artifact, threads)
    x = np.random.default_rng(0).random((1, 3, imgsz, imgsz), dtype=np.float32)
    for _ in range(runs):
        run(x)
    return {"before": before, "peak": _hwm()}


def measure_memory(backend: str, artifact: str | Path, imgsz: int, runs: int = 10, threads: int | None = None) -> float:
    """Return the peak RSS (MiB) that loading `artifact` and running it `runs` times adds, in a fresh process.

    Linux only (reads ``/proc/self/status``).
    """
    code = (
        "import json; from yolo_attention.export.memory import _memory_in_this_process as m; "
        f"print(json.dumps(m({backend!r}, {str(artifact)!r}, {imgsz}, {runs}, {threads!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory measurement of {backend} failed: {tail}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return (result["peak"] - result["before"]) / 2**20
