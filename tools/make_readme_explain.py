"""The README's `explain` picture: a held-out DeepPCB board, its detections and what each CBAM layer weights.

Runs the package's `yolo_attention.explain.explain` (the code behind `yolo-attn explain`) on one image and lays out
in one PNG: the detections, every attention layer's spatial map over the image (the weights its spatial gate outputs,
before the residual gate blends them in), the Eigen-CAM when grad-cam is installed, and a histogram of every layer's
channel weights. The maps are explain's captured tensors through `spatial_map`, `channel_weights` and `to_image`;
nothing is recomputed here. The detections are outlined on the maps too.

Defaults: the yolov8n-cbam fine-tuned from the shipped DeepPCB baseline with the two-stage schedule (seed 0, from
`tools/compare_deeppcb.py`) and board 00041047 of the held-out split (`tools/deeppcb_holdout.py`), at 320 px, the
size it was trained at.

    python tools/make_readme_explain.py
    python tools/make_readme_explain.py --weights best.pt --image board.jpg --imgsz 640 --out explain.png
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without the package installed
    sys.path.insert(0, str(REPO_ROOT))

from yolo_attention.explain import channel_weights, explain, select_cam_layers, spatial_map, to_image  # noqa: E402
from yolo_attention.explain.maps import COLORMAP  # noqa: E402

DEFAULT_RUN = REPO_ROOT / "runs/compare-deeppcb/runs/yolov8n-cbam@two-stage-low-lr_seed0_20261129_110439"
DEFAULT_WEIGHTS = DEFAULT_RUN / "checkpoints" / "final_model.pt"
DEFAULT_IMAGE = REPO_ROOT / "runs/deeppcb/images/trainval/00041047.jpg"  # listed in runs/deeppcb/val.txt (held out)
DEFAULT_OUT = REPO_ROOT / "tools/readme/explain-deeppcb.png"


def _boxes(ax, boxes: np.ndarray, labels: list[str] | None = None, colours: list[tuple] | None = None) -> None:
    """Outline `boxes` (N, 4 xyxy pixels) on `ax`, each with its label above it when given."""
    from matplotlib.patches import Rectangle

    placed: list[tuple[float, float]] = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        colour = colours[i] if colours else "magenta"
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=colour, linewidth=1.2))
        if labels:
            text = "black" if np.dot(colour[:3], (0.299, 0.587, 0.114)) > 0.6 else "white"
            clash = any(abs(x0 - x) < 40 and abs(y0 - y) < 20 for x, y in placed)  # a near-duplicate box: below it
            y, va = (y1 + 3, "top") if clash else (y0 - 3, "bottom")
            placed.append((x0, y0))
            ax.text(x0, y, labels[i], fontsize=7, color=text, va=va, bbox={"fc": colour, "pad": 0.6, "lw": 0})


def _overlay(fig, ax, rgb: np.ndarray, heat: np.ndarray, label: str) -> None:
    """Draw `heat` (H0, W0) over `rgb` with a colour bar in the map's own units."""
    ax.imshow(rgb)
    shown = ax.imshow(heat, cmap=COLORMAP, alpha=0.5)
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03, label=label, format="%.2f")


def make_figure(
    weights: Path, image: Path, out: Path, imgsz: int = 320, conf: float = 0.25, device: str | None = None
) -> Path:
    """Explain `image` with the model `weights` and write the composed PNG to `out`.

    Args:
        weights (Path): Trained weights of a model with attention layers.
        image (Path): The image to explain.
        out (Path): The PNG to write (its folder is created).
        imgsz (int): Inference size.
        conf (float): Confidence threshold of the detections.
        device (str | None): Inference device; None picks one as Ultralytics does.

    Returns:
        (Path): `out`.
    """
    import cv2
    from matplotlib.figure import Figure
    from PIL import Image
    from ultralytics import YOLO
    from ultralytics.utils.checks import check_imgsz
    from ultralytics.utils.plotting import colors

    yolo = YOLO(str(weights))
    size = check_imgsz(imgsz, max(int(yolo.model.stride.max()), 32), max_dim=1)  # as explain rounds it
    with tempfile.TemporaryDirectory() as tmp:  # explain's own PNGs are not kept; its tensors are drawn below
        result = explain(yolo, image, imgsz=size, out=tmp, conf=conf, device=device)[0]
    for note in result.notes:
        print(note)
    # The detections explain draws (same model, size and threshold), outlined here so their labels stay legible.
    found = yolo.predict(str(image), imgsz=size, conf=conf, device=device, verbose=False)[0]
    boxes, classes = found.boxes.xyxy.cpu().numpy(), found.boxes.cls.int().tolist()
    labels = [f"{found.names[c]} {p:.2f}" for c, p in zip(classes, found.boxes.conf.tolist())]
    colours = [tuple(v / 255 for v in colors(c, False)) for c in classes]
    rgb = np.ascontiguousarray(cv2.imread(str(image))[..., ::-1])  # read as explain reads it: 3 channels
    input_hw, image_hw = (size, size), rgb.shape[:2]
    at = f"{size} px input"

    panels = []  # (kind, title, content)
    panels.append(("detections", f"{image.name}: {len(boxes)} detections (conf >= {conf:g})\n{at}", None))
    histograms = []
    for layer in result.layers:
        for record in layer.records:
            grid, channels = spatial_map(record), channel_weights(record)
            if grid is not None:
                h, w = grid.shape[-2:]
                title = f"layer {layer.index} {layer.module}: {record.module} {record.kind} weights\n{at}, {h}x{w} grid"
                panels.append(("weight", title, to_image(grid[:1], input_hw, image_hw)))
            if channels is not None:
                label = f"layer {layer.index} {record.module}, {channels.shape[1]} ch"
                histograms.append((label, channels[0].float().cpu().numpy()))
    if result.cam is not None:
        where = ", ".join(str(i) for i in select_cam_layers(yolo.model))
        panels.append(("relative", f"Eigen-CAM of layers {where} (what the head reads)\n{at}", result.cam))
    if histograms:
        panels.append(("histograms", f"channel weights, per layer\n{at}", histograms))

    cols = 3
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(4.3 * cols, 3.9 * rows + 0.4), dpi=90)
    grid_spec = fig.add_gridspec(rows, cols)
    for i, (kind, title, content) in enumerate(panels):
        span = slice(i % cols, cols) if i == len(panels) - 1 else i % cols  # the last panel takes the rest of its row
        ax = fig.add_subplot(grid_spec[i // cols, span])
        ax.set_title(title, fontsize=9)
        if kind == "histograms":
            every = np.concatenate([values for _, values in content])
            bins = np.linspace(min(0.0, every.min()), max(1.0, every.max()), 41)  # 0..1 for sigmoid gates
            for label, values in content:
                ax.hist(values, bins=bins, histtype="step", density=True, linewidth=1.4, label=label)
            ax.set_xlabel("channel weight")
            ax.set_ylabel("density")
            ax.set_ylim(0, ax.get_ylim()[1] * 1.35)  # room for the legend
            ax.legend(fontsize=7, loc="upper right")
            continue
        if kind == "detections":
            ax.imshow(rgb)
            _boxes(ax, boxes, labels, colours)
        else:
            _overlay(fig, ax, rgb, content, kind)
            _boxes(ax, boxes)
        ax.set_axis_off()
    run = weights.parents[1].name if weights.parent.name == "checkpoints" else weights.name
    gates = ", ".join(f"layer {layer.index} {a:+.3f}" for layer in result.layers for a in layer.residual_gates.values())
    title = f"{run}: the maps are the modules' own weights, before any residual gate (magenta: the detections)"
    if gates:
        title += f"\nresidual gates a (each layer outputs x + a * (attention(x) - x)): {gates}"
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.open(buffer).convert("RGB").quantize(colors=256).save(out, optimize=True)  # a palette keeps it small
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=None, help=f"trained weights (default: {DEFAULT_WEIGHTS})")
    parser.add_argument("--image", type=Path, default=None, help=f"image to explain (default: {DEFAULT_IMAGE})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the PNG to write")
    parser.add_argument("--imgsz", type=int, default=320, help="inference size (the model was trained at 320)")
    parser.add_argument("--conf", type=float, default=0.25, help="confidence threshold of the detections")
    parser.add_argument("--device", default=None, help="inference device (cpu, 0); default: as Ultralytics picks")
    args = parser.parse_args()
    for name, default, what in (
        ("weights", DEFAULT_WEIGHTS, "trained attention model, e.g. best.pt (python tools/compare_deeppcb.py)"),
        ("image", DEFAULT_IMAGE, "image, e.g. a held-out DeepPCB board (python tools/deeppcb_holdout.py)"),
    ):
        if getattr(args, name) is None:
            if not default.is_file():
                parser.error(f"default --{name} {default} does not exist; pass --{name} <{what}>")
            setattr(args, name, default)
    out = make_figure(args.weights, args.image, args.out, args.imgsz, args.conf, args.device)
    print(f"{out} ({out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
