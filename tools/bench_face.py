"""Latency of the lite face model at 640x480 with one CPU thread, beside yolov8n-pose (issue 15; goal <= 28 ms).

Both models are exported the same way (ONNX, static 480x640, batch 1) and timed with onnxruntime on one thread in
interleaved blocks; prints each median and the ratio with its 95 % t-interval over blocks.

    nice python tools/bench_face.py --blocks 20
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

import yolo_attention  # noqa: F401  registers the modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="yolov8n-face-ecasam-lite.yaml")
    parser.add_argument("--baseline", default="yolov8n-pose.yaml")
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5, help="runs per model per block")
    args = parser.parse_args()
    from ultralytics import YOLO

    from yolo_attention.export.benchmark_timing import ratio_interval
    from yolo_attention.export.runtimes.onnx import load_onnx

    with tempfile.TemporaryDirectory() as tmp:
        runners = []
        for name in (args.model, args.baseline):
            model = YOLO(name)
            pt = Path(tmp) / f"{Path(name).stem}.pt"
            model.save(str(pt))
            onnx = YOLO(str(pt)).export(format="onnx", imgsz=[480, 640], batch=1, dynamic=False, verbose=False)
            runners.append(load_onnx(onnx, threads=1))
        x = np.random.default_rng(0).random((1, 3, 480, 640), dtype=np.float32)
        for run in runners:
            for _ in range(5):
                run(x)
        import time

        times = [[[] for _ in range(args.blocks)] for _ in runners]
        for b in range(args.blocks):
            for i in range(len(runners)) if b % 2 == 0 else reversed(range(len(runners))):
                for _ in range(args.runs):
                    t = time.perf_counter()
                    runners[i](x)
                    times[i][b].append(1e3 * (time.perf_counter() - t))
    medians = [statistics.median([t for block in m for t in block]) for m in times]
    print(f"onnxruntime, 1 thread, 640x480, batch 1, {args.blocks} blocks x {args.runs} runs")
    print(f"{args.model}: median {medians[0]:.2f} ms (goal <= 28 ms)")
    print(f"{args.baseline}: median {medians[1]:.2f} ms")
    print(f"ratio {ratio_interval(times[0], times[1]).text()}")


if __name__ == "__main__":
    main()
