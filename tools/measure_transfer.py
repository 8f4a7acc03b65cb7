"""Measure layer-aligned transfer: tensors moved by key matching vs the plugin, and val mAP before training.

Converts the DeepPCB trainval split into the project's held-out split (tools/deeppcb_holdout.py), trains a yolov8n
baseline for a few epochs as the "pretrained" model, then validates on the held-out part: the baseline, the
identity-safe transfer into yolov8n-cbam and the paper-init transfer, all before any further training. Prints a table.

    python tools/measure_transfer.py --src ../shared/datasets/deeppcb-trainval --epochs 5 --imgsz 320
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import yaml
from ultralytics import YOLO

import yolo_attention
from yolo_attention.data import DEEPPCB_CLASSES
from yolo_attention.integration.ultralytics_hooks import original_load

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deeppcb_holdout import DEFAULT_SRC, build_holdout  # noqa: E402  the one held-out split


def key_matching_count(baseline_pt: Path) -> tuple[int, int]:
    """Tensors that Ultralytics' own BaseModel.load moves from the baseline into yolov8n-cbam (nc=6)."""
    source = YOLO(str(baseline_pt)).model.float()
    dst = YOLO("yolov8n-cbam.yaml").model
    cfg = dict(dst.yaml, nc=len(DEEPPCB_CLASSES))
    from ultralytics.nn.tasks import DetectionModel

    dst = DetectionModel(cfg, verbose=False)
    original_load(dst, source, verbose=False)
    after = dst.state_dict()
    state = source.state_dict()
    landed = sum(k in after and after[k].shape == v.shape and torch.equal(after[k], v) for k, v in state.items())
    return landed, len(state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--out", type=Path, default=Path("runs/measure_transfer"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    out = args.out.resolve()
    data = build_holdout(args.src, out / "deeppcb")
    common = {"data": str(data), "imgsz": args.imgsz, "batch": args.batch, "workers": 2, "plots": False}

    baseline_pt = out / "baseline" / "weights" / "best.pt"
    if not baseline_pt.exists():
        YOLO("yolov8n.yaml").train(**common, epochs=args.epochs, project=str(out), name="baseline", exist_ok=True)

    rows = []
    landed, total = key_matching_count(baseline_pt)
    rows.append(("tensors moved, Ultralytics key matching", f"{landed}/{total}"))

    cfg_dir = out / "cfgs"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    cbam = yaml.safe_load((yolo_attention.resources.MODEL_CFG_DIR / "yolov8-cbam.yaml").read_text())
    cbam["nc"] = len(DEEPPCB_CLASSES)
    (cfg_dir / "yolov8-cbam.yaml").write_text(yaml.safe_dump(cbam, sort_keys=False))

    metrics = {}
    metrics["baseline"] = YOLO(str(baseline_pt)).val(**common, project=str(out), name="val_baseline", exist_ok=True)
    for init in ("identity", "paper"):
        model = YOLO(str(cfg_dir / "yolov8n-cbam.yaml"))
        report = yolo_attention.transfer_weights(model, str(baseline_pt), attn_init=init)
        if init == "identity":
            rows.append(("tensors moved, yolo-attention", f"{report.transferred}/{report.total}"))
        metrics[f"cbam, {init} init"] = model.val(**common, project=str(out), name=f"val_{init}", exist_ok=True)

    print(
        "\nDeepPCB trainval, the project's held-out split (tools/deeppcb_holdout.py); baseline yolov8n trained "
        f"{args.epochs} epochs at imgsz {args.imgsz}; validation at imgsz {args.imgsz}, before any further training"
    )
    for name, value in rows:
        print(f"{name:<44}{value:>12}")
    print(f"{'model':<44}{'mAP50':>8}{'mAP50-95':>10}")
    for name, m in metrics.items():
        print(f"{name:<44}{m.box.map50:>8.4f}{m.box.map:>10.4f}")


if __name__ == "__main__":
    main()
