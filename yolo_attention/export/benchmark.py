"""Latency and memory of an attention model against its attention-free baseline, per backend, in one run.

Latency: batch 1, one real letterboxed image; both models are timed in alternating blocks after a warm-up, and the
latency ratio is the mean over blocks of the within-block ratio of medians, with a 95% Student-t interval over the
blocks (`benchmark_timing`). The table (`benchmark_table`) is printed and written as CSV and Markdown.

OpenVINO is measured at each precision with the precision stated: ``openvino`` forces f32 (a CPU with AMX would
otherwise run an FP32 model in bf16), ``openvino-bf16`` asks for bf16 where the CPU has it, ``openvino-int8`` runs
both models quantised by NNCF on calibration images (`int8.quantize_openvino`, the attention gates kept in float as
the project's INT8 export keeps them) with the plugin's default precision for the float ops.

Memory: the peak resident set size that loading the model and running it adds to a fresh process (`memory`).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from yolo_attention.export.benchmark_table import BenchmarkResult, BenchmarkRow
from yolo_attention.export.benchmark_timing import (
    MIN_BLOCKS,
    MIN_RUNS,
    LatencyRatio,
    ratio_interval,
    time_interleaved,
    time_paired,
)
from yolo_attention.export.memory import measure_memory

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKENDS",
    "BenchmarkResult",
    "BenchmarkRow",
    "LatencyRatio",
    "backend_runner",
    "load_backend",
    "measure_memory",
    "openvino_capabilities",
    "ratio_interval",
    "run_benchmark",
    "time_interleaved",
]

BACKENDS = ("pytorch", "onnx", "openvino", "openvino-bf16", "openvino-int8", "torchscript")
DEFAULT_BACKENDS = ("pytorch", "onnx", "openvino", "openvino-bf16", "openvino-int8")
OPENVINO_HINTS = {"openvino": "f32", "openvino-bf16": "bf16", "openvino-int8": None}
"""``INFERENCE_PRECISION_HINT`` per OpenVINO backend; None: the plugin's default (bf16 on CPUs with AMX, else f32)."""


def openvino_capabilities() -> list[str]:
    """Return the OpenVINO CPU plugin's ``OPTIMIZATION_CAPABILITIES`` on this machine (``BF16`` where it has bf16)."""
    import openvino as ov

    return [str(c) for c in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")]


def _compile_openvino(path: str | Path, hint: str | None, threads: int | None):
    """Compile for the CPU plugin as `runtimes.openvino.compile_openvino` does, with the precision hint chosen."""
    import openvino as ov

    from yolo_attention.export.runtimes.openvino import openvino_xml

    config = {"PERFORMANCE_HINT": "LATENCY"}
    if hint:
        config["INFERENCE_PRECISION_HINT"] = hint
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    core = ov.Core()
    return core.compile_model(core.read_model(str(openvino_xml(path))), "CPU", config)


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


def load_backend(backend: str, artifact: str | Path, threads: int | None = None) -> tuple[Callable, str]:
    """Load `artifact` for one of `BACKENDS`; return its runner and the precision it runs in.

    OpenVINO's precision is the one the compiled model reports, so a hint the CPU cannot honour shows as what ran.
    """
    if backend == "pytorch":
        return _pytorch_runner(artifact, threads), "fp32"
    if backend in OPENVINO_HINTS:
        compiled = _compile_openvino(artifact, OPENVINO_HINTS[backend], threads)
        ran = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        return (lambda x: compiled(x)[0]), f"int8 + {ran}" if backend == "openvino-int8" else ran
    from yolo_attention.export.runtimes import load_runtime

    return load_runtime(artifact, backend, threads=threads), "fp32"


def backend_runner(backend: str, artifact: str | Path, threads: int | None = None) -> Callable[[np.ndarray], object]:
    """Load `artifact` for one of `BACKENDS` (a ``.pt`` checkpoint for ``pytorch``); return its runner."""
    return load_backend(backend, artifact, threads)[0]


def _export(yolo, fmt: str, imgsz: int, folder: Path, name: str) -> Path:
    """Save `yolo` as `folder/name.pt` and export that checkpoint, so every file lands in `folder`."""
    from ultralytics import YOLO

    pt = folder / f"{name}.pt"
    if not pt.exists():
        yolo.save(str(pt))
    if fmt == "pytorch":
        return pt
    return Path(YOLO(str(pt)).export(format=fmt, imgsz=imgsz, batch=1, dynamic=False, verbose=False))


def _quantize(yolo, fp32_dir: Path, data, imgsz: int, folder: Path, name: str, subset_size: int) -> Path:
    """NNCF INT8 of an FP32 OpenVINO export, gates in float, as ``yolo-attn export format=openvino int8=True``."""
    from yolo_attention.common.models import layers_of
    from yolo_attention.export.int8 import quantize_openvino
    from yolo_attention.integration import attention_layer_indices

    head = len(layers_of(yolo)) - 1
    out = folder / f"{name}_int8_openvino_model"
    return quantize_openvino(fp32_dir, data, attention_layer_indices(yolo), head, imgsz, out, True, subset_size)


def _not_run(backend: str, data) -> str | None:
    """Why `backend` cannot give a number on this machine and these arguments, or None."""
    if backend == "openvino-bf16":
        capabilities = openvino_capabilities()
        if "BF16" not in capabilities:
            return (
                f"no bf16 on this CPU (OpenVINO CPU capabilities: {', '.join(capabilities)}); a bf16 hint would run f32"
            )
    if backend == "openvino-int8" and not data:
        return "needs data= (a dataset YAML whose train images calibrate the NNCF INT8 models)"
    return None


def _parse_backends(format) -> list[str]:
    from yolo_attention.modules.suggest import did_you_mean

    backends = [f.strip().lower() for f in (format.split(",") if isinstance(format, str) else format) if f.strip()]
    for b in backends:
        if b not in BACKENDS:
            raise ValueError(f"unknown backend '{b}'; valid: {', '.join(BACKENDS)}.{did_you_mean(b, list(BACKENDS))}")
    if not backends:
        raise ValueError(f"no backend given; valid: {', '.join(BACKENDS)}")
    return backends


def _error_text(e: Exception) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0] if text else ''}"


def run_benchmark(
    model,
    format: str | Sequence[str] = DEFAULT_BACKENDS,
    imgsz: int = 640,
    runs: int = 100,
    warmup: int = 10,
    memory: bool = True,
    baseline=None,
    out_dir: str | Path | None = None,
    name: str | None = None,
    threads: int | None = None,
    blocks: int = 20,
    target_halfwidth: float | None = None,
    data: str | Path | None = None,
    subset_size: int = 300,
    *,
    formats: str | Sequence[str] | None = None,
) -> BenchmarkResult:
    """Measure latency (and peak memory) of `model` and of its attention-free baseline on each backend.

    The baseline is built from the model's own YAML with its attention layers removed (`build_baseline`), with the
    same weights in every layer they share. Both are saved as checkpoints and exported the same way (static shape,
    batch 1, FP32; INT8 quantised from that FP32 OpenVINO export). The two models are timed in `blocks` alternating
    blocks; the ratio is the mean of the blocks' ratios with its 95% t-interval (see `benchmark_timing`).

    Args:
        model: A `YOLO` with attention layers, or a checkpoint / model YAML path.
        format (str | Sequence[str]): Backends among `BACKENDS`, comma-separated or a list: ``openvino`` (f32),
            ``openvino-bf16`` (where the CPU has bf16, else the row says so), ``openvino-int8`` (needs `data`).
        imgsz (int): Input size.
        runs (int): Timed runs per model and backend (at least 30), split over `blocks`.
        warmup (int): Untimed runs first.
        memory (bool): Also measure peak memory, each model and backend in a fresh process (a few seconds each).
        baseline: The baseline to compare with instead of the one built from the YAML (`YOLO` or path).
        out_dir (str | Path, optional): Keep the checkpoints and exports here, and write ``benchmark.csv`` and
            ``benchmark.md``; a temporary folder (and no table files) by default.
        name (str, optional): Display name of the model; defaults to its YAML's stem.
        threads (int, optional): CPU threads every runtime gets (torch, onnxruntime intra-op, OpenVINO
            ``INFERENCE_NUM_THREADS``); defaults to the number of CPUs. Ultralytics lowers torch's own default.
        blocks (int): Alternating blocks the runs are split over (at least 3 runs each); the interval is over blocks.
        target_halfwidth (float, optional): Keep adding blocks until the ratio's 95% interval is at most ± this
            (e.g. 0.005), up to 5 x `runs` per model.
        data (str | Path, optional): Dataset YAML whose train images calibrate ``openvino-int8``.
        subset_size (int): INT8 calibration images (at most).
        formats (str | Sequence[str], optional): Deprecated name of ``format``.

    Returns:
        (BenchmarkResult): Rows, ratios with their intervals, and `table()`.

    Examples:
        >>> import yolo_attention
        >>> result = run_benchmark("yolov8n-eca.yaml", "pytorch", imgsz=64, runs=30, warmup=2, memory=False)
        >>> result.backends, result.ratio("pytorch") > 0, result.ratios["pytorch"].blocks
        (['pytorch'], True, 10)
    """
    from ultralytics import YOLO
    from ultralytics.engine.model import Model
    from ultralytics.utils.torch_utils import get_flops

    import yolo_attention  # noqa: F401
    from yolo_attention.export.baseline import build_baseline
    from yolo_attention.export.images import load_images

    if formats is not None:
        warnings.warn("run_benchmark(formats=...) is deprecated: use format=...", DeprecationWarning, stacklevel=2)
        format = formats
    backends = _parse_backends(format)
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < MIN_RUNS:
        raise ValueError(f"runs must be an int >= {MIN_RUNS} for a median worth reporting, got {runs!r}")
    if not isinstance(imgsz, int) or isinstance(imgsz, bool) or imgsz < 32:
        raise ValueError(f"imgsz must be an int >= 32 (a square input size), got {imgsz!r}")
    if not isinstance(blocks, int) or isinstance(blocks, bool) or blocks < MIN_BLOCKS:
        raise ValueError(
            f"blocks must be an int >= {MIN_BLOCKS}, got {blocks!r}: the interval is a t-interval over blocks, and "
            "with fewer it is too wide to tell anything (with 2, 12.7 standard errors: it can reach below zero)"
        )
    if target_halfwidth is not None and not target_halfwidth > 0:
        raise ValueError(f"target_halfwidth must be a number > 0 (e.g. 0.005) or None, got {target_halfwidth!r}")
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise ValueError(f"threads must be an int >= 1, or None for every CPU ({os.cpu_count()}), got {threads!r}")
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
        rows, ratios, exported = [], {}, {}  # exported: (role, format) -> artifact, shared by the OpenVINO rows

        def artifact(role: str, backend: str) -> Path:
            m, _, stem = models[role]
            fmt = "openvino" if backend in OPENVINO_HINTS else backend
            if (role, fmt) not in exported:
                exported[role, fmt] = _export(m, fmt, imgsz, folder, stem)
            if backend != "openvino-int8":
                return exported[role, fmt]
            if (role, backend) not in exported:
                exported[role, backend] = _quantize(m, exported[role, fmt], data, imgsz, folder, stem, subset_size)
            return exported[role, backend]

        for backend in backends:
            pair = {role: BenchmarkRow(display, role, backend, *info[role]) for role, (_, display, _) in models.items()}
            try:
                note = _not_run(backend, data)
                if note:
                    for row in pair.values():
                        row.note, row.precision = note, backend.removeprefix("openvino-")
                    rows += [pair["attention"], pair["baseline"]]
                    continue
                artifacts = {role: artifact(role, backend) for role in models}
                loaded = {role: load_backend(backend, artifacts[role], threads) for role in models}
                timed = [lambda r=loaded[role][0]: r(x) for role in models]  # attention, baseline
                a_blocks, b_blocks, ratios[backend] = time_paired(*timed, runs, warmup, blocks, target_halfwidth)
                for role, times in (("attention", a_blocks), ("baseline", b_blocks)):
                    flat = [t for block in times for t in block]
                    row = pair[role]
                    row.median_ms, row.p90_ms = statistics.median(flat), float(np.percentile(flat, 90))
                    row.runs, row.precision = len(flat), loaded[role][1]
                del timed, loaded  # free the runtimes before the memory processes
                if memory:
                    for role in models:
                        pair[role].peak_mib = measure_memory(backend, artifacts[role], imgsz, threads=threads)
            except Exception as e:  # report the backend as failed, measure the others
                ratios.pop(backend, None)
                for row in pair.values():
                    row.error = _error_text(e)
            rows += [pair["attention"], pair["baseline"]]
    result = BenchmarkResult(rows, imgsz, threads, ratios)
    if out_dir:
        result.write(out_dir)
    return result
