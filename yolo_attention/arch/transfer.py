"""Load pretrained weights into a model with attention layers by layer correspondence, not by state-dict key.

Inserting a layer shifts every later `model.{i}` key, so Ultralytics' key matching silently skips most of a
pretrained YOLOv8 (Ultralytics issue #1406). Here the source's layers are placed at the indices of their
corresponding destination layers first, and then Ultralytics' own loader runs, so everything it does (class-name
remapping, a rebuilt classification branch for another class count) still applies.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from ultralytics.utils import LOGGER

from yolo_attention.arch.correspondence import correspond, layer_map
from yolo_attention.common.models import layers_of, task_model
from yolo_attention.modules import AttentionModule, is_attention

__all__ = ["ATTN_INITS", "TransferReport", "transfer_weights", "transfer_options", "load_into"]

ATTN_INITS = ("identity", "paper")
_OPTIONS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("yolo_attention_transfer_options", default=None)
_LAST_REPORT: contextvars.ContextVar[TransferReport | None] = contextvars.ContextVar("yolo_attention_transfer_report")


@dataclass
class TransferReport:
    """What a weight transfer did, tensor by tensor.

    Every source tensor either landed (`transferred`), found no place (`dropped`: its layer has no corresponding
    destination layer, e.g. a CBAM layer transferred into an ECA model), or found its place with another shape (a
    destination layer in `missing_layers`, e.g. class logits for another class count).

    Attributes:
        source (str): Where the weights came from.
        corresponded (bool): True if layers were matched by structure, False if Ultralytics' key matching was used.
        transferred (int): Source tensors (parameters and buffers) now held by the destination.
        total (int): Source tensors.
        new_attention (int): Destination attention tensors with no source (left at their initialisation).
        attn_init (str): How new attention layers started: "identity" (zero residual gate) or "paper".
        missing_layers (dict[int, str]): Destination layers not (fully) loaded -> why.
        source_has_attention (bool): Some destination attention layer received the source's attention weights.
        dropped (int): Source tensors that found no place in the destination.
        dropped_layers (dict[int, str]): Source layers whose tensors were dropped -> why.
        unfilled (int): Destination tensors that received no source tensor (the new attention tensors included).
        same_architecture (bool): Every layer, attention included, corresponds one to one: the source is a checkpoint
            of the destination's own architecture (e.g. a trainer reloading a phase's start weights).
    """

    source: str
    corresponded: bool
    transferred: int
    total: int
    new_attention: int = 0
    attn_init: str = "identity"
    missing_layers: dict[int, str] = field(default_factory=dict)
    source_has_attention: bool = False
    dropped: int = 0
    dropped_layers: dict[int, str] = field(default_factory=dict)
    unfilled: int = 0
    same_architecture: bool = False

    def message(self) -> str:
        """The one line the transfer logs.

        Examples:
            >>> TransferReport("cbam.pt", True, 373, 373, same_architecture=True).message()
            'Loaded 373/373 tensors from cbam.pt (same architecture)'
            >>> report = TransferReport("cbam.pt", True, 355, 373, 6, dropped=18, dropped_layers={
            ...     5: "CBAM has no place in ECA", 8: "CBAM has no place in ECA", 12: "CBAM has no place in ECA"})
            >>> report.message()  # doctest: +NORMALIZE_WHITESPACE
            'Transferred 355/373 tensors from cbam.pt (by layer correspondence); 18 source tensors dropped
            (layers 5, 8, 12: CBAM has no place in ECA); 6 attention tensors new (identity init)'
        """
        counts = f"{self.transferred}/{self.total} tensors from {self.source}"
        if self.corresponded and self.same_architecture:
            text = f"Loaded {counts} (same architecture)"
        elif self.corresponded:
            complete = "all layers" if self.source_has_attention else "all baseline layers"
            text = f"Transferred {counts} ({complete if self.transferred == self.total else 'by layer correspondence'})"
        else:
            text = f"Transferred {counts} by state-dict key: the structures do not correspond"
        if self.dropped:
            text += f"; {self.dropped} source tensors dropped ({_grouped(self.dropped_layers)})"
        if self.new_attention:
            text += f"; {self.new_attention} attention tensors new ({self.attn_init} init)"
        if self.missing_layers:
            shown = ", ".join(f"{i} ({why})" for i, why in list(self.missing_layers.items())[:8])
            more = f" and {len(self.missing_layers) - 8} more" if len(self.missing_layers) > 8 else ""
            text += f"; not transferred: layer {shown}{more}"
        return text


def _grouped(reasons: dict[int, str], limit: int = 8) -> str:
    """`{5: why, 8: why, 12: other}` as "layers 5, 8: why; layer 12: other", at most `limit` layers shown."""
    groups: dict[str, list[int]] = {}
    for index, why in list(reasons.items())[:limit]:
        groups.setdefault(why, []).append(index)
    text = "; ".join(
        f"layer{'s' if len(indices) > 1 else ''} {', '.join(map(str, indices))}: {why}"
        for why, indices in groups.items()
    )
    return text + (f"; and {len(reasons) - limit} more layers" if len(reasons) > limit else "")


@contextlib.contextmanager
def transfer_options(attn_init: str | None = None, verbose: bool = True):
    """Set how weight transfers inside the block initialise new attention layers (e.g. around `model.train`).

    Examples:
        >>> with transfer_options(attn_init="paper"):
        ...     pass  # model.train(data=..., pretrained="yolov8n.pt") starts new attention layers as in the papers
    """
    if attn_init is not None:
        resolve_attn_init({}, attn_init)
    token = _OPTIONS.set({"attn_init": attn_init, "verbose": verbose})
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def _source_model(weights) -> torch.nn.Module:
    if isinstance(weights, dict):
        return weights.get("ema") or weights["model"]
    return weights


def _describe(weights, model) -> str:
    path = getattr(model, "pt_path", None) or (weights.get("pt_path") if isinstance(weights, dict) else None)
    return Path(path).name if path else "pretrained weights"


def resolve_attn_init(model, attn_init: str | None) -> str:
    """Return the initialisation of new attention layers: explicit, else the model YAML's `attn_init`, else identity."""
    value = attn_init or getattr(model, "yaml", {}).get("attn_init") or "identity"
    if value not in ATTN_INITS:
        raise ValueError(f"attn_init must be one of {', '.join(ATTN_INITS)}, got {value!r}")
    return value


def _placed(source: torch.nn.Module, mapping: dict[int, int], n_layers: int) -> torch.nn.Module:
    """A copy of `source` whose layer i sits at index mapping[i]; the other indices hold parameter-free Identities."""
    placed = copy.deepcopy(source)
    src_layers = layers_of(placed)
    slots = [torch.nn.Identity() for _ in range(n_layers)]
    for d, s in mapping.items():
        slots[d] = src_layers[s]
    layers_owner = placed
    while not isinstance(layers_owner.model, torch.nn.Sequential):
        layers_owner = layers_owner.model
    layers_owner.model = torch.nn.Sequential(*slots)
    return placed


def _gated(layer: torch.nn.Module) -> bool:
    return any(getattr(m, "residual_gate", None) is not None for m in layer.modules())


def _attention_modules(layer: torch.nn.Module) -> list[AttentionModule]:
    """The outermost attention modules of a layer (the layer itself, or each block of a repeated layer)."""
    return [layer] if isinstance(layer, AttentionModule) else [m for m in layer if isinstance(m, AttentionModule)]


def _landed(dst: torch.nn.Module, placed: torch.nn.Module) -> tuple[int, dict[str, bool]]:
    """Count the placed source tensors that the destination now holds, bit for bit; per key whether it landed."""
    dst_state = dst.state_dict()
    landed = {}
    for key, value in placed.state_dict().items():
        target = dst_state.get(key)
        landed[key] = target is not None and target.shape == value.shape and torch.equal(target.float(), value.float())
    return sum(landed.values()), landed


def transfer_weights(model, weights, attn_init: str | None = None, verbose: bool = True) -> TransferReport:
    """Load `weights` into `model` by layer correspondence, falling back to Ultralytics' key matching.

    Args:
        model: Destination (`YOLO` or `DetectionModel`/`PoseModel`), usually with attention layers.
        weights: Source: a path to a .pt checkpoint, a checkpoint dict, a `YOLO` or an Ultralytics model.
        attn_init (str, optional): "identity" starts each new attention layer as an exact identity with a zero
            residual gate (the transferred model predicts exactly as the source); "paper" keeps the paper's
            initialisation. Defaults to the model YAML's `attn_init` key, else "identity".
        verbose (bool): Log the one-line summary.

    Returns:
        (TransferReport): What was transferred.

    Examples:
        >>> import yolo_attention
        >>> from ultralytics import YOLO
        >>> base = YOLO("yolov8n.yaml")
        >>> report = transfer_weights(YOLO("yolov8n-cbam.yaml"), base, verbose=False)
        >>> report.transferred == report.total, report.new_attention
        (True, 18)
    """
    # Through `.load` (a YOLO's, or the task model's BaseModel.load, which the plugin wraps): a later YOLO.train()
    # then starts from these weights, and the one loading path is the one Ultralytics' trainer takes too.
    with transfer_options(attn_init, verbose):
        model.load(str(weights) if isinstance(weights, Path) else weights)
    return _LAST_REPORT.get()


def load_into(
    model, weights, key_loader: Callable, attn_init: str | None = None, verbose: bool = True
) -> TransferReport:
    """Load `weights` into an Ultralytics task model; what `BaseModel.load` does once the plugin is imported.

    Args:
        model: Destination task model (or `YOLO`).
        weights: Source checkpoint dict, `YOLO` or task model (the integration reads files before calling this).
        key_loader (Callable): Ultralytics' own key-and-shape loader, ``key_loader(dst, src, verbose=...)``, passed
            in by the integration so that this layer never reaches into Ultralytics' internals.
        attn_init (str, optional): See `transfer_weights`.
        verbose (bool): Log the one-line summary.
    """
    original_load = key_loader
    options = _OPTIONS.get() or {}
    attn_init = attn_init or options.get("attn_init")
    verbose = verbose and options.get("verbose", True)
    dst = task_model(model)
    if isinstance(weights, (str, Path)):
        raise TypeError("load_into takes a loaded checkpoint; read files with the integration's read_checkpoint")
    source = task_model(_source_model(weights))
    name = _describe(weights, source)
    attn_init = resolve_attn_init(dst, attn_init)
    dst_layers = layers_of(dst)
    mapped = correspond(source, dst)
    if mapped is not None and not (mapped.attention or layer_map(source).attention):
        original_load(dst, source, verbose=verbose)  # no attention on either side: Ultralytics' behaviour and log
        transferred, total = _plain_counts(source, dst)
        unfilled = len(dst.state_dict()) - transferred
        return _remember(TransferReport(name, True, transferred, total, unfilled=unfilled, same_architecture=True))
    if mapped is None:
        original_load(dst, source, verbose=False)
        report = _fallback_report(name, source, dst)
    else:
        mapping = mapped.to_source()
        new_attention = [i for i in mapped.attention if i not in mapped.attention_source]
        for d, s in mapped.attention_source.items():  # a gated source layer needs the gate to land in
            if _gated(layers_of(source)[s]):
                for module in _attention_modules(dst_layers[d]):
                    module.enable_residual_gate()
        if attn_init == "identity":
            for d in new_attention:
                for module in _attention_modules(dst_layers[d]):
                    module.enable_residual_gate(0.0)
        placed = _placed(source, mapping, len(dst_layers))
        original_load(dst, placed, verbose=False)
        transferred, landed = _landed(dst, placed)
        missing = {}
        for key, ok in landed.items():
            index = int(key.split(".")[1])
            if not ok and index not in missing:
                missing[index] = f"{type(dst_layers[index]).__name__}: shape differs"
        new_tensors = sum(len(dst_layers[i].state_dict()) for i in new_attention)
        dropped_layers, dropped = _dropped(layers_of(source), dst_layers, mapping, new_attention)
        report = TransferReport(
            name,
            True,
            transferred,
            len(landed) + dropped,
            new_tensors,
            attn_init,
            missing,
            bool(mapped.attention_source),
            dropped,
            dropped_layers,
            unfilled=len(dst.state_dict()) - transferred,
            same_architecture=len(mapping) == len(dst_layers) == len(layers_of(source)),
        )
    if verbose:
        LOGGER.info(report.message())
    return _remember(report)


def _remember(report: TransferReport) -> TransferReport:
    _LAST_REPORT.set(report)
    return report


def _kind(layer: torch.nn.Module) -> str:
    """The class name of a layer; for an attention layer repeated in the YAML (`n > 1`), that of its blocks."""
    if isinstance(layer, torch.nn.Sequential) and len(layer) and is_attention(layer):
        layer = layer[0]
    return type(layer).__name__


def _input_index(layer: torch.nn.Module, i: int) -> int:
    """The index of the one layer an attention layer `i` reads (its `from` is an int)."""
    return i + layer.f if layer.f < 0 else layer.f


def _counterparts(src_layers, dst_layers, mapping: dict[int, int], new_attention: list[int]) -> dict[int, int]:
    """Source attention layers with no destination -> the new destination attention layer reading the same input.

    This is what "CBAM has no place in ECA" is about: both attend the same original layer, but as other modules.
    """
    back = {s: d for d, s in mapping.items()}
    found: dict[int, int] = {}
    free = list(new_attention)
    for s, layer in enumerate(src_layers):
        if s in back or not is_attention(layer):
            continue
        src_in = _input_index(layer, s)
        d_in = back.get(src_in, found.get(src_in))
        d = next((d for d in free if _input_index(dst_layers[d], d) == d_in), None) if d_in is not None else None
        if d is not None:
            found[s] = d
            free.remove(d)
    return found


def _dropped(src_layers, dst_layers, mapping: dict[int, int], new_attention: list[int]) -> tuple[dict[int, str], int]:
    """The source layers with tensors and no corresponding destination layer -> why, and their tensor count."""
    used = set(mapping.values())
    counterparts = _counterparts(src_layers, dst_layers, mapping, new_attention)
    reasons: dict[int, str] = {}
    count = 0
    for s, layer in enumerate(src_layers):
        tensors = len(layer.state_dict())
        if s in used or not tensors:
            continue
        if s in counterparts:
            reasons[s] = f"{_kind(layer)} has no place in {_kind(dst_layers[counterparts[s]])}"
        elif is_attention(layer):
            reasons[s] = f"{_kind(layer)}: the destination has no attention layer there"
        else:
            reasons[s] = f"{_kind(layer)}: no corresponding layer"
        count += tensors
    return reasons, count


def _plain_counts(source, dst) -> tuple[int, int]:
    after = dst.state_dict()
    src_state = source.state_dict()
    landed = sum(
        k in after and after[k].shape == v.shape and torch.equal(after[k].float(), v.float())
        for k, v in src_state.items()
    )
    return landed, len(src_state)


def _fallback_report(name: str, source, dst) -> TransferReport:
    """Key matching was used: say which destination layers received no weights and which source layers found none."""
    src_state, dst_state = source.state_dict(), dst.state_dict()
    landed = {
        k: k in src_state and src_state[k].shape == v.shape and torch.equal(src_state[k].float(), v.float())
        for k, v in dst_state.items()
    }
    missing = {}
    dst_layers = layers_of(dst)
    for key, ok in landed.items():
        parts = key.split(".")
        if not ok and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) not in missing:
            missing[int(parts[1])] = type(dst_layers[int(parts[1])]).__name__
    transferred = sum(k in dst_state and landed.get(k, False) for k in src_state)
    src_layers = layers_of(source)
    dropped_layers = {}
    for key in src_state:
        parts = key.split(".")
        if not landed.get(key, False) and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            dropped_layers.setdefault(index, _kind(src_layers[index]))  # the head says key matching was used
    return TransferReport(
        name,
        False,
        transferred,
        len(src_state),
        missing_layers=missing,
        dropped=len(src_state) - transferred,
        dropped_layers=dropped_layers,
        unfilled=len(dst_state) - sum(landed.values()),
    )
