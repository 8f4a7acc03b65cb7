"""Issue 13's evidence: the staged recipe against plain fine-tuning on the held-out DeepPCB split, 3 seeds.

Every run starts from the shipped yolov8n-deeppcb.pt and trains on the same images it was trained on (the train part
of the held-out split, without pcb-mini; a fixed fraction of it to fit this CPU), for the same total epochs, and is
measured on the held-out boards (199 images): mAP50, mAP50-95 (Ultralytics) and DeepPCB's official F-score.

    python tools/compare_deeppcb.py                       # 5 rows x 3 seeds, 4 epochs at 320 px, fraction 0.34
    python tools/compare_deeppcb.py --epochs 8 --fraction 1.0 --out runs/compare-deeppcb-8
    yolo-attn report runs/compare-deeppcb                 # the page with the table and plots

Rerunning skips finished runs (and resumes an interrupted one).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tools"))

from deeppcb_holdout import DEFAULT_SRC, build_holdout  # noqa: E402

MODELS = "yolov8n-cbam.yaml,yolov8n-eca.yaml,yolov8n-coordatt.yaml,yolov8n-ecasam.yaml@four-phase"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="DeepPCB trainval release folder")
    parser.add_argument("--data-dir", type=Path, default=Path("runs/pcb"), help="where the held-out split is written")
    parser.add_argument("--out", default="runs/compare-deeppcb", help="the comparison folder")
    parser.add_argument("--models", default=MODELS, help="attention models (model@schedule for another schedule)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4, help="total epochs of every run")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--fraction", type=float, default=0.34, help="fraction of the train images each epoch sees")
    args = parser.parse_args()

    import yolo_attention
    from yolo_attention.compare.runner import compare

    build_holdout(args.src, args.data_dir)
    data = args.data_dir.resolve() / "baseline.yaml"  # the shipped checkpoint's own train images, held-out val
    out = compare(
        str(data), args.models, "yolov8n-deeppcb.pt", seeds=args.seeds, epochs=args.epochs, out=args.out,
        imgsz=args.imgsz, batch=args.batch, fraction=args.fraction, plots=False,
    )  # fmt: skip
    print(f"yolo_attention {yolo_attention.__version__}: comparison in {out}/results/comparison.md")


if __name__ == "__main__":
    main()
