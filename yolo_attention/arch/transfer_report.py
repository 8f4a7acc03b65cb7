"""What a weight transfer did, tensor by tensor: the report and how each kind of transfer is counted.

A transfer (`arch/transfer.py`) loads the weights; the functions here compare source and destination afterwards and say
which source tensors landed bit for bit, which found no place (and why), and which destination tensors stayed new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from yolo_attention.common.models import layers_of
from yolo_attention.modules import is_attention

__all__ = ["TransferReport", "corresponded_report", "key_matching_report", "same_architecture_report"]


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


def corresponded_report(
    name: str,
    source: torch.nn.Module,
    dst: torch.nn.Module,
    placed: torch.nn.Module,
    mapping: dict[int, int],
    new_attention: list[int],
    attn_init: str,
    source_has_attention: bool,
    same_heads: bool = True,
) -> TransferReport:
    """The report of a transfer by layer correspondence, once `placed` (the source re-indexed) was loaded into `dst`.

    Args:
        name (str): Where the weights came from.
        source (torch.nn.Module): The source task model.
        dst (torch.nn.Module): The destination task model, loaded.
        placed (torch.nn.Module): The source with its layers at their destination indices (what was loaded).
        mapping (dict[int, int]): Destination layer -> source layer.
        new_attention (list[int]): Destination attention layers with no source layer.
        attn_init (str): How the new attention layers started.
        source_has_attention (bool): Some destination attention layer received the source's attention weights.
        same_heads (bool): Both output layers are heads of one task; with two (Detect into Pose), the parts of the
            destination's head that the source lacks are reported as new.
    """
    dst_layers = layers_of(dst)
    transferred, landed = _landed(dst, placed)
    missing = {}
    for key, ok in landed.items():
        index = int(key.split(".")[1])
        if not ok and index not in missing:
            missing[index] = f"{type(dst_layers[index]).__name__}: shape differs"
    for key in dst.state_dict():  # destination tensors with no source tensor at all (a Pose head's keypoint branch)
        index = int(key.split(".")[1])
        if key not in landed and index not in new_attention and "start new" not in missing.get(index, ""):
            reason = missing.get(index, f"{type(dst_layers[index]).__name__}: ")
            missing[index] = reason + ("; " if index in missing else "") + "parts the source lacks start new"
    new_tensors = sum(len(dst_layers[i].state_dict()) for i in new_attention)
    dropped_layers, dropped = _dropped(layers_of(source), dst_layers, mapping, new_attention)
    return TransferReport(
        name,
        True,
        transferred,
        len(landed) + dropped,
        new_tensors,
        attn_init,
        missing,
        source_has_attention,
        dropped,
        dropped_layers,
        unfilled=len(dst.state_dict()) - transferred,
        same_architecture=same_heads and len(mapping) == len(dst_layers) == len(layers_of(source)),
    )


def same_architecture_report(name: str, source: torch.nn.Module, dst: torch.nn.Module) -> TransferReport:
    """The report of a plain load (no attention on either side): Ultralytics' own key matching, structures equal."""
    after = dst.state_dict()
    src_state = source.state_dict()
    transferred = sum(
        k in after and after[k].shape == v.shape and torch.equal(after[k].float(), v.float())
        for k, v in src_state.items()
    )
    unfilled = len(after) - transferred
    return TransferReport(name, True, transferred, len(src_state), unfilled=unfilled, same_architecture=True)


def key_matching_report(name: str, source: torch.nn.Module, dst: torch.nn.Module) -> TransferReport:
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


def _landed(dst: torch.nn.Module, placed: torch.nn.Module) -> tuple[int, dict[str, bool]]:
    """Count the placed source tensors that the destination now holds, bit for bit; per key whether it landed."""
    dst_state = dst.state_dict()
    landed = {}
    for key, value in placed.state_dict().items():
        target = dst_state.get(key)
        landed[key] = target is not None and target.shape == value.shape and torch.equal(target.float(), value.float())
    return sum(landed.values()), landed


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
