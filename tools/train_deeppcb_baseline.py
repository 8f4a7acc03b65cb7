"""Train the shipped PCB baseline ``yolov8n-deeppcb.pt``: plain yolov8n on the train part of the held-out split.

Data: ``tools/deeppcb_holdout.py``'s train part with the pcb-mini images left out (pcb-mini is the main job's data).
Settings: imgsz 320, batch 16, Ultralytics defaults otherwise (optimizer auto), seed 0, CPU, a wall-time budget
(Ultralytics' ``time=`` in hours, which sets the number of epochs from the measured epoch time). The weights shipped
are the *last* epoch's (no model selection on the held-out part); the card's figures are that checkpoint validated on
the held-out part, which it never trained on.

    python tools/train_deeppcb_baseline.py --hours 1.5          # trains, validates, writes the card
    python tools/train_deeppcb_baseline.py --card-only          # validate an existing run and (re)write the card
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from deeppcb_holdout import DEFAULT_SRC, REPO_ROOT, build_holdout

WEIGHTS_DIR = REPO_ROOT / "yolo_attention" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--out", type=Path, default=Path("runs/deeppcb"))
    parser.add_argument("--hours", type=float, default=1.5)
    parser.add_argument("--epochs", type=int, default=100, help="upper bound; --hours decides")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--card-only", action="store_true")
    args = parser.parse_args()

    from ultralytics import YOLO

    build_holdout(args.src, args.out)
    out = args.out.resolve()
    run = out / "baseline_run"
    t0 = time.time()
    if not args.card_only:
        YOLO("yolov8n.yaml").train(
            data=str(out / "baseline.yaml"),
            epochs=args.epochs,
            time=args.hours,
            imgsz=args.imgsz,
            batch=args.batch,
            workers=2,
            seed=0,
            plots=False,
            project=str(out),
            name="baseline_run",
            exist_ok=True,
            device="cpu",
        )
        (run / "train_time_s.txt").write_text(f"{time.time() - t0:.0f}\n")
    last = run / "weights" / "last.pt"
    metrics = YOLO(str(last)).val(
        data=str(out / "holdout.yaml"),
        imgsz=args.imgsz,
        batch=args.batch,
        plots=False,
        device="cpu",
        project=str(out),
        name="baseline_val",
        exist_ok=True,
    )
    names = metrics.names
    per_class = {
        names[c]: {"mAP50": float(metrics.box.ap50[i]), "mAP50-95": float(metrics.box.ap[i])}
        for i, c in enumerate(metrics.box.ap_class_index)
    }
    import csv

    rows = list(csv.DictReader((run / "results.csv").open()))
    card = {
        "weights": "yolov8n-deeppcb.pt",
        "architecture": "yolov8n.yaml (Ultralytics), nc=6",
        "data": "DeepPCB trainval, train part of the held-out split (tools/deeppcb_holdout.py), "
        "pcb-mini images excluded",
        "train_images": sum(1 for _ in (out / "train_no_mini.txt").open()),
        "heldout_images": sum(1 for _ in (out / "val.txt").open()),
        "imgsz": args.imgsz,
        "batch": args.batch,
        "epochs": len(rows),
        "train_time_s": float((run / "train_time_s.txt").read_text()) if (run / "train_time_s.txt").exists() else None,
        "checkpoint": "last epoch (no selection on the held-out part)",
        "heldout": {"mAP50": float(metrics.box.map50), "mAP50-95": float(metrics.box.map), "per_class": per_class},
    }
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy2(last, WEIGHTS_DIR / "yolov8n-deeppcb.pt")
    (WEIGHTS_DIR / "yolov8n-deeppcb.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
