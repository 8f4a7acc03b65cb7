"""Models the export tests share: bundled variants by name, and random-weight models whose outputs mean something."""

from __future__ import annotations

import torch

from yolo_attention.export import load_images
from yolo_attention.resources import bundled_model_cfgs

ATTENTION_CFGS = [p.name for p in bundled_model_cfgs() if "\nattention:" in p.read_text()]  # yolov8-cbam.yaml ...
DETECT_CFGS = [name for name in ATTENTION_CFGS if "-pose-" not in name and "-face-" not in name]
POSE_CFGS = [name for name in ATTENTION_CFGS if "-pose-" in name or "-face-" in name]  # face models: pose heads
IMGSZ = 64


def scaled(cfg: str) -> str:
    """yolov8-pcb-cbam.yaml -> yolov8n-pcb-cbam.yaml"""
    return cfg.replace("yolov8-", "yolov8n-", 1)


def yolo(name: str):
    from ultralytics import YOLO

    return YOLO(name)


def sensitive(name: str, seed: int = 0, class_bias: float | None = None):
    """A random-weight model whose outputs depend on its input and its attention.

    Freshly initialised YOLO heads output nearly constant boxes and scores whatever the input (switching every
    attention layer off moves them by ~1e-6), so a parity check on them proves nothing. BatchNorm statistics measured
    on real images make every layer pass on a normalised signal: outputs then differ by O(1) between images and when
    the attention is switched off. The head's last convolutions are scaled down (as training leaves them: boxes of
    image size, not of ten images' size), which keeps the network's gain, and with it the rounding noise between
    fused and unfused convolutions, near a trained model's (~1e-5 relative) instead of ~5e-4.

    A `class_bias` (e.g. -1.5) replaces the head's class biases (about -10 at initialisation, where nothing scores
    above 0.01), so that a few dozen boxes on the verification images score above predict's conf 0.25.
    """
    torch.manual_seed(seed)
    model = yolo(name)
    net = model.model
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    images = load_images(imgsz=IMGSZ, n=8)
    net.train()
    with torch.no_grad():
        net(images)
        net(images.flip(3))
        head = net.model[-1]
        for branch in list(head.cv2) + list(head.cv3):
            branch[-1].weight.mul_(0.1)
        if class_bias is not None:
            for branch in head.cv3:
                branch[-1].bias.fill_(class_bias)
    net.eval()
    return model
