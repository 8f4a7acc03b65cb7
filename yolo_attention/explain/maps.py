"""Turn captured attention weights into pictures: maps over the image, and bar plots of channel weights.

A record's weights summarise as a spatial map (spatial weights as they are; full (B, C, H, W) weights and the heads of
a query record averaged over channels) and as channel weights (channel weights as they are; full weights averaged over
positions). Maps are upsampled to the network input and the letterbox padding is cut away
(Ultralytics' `scale_masks`), so they lie over the original image.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from yolo_attention.explain.hooks import AttentionRecord, LayerAttention

__all__ = ["channel_weights", "render_layer", "render_map", "spatial_map", "to_image", "to_image_point"]

RatioPad = tuple[tuple[float, float], tuple[float, float]]
"""Letterbox geometry as Ultralytics writes it: ((gain_h, gain_w), (pad_w, pad_h))."""

COLORMAP = "jet"  # the Grad-CAM convention, so attention maps and the CAM read alike


def spatial_map(record: AttentionRecord) -> torch.Tensor | None:
    """The record as a map over positions, (B, 1, H, W), or None for channel weights.

    Examples:
        >>> import torch
        >>> r = AttentionRecord("", "SimAM", "full", torch.ones(1, 8, 4, 4))
        >>> spatial_map(r).shape
        torch.Size([1, 1, 4, 4])
    """
    if record.kind == "spatial":
        return record.weights
    if record.kind in ("full", "query"):
        return record.weights.mean(1, keepdim=True)
    return None


def channel_weights(record: AttentionRecord) -> torch.Tensor | None:
    """The record as one weight per channel, (B, C), or None for a spatial or query record.

    Examples:
        >>> import torch
        >>> r = AttentionRecord("", "SE", "channel", torch.ones(1, 8, 1, 1))
        >>> channel_weights(r).shape
        torch.Size([1, 8])
    """
    if record.kind == "channel":
        return record.weights.flatten(1)
    if record.kind == "full":
        return record.weights.mean((2, 3))
    return None


def to_image(
    grid: torch.Tensor, input_hw: Sequence[int], image_hw: Sequence[int], ratio_pad: RatioPad | None = None
) -> np.ndarray:
    """A (1, 1, h, w) map on a feature grid as an (H0, W0) map over the original image.

    Bilinear upsampling to the network input, then the letterbox padding cut away and the rest resized to the image.
    A uniform map stays exactly uniform.

    Args:
        grid (torch.Tensor): (1, 1, h, w) map.
        input_hw (Sequence[int]): (H, W) of the network input.
        image_hw (Sequence[int]): (H0, W0) of the original image.
        ratio_pad (RatioPad | None): The letterbox gains and padding; None to derive them as Ultralytics does.

    Returns:
        (np.ndarray): (H0, W0) float32 map.

    Examples:
        >>> import torch
        >>> to_image(torch.ones(1, 1, 2, 2), (64, 64), (48, 64)).shape
        (48, 64)
    """
    from ultralytics.utils.ops import scale_masks

    grid = grid.detach().float().cpu()
    first = grid.flatten()[0]
    if bool((grid == first).all()):
        return np.full(tuple(image_hw[:2]), float(first), dtype=np.float32)
    up = F.interpolate(grid, size=tuple(input_hw), mode="bilinear", align_corners=False)
    return scale_masks(up, tuple(image_hw[:2]), ratio_pad)[0, 0].numpy()


def to_image_point(
    cell: tuple[int, int],
    grid_hw: Sequence[int],
    input_hw: Sequence[int],
    image_hw: Sequence[int],
    ratio_pad: RatioPad | None = None,
) -> tuple[float, float]:
    """The (x, y) image pixel at the centre of grid cell (row, col).

    Examples:
        >>> to_image_point((0, 0), (2, 2), (64, 64), (64, 64))
        (16.0, 16.0)
    """
    (row, col), (h, w), (ih, iw) = cell, grid_hw, input_hw
    if ratio_pad is None:
        gain = min(ih / image_hw[0], iw / image_hw[1])
        ratio_pad = ((gain, gain), ((iw - round(image_hw[1] * gain)) / 2, (ih - round(image_hw[0] * gain)) / 2))
    (gain_h, gain_w), (pad_w, pad_h) = ratio_pad
    x, y = (col + 0.5) * iw / w, (row + 0.5) * ih / h
    return (x - pad_w) / gain_w, (y - pad_h) / gain_h


def _overlay(ax, fig, image: np.ndarray, heat: np.ndarray, label: str) -> None:
    """Draw `heat` over `image` on `ax`, with a colour bar in the map's own units."""
    lo, hi = float(heat.min()), float(heat.max())
    if hi - lo <= 1e-5 * max(abs(hi), abs(lo)):  # uniform up to rounding: one mid colour, not amplified noise
        lo, hi = lo - 0.5 * max(abs(lo), 1e-3), hi + 0.5 * max(abs(hi), 1e-3)
    ax.imshow(image)
    shown = ax.imshow(heat, cmap=COLORMAP, alpha=0.5, vmin=lo, vmax=hi)
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label=label, format="%.3g")
    ax.set_axis_off()


def _describe(record: AttentionRecord, values: torch.Tensor) -> str:
    name = f"{record.path or record.module} ({record.module})" if record.path else record.module
    if not record.enabled:
        return f"{name}: switched off (all 1)"
    return f"{name}\n{record.kind} weights {float(values.min()):.3f}..{float(values.max()):.3f}"


def render_layer(
    layer: LayerAttention,
    image: np.ndarray,
    input_hw: Sequence[int],
    path: str | Path,
    ratio_pad: RatioPad | None = None,
) -> Path:
    """Write one PNG for an attention layer: each spatial map over the image, each channel weight vector as bars.

    Args:
        layer (LayerAttention): The layer's records (`capture_attention`); batch item 0 is drawn.
        image (np.ndarray): The original image, (H0, W0, 3) RGB uint8.
        input_hw (Sequence[int]): (H, W) of the network input the records come from.
        path (str | Path): The PNG to write.
        ratio_pad (RatioPad | None): The letterbox geometry of the input; None to derive it.

    Returns:
        (Path): `path`.
    """
    from matplotlib.figure import Figure  # no pyplot: no backend, no global state

    panels = []
    for record in layer.records:
        grid, channels = spatial_map(record), channel_weights(record)
        if grid is not None:
            panels.append(("map", record, grid[:1]))
        if channels is not None:
            panels.append(("bars", record, channels[0]))
    fig = Figure(figsize=(4.4 * max(1, len(panels)), 4.2), dpi=100)
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False)
    image_hw = image.shape[:2]
    for ax, (style, record, values) in zip(axes[0], panels):
        ax.set_title(_describe(record, values), fontsize=9)
        if style == "map":
            label = "attention (softmax), head mean" if record.kind == "query" else "weight"
            _overlay(ax, fig, image, to_image(values, input_hw, image_hw, ratio_pad), label)
            if record.query is not None:
                x, y = to_image_point(record.query, values.shape[-2:], input_hw, image_hw, ratio_pad)
                ax.plot([x], [y], marker="+", color="white", markersize=14, markeredgewidth=2)
        else:
            w = values.detach().float().cpu().numpy()
            ax.bar(np.arange(len(w)), w, width=1.0, color="tab:blue")
            ax.axhline(float(w.mean()), color="tab:red", linewidth=1, label=f"mean {w.mean():.3f}")
            ax.set_xlim(-0.5, len(w) - 0.5)
            ax.set_ylim(0, max(1.0, float(w.max())) * 1.05)
            ax.set_xlabel("channel")
            ax.set_ylabel("weight")
            ax.legend(loc="lower right", fontsize=8)
    if not panels:
        axes[0][0].set_axis_off()
    title = f"layer {layer.index} {layer.module}"
    gates = ", ".join(f"{p or layer.module} a={a:.3f}" for p, a in layer.residual_gates.items())
    if gates:
        title += f" - residual gate {gates} (the layer outputs x + a*(attention(x) - x))"
    if layer.notes:
        title += "\n" + "; ".join(layer.notes)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def render_map(image: np.ndarray, heat: np.ndarray, title: str, path: str | Path, label: str = "relative") -> Path:
    """Write a PNG of `heat` (H0, W0) over `image` (H0, W0, 3 RGB uint8) with a colour bar and a title.

    Returns:
        (Path): `path`.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 4.6), dpi=100)
    ax = fig.subplots()
    ax.set_title(title, fontsize=10)
    _overlay(ax, fig, image, heat, label)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path
