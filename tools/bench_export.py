"""Benchmark for issue 5's targets: latency of yolov8n-{eca,cbam,coordatt,ecasam} over yolov8n, and INT8 mAP50.

Latency: for each variant, the model and the baseline built from the same YAML without its attention layers are
exported the same way (static, batch 1, FP32) and timed in alternating blocks in one process (median of --runs after
--warmup), on onnxruntime and OpenVINO by default. Targets: attention/baseline <= 1.05 (ECA <= 1.02).

INT8 (with --data): a trained checkpoint (--weights, or one trained here for --epochs) is exported to OpenVINO FP32 and
quantised with NNCF on the training split, with the attention gates kept in float and without; all three are
validated on the held-out split. Target: INT8 mAP50 at most 1 point below FP32.

    nice python tools/bench_export.py                                   # latency, imgsz 640
    nice python tools/bench_export.py --data ../shared/datasets/deeppcb-trainval --weights best.pt --int8-imgsz 320
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yolo_attention  # noqa: F401  registers the modules before checkpoints load
from yolo_attention.export import compare_gate_protection, run_benchmark, validate_map

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure_transfer import holdout_dataset  # noqa: E402

TARGETS = {"eca": 1.02}
DEFAULT_TARGET = 1.05


def latency(args) -> list[tuple[str, str, float, float, float, float]]:
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
        )
        print(result.table(), flush=True)
        for backend in result.backends:
            a, b = result.pair(backend)
            if a.error or b.error:
                print(f"{variant} {backend}: {a.error or b.error}")
                continue
            rows.append((variant, backend, a.median_ms, b.median_ms, a.median_ms / b.median_ms, a.gflops / b.gflops))
    return rows


def int8(args) -> None:
    from ultralytics import YOLO

    data = Path(args.data)
    if data.is_dir():
        data = holdout_dataset(data, args.out / "deeppcb")
    weights = args.weights
    if weights is None:
        YOLO(f"yolov8n-{args.int8_variant}.yaml").train(
            data=str(data),
            epochs=args.epochs,
            imgsz=args.int8_imgsz,
            batch=16,
            workers=2,
            plots=False,
            project=str(args.out),
            name="int8_train",
            exist_ok=True,
        )
        weights = args.out / "int8_train" / "weights" / "best.pt"
    model = YOLO(str(weights))
    pytorch = validate_map(model, data, args.int8_imgsz, batch=16)
    fp32 = YOLO(str(weights)).export(format="openvino", imgsz=args.int8_imgsz, verbose=False)
    report = compare_gate_protection(
        model, fp32, data, args.int8_imgsz, args.out / "int8_openvino_model", subset_size=args.subset
    )
    print(
        f"\nINT8 OpenVINO, {weights} at imgsz {args.int8_imgsz}; calibrated on {args.subset} train images of {data}, "
        "validated on its val split"
    )
    lines = report.table().splitlines()
    lines.insert(1, f"{'PyTorch FP32 (reference)':<24}{100 * pytorch[0]:>8.2f}{100 * pytorch[1]:>10.2f}")
    print("\n".join(lines))
    drop = 100 * (report.fp32_map50 - report.protected_map50)
    print(f"target INT8 mAP50 >= FP32 - 1 point: {'met' if drop <= 1.0 else 'NOT met'} (drop {drop:.2f} points)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--variants", default="eca,cbam,coordatt,ecasam")
    parser.add_argument("--backends", default="onnx,openvino")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--data", default=None, help="DeepPCB release folder or a dataset YAML with train/val")
    parser.add_argument("--weights", type=Path, default=None, help="trained checkpoint for the INT8 measurement")
    parser.add_argument("--int8-variant", default="cbam", help="variant to train when --weights is not given")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--int8-imgsz", type=int, default=320)
    parser.add_argument("--subset", type=int, default=300, help="calibration images")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_export"))
    args = parser.parse_args()
    args.out = args.out.resolve()
    start = time.time()
    if not args.skip_latency:
        rows = latency(args)
        print(f"\nlatency at imgsz {args.imgsz}, batch 1, median of {args.runs} runs, attention over baseline")
        print(f"{'model':<18}{'backend':<10}{'ms':>9}{'base ms':>9}{'ratio':>8}{'GFLOPs ratio':>14}{'target':>8}  met")
        for variant, backend, a, b, ratio, flops in rows:
            target = TARGETS.get(variant, DEFAULT_TARGET)
            met = "yes" if ratio <= target else "NO"
            name = f"yolov8n-{variant}"
            print(f"{name:<18}{backend:<10}{a:>9.2f}{b:>9.2f}{ratio:>8.3f}{flops:>14.4f}{target:>8.2f}  {met}")
    if args.data:
        int8(args)
    print(f"\ntotal {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
