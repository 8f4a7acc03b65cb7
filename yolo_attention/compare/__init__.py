"""Compare attention variants with a plain comparator over several seeds: statistics, tables and plots.

`yolo-attn compare` trains every variant and ``plain`` (the same pretrained checkpoint trained plainly for the same
total epochs) over several seeds; each finished run gives a record::

    {"variant": "yolov8n-cbam", "schedule": "two-stage", "seed": 0, "experiment": "runs/yolov8n-cbam_seed0",
     "epochs": 4, "time_s": 812.3, "metrics": {"mAP50": 0.71, "mAP50-95": 0.41, "F": 0.68},
     "phases": [{"name": "warmup", "start_mAP50": 0.72, "end_mAP50": 0.72,
                 "curve": [{"epoch": 1, "mAP50": 0.72, "mAP50-95": 0.41}]}, ...],
     "per_image": {"image_ids": ["000010"], "counts": [[3, 0, 1]]}}  # optional: DeepPCB [tp, fp, fn] per image

and each variant an info ``{"variant", "params", "gflops", "latency_ms", "latency_ratio"}``. This package turns them
into ``results/comparison.{csv,md,json}`` and ``results/plots/*.png``; numpy only at import, matplotlib and scipy when
a plot or an interval is made.
"""

from __future__ import annotations

from yolo_attention.compare.plots import curve_series, plot_phase_curves, write_plots
from yolo_attention.compare.stats import (
    f_score,
    mean_std,
    paired_bootstrap,
    paired_differences,
    significant,
    t_interval,
)
from yolo_attention.compare.table import comparison_markdown, summarize, write_comparison

__all__ = [
    "comparison_markdown",
    "curve_series",
    "f_score",
    "mean_std",
    "paired_bootstrap",
    "paired_differences",
    "plot_phase_curves",
    "significant",
    "summarize",
    "t_interval",
    "write_comparison",
    "write_plots",
]
