"""Which layers of a model are attention and which are original, and how they map onto a source model's layers."""

from __future__ import annotations

from dataclasses import dataclass, field

from yolo_attention.common.models import layers_of, task_model
from yolo_attention.modules import is_attention

__all__ = ["LayerMap", "correspond", "layer_map", "layers_of"]


@dataclass
class LayerMap:
    """The layer bookkeeping of a model built with attention layers inserted into a baseline.

    Attributes:
        attention (list[int]): Indices of the attention layers.
        original (list[int]): `original[k]` is the index, in this model, of the baseline's layer `k`.
        backbone (list[int]): Indices of original layers in the YAML's backbone section (never attention).
        neck (list[int]): Indices of original layers in the head section except the output layer.
        head (list[int]): Index of the output layer (Detect, Pose, ...).
        source (list[int]): For models mapped onto a source model: the source index of each `original` entry.
        attention_source (dict[int, int]): For models mapped onto a source model: the source index of each
            attention layer that the source has too.
        heads_differ (bool): For models mapped onto a source model: the output layers are heads of two tasks
            (Detect and Pose), so the source fills the destination's head only in part.
    """

    attention: list[int]
    original: list[int]
    backbone: list[int]
    neck: list[int]
    head: list[int]
    source: list[int] = field(default_factory=list)
    attention_source: dict[int, int] = field(default_factory=dict)
    heads_differ: bool = False

    def to_source(self) -> dict[int, int]:
        """Return {index in this model: index in the source model} for every layer that has a source."""
        return {**dict(zip(self.original, self.source or range(len(self.original)))), **self.attention_source}


def layer_map(model) -> LayerMap:
    """Return the attention / original / backbone / neck / head split of an Ultralytics model.

    Examples:
        >>> import yolo_attention
        >>> from ultralytics import YOLO
        >>> m = layer_map(YOLO("yolov8n-cbam.yaml"))
        >>> m.attention, m.backbone[-1], m.head
        ([5, 8, 12], 11, [25])
    """
    layers = layers_of(model)
    n_backbone = len(getattr(task_model(model), "yaml", {}).get("backbone", [])) or len(layers)
    attention = [i for i, layer in enumerate(layers) if is_attention(layer)]
    original = [i for i in range(len(layers)) if i not in set(attention)]
    return LayerMap(
        attention=attention,
        original=original,
        backbone=[i for i in original if i < n_backbone],
        neck=[i for i in original if n_backbone <= i < len(layers) - 1],
        head=[len(layers) - 1],
    )


def _inputs(layer, i: int) -> list[int]:
    f = layer.f
    return [i + x if x < 0 else x for x in (f if isinstance(f, list) else [f])]


def _type(layer) -> str:
    return getattr(layer, "type", None) or type(layer).__name__


def _keys(model) -> tuple[list, dict]:
    """Name every layer by its place in the baseline, and resolve each original layer's inputs to those names.

    Original layer k is ("layer", k); an attention layer is ("attention", k, depth, type): the depth-th attention
    layer reading (through other attention layers) original layer k.
    """
    layers, mapped = layers_of(model), layer_map(model)
    position = {j: k for k, j in enumerate(mapped.original)}
    attention = set(mapped.attention)
    keys, anchors = [], {}
    for i, layer in enumerate(layers):
        if i in attention:
            source = _inputs(layer, i)[0]
            anchor, depth = anchors.get(source, (position.get(source, source), 0))
            anchors[i] = (anchor, depth + 1)
            keys.append(("attention", anchor, depth + 1, _type(layer)))
        else:
            keys.append(("layer", position[i]))

    def resolve(j: int):
        return ("input",) if j < 0 else ("layer", anchors[j][0]) if j in anchors else keys[j]

    inputs = {i: [resolve(j) for j in _inputs(layer, i)] for i, layer in enumerate(layers) if i not in attention}
    return keys, inputs


def _heads(source_layer, destination_layer) -> bool:
    """Whether both layers are detection heads, of one task or two (Detect and Pose).

    Heads of two tasks share the box and class branches, whose tensors then transfer where their shapes match, as in
    Ultralytics' own load between tasks.
    """
    from ultralytics.nn.modules import Detect

    return isinstance(source_layer, Detect) and isinstance(destination_layer, Detect)


def correspond(source, destination) -> LayerMap | None:
    """Map `source`'s layers onto `destination`'s if both are the same baseline with attention layers inserted.

    Correspondence comes from the structures alone: once attention layers are set aside, both models must have the
    same layer types in the same order, reading the same inputs (an input that is an attention layer counts as the
    layer that attention layer reads); the last layers may be heads of different tasks (Detect into Pose). Attention
    layers correspond where they attend the same original layer with the same module. Either model may have attention
    layers the other lacks.

    Args:
        source: The model the weights come from (`YOLO`, `DetectionModel`, ...).
        destination: The model the weights go to.

    Returns:
        (LayerMap | None): The destination's layer map, with `source[k]` the source index of `original[k]` and
        `attention_source` the source index of each destination attention layer that has one; None if the
        structures do not correspond.
    """
    src_layers, dst_layers = layers_of(source), layers_of(destination)
    (src_keys, src_inputs), (dst_keys, dst_inputs) = _keys(source), _keys(destination)
    src_original = [i for i, k in enumerate(src_keys) if k[0] == "layer"]
    mapped = layer_map(destination)
    if len(src_original) != len(mapped.original):
        return None
    last = (src_original[-1], mapped.original[-1]) if src_original else None
    for s, d in zip(src_original, mapped.original):
        same = _type(src_layers[s]) == _type(dst_layers[d]) or ((s, d) == last and _heads(src_layers[s], dst_layers[d]))
        if not same or src_inputs[s] != dst_inputs[d]:
            return None
    where = {k: i for i, k in enumerate(src_keys)}
    mapped.source = src_original
    mapped.attention_source = {d: where[dst_keys[d]] for d in mapped.attention if dst_keys[d] in where}
    mapped.heads_differ = bool(last) and _type(src_layers[last[0]]) != _type(dst_layers[last[1]])
    return mapped
