"""Whole-image prediction for keypoint (pose) models such as the face models: boxes and their points, drawn and saved.

Sliced prediction (`sliced.py`) is for detection models on large boards; sahi merges boxes, not keypoints, so a pose
model is predicted on the whole image at its input size.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["predict_keypoints"]


def predict_keypoints(
    model,
    source: str | Path,
    out: str | Path = "runs/predict",
    conf: float = 0.25,
    imgsz: int | None = None,
    device: str | None = None,
    visuals: bool = True,
) -> list[dict]:
    """Predict a pose model on images; write `keypoints.json` and, with `visuals`, each image with its boxes and points.

    Args:
        model (str | Path | ultralytics.YOLO): A pose model (e.g. a trained yolov8n-face-ecasam-lite.pt).
        source (str | Path): An image or a folder of images.
        out (str | Path): Output folder.
        conf (float): Confidence threshold.
        imgsz (int, optional): Inference size; the model's training size when None.
        device (str, optional): Inference device, as Ultralytics takes it.
        visuals (bool): Save `<image>.png` with the boxes and points drawn.

    Returns:
        (list[dict]): One entry per detection: ``image``, ``class``, ``confidence``, ``box`` (x1, y1, x2, y2 pixels)
        and ``keypoints`` ([x, y, visibility score] per point; for faces: left eye, right eye, nose, left and right
        mouth corner).

    Raises:
        ValueError: If the model is not a pose model, `conf` is not in [0, 1] or `imgsz` is below 32.
    """
    from ultralytics import YOLO

    from yolo_attention.common.images import list_images
    from yolo_attention.inference.values import check_conf, check_imgsz

    check_conf(conf)
    check_imgsz(imgsz)
    yolo = model if isinstance(model, YOLO) else YOLO(str(model))
    if yolo.task != "pose":
        raise ValueError(f"keypoint prediction takes a pose model; '{model}' is a {yolo.task} model")
    source = Path(source)
    images = list_images(source) if source.is_dir() else [source]
    if not images:
        raise FileNotFoundError(f"no images in '{source}'")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    extra = {k: v for k, v in {"imgsz": imgsz, "device": device}.items() if v is not None}
    found = []
    for result in yolo.predict([str(p) for p in images], conf=conf, stream=True, verbose=False, **extra):
        name = Path(result.path).name
        boxes, points = result.boxes, result.keypoints
        for i in range(len(boxes)):
            kpts = points.data[i].cpu().tolist() if points is not None else []
            found.append(
                {
                    "image": name,
                    "class": result.names[int(boxes.cls[i])],
                    "confidence": round(float(boxes.conf[i]), 5),
                    "box": [round(v, 2) for v in boxes.xyxy[i].cpu().tolist()],
                    "keypoints": [[round(v, 2) for v in point] for point in kpts],
                }
            )
        if visuals:
            result.save(filename=str(out / f"{Path(name).stem}.png"))
    (out / "keypoints.json").write_text(json.dumps(found, indent=1))
    return found
