"""What a benchmark run measured: rows per model and backend, the paired ratio per backend, and the run's table.

The table is printed, and written as ``benchmark.csv`` and ``benchmark.md``.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from yolo_attention.export.benchmark_timing import LatencyRatio

__all__ = ["TABLE_COLUMNS", "BenchmarkResult", "BenchmarkRow"]

TABLE_COLUMNS = (
    "backend",
    "precision",
    "attention",
    "baseline",
    "attention_ms",
    "baseline_ms",
    "ratio",
    "ratio_low",
    "ratio_high",
    "ratio_halfwidth",
    "blocks",
    "runs",
    "attention_p90_ms",
    "baseline_p90_ms",
    "attention_params",
    "baseline_params",
    "attention_gflops",
    "baseline_gflops",
    "attention_peak_mib",
    "baseline_peak_mib",
    "note",
)
"""Columns of ``benchmark.csv``, one line per backend (`BenchmarkResult.records`)."""


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
        precision (str): What the model ran in: ``fp32``; for OpenVINO the inference precision the compiled model
            reports (``f32``, ``bf16``), after ``int8`` for a quantised model (``int8 + f32``: its float ops in f32).
        note (str, optional): Why the backend was not run, though nothing failed (no bf16 on this CPU, no data=).
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
    precision: str = "fp32"
    note: str | None = None


def _number(value, spec: str) -> str:
    """A number as `spec` formats it; ``-`` for None or nan."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


@dataclass
class BenchmarkResult:
    """Rows for the attention model and its baseline on each backend, their paired ratios and how they were measured.

    Attributes:
        rows (list[BenchmarkRow]): Attention then baseline row, per backend in order.
        imgsz (int): Input size.
        threads (int): CPU threads per runtime.
        ratios (dict[str, LatencyRatio]): Per backend timed, the paired latency ratio and its interval.
        files (list[Path]): The tables written (``benchmark.csv``, ``benchmark.md``), if any.
    """

    rows: list[BenchmarkRow]
    imgsz: int
    threads: int
    ratios: dict[str, LatencyRatio] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

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
        """Return the latency ratio attention / baseline on `backend`.

        The paired blocks' mean when timed in blocks, else median over median (nan when the backend was not timed).
        """
        if backend in self.ratios:
            return self.ratios[backend].mean
        a, b = self.pair(backend)
        return a.median_ms / b.median_ms if b.median_ms else math.nan

    def records(self) -> list[dict]:
        """Return one dict per backend with the `TABLE_COLUMNS` (None where there is no number)."""
        records = []
        for backend in self.backends:
            a, b = self.pair(backend)
            r = self.ratios.get(backend)
            timed = not (a.error or b.error or a.note or b.note)
            records.append(
                {
                    "backend": backend,
                    "precision": a.precision,
                    "attention": a.model,
                    "baseline": b.model,
                    "attention_ms": a.median_ms if timed else None,
                    "baseline_ms": b.median_ms if timed else None,
                    "ratio": self.ratio(backend) if timed else None,
                    "ratio_low": r.low if r and timed else None,
                    "ratio_high": r.high if r and timed else None,
                    "ratio_halfwidth": r.halfwidth if r and timed else None,
                    "blocks": r.blocks if r and timed else None,
                    "runs": a.runs if timed else None,
                    "attention_p90_ms": a.p90_ms if timed else None,
                    "baseline_p90_ms": b.p90_ms if timed else None,
                    "attention_params": a.params,
                    "baseline_params": b.params,
                    "attention_gflops": a.gflops,
                    "baseline_gflops": b.gflops,
                    "attention_peak_mib": a.peak_mib,
                    "baseline_peak_mib": b.peak_mib,
                    "note": a.error or b.error or a.note or b.note,
                }
            )
        return records

    def header(self) -> str:
        """Return what the table's numbers are, in words."""
        models = f"{self.rows[0].model} against {self.rows[1].model}" if len(self.rows) > 1 else ""
        confidence = next(iter(self.ratios.values())).confidence if self.ratios else 0.95
        return (
            f"{models}; imgsz {self.imgsz}, batch 1, {self.threads} CPU threads per runtime. "
            "ms: median latency of each model; ratio: mean over the interleaved blocks of median(attention) / "
            f"median(baseline) within a block, with its {100 * confidence:g}% Student-t interval over blocks; "
            "peak MiB: RSS added by loading and running the model in a fresh process. OpenVINO precision: the "
            "inference precision the compiled model reports."
        )

    def markdown(self) -> str:
        """Return the header and one Markdown table row per backend, columns padded to line up in a terminal."""
        head = ["backend", "precision", "ms attention", "ms baseline", "ratio", "95% CI", "±", "runs",
                "params", "GFLOPs", "peak MiB", "note"]  # fmt: skip
        lines = []
        for rec in self.records():

            def pair(k: str, spec: str, rec: dict = rec) -> str:
                return f"{_number(rec[f'attention_{k}'], spec)} / {_number(rec[f'baseline_{k}'], spec)}"

            ci = f"[{_number(rec['ratio_low'], '.3f')}, {_number(rec['ratio_high'], '.3f')}]"
            runs = f"{rec['runs']} in {rec['blocks']}" if rec["blocks"] else _number(rec["runs"], "d")
            lines.append(
                [rec["backend"], rec["precision"], _number(rec["attention_ms"], ".2f"),
                 _number(rec["baseline_ms"], ".2f"), _number(rec["ratio"], ".3f"),
                 ci if rec["ratio_low"] is not None else "-", _number(rec["ratio_halfwidth"], ".4f"), runs,
                 pair("params", ","), pair("gflops", ".2f"), pair("peak_mib", ".1f"), rec["note"] or ""]
            )  # fmt: skip
        widths = [max(len(str(row[i])) for row in [head, *lines]) for i in range(len(head))]
        fmt = lambda row: "| " + " | ".join(f"{str(c):<{w}}" for c, w in zip(row, widths)) + " |"  # noqa: E731
        table = [fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(fmt(row) for row in lines)]
        return self.header() + "\n\n" + "\n".join(table)

    def table(self) -> str:
        """Return the run's table as printed (the Markdown of `markdown`)."""
        return self.markdown()

    def csv(self) -> str:
        """Return the table as CSV, one line per backend (`TABLE_COLUMNS`; empty where there is no number)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=TABLE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for rec in self.records():
            writer.writerow({k: "" if v is None else v for k, v in rec.items()})
        return out.getvalue()

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``benchmark.csv`` and ``benchmark.md`` into `folder`; return their paths (also kept in `files`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = [folder / "benchmark.csv", folder / "benchmark.md"]
        files[0].write_text(self.csv())
        files[1].write_text(self.markdown() + "\n")
        self.files = files
        return files
