"""Probes: how to capture each attention module's weights with forward hooks, by class, in a registry.

A probe hooks the submodule whose output *is* the attention (a `gate`; CoordAtt's `conv_h` / `conv_w`) or, for
multi-head attention, calls the module's own `attention_weights` on the inputs its forward received. Nothing here
re-implements a module. `register_probe` adds a probe for a third-party module; a subclass uses its nearest registered
base class's probe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from yolo_attention.modules import BAM, ECA, SAM, SE, ChannelAttention, CoordAtt, MultiHeadAttention, SimAM, scSE

__all__ = [
    "KINDS",
    "PROBES",
    "Emit",
    "Probe",
    "gate_kind",
    "hook_bam",
    "hook_coord_att",
    "hook_gate",
    "hook_multi_head_attention",
    "probe_for",
    "query_index",
    "register_probe",
]

KINDS = ("spatial", "channel", "full", "query")
"""Layouts of a record's weights: spatial (B, 1, H, W), channel (B, C, 1, 1), full (B, C, H, W) and query
(B, heads, H, W), the attention of one query position over the key positions, per head."""

Emit = Callable[..., None]
"""`emit(weights, kind=None, query=None)`: hand a captured tensor to the capture (kind needed when a probe declares
several)."""


@dataclass(frozen=True)
class Probe:
    """How to capture a module's attention.

    Attributes:
        kinds (tuple[str, ...]): The kinds of record the module yields per forward pass, in order; also the shapes of
            the all-ones records of a switched-off module.
        install (Callable): `install(module, emit, query) -> list of hook handles`; `query` is the (x, y) position, as
            fractions of the input's width and height, whose attention a query probe records.
    """

    kinds: tuple[str, ...]
    install: Callable[[nn.Module, Emit, tuple[float, float]], list[Any]]


PROBES: dict[type[nn.Module], Probe] = {}
"""Module class -> its probe; a subclass uses its nearest registered base class's probe."""


def register_probe(
    cls: type[nn.Module], kinds: Sequence[str], install: Callable[[nn.Module, Emit, tuple[float, float]], list[Any]]
) -> Probe:
    """Tell `explain` how to capture the attention of a module class (a third-party module, or another view).

    Args:
        cls (type[nn.Module]): The module class.
        kinds (Sequence[str]): Kinds of record it yields per forward pass, from `KINDS`.
        install (Callable): `install(module, emit, query)` registers hooks on `module` (or its submodules) that call
            `emit(weights)`, and returns their handles; `hook_gate` is the probe of a module with a `gate` submodule.

    Returns:
        (Probe): The registered probe.

    Raises:
        ValueError: If `cls` is not a module class or a kind is unknown.

    Examples:
        >>> from yolo_attention.modules import SE
        >>> PROBES[SE].kinds
        ('channel',)
    """
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"register_probe expects a torch.nn.Module subclass, got {cls!r}")
    unknown = [k for k in kinds if k not in KINDS]
    if not kinds or unknown:
        raise ValueError(f"register_probe: kinds must be a non-empty list from {', '.join(KINDS)}, got {kinds!r}")
    probe = Probe(tuple(kinds), install)
    PROBES[cls] = probe
    return probe


def probe_for(module: nn.Module) -> Probe | None:
    """The probe of `module`'s class or of its nearest registered base class, or None."""
    for cls in type(module).__mro__:
        if cls in PROBES:
            return PROBES[cls]
    return None


def gate_kind(weights: torch.Tensor) -> str:
    """The kind of a gate's output by its shape: spatial (B, 1, H, W), channel (B, C, 1, 1) or full (B, C, H, W)."""
    if weights.shape[1] == 1:
        return "spatial"
    return "channel" if tuple(weights.shape[-2:]) == (1, 1) else "full"


def hook_gate(module: nn.Module, emit: Emit, query: tuple[float, float]) -> list[Any]:
    """Probe of a module whose `gate` submodule outputs its weights (SE, ECA, CBAM's halves, SAM, scSE, SimAM).

    scSE calls its one gate twice, for channel and for spatial weights: each call is a record, its kind told by the
    output's shape.
    """
    return [module.gate.register_forward_hook(lambda _gate, _inputs, output: emit(output, kind=gate_kind(output)))]


def hook_bam(module: nn.Module, emit: Emit, query: tuple[float, float]) -> list[Any]:
    """Probe of BAM: its gate outputs `M(x)`; the input is multiplied by `1 + M(x)` (the paper's x * (1 + M(x)))."""
    return [module.gate.register_forward_hook(lambda _gate, _inputs, output: emit(1 + output))]


def hook_coord_att(module: nn.Module, emit: Emit, query: tuple[float, float]) -> list[Any]:
    """Probe of CoordAtt: the record is `sigmoid(h) * sigmoid(w)`, (B, C, H, W).

    `conv_h` and `conv_w` output the row and column logits; the module applies `.sigmoid()` to each (a function, not
    a submodule, so there is no gate to hook) and multiplies the input by both.
    """
    pending: dict[str, torch.Tensor] = {}

    def keep(direction: str):
        def hook(_conv, _inputs, output):
            pending[direction] = output
            if len(pending) == 2:
                emit(pending.pop("h").sigmoid() * pending.pop("w").sigmoid())

        return hook

    return [module.conv_h.register_forward_hook(keep("h")), module.conv_w.register_forward_hook(keep("w"))]


def query_index(shape: Sequence[int], query: tuple[float, float]) -> tuple[int, int]:
    """(row, column) of the position at fractions `query = (x, y)` of a (H, W) grid, clipped to the grid.

    Examples:
        >>> query_index((4, 6), (0.5, 0.5)), query_index((4, 6), (1.0, 0.0))
        ((2, 3), (0, 5))
    """
    h, w = shape
    return min(int(query[1] * h), h - 1), min(int(query[0] * w), w - 1)


def hook_multi_head_attention(module: nn.Module, emit: Emit, query: tuple[float, float]) -> list[Any]:
    """Probe of multi-head attention: the attention of the query position, per head.

    The forward fuses the softmax into one kernel, so the probe calls the module's own `attention_weights(x, context)`
    on the inputs the forward received and keeps the row of the query position.

    The record is (B, heads, H, W) on the context's grid: each position holds the weight of the pooled key cell
    (`kv_stride` x `kv_stride` positions) it falls in, so the map lines up with the image whatever the pooling.
    """

    def before(mha, args, kwargs):
        x = args[0] if args else kwargs["x"]
        context = args[1] if len(args) > 1 else kwargs["context"]
        row, col = query_index(x.shape[-2:], query)
        with torch.no_grad():
            weights = mha.attention_weights(x, context)[:, :, row * x.shape[-1] + col]  # (B, heads, M)
            grid = mha.pooled(context[:1, :1]).shape[-2:]
        s, (h, w) = mha.kv_stride, context.shape[-2:]
        cells = weights.reshape(*weights.shape[:2], *grid)
        emit(cells.repeat_interleave(s, -2).repeat_interleave(s, -1)[..., :h, :w], query=(row, col))

    return [module.register_forward_pre_hook(before, with_kwargs=True)]


for _cls in (SE, ECA, ChannelAttention):
    register_probe(_cls, ("channel",), hook_gate)
register_probe(SAM, ("spatial",), hook_gate)
register_probe(SimAM, ("full",), hook_gate)
register_probe(scSE, ("channel", "spatial"), hook_gate)
register_probe(BAM, ("full",), hook_bam)
register_probe(CoordAtt, ("full",), hook_coord_att)
register_probe(MultiHeadAttention, ("query",), hook_multi_head_attention)
