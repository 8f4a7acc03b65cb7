"""Insert attention layers into a model YAML dict, shifting every `from` index, and keep the layer correspondence."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence

__all__ = ["insert_attention", "kept_layers", "remove_attention", "shift_map"]


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

    Raises:
        ValueError: If `args` is not a list, or an index in `after` is not a layer that can be attended.

    Examples:
        >>> base = {"backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]]],
        ...         "head": [[[-1, 0], 1, "Concat", [1]]]}
        >>> new = insert_attention(base, "ECA", after=[0])
        >>> [layer[2] for layer in new["backbone"] + new["head"]]
        ['Conv', 'ECA', 'Conv', 'Concat']
        >>> new["head"][0][0]
        [-1, 1]
    """
    if args is not None and not isinstance(args, (list, tuple)):
        raise ValueError(
            f"args must be a list of the inserted layers' YAML args (e.g. [7] or [{{'kernel_size': 7}}]), got {args!r}"
        )
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


def _attention_names(modules: Collection[str] | None) -> set[str]:
    if modules is not None:
        return set(modules)
    from yolo_attention.modules import MODULES

    return set(MODULES)


def kept_layers(cfg: dict, modules: Collection[str] | None = None) -> list[int]:
    """Return the indices (over backbone + head) of the layers `remove_attention` keeps, in order.

    `kept_layers(cfg)[j]` is the index in `cfg` of layer `j` of the baseline.

    Examples:
        >>> cfg = {"backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "ECA", []]], "head": [[-1, 1, "Conv", [8, 1]]]}
        >>> kept_layers(cfg)
        [0, 2]
    """
    names = _attention_names(modules)
    layers = list(cfg["backbone"]) + list(cfg["head"])
    return [i for i, layer in enumerate(layers) if layer[2] not in names]


def remove_attention(cfg: dict, modules: Collection[str] | None = None) -> dict:
    """Return a copy of a model YAML dict without its attention layers, every `from` index remapped.

    A layer that read an attention layer reads that layer's input instead (through ``-1`` when it is the layer just
    before it, else through its new absolute index), so ``remove_attention(insert_attention(cfg, ...))`` gives back
    `cfg`'s layers.

    Args:
        cfg (dict): Ultralytics model YAML dict with ``backbone`` and ``head`` lists.
        modules (Collection[str], optional): Module names to remove. Defaults to every registered attention module.

    Returns:
        (dict): The baseline YAML dict, without the ``attention``, ``attn_init`` and ``yaml_file`` keys.

    Raises:
        ValueError: If an attention layer reads more than one input, or nothing would be left.

    Examples:
        >>> from yolo_attention.arch.yaml_edit import insert_attention
        >>> base = {"backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]]],
        ...         "head": [[[-1, 0], 1, "Concat", [1]]]}
        >>> remove_attention(insert_attention(base, "ECA", after=[0])) == base
        True
    """
    names = _attention_names(modules)
    layers = list(cfg["backbone"]) + list(cfg["head"])
    source = {}  # removed layer -> absolute index of the layer it reads
    for i, (f, _, name, _) in enumerate(layers):
        if name in names:
            if not isinstance(f, int) or isinstance(f, bool):
                raise ValueError(f"layer {i} ({name}) reads {f!r}; an attention layer must read one input (an int)")
            source[i] = i + f if f < 0 else f
    kept = [i for i in range(len(layers)) if i not in source]
    if not kept:
        raise ValueError("the model has only attention layers; nothing is left after removing them")
    new_index = {old: new for new, old in enumerate(kept)}

    def resolve(target: int) -> int:
        while target in source:  # attention reading attention
            target = source[target]
        return target

    def remap(f: int, i: int) -> int:
        target = i + f if f < 0 else f
        if target < 0:  # reads the input image
            return f
        mapped = new_index[resolve(target)] if resolve(target) >= 0 else -1
        return -1 if f == -1 and mapped == new_index[i] - 1 else mapped

    out_layers = []
    for i in kept:
        f, repeats, name, args = layers[i]
        f_new = [remap(x, i) for x in f] if isinstance(f, list) else remap(f, i)
        out_layers.append([f_new, repeats, name, copy.deepcopy(args)])
    n_backbone = sum(1 for i in kept if i < len(cfg["backbone"]))
    new = {k: copy.deepcopy(v) for k, v in cfg.items() if k not in ("backbone", "head", "attention", "attn_init")}
    new.pop("yaml_file", None)
    new["backbone"], new["head"] = out_layers[:n_backbone], out_layers[n_backbone:]
    return new
