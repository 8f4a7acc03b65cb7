"""Measure the PCB models on a held-out part of DeepPCB: yolov8n-pcb vs yolov8n-pcb-cbam, same baseline, same budget.

Converts the DeepPCB trainval split and holds out a fixed-seed part (tools/measure_transfer.py), then:
1. yolo_attention.train on yolov8n-pcb-cbam without weights: phase `pretrain` trains the yolov8n-pcb baseline, whose
   weights go layer by layer into yolov8n-pcb-cbam for the two-stage warm-up / fine-tune;
2. the same two-stage schedule on yolov8n-pcb itself, from that same pretrained baseline;
3. both final models on the held-out part: Ultralytics mAP50 / mAP50-95 and DeepPCB's protocol (IoU > 0.33).

    python tools/measure_pcb.py --src ../shared/datasets/deeppcb-trainval --imgsz 320 --pretrain 6
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ultralytics import YOLO

import yolo_attention
from yolo_attention.eval import evaluate_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deeppcb_holdout import build_holdout  # noqa: E402  the one held-out split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--src", type=Path, default=Path(__file__).resolve().parents[2] / "shared/datasets/deeppcb-trainval"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/measure_pcb"))
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--pretrain", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--finetune", type=int, default=3)
    args = parser.parse_args()
    out = args.out.resolve()
    data = str(build_holdout(args.src, out / "deeppcb"))
    common = {
        "data": data,
        "imgsz": args.imgsz,
        "batch": args.batch,
        "workers": 2,
        "plots": False,
        "val": False,
        "project": str(out),
        "training_strategy.warmup.epochs": args.warmup,
        "training_strategy.finetune.epochs": args.finetune,
    }
    cbam = yolo_attention.train(
        "yolov8n-pcb-cbam.yaml", name="pcb-cbam", **common, **{"model.pretrain_epochs": args.pretrain}
    )
    baseline = cbam / "checkpoints" / "pretrain_complete.pt"
    plain = yolo_attention.train(str(baseline), name="pcb", **common)

    rows = []
    for label, root in (("yolov8n-pcb (baseline) two-stage", plain), ("yolov8n-pcb-cbam two-stage", cbam)):
        final = str(root / "checkpoints" / "final_model.pt")
        metrics = YOLO(final).val(
            data=data, imgsz=args.imgsz, batch=args.batch, plots=False, project=str(out), name="val"
        )
        result, _ = evaluate_model(final, data, imgsz=args.imgsz, out=out / f"deeppcb_{root.name}")
        rows.append((label, metrics.box.map50, metrics.box.map, result.ap, result.map, result.fscore))
    print(
        f"\nDeepPCB trainval, 20% held out (seed 0), imgsz {args.imgsz}; baseline yolov8n-pcb pretrained "
        f"{args.pretrain} epochs, then two-stage warmup {args.warmup} + finetune {args.finetune} epochs"
    )
    print(f"{'model':<36}{'mAP50':>8}{'mAP50-95':>10}{'DeepPCB AP':>12}{'class mAP':>11}{'F-score':>9}")
    for label, m50, m, ap, cmap, f in rows:
        print(f"{label:<36}{m50:>8.4f}{m:>10.4f}{ap:>12.4f}{cmap:>11.4f}{f:>9.4f}")


if __name__ == "__main__":
    main()
