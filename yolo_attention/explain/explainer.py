"""`explain`: for each image, what every attention layer of a model attends to, an Eigen-CAM, and the detections.

Per image, in `out/<image name>/`:

- `layerNN_<Module>.png`: one per attention layer: its spatial weights over the image (SAM and CBAM's spatial half,
  scSE's spatial squeeze; CoordAtt's row x column weights, BAM's and SimAM's 3-D weights averaged over channels;
  GLSA's attention of the query position averaged over heads) and its channel weights as bars (SE, ECA, CBAM's
  channel half, scSE's channel SE; the 3-D weights averaged over positions), from hooks on the modules' own gates
  (`hooks.py`);
- `eigencam.png`: Eigen-CAM of the feature maps the head reads (`cam.py`; needs the `explain` extra);
- `detections.png`: the detections, drawn by Ultralytics (`Results.plot`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from yolo_attention.common.images import list_images
from yolo_attention.common.models import task_model
from yolo_attention.explain.cam import eigen_cam, select_cam_layers
from yolo_attention.explain.hooks import AttentionCapture, LayerAttention, select_layers
from yolo_attention.explain.maps import render_layer, render_map, to_image

__all__ = ["Explanation", "explain", "letterbox", "parse_query"]


@dataclass
class Explanation:
    """What `explain` made of one image.

    Attributes:
        image (Path): The image.
        folder (Path): Where its PNGs are.
        layers (list[LayerAttention]): The captured attention, per layer (tensors, before upsampling).
        files (list[Path]): The PNGs written: the layer maps in model order, then `eigencam.png` (when made) and
            `detections.png`.
        cam (np.ndarray | None): The Eigen-CAM over the image, (H0, W0) in [0, 1]; None when skipped.
        notes (list[str]): What was skipped, and why (one line each).
    """

    image: Path
    folder: Path
    layers: list[LayerAttention]
    files: list[Path] = field(default_factory=list)
    cam: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def parse_query(query: str | Sequence[float]) -> tuple[float, float]:
    """An (x, y) position as fractions of the image's width and height, from `(0.5, 0.5)` or `"0.5,0.5"`.

    Raises:
        ValueError: If `query` is not two numbers in [0, 1].

    Examples:
        >>> parse_query("0.25, 0.75"), parse_query((1, 0))
        ((0.25, 0.75), (1.0, 0.0))
    """
    values = query.strip().strip("[]()").split(",") if isinstance(query, str) else query
    try:
        x, y = (float(v) for v in values)
    except (TypeError, ValueError):
        x = y = float("nan")
    if not (0 <= x <= 1 and 0 <= y <= 1):  # also catches nan
        raise ValueError(
            f"query must be x,y as fractions of the image's width and height (e.g. 0.5,0.5), got {query!r}"
        )
    return x, y


def letterbox(image: np.ndarray, imgsz: int) -> torch.Tensor:
    """An (H0, W0, 3) BGR image letterboxed to `imgsz` x `imgsz` as Ultralytics predicts at a fixed size.

    Returns:
        (torch.Tensor): (1, 3, imgsz, imgsz) RGB float tensor in [0, 1].

    Examples:
        >>> letterbox(np.zeros((48, 64, 3), np.uint8), 64).shape
        torch.Size([1, 3, 64, 64])
    """
    from ultralytics.data.augment import LetterBox

    boxed = LetterBox((imgsz, imgsz), auto=False)(image=image)  # scale to fit, centre, pad with 114
    return torch.from_numpy(np.ascontiguousarray(boxed[..., ::-1].transpose(2, 0, 1))).float()[None] / 255.0


def _to_input(query: tuple[float, float], image_hw: Sequence[int], input_hw: Sequence[int]) -> tuple[float, float]:
    """A position as fractions of the image -> as fractions of the letterboxed input."""
    (h0, w0), (h, w) = image_hw, input_hw
    gain = min(h / h0, w / w0)
    pad_w, pad_h = (w - round(w0 * gain)) / 2, (h - round(h0 * gain)) / 2
    return (query[0] * w0 * gain + pad_w) / w, (query[1] * h0 * gain + pad_h) / h


def _folders(files: list[Path], out: Path) -> list[Path]:
    """One output folder per image, named after it (`name_2`, ... where two images share a name)."""
    seen: dict[str, int] = {}
    folders = []
    for f in files:
        seen[f.stem] = seen.get(f.stem, 0) + 1
        folders.append(out / (f.stem if seen[f.stem] == 1 else f"{f.stem}_{seen[f.stem]}"))
    return folders


def explain(
    model,
    source: str | Path,
    imgsz: int | None = None,
    out: str | Path = "runs/explain",
    layers: int | str | Sequence[int] | None = None,
    query: str | Sequence[float] = (0.5, 0.5),
    cam_layers: int | str | Sequence[int] | None = None,
    conf: float = 0.25,
    device: str | None = None,
) -> list[Explanation]:
    """Write, for each image, every attention layer's maps, an Eigen-CAM and the detections as PNGs.

    The maps are what the modules computed in this forward pass, captured by forward hooks on their gates; a module
    switched off (`enabled = False`) shows all ones. Without grad-cam installed the CAM is skipped with a note.

    Args:
        model (str | Path | ultralytics.YOLO): Weights (`best.pt`), a model YAML, or a loaded `YOLO`, with attention.
        source (str | Path): An image, a folder of images (searched recursively), a `.txt` list or a glob.
        imgsz (int, optional): Square inference size (rounded up to the model's stride); None: the size the
            checkpoint was trained at, as Ultralytics' predict does (640 for a YAML).
        out (str | Path): Output folder; each image gets `out/<image name>/`.
        layers (int | str | Sequence[int] | None): Attention layer indices to show (`8`, `"8,12"`); None for all.
        query (str | Sequence[float]): (x, y) position, as fractions of the image's width and height, whose global
            attention GLSA layers show.
        cam_layers (int | str | Sequence[int] | None): Layers for the Eigen-CAM (negative from the end); None for the
            feature maps the head reads.
        conf (float): Confidence threshold of the drawn detections.
        device (str | None): Inference device (`"cpu"`, `"0"`); None picks one as Ultralytics does.

    Returns:
        (list[Explanation]): One per image, in the order of the source.

    Raises:
        FileNotFoundError: If the model or the images cannot be found or read.
        ValueError: If the model has no attention layers, or an argument is invalid.

    Examples:
        >>> import yolo_attention
        >>> from yolo_attention.explain import explain
        >>> [e.folder.name for e in explain("yolov8n-cbam.yaml", "board.jpg", imgsz=320)]  # doctest: +SKIP
        ['board']
    """
    import cv2
    from ultralytics import YOLO
    from ultralytics.utils.checks import check_imgsz
    from ultralytics.utils.torch_utils import select_device

    import yolo_attention  # noqa: F401  attention modules and bundled YAMLs resolve before the model loads

    if imgsz is not None and (isinstance(imgsz, bool) or not isinstance(imgsz, numbers.Integral) or imgsz < 32):
        raise ValueError(f"imgsz must be an int >= 32 (one square size, e.g. 640), got {imgsz!r}")
    if isinstance(conf, bool) or not isinstance(conf, numbers.Real) or not 0 <= conf <= 1:
        raise ValueError(f"conf must be a confidence in [0, 1], e.g. 0.25, got {conf!r}")
    position = parse_query(query)
    files = list_images(source)
    if not files:
        raise FileNotFoundError(f"no images found at source '{source}' (an image, a folder, a .txt list or a glob)")
    yolo = model if isinstance(model, YOLO) else YOLO(str(model))
    if imgsz is None:  # Ultralytics keeps a checkpoint's training imgsz in its overrides and predicts at it
        trained = yolo.overrides.get("imgsz")
        imgsz = trained if isinstance(trained, numbers.Integral) and not isinstance(trained, bool) else 640
    net = task_model(yolo)
    indices = select_layers(net, layers)
    cam_indices = select_cam_layers(net, cam_layers)
    stride = max(int(net.stride.max()), 32) if isinstance(getattr(net, "stride", None), torch.Tensor) else 32
    imgsz = check_imgsz(int(imgsz), stride, max_dim=1)
    torch_device = select_device("" if device is None else str(device), verbose=False)

    out = Path(out)
    results = []
    was_training = net.training
    try:
        for image_path, folder in zip(files, _folders(files, out)):
            image = cv2.imread(str(image_path))
            if image is None:
                raise FileNotFoundError(f"cannot read image '{image_path}'")
            folder.mkdir(parents=True, exist_ok=True)
            rgb = np.ascontiguousarray(image[..., ::-1])
            x = letterbox(image, imgsz).to(torch_device)
            input_hw, image_hw = tuple(x.shape[-2:]), image.shape[:2]
            net.to(torch_device).eval()
            with AttentionCapture(net, indices, _to_input(position, image_hw, input_hw)) as capture, torch.no_grad():
                net(x)
            result = Explanation(image_path, folder, capture.results())
            for layer in result.layers:
                png = folder / f"layer{layer.index:02d}_{layer.module}.png"
                result.files.append(render_layer(layer, rgb, input_hw, png))
                result.notes += [f"layer {layer.index}: {note}" for note in layer.notes]
            try:
                cam = eigen_cam(net, x, cam_indices)[0]
            except ImportError as e:
                result.notes.append(f"Eigen-CAM skipped: {e}")
            else:
                result.cam = to_image(torch.from_numpy(cam)[None, None], input_hw, image_hw)
                where = ", ".join(str(i) for i in cam_indices)
                title = f"Eigen-CAM (pytorch-grad-cam) of layer{'s' if len(cam_indices) > 1 else ''} {where}"
                result.files.append(render_map(rgb, result.cam, title, folder / "eigencam.png"))
            # After the capture: Ultralytics' predictor fuses Conv+BN in place (the same function, other rounding).
            drawn = yolo.predict(image, imgsz=imgsz, conf=conf, device=device, verbose=False)[0].plot()
            cv2.imwrite(str(folder / "detections.png"), drawn)
            result.files.append(folder / "detections.png")
            results.append(result)
    finally:
        net.train(was_training)
    return results
