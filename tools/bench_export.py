"""Benchmark for issue 14's targets: latency of yolov8n-{eca,cbam,coordatt,ecasam} over yolov8n.

Latency: for each variant, the model and the baseline built from the same YAML without its attention layers are
exported the same way (static, batch 1, FP32; INT8 quantised from it with --data) and timed in alternating blocks in
one process (`run_benchmark`): the ratio is the mean over blocks of the within-block ratio of medians, with its 95%
t-interval over blocks, on onnxruntime and OpenVINO at each precision (f32 forced, bf16 where the CPU has it, NNCF
INT8 with --data). Targets on onnxruntime and OpenVINO f32: ECA <= 1.01, CoordAtt <= 1.02, CBAM <= 1.03,
ECASAM <= 1.03, an interval no wider than +-0.005 (--target-halfwidth adds blocks until it is). Each variant's table
is written to --out/latency/<variant>/benchmark.{csv,md}.

INT8 accuracy and speed on real data, per variant: tools/int8_deeppcb.py.

    nice python tools/bench_export.py                                   # latency, imgsz 640
    nice python tools/bench_export.py --data ../shared/datasets/deeppcb-trainval   # adds the openvino-int8 rows
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yolo_attention  # noqa: F401  registers the modules before checkpoints load
from yolo_attention.export import run_benchmark

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deeppcb_holdout import build_holdout  # noqa: E402  the one held-out split

TARGETS = {"eca": 1.01, "coordatt": 1.02, "cbam": 1.03, "ecasam": 1.03}
DEFAULT_TARGET = 1.05
TARGET_BACKENDS = ("onnx", "openvino")  # where the ratio targets apply; the other rows are reported


def latency(args, data: Path | None) -> list[tuple]:
    """Benchmark each variant; return (variant, backend, precision, ms, base ms, LatencyRatio, GFLOPs ratio) rows."""
    rows = []
    for variant in args.variants.split(","):
        result = run_benchmark(
            f"yolov8n-{variant}.yaml",
            args.backends,
            imgsz=args.imgsz,
            runs=args.runs,
            warmup=args.warmup,
            memory=args.memory,
            out_dir=args.out / "latency" / variant,
            threads=args.threads,
            blocks=args.blocks,
            target_halfwidth=args.target_halfwidth,
            data=data,
            subset_size=args.subset,
        )
        print(result.table(), flush=True)
        for backend in result.backends:
            a, b = result.pair(backend)
            if backend not in result.ratios:
                print(f"{variant} {backend}: {a.error or b.error or a.note or b.note}")
                continue
            ratio = result.ratios[backend]
            rows.append((variant, backend, a.precision, a.median_ms, b.median_ms, ratio, a.gflops / b.gflops))
    return rows


def dataset(args) -> Path:
    """The dataset YAML of --data (a DeepPCB release folder is split into the project's held-out dataset first)."""
    data = Path(args.data)
    return build_holdout(data, args.out / "deeppcb") if data.is_dir() else data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--variants", default="eca,cbam,coordatt,ecasam")
    parser.add_argument("--backends", default="onnx,openvino,openvino-bf16,openvino-int8")
    parser.add_argument("--runs", type=int, default=100, help="timed runs per model, the minimum with a target")
    parser.add_argument("--blocks", type=int, default=20, help="alternating blocks the runs are split over")
    parser.add_argument("--target-halfwidth", type=float, default=0.005, help="add blocks until the CI is +- this")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--data", default=None, help="DeepPCB release folder or a dataset YAML with train/val")
    parser.add_argument("--subset", type=int, default=300, help="calibration images")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_export"))
    args = parser.parse_args()
    args.out = args.out.resolve()
    start = time.time()
    data = dataset(args) if args.data else None
    rows = latency(args, data)
    print(f"\nlatency at imgsz {args.imgsz}, batch 1, attention over baseline (mean of paired blocks, 95% CI)")
    print(f"{'model':<18}{'backend':<15}{'precision':<11}{'ms':>8}{'base ms':>9}{'ratio':>8}{'95% CI':>17}"
          f"{'±':>8}{'GFLOPs':>8}{'target':>8}  met")  # fmt: skip
    for variant, backend, precision, a, b, ratio, flops in rows:
        target = TARGETS.get(variant, DEFAULT_TARGET) if backend in TARGET_BACKENDS else None
        met = "-" if target is None else ("yes" if ratio.mean <= target else "NO")
        if target is not None and ratio.halfwidth > args.target_halfwidth:
            met += f" (CI wider than ±{args.target_halfwidth:g})"
        print(
            f"{'yolov8n-' + variant:<18}{backend:<15}{precision:<11}{a:>8.2f}{b:>9.2f}{ratio.mean:>8.3f}"
            f"{f'[{ratio.low:.3f}, {ratio.high:.3f}]':>17}{ratio.halfwidth:>8.4f}{flops:>8.4f}"
            f"{'-' if target is None else f'{target:.2f}':>8}  {met}"
        )
    print(f"\ntotal {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
