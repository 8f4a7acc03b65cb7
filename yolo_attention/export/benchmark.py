"""Latency and memory of an attention model against its attention-free baseline, per backend, in one run.

Latency: batch 1, one real letterboxed image, the median (and 90th percentile) of at least 30 timed runs after a
warm-up. The attention model and the baseline are timed in alternating blocks (ABAB...), so that a slow period of a
shared machine lands on both and their ratio stays fair.

Memory: the peak resident set size that loading the model and running it adds to a fresh process (`memory`).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yolo_attention.export.memory import measure_memory

__all__ = [
    "BACKENDS",
    "BenchmarkResult",
    "BenchmarkRow",
    "backend_runner",
    "measure_memory",
    "run_benchmark",
    "time_interleaved",
]

BACKENDS = ("pytorch", "onnx", "openvino", "torchscript")
MIN_RUNS = 30


@dataclass
class BenchmarkRow:
    """One model on one backend.

    Attributes:
        model (str): Model name.
        role (str): ``attention`` or ``baseline``.
        backend (str): One of `BACKENDS`.
        params (int): Parameters.
        gflops (float): GFLOPs at the benchmark size (THOP's count: convolutions, linear and norm layers; the
            attention modules' pooling and elementwise products are not counted).
        median_ms (float): Median latency in milliseconds.
        p90_ms (float): 90th percentile latency.
        runs (int): Timed runs.
        peak_mib (float, optional): Peak RSS added by loading and running the model (MiB), if measured.
        error (str, optional): Why the backend failed.
    """

    model: str
    role: str
    backend: str
    params: int
    gflops: float
    median_ms: float = float("nan")
    p90_ms: float = float("nan")
    runs: int = 0
    peak_mib: float | None = None
    error: str | None = None


@dataclass
class BenchmarkResult:
    """Rows for the attention model and its baseline on each backend, and how they were measured."""

    rows: list[BenchmarkRow]
    imgsz: int
    threads: int

    def pair(self, backend: str) -> tuple[BenchmarkRow, BenchmarkRow]:
        """Return the (attention, baseline) rows of a backend."""
        rows = {r.role: r for r in self.rows if r.backend == backend}
        if set(rows) != {"attention", "baseline"}:
            raise ValueError(f"no benchmark rows for backend '{backend}'; measured: {self.backends}")
        return rows["attention"], rows["baseline"]

    @property
    def backends(self) -> list[str]:
        """(list[str]): The backends measured, in order."""
        return list(dict.fromkeys(r.backend for r in self.rows))

    def ratio(self, backend: str) -> float:
        """Return the latency ratio attention / baseline (median over median) on `backend`."""
        a, b = self.pair(backend)
        return a.median_ms / b.median_ms

    def table(self) -> str:
        """Return the results as a text table with attention/baseline ratios."""
        lines = [
            f"imgsz {self.imgsz}, batch 1, {self.threads} CPU threads per runtime; latency: median of the timed runs; "
            "peak MiB: RSS added by loading and running the model in a fresh process",
            f"{'backend':<12}{'model':<28}{'params':>11}{'GFLOPs':>8}{'median ms':>11}{'p90 ms':>9}{'runs':>6}"
            f"{'peak MiB':>10}",
        ]
        for backend in self.backends:
            a, b = self.pair(backend)
            for r in (a, b):
                mem = f"{r.peak_mib:10.1f}" if r.peak_mib is not None else f"{'-':>10}"
                if r.error:
                    lines.append(f"{backend:<12}{r.model:<28}{r.params:>11,}{r.gflops:>8.2f}  ERROR {r.error}")
                else:
                    lines.append(
                        f"{backend:<12}{r.model:<28}{r.params:>11,}{r.gflops:>8.2f}{r.median_ms:>11.2f}"
                        f"{r.p90_ms:>9.2f}{r.runs:>6}{mem}"
                    )
            if not (a.error or b.error):
                mem = f"{a.peak_mib / b.peak_mib:10.3f}" if a.peak_mib and b.peak_mib else f"{'-':>10}"
                lines.append(
                    f"{backend:<12}{'ratio attention/baseline':<28}{a.params / b.params:>11.4f}"
                    f"{a.gflops / b.gflops if b.gflops else float('nan'):>8.3f}{a.median_ms / b.median_ms:>11.3f}"
                    f"{a.p90_ms / b.p90_ms:>9.3f}{'':>6}{mem}"
                )
        return "\n".join(lines)


def time_interleaved(
    runners: Sequence[Callable[[], object]], runs: int = 50, warmup: int = 10, blocks: int = 5
) -> list[list[float]]:
    """Time several runners in alternating blocks; return each runner's latencies in milliseconds.

    Each runner is warmed up `warmup` times, then `blocks` rounds run every runner `runs // blocks` times (the order
    reversed every other round).

    Examples:
        >>> times = time_interleaved([lambda: None, lambda: None], runs=30, warmup=1, blocks=3)
        >>> [len(t) for t in times]
        [30, 30]
    """
    if runs < MIN_RUNS:
        raise ValueError(f"runs must be >= {MIN_RUNS} for a median worth reporting, got {runs}")
    blocks = max(1, min(blocks, runs))
    for run in runners:
        for _ in range(warmup):
            run()
    times: list[list[float]] = [[] for _ in runners]
    per_block = [runs // blocks + (1 if b < runs % blocks else 0) for b in range(blocks)]
    for b, n in enumerate(per_block):
        order = range(len(runners)) if b % 2 == 0 else reversed(range(len(runners)))
        for i in order:
            run = runners[i]
            for _ in range(n):
                t = time.perf_counter()
                run()
                times[i].append(1e3 * (time.perf_counter() - t))
    return times


def _pytorch_runner(weights: str | Path, threads: int | None = None) -> Callable[[np.ndarray], object]:
    import torch
    from ultralytics import YOLO

    import yolo_attention  # noqa: F401

    if threads:
        torch.set_num_threads(threads)
    net = YOLO(str(weights)).model.float().eval().fuse()

    def run(x: np.ndarray):
        with torch.inference_mode():
            return net(torch.from_numpy(x))

    return run


def backend_runner(backend: str, artifact: str | Path, threads: int | None = None) -> Callable[[np.ndarray], object]:
    """Load `artifact` for one of `BACKENDS` (a ``.pt`` checkpoint for ``pytorch``); return its runner."""
    if backend == "pytorch":
        return _pytorch_runner(artifact, threads)
    from yolo_attention.export.runtimes import load_runtime

    return load_runtime(artifact, backend, threads=threads)


def _export(yolo, backend: str, imgsz: int, folder: Path, name: str) -> Path:
    """Save `yolo` as `folder/name.pt` and export that checkpoint, so every file lands in `folder`."""
    from ultralytics import YOLO

    pt = folder / f"{name}.pt"
    if not pt.exists():
        yolo.save(str(pt))
    if backend == "pytorch":
        return pt
    return Path(YOLO(str(pt)).export(format=backend, imgsz=imgsz, batch=1, dynamic=False, verbose=False))


def run_benchmark(
    model,
    formats: str | Sequence[str] = ("pytorch", "onnx", "openvino"),
    imgsz: int = 640,
    runs: int = 50,
    warmup: int = 10,
    memory: bool = True,
    baseline=None,
    out_dir: str | Path | None = None,
    name: str | None = None,
    threads: int | None = None,
) -> BenchmarkResult:
    """Measure latency (and peak memory) of `model` and of its attention-free baseline on each backend.

    The baseline is built from the model's own YAML with its attention layers removed (`build_baseline`), with the
    same weights in every layer they share. Both are saved as checkpoints and exported the same way (static shape,
    batch 1, FP32).

    Args:
        model: A `YOLO` with attention layers, or a checkpoint / model YAML path.
        formats (str | Sequence[str]): Backends among `BACKENDS`, comma-separated or a list.
        imgsz (int): Input size.
        runs (int): Timed runs per model and backend (at least 30).
        warmup (int): Untimed runs first.
        memory (bool): Also measure peak memory, each model and backend in a fresh process (a few seconds each).
        baseline: The baseline to compare with instead of the one built from the YAML (`YOLO` or path).
        out_dir (str | Path, optional): Keep the checkpoints and exports here; a temporary folder by default.
        name (str, optional): Display name of the model; defaults to its YAML's stem.
        threads (int, optional): CPU threads every runtime gets (torch, onnxruntime intra-op, OpenVINO
            ``INFERENCE_NUM_THREADS``); defaults to the number of CPUs. Ultralytics lowers torch's own default.

    Returns:
        (BenchmarkResult): Rows and `table()`.

    Examples:
        >>> import yolo_attention
        >>> result = run_benchmark("yolov8n-eca.yaml", "pytorch", imgsz=64, runs=30, warmup=2, memory=False)
        >>> result.backends, result.ratio("pytorch") > 0
        (['pytorch'], True)
    """
    from ultralytics import YOLO
    from ultralytics.engine.model import Model
    from ultralytics.utils.torch_utils import get_flops

    import yolo_attention  # noqa: F401
    from yolo_attention.export.baseline import build_baseline
    from yolo_attention.export.images import load_images
    from yolo_attention.modules.suggest import did_you_mean

    backends = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats) if f.strip()]
    for b in backends:
        if b not in BACKENDS:
            raise ValueError(f"unknown backend '{b}'; valid: {', '.join(BACKENDS)}.{did_you_mean(b, list(BACKENDS))}")
    if not backends:
        raise ValueError(f"no backend given; valid: {', '.join(BACKENDS)}")
    if not isinstance(runs, int) or runs < MIN_RUNS:
        raise ValueError(f"runs must be an int >= {MIN_RUNS} for a median worth reporting, got {runs!r}")
    if not isinstance(imgsz, int) or isinstance(imgsz, bool) or imgsz < 32:
        raise ValueError(f"imgsz must be an int >= 32 (a square input size), got {imgsz!r}")
    threads = threads or os.cpu_count() or 1
    yolo = model if isinstance(model, Model) else YOLO(str(model))
    name = name or Path(str(yolo.model.yaml.get("yaml_file", "model"))).stem
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out_dir) if out_dir else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if baseline is None:
            base = build_baseline(yolo, folder)
            base_name = f"{name} baseline"
        else:
            base = baseline if isinstance(baseline, Model) else YOLO(str(baseline))
            base_name = Path(str(base.model.yaml.get("yaml_file", "baseline"))).stem
        models = {"attention": (yolo, name, "model"), "baseline": (base, base_name, "baseline")}
        info = {
            role: (sum(p.numel() for p in m.model.parameters()), get_flops(m.model, imgsz))
            for role, (m, _, _) in models.items()
        }
        x = load_images(None, imgsz, 1).numpy()
        rows = []
        for backend in backends:
            pair = {role: BenchmarkRow(display, role, backend, *info[role]) for role, (_, display, _) in models.items()}
            try:
                artifacts = {role: _export(m, backend, imgsz, folder, stem) for role, (m, _, stem) in models.items()}
                run = {role: backend_runner(backend, artifacts[role], threads) for role in models}
                times = time_interleaved([lambda r=run[role]: r(x) for role in models], runs, warmup)
                for role, t in zip(models, times):
                    pair[role].median_ms = statistics.median(t)
                    pair[role].p90_ms = float(np.percentile(t, 90))
                    pair[role].runs = len(t)
                del run
                if memory:
                    for role in models:
                        pair[role].peak_mib = measure_memory(backend, artifacts[role], imgsz, threads=threads)
            except Exception as e:  # report the backend as failed, measure the others
                for row in pair.values():
                    row.error = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
            rows += [pair["attention"], pair["baseline"]]
    return BenchmarkResult(rows, imgsz, threads)
