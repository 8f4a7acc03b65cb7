"""mAP of a PyTorch model and of its exports, measured the same way so that they differ only by the export."""

from __future__ import annotations

from pathlib import Path

__all__ = ["validate_map"]


def validate_map(model, data: str | Path, imgsz: int = 640, batch: int = 1, save_dir: str | Path | None = None):
    """Validate a PyTorch model or an exported one on `data`; return (mAP50, mAP50-95), both 0..1.

    Every model is validated the same way (square letterboxed batches, ``rect=False``), so that the mAP of an export
    and of its PyTorch source differ only by what the export changed.

    Args:
        model: A `YOLO`, a checkpoint path or an exported file or folder.
        data (str | Path): Dataset YAML.
        imgsz (int): Validation size.
        batch (int): Batch size (static exports run one image at a time regardless).
        save_dir (str | Path, optional): Where Ultralytics writes the validation run; a temporary folder by default.

    Returns:
        (tuple[float, float]): mAP50 and mAP50-95.
    """
    import tempfile

    from ultralytics import YOLO
    from ultralytics.engine.model import Model

    yolo = model if isinstance(model, Model) else YOLO(str(model))  # an export's task comes from its metadata
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(save_dir) if save_dir else Path(tmp)
        metrics = yolo.val(
            data=str(data),
            imgsz=imgsz,
            batch=batch,
            rect=False,
            plots=False,
            verbose=False,
            project=str(project),
            name="val",
            exist_ok=True,
            workers=0,
        )
    return float(metrics.box.map50), float(metrics.box.map)
