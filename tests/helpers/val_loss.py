"""Validation loss of a saved model on a dataset's val split: the number a phase must not make worse."""

from __future__ import annotations

import torch


def val_loss(weights, data: str, imgsz: int) -> float:
    """Return the summed (box, cls, dfl) training loss of `weights` over `data`'s val images, in eval mode.

    The same loss Ultralytics' validator reports during training (`model.loss(batch)` on letterboxed val batches).
    """
    from ultralytics import YOLO
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_dataloader, build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset

    model = YOLO(str(weights)).model.float().eval()
    cfg = get_cfg(overrides={"imgsz": imgsz, "batch": 8, "workers": 0})
    model.args = cfg  # the loss gains (box, cls, dfl)
    info = check_det_dataset(data)
    dataset = build_yolo_dataset(cfg, info["val"], 8, info, mode="val", stride=int(model.stride.max()))
    total = 0.0
    with torch.no_grad():
        for batch in build_dataloader(dataset, 8, 0, shuffle=False, rank=-1):
            batch["img"] = batch["img"].float() / 255
            total += float(sum(v.sum() for v in model.loss(batch)[1].values()))
    return total
