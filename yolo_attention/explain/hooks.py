"""Capture what each attention layer computes in a forward pass, through the probes' hooks (`probes.py`).

A part that does not run (its `enabled`, or an enclosing module's, is False) multiplies its input by nothing: its
record is all ones, of the shape its weights would have.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from yolo_attention.common.models import layers_of
from yolo_attention.explain.probes import Emit, Probe, probe_for
from yolo_attention.modules import is_attention

__all__ = [
    "AttentionCapture",
    "AttentionRecord",
    "LayerAttention",
    "capture_attention",
    "layer_name",
    "parse_indices",
    "select_layers",
]


@dataclass
class AttentionRecord:
    """What one part of an attention layer computed in one forward pass.

    Attributes:
        path (str): Submodule path inside the layer (`"spatial"`, `"local.channel"`); `""` for the layer itself.
        module (str): Class name of the part (`"SAM"`, `"ChannelAttention"`, `"MultiHeadAttention"`).
        kind (str): One of `KINDS`.
        weights (torch.Tensor): The weights, detached, as the part multiplies its input by them (a query record holds
            softmax attention instead).
        enabled (bool): False when the part did not run (switched off); `weights` are then all ones.
        query (tuple[int, int] | None): (row, column) of the query position on the layer's (H, W) grid (query only).
    """

    path: str
    module: str
    kind: str
    weights: torch.Tensor
    enabled: bool = True
    query: tuple[int, int] | None = None


@dataclass
class LayerAttention:
    """The records of one attention layer of a model.

    Attributes:
        index (int): Index of the layer in the model.
        module (str): Class name of the layer (`"CBAM"`; `"CBAMx2"` for a layer repeated in the YAML, `layer_name`).
        input_shape (tuple[int, ...]): (B, C, H, W) of the layer's input.
        records (list[AttentionRecord]): One per weight tensor computed (or not, when switched off), in model order.
        residual_gates (dict[str, float]): Path -> value of each residual gate in the layer (`enable_residual_gate`):
            the layer applies `a * w + (1 - a)` where a record shows `w`.
        notes (list[str]): Parts that could not be shown, and why.
    """

    index: int
    module: str
    input_shape: tuple[int, ...]
    records: list[AttentionRecord] = field(default_factory=list)
    residual_gates: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_indices(value: Any, name: str) -> list[int] | None:
    """Layer indices as given in Python or on the command line; `name` is the argument, for the error message.

    Raises:
        ValueError: If `value` holds anything but ints.

    Examples:
        >>> parse_indices("8,12", "layers"), parse_indices(8, "layers"), parse_indices(None, "layers")
        ([8, 12], [8], None)
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parts = [p for p in value.strip().strip("[]()").replace(" ", "").split(",") if p]
        try:
            return [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"{name} must be layer indices such as 8 or 8,12, got {value!r}") from None
    items = list(value) if isinstance(value, Sequence) else [value]
    if not items or any(isinstance(i, bool) or not isinstance(i, numbers.Integral) for i in items):
        raise ValueError(f"{name} must be layer indices such as 8 or 8,12, got {value!r}")
    return [int(i) for i in items]


def select_layers(model: nn.Module, layers: int | str | Sequence[int] | None = None) -> list[int]:
    """Indices of the attention layers to explain: all of them, or the given ones after checking each.

    Args:
        model (nn.Module): A `YOLO`, a task model or its layer list.
        layers (int | str | Sequence[int] | None): Layer indices (`8`, `"8,12"`, `[8, 12]`); None for all.

    Returns:
        (list[int]): Sorted layer indices.

    Raises:
        ValueError: If the model has no attention layer, or an index is not one of its attention layers.

    Examples:
        >>> from torch import nn
        >>> from yolo_attention.modules import CBAM
        >>> select_layers(nn.Sequential(nn.Conv2d(3, 8, 1), CBAM(8)))
        [1]
    """
    seq = layers_of(model)
    found = [i for i, layer in enumerate(seq) if is_attention(layer)]
    if not found:
        raise ValueError(
            "the model has no attention layers to explain; give a model with attention (e.g. yolov8n-cbam.yaml or "
            "its trained weights; `yolo-attn models` lists the bundled ones)"
        )
    wanted = parse_indices(layers, "layers")
    if wanted is None:
        return found
    bad = [i for i in wanted if i not in found]
    if bad:
        raise ValueError(f"layers={layers}: {bad} not attention layers of this model; its attention layers: {found}")
    return sorted(set(wanted))


def layer_name(layer: nn.Module) -> str:
    """The class name of an attention layer; `CBAMx2` for a layer repeated in a YAML (an `nn.Sequential`).

    Examples:
        >>> from torch import nn
        >>> from yolo_attention.modules import CBAM
        >>> layer_name(CBAM(8)), layer_name(nn.Sequential(CBAM(8), CBAM(8)))
        ('CBAM', 'CBAMx2')
    """
    if not isinstance(layer, nn.Sequential):
        return type(layer).__name__
    names = list(dict.fromkeys(type(child).__name__ for child in layer.children()))
    return f"{'+'.join(names)}x{len(layer)}"


def _runs(layer: nn.Module, path: str) -> bool:
    """Whether the part at `path` runs: it and every module enclosing it inside the layer are enabled."""
    parts = path.split(".") if path else []
    module = layer
    for i in range(len(parts) + 1):
        module = layer.get_submodule(".".join(parts[:i]))
        if not getattr(module, "enabled", True):
            return False
    return True


def _ones(kind: str, module: nn.Module, shape: Sequence[int], device: torch.device) -> torch.Tensor:
    """The all-ones weights of a switched-off part, for a layer input of `shape` (B, C, H, W)."""
    b, c, h, w = shape
    c = getattr(module, "c1", c)
    if kind == "spatial":
        size = (b, 1, h, w)
    elif kind == "channel":
        size = (b, c, 1, 1)
    elif kind == "full":
        size = (b, c, h, w)
    else:  # query: a map per head
        size = (b, getattr(module, "heads", 1), h, w)
    return torch.ones(size, device=device)


class AttentionCapture:
    """Forward hooks on every probed part of a model's attention layers; a context manager.

    Records are collected while the model runs inside the `with` block; `results()` returns them per layer. Hooks are
    removed on exit, and the model is not changed.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from yolo_attention.modules import CBAM
        >>> model = nn.Sequential(nn.Conv2d(3, 8, 1), CBAM(8)).eval()
        >>> with AttentionCapture(model) as capture, torch.no_grad():
        ...     _ = model(torch.rand(1, 3, 16, 16))
        >>> [(r.path, r.kind, tuple(r.weights.shape)) for r in capture.results()[0].records]
        [('channel', 'channel', (1, 8, 1, 1)), ('spatial', 'spatial', (1, 1, 16, 16))]
    """

    def __init__(
        self,
        model: nn.Module,
        layers: int | str | Sequence[int] | None = None,
        query: tuple[float, float] = (0.5, 0.5),
    ) -> None:
        """Prepare the hooks.

        Args:
            model (nn.Module): A `YOLO`, a task model or its layer list.
            layers (int | str | Sequence[int] | None): Attention layer indices to capture; None for all.
            query (tuple[float, float]): (x, y) query position of multi-head attention, as fractions of the width and
                height of each attention's input.
        """
        self.seq = layers_of(model)
        self.indices = select_layers(self.seq, layers)
        self.query = query
        self._handles: list[Any] = []
        self._inputs: dict[int, tuple[int, ...]] = {}
        self._records: dict[int, dict[str, list[AttentionRecord]]] = {}

    def __enter__(self) -> AttentionCapture:
        """Register the hooks."""
        for index in self.indices:
            layer = self.seq[index]
            self._handles.append(layer.register_forward_pre_hook(self._keep_input(index)))
            for path, module in layer.named_modules():
                probe = probe_for(module)
                if probe is not None:
                    self._handles += probe.install(module, self._emitter(index, path, module, probe), self.query)
        return self

    def __exit__(self, *exc) -> None:
        """Remove the hooks."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def clear(self) -> None:
        """Forget what was captured (before the next image)."""
        self._inputs.clear()
        self._records.clear()

    def _keep_input(self, index: int):
        def hook(_layer, args):
            self._inputs[index] = tuple(args[0].shape)

        return hook

    def _emitter(self, index: int, path: str, module: nn.Module, probe: Probe) -> Emit:
        def emit(weights: torch.Tensor, kind: str | None = None, query: tuple[int, int] | None = None) -> None:
            record = AttentionRecord(path, type(module).__name__, kind or probe.kinds[0], weights.detach(), query=query)
            self._records.setdefault(index, {}).setdefault(path, []).append(record)

        return emit

    def results(self) -> list[LayerAttention]:
        """The records of the last forward pass, one `LayerAttention` per captured layer, in model order.

        Returns:
            (list[LayerAttention]): Layers whose forward ran; a switched-off part's records are all ones.
        """
        out = []
        for index in self.indices:
            if index not in self._inputs:
                continue
            layer, shape = self.seq[index], self._inputs[index]
            found = self._records.get(index, {})
            result = LayerAttention(index, layer_name(layer), shape)
            device = next(layer.parameters(), torch.empty(0)).device
            for path, module in layer.named_modules():
                gate = getattr(module, "residual_gate", None)
                if isinstance(gate, torch.Tensor):
                    result.residual_gates[path] = float(gate.detach())
                probe = probe_for(module)
                if probe is None:
                    if path == "" and not any(probe_for(m) for m in layer.modules()):
                        result.notes.append(f"{type(module).__name__}: no probe (see explain.hooks.register_probe)")
                    continue
                if not _runs(layer, path):
                    for kind in probe.kinds:
                        ones = _ones(kind, module, shape, device)
                        result.records.append(AttentionRecord(path, type(module).__name__, kind, ones, enabled=False))
                elif path in found:
                    result.records += found[path]
                else:
                    result.notes.append(f"{path or type(module).__name__}: did not run in this forward pass")
            out.append(result)
        return out


def capture_attention(
    model: nn.Module,
    x: torch.Tensor,
    layers: int | str | Sequence[int] | None = None,
    query: tuple[float, float] = (0.5, 0.5),
) -> list[LayerAttention]:
    """Run `model` on `x` once (no gradients) and return what each attention layer computed.

    Args:
        model (nn.Module): A `YOLO`'s task model (`YOLO(...).model`) or any module whose layers hold attention.
        x (torch.Tensor): The input batch, (B, 3, H, W), on the model's device.
        layers (int | str | Sequence[int] | None): Attention layer indices; None for all.
        query (tuple[float, float]): (x, y) query position of multi-head attention, as fractions of width and height.

    Returns:
        (list[LayerAttention]): One per attention layer, in model order.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from yolo_attention.modules import SE
        >>> model = nn.Sequential(nn.Conv2d(3, 8, 1), SE(8)).eval()
        >>> capture_attention(model, torch.rand(2, 3, 8, 8))[0].records[0].weights.shape
        torch.Size([2, 8, 1, 1])
    """
    with AttentionCapture(model, layers, query) as capture, torch.no_grad():
        model(x)
    return capture.results()
