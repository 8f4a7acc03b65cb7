"""Training throughput of each attention variant against yolov8n, in one process on the same batches (issue 14).

For every variant and the plain yolov8n, one training step (forward, Ultralytics' detection loss, backward, SGD step)
on the same real letterboxed pcb-mini batch is timed in interleaved blocks; images per second of the variant over the
baseline's, per block, give the ratio and its 95 % t-interval over blocks. Goal: >= 0.95x.

    nice python tools/bench_train.py --imgsz 320 --batch 8 --blocks 10
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import yolo_attention  # noqa: F401  registers the modules


def _batch(imgsz: int, n: int) -> dict:
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_dataloader, build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset

    cfg = get_cfg(overrides={"imgsz": imgsz, "batch": n, "workers": 0})
    data = check_det_dataset("pcb-mini.yaml")
    dataset = build_yolo_dataset(cfg, data["train"], n, data, mode="val", stride=32)
    batch = next(iter(build_dataloader(dataset, n, 0, shuffle=False, rank=-1)))
    batch["img"] = batch["img"].float() / 255
    return batch


def _stepper(name: str, batch: dict):
    from ultralytics import YOLO
    from ultralytics.cfg import get_cfg

    model = YOLO(name, verbose=False).model.train()
    model.args = get_cfg()
    for p in model.parameters():
        p.requires_grad_(True)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss, _ = model.loss(batch)
        loss.sum().backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default="eca,cbam,coordatt,ecasam,se")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per model per block")
    args = parser.parse_args()
    from yolo_attention.export.benchmark_timing import ratio_interval

    torch.manual_seed(0)
    batch = _batch(args.imgsz, args.batch)
    names = ["yolov8n.yaml", *(f"yolov8n-{v}.yaml" for v in args.variants.split(","))]
    steps = {n: _stepper(n, batch) for n in names}
    for step in steps.values():  # warm-up
        step()
    times = {n: [[] for _ in range(args.blocks)] for n in names}  # per model, per block
    for b in range(args.blocks):
        order = names if b % 2 == 0 else names[::-1]
        for n in order:
            for _ in range(args.steps):
                t = time.perf_counter()
                steps[n]()
                times[n][b].append(time.perf_counter() - t)
    base = times["yolov8n.yaml"]
    threads = torch.get_num_threads()
    print(f"imgsz {args.imgsz}, batch {args.batch}, {args.blocks} blocks x {args.steps} steps, {threads} threads")
    print(f"{'model':<24}{'img/s':>9}{'ratio to yolov8n':>20}   95% CI")
    flat = {n: [t for block in times[n] for t in block] for n in names}
    print(f"{'yolov8n.yaml':<24}{args.batch / statistics.median(flat[names[0]]):>9.1f}{1.0:>20.3f}")
    for n in names[1:]:
        r = ratio_interval(base, times[n])  # throughput ratio: the baseline's step time over the variant's
        print(f"{n:<24}{args.batch / statistics.median(flat[n]):>9.1f}   {r.text()}")


if __name__ == "__main__":
    main()
