"""Insert attention layers into a model YAML dict, shifting every `from` index, and keep the layer correspondence."""

from __future__ import annotations

import copy
from collections.abc import Sequence

__all__ = ["insert_attention", "remove_attention", "shift_map"]


def shift_map(num_layers: int, after: Sequence[int]) -> list[int]:
    """Return the new index of every original layer once one layer is inserted after each index in `after`.

    Examples:
        >>> shift_map(6, after=[1, 3])
        [0, 1, 3, 4, 6, 7]
    """
    after = set(after)
    new_index, shift = [], 0
    for i in range(num_layers):
        new_index.append(i + shift)
        shift += i in after
    return new_index


def insert_attention(cfg: dict, module: str, after: Sequence[int], args: list | None = None) -> dict:
    """Return a copy of a model YAML dict with `module` inserted after each original layer index in `after`.

    Every consumer of an attended layer reads the attention layer's output instead: the next layer through its
    ``-1`` and later layers (Concat, Detect) through their remapped absolute indices. The original layers keep their
    order, so original layer ``k`` becomes layer ``shift_map(n, after)[k]`` of the result.

    Args:
        cfg (dict): Ultralytics model YAML dict with ``backbone`` and ``head`` lists.
        module (str): Registered attention module name, written into the YAML as-is.
        after (Sequence[int]): Original layer indices (0-based over backbone + head) to attend.
        args (list, optional): YAML args of the inserted layers (channels are always inferred). Defaults to ``[]``.

    Returns:
        (dict): The new YAML dict. Its ``attention`` key records what was inserted where.

    Examples:
        >>> base = {"backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]]],
        ...         "head": [[[-1, 0], 1, "Concat", [1]]]}
        >>> new = insert_attention(base, "ECA", after=[0])
        >>> [layer[2] for layer in new["backbone"] + new["head"]]
        ['Conv', 'ECA', 'Conv', 'Concat']
        >>> new["head"][0][0]
        [-1, 1]
    """
    layers = list(cfg["backbone"]) + list(cfg["head"])
    n = len(layers)
    after = sorted(set(after))
    bad = [i for i in after if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < n - 1]
    if bad:
        raise ValueError(
            f"cannot insert attention after layer(s) {bad}: valid indices are 0..{n - 2} (the model has {n} layers)"
        )
    new_index = shift_map(n, after)
    attn_index = {k: new_index[k] + 1 for k in after}  # the layer that now stands for original layer k

    def remap(f: int, i: int) -> int:
        target = i + f if f < 0 else f  # absolute original index
        if target < 0:  # the first layer reads the input image
            return f
        mapped = attn_index.get(target, new_index[target])
        return -1 if f == -1 and mapped == new_index[i] - 1 else mapped

    out_layers = []
    for i, (f, repeats, name, layer_args) in enumerate(layers):
        f_new = [remap(x, i) for x in f] if isinstance(f, list) else remap(f, i)
        out_layers.append([f_new, repeats, name, copy.deepcopy(layer_args)])
        if i in attn_index:
            out_layers.append([-1, 1, module, list(args or [])])
    n_backbone = len(cfg["backbone"])
    split = new_index[n_backbone - 1] + 1 + (n_backbone - 1 in attn_index)
    new = {k: copy.deepcopy(v) for k, v in cfg.items() if k not in ("backbone", "head", "yaml_file", "scale")}
    new["backbone"], new["head"] = out_layers[:split], out_layers[split:]
    new["attention"] = {"module": module, "after": after}
    return new


def remove_attention(cfg: dict, names: Sequence[str]) -> dict:
    """Return a copy of a model YAML dict without its layers named in `names`: the baseline it was built from.

    The inverse of `insert_attention`: a layer that read an attention layer reads what that attention layer read.

    Examples:
        >>> base = {"backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]]],
        ...         "head": [[[-1, 0], 1, "Concat", [1]]]}
        >>> remove_attention(insert_attention(base, "ECA", after=[0]), ["ECA"]) == base
        True
    """
    layers = list(cfg["backbone"]) + list(cfg["head"])
    names = set(names)
    removed = {i for i, layer in enumerate(layers) if layer[2] in names}
    if any(not isinstance(layers[i][0], int) for i in removed):
        raise ValueError("attention layers read one input; a multi-input layer cannot be removed")
    new_index = {}
    for i in range(len(layers)):
        if i not in removed:
            new_index[i] = len(new_index)

    def source(j: int) -> int:
        while j in removed:  # follow an attention layer back to the layer it reads
            j = j + layers[j][0] if layers[j][0] < 0 else layers[j][0]
        return j

    def remap(f: int, i: int) -> int:
        target = i + f if f < 0 else f
        if target < 0:
            return f
        mapped = new_index[source(target)]
        return -1 if f < 0 and mapped == new_index[i] - 1 else mapped

    out = []
    for i, (f, repeats, name, args) in enumerate(layers):
        if i in removed:
            continue
        out.append(
            [[remap(x, i) for x in f] if isinstance(f, list) else remap(f, i), repeats, name, copy.deepcopy(args)]
        )
    n_backbone = sum(1 for i in range(len(cfg["backbone"])) if i not in removed)
    new = {
        k: copy.deepcopy(v) for k, v in cfg.items() if k not in ("backbone", "head", "yaml_file", "scale", "attention")
    }
    new["backbone"], new["head"] = out[:n_backbone], out[n_backbone:]
    return new
