"""Real images for verification and INT8 calibration: a dataset split's files, letterboxed as Ultralytics predicts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from yolo_attention.common.images import list_images

__all__ = ["image_files", "letterbox_image", "load_images"]


def _split_entries(data: str | Path, split: str) -> list[Path]:
    from ultralytics.data.utils import check_det_dataset

    info = check_det_dataset(str(data))
    if not info.get(split):
        valid = [k for k in ("train", "val", "test") if info.get(k)]
        raise ValueError(f"dataset '{data}' has no '{split}' split; it has: {', '.join(valid)}")
    entries = info[split] if isinstance(info[split], list) else [info[split]]
    return [Path(e) for e in entries]


def image_files(data: str | Path | None = None, split: str = "val", n: int | None = None) -> list[Path]:
    """Return the sorted image files of a dataset split (the bundled pcb-mini's when `data` is None).

    Args:
        data (str | Path, optional): Ultralytics dataset YAML. Defaults to ``pcb-mini.yaml``.
        split (str): ``train``, ``val`` or ``test``.
        n (int, optional): Return the first `n` files only.

    Returns:
        (list[Path]): Image paths.

    Raises:
        FileNotFoundError: If the split holds no images.

    Examples:
        >>> len(image_files(n=3))
        3
    """
    files = list_images(_split_entries(data or "pcb-mini.yaml", split))
    if not files:
        raise FileNotFoundError(f"no images in the '{split}' split of '{data or 'pcb-mini.yaml'}'")
    return files[:n] if n is not None else files


def letterbox_image(path: str | Path, imgsz: int | Sequence[int]) -> np.ndarray:
    """Load an image and letterbox it as Ultralytics' predictor does; return a (3, h, w) RGB float32 array in [0, 1].

    Examples:
        >>> letterbox_image(image_files(n=1)[0], 64).shape
        (3, 64, 64)
    """
    import cv2
    from ultralytics.data.augment import LetterBox

    shape = (imgsz, imgsz) if isinstance(imgsz, int) else tuple(imgsz)
    image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError(f"cannot read image '{path}'")
    boxed = LetterBox(shape, auto=False)(image=image)  # as predict does at a fixed size: scale to fit, pad 114
    return np.ascontiguousarray(boxed[..., ::-1].transpose(2, 0, 1), dtype=np.float32) / 255.0


def load_images(
    data: str | Path | None = None, imgsz: int | Sequence[int] = 640, n: int = 8, split: str = "val"
) -> torch.Tensor:
    """Return `n` real images of a dataset split as one letterboxed (n, 3, h, w) float tensor in [0, 1].

    Examples:
        >>> load_images(imgsz=64, n=2).shape
        torch.Size([2, 3, 64, 64])
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"the number of images must be an int >= 1, got {n!r}")
    files = image_files(data, split, n)
    return torch.from_numpy(np.stack([letterbox_image(p, imgsz) for p in files]))
