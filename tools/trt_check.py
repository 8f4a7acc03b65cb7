"""TensorRT FP16 and INT8 end to end on an NVIDIA GPU: export, parity against PyTorch, latency against yolov8n.

For each precision, the attention model and the plain yolov8n it is built on (the same YAML without its attention
layers, `build_baseline`, same weights in every shared layer; or --baseline) are exported as engines through
Ultralytics (`yolo_attention.export.export_engine`: format=engine, half=True, or int8=True calibrated on --data).
Each engine is then

- checked against PyTorch on the same letterboxed images (`verify_export`: detections matched box by box under the
  precision's criterion, the tensor tolerance when nothing is detected), and with --map validated on --data's val
  split next to PyTorch (mAP50 drop allowed: the export command's, 0.5 point FP16, 1 point INT8);
- timed on the GPU, batch 1, input already on the device, each run synchronised, attention and baseline in
  alternating blocks: median ms of each and the paired ratio with its 95% t-interval over blocks.

Without CUDA or the tensorrt package it prints one line saying so and exits 0 (nothing to check on this machine).
Exit 1 when an engine fails its check, else 0.

    python tools/trt_check.py --model best.pt --data deeppcb.yaml --imgsz 640 --map
    python tools/trt_check.py                                   # yolov8n-cbam.yaml, random weights, FP16 only
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import sys
import time
from pathlib import Path

import yolo_attention  # noqa: F401  registers the modules before checkpoints load
from yolo_attention.export import TensorRTUnavailableError, check_tensorrt

COLUMNS = ("precision", "role", "model", "engine", "parity", "verdict", "map50", "ref_map50", "median_ms", "ratio",
           "ratio_low", "ratio_high", "blocks", "runs")  # fmt: skip


def engine_runner(engine: Path, imgsz: int, device: str):
    """A runner of the engine on one GPU-resident image, synchronised so that wall time is GPU time."""
    import torch
    from ultralytics.nn.autobackend import AutoBackend

    backend = AutoBackend(str(engine), device=torch.device(device), verbose=False)
    x = torch.rand(1, 3, imgsz, imgsz, device=device)
    x = x.half() if backend.fp16 else x

    def run():
        backend(x)
        torch.cuda.synchronize()

    return run


def export(model, stem: str, precision: str, args, folder: Path) -> Path:
    """Export `model` (saved as folder/stem.pt) as a `precision` engine; return folder/stem_<precision>.engine."""
    from ultralytics import YOLO

    from yolo_attention.export import export_engine

    pt = folder / f"{stem}.pt"
    if not pt.exists():
        model.save(str(pt))
    engine = export_engine(
        YOLO(str(pt)),
        imgsz=args.imgsz,
        half=precision == "fp16",
        int8=precision == "int8",
        data=args.data if precision == "int8" else None,
        workspace=args.workspace,
        device=args.device,
    )
    target = folder / f"{stem}_{precision}.engine"
    shutil.move(str(engine), target)  # the next precision's export writes the same name
    return target


def check(args) -> int:
    from ultralytics import YOLO

    from yolo_attention.export import build_baseline, load_images, validate_map, verify_export
    from yolo_attention.export.benchmark_timing import time_paired
    from yolo_attention.export.exporter import MAP_TOL

    folder = args.out.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    model = YOLO(args.model)
    base = YOLO(args.baseline) if args.baseline else build_baseline(model, folder)
    models = {"attention": (model, "model"), "baseline": (base, "baseline")}
    names = {"attention": args.model, "baseline": args.baseline or f"{Path(args.model).stem} without attention"}
    images = load_images(args.data, args.imgsz, args.images)
    device = f"cuda:{args.device}"
    refs = {role: validate_map(m, args.data, args.imgsz, batch=8) for role, (m, _) in models.items() if args.map}
    records, failed = [], False
    for precision in args.precisions.split(","):
        if precision == "int8" and not args.data:
            print(f"{precision}: skipped, INT8 calibration needs --data")
            continue
        engines, recs = {}, {}
        for role, (m, stem) in models.items():
            try:
                engines[role] = export(m, stem, precision, args, folder)
                report = verify_export(m, engines[role], images, precision, fmt="engine", device=device)
                if args.map:
                    report.map50, report.map50_95 = validate_map(engines[role], args.data, args.imgsz)
                    report.ref_map50, report.ref_map50_95 = refs[role]
                    report.map_tol = MAP_TOL.get(precision)
            except Exception as e:  # one engine failing must not hide the others
                text = str(e).strip().splitlines()
                print(f"{precision} {role}: FAILED {type(e).__name__}: {text[0] if text else ''}")
                failed = True
                continue
            failed |= not report.passed
            print(f"{precision} {role:<9} {report.line()}")
            for note in report.notes:
                print(f"{'':<18}note: {note}")
            recs[role] = {"precision": precision, "role": role, "model": names[role], "engine": str(engines[role]),
                          "parity": report.judged_by, "verdict": "PASS" if report.passed else "FAIL",
                          "map50": report.map50, "ref_map50": report.ref_map50}  # fmt: skip
        records += recs.values()
        if len(recs) < 2:
            continue
        a, b, ratio = time_paired(
            engine_runner(engines["attention"], args.imgsz, device),
            engine_runner(engines["baseline"], args.imgsz, device),
            args.runs,
            args.warmup,
            args.blocks,
        )
        for role, times in (("attention", a), ("baseline", b)):
            flat = [t for block in times for t in block]
            recs[role].update(median_ms=statistics.median(flat), runs=len(flat), ratio=ratio.mean, ratio_low=ratio.low,
                              ratio_high=ratio.high, blocks=ratio.blocks)  # fmt: skip
        print(
            f"{precision} latency on {device}: attention {recs['attention']['median_ms']:.3f} ms, baseline "
            f"{recs['baseline']['median_ms']:.3f} ms, ratio {ratio.text()}"
        )
    with open(folder / "trt_check.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
    print(f"table: {folder / 'trt_check.csv'}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="yolov8n-cbam.yaml", help="attention checkpoint or YAML (a trained one)")
    parser.add_argument("--baseline", default=None, help="baseline instead of the model without its attention")
    parser.add_argument("--data", default=None, help="dataset YAML: INT8 calibration (train), parity images, --map")
    parser.add_argument("--precisions", default="fp16,int8", help="comma-separated: fp32, fp16, int8")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--images", type=int, default=8, help="parity images")
    parser.add_argument("--map", action="store_true", help="also validate every engine and PyTorch on --data")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per engine")
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--workspace", type=float, default=None, help="TensorRT workspace (GiB)")
    parser.add_argument("--device", type=int, default=0, help="CUDA device index")
    parser.add_argument("--out", type=Path, default=Path("runs/trt_check"))
    args = parser.parse_args()
    try:
        check_tensorrt()
    except TensorRTUnavailableError as e:
        print(f"trt_check: nothing to check on this machine: {e}")
        return 0
    if args.map and not args.data:
        parser.error("--map needs --data")
    start = time.time()
    code = check(args)
    print(f"total {time.time() - start:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
