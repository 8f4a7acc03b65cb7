"""The matching baseline of an attention model: the same YAML with its attention layers removed, same weights.

`remove_attention` is the inverse of `yolo_attention.placement.insert_attention`: it drops every attention layer and
points each consumer at the layer the attention read from, so the result is Ultralytics' own architecture.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from pathlib import Path

__all__ = ["remove_attention", "kept_layers", "build_baseline"]


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
        >>> from yolo_attention.placement import insert_attention
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


def _baseline_file_name(yaml_file: str | None, scale: str | None) -> str:
    """`yolov8n-cbam.yaml` -> `yolov8n-cbam-baseline.yaml`; a scale letter is kept so Ultralytics picks the scale."""
    stem = Path(yaml_file or "model.yaml").stem
    if scale and not stem.startswith(("yolov", "yolo")):
        stem = f"yolov8{scale}-{stem}"
    return f"{stem}-baseline.yaml"


def build_baseline(model, save_dir: str | Path, copy_weights: bool = True):
    """Build the attention-free baseline of `model` from its own YAML, with the weights of every layer they share.

    Args:
        model: An Ultralytics `YOLO` (or a path Ultralytics loads) with attention layers.
        save_dir (str | Path): Folder for the baseline's generated model YAML.
        copy_weights (bool): Copy the weights of every kept layer from `model`, so that both models compute with the
            same numbers (latency does not depend on values in theory; denormals make it in practice).

    Returns:
        (YOLO): The baseline, in eval mode on the CPU.

    Examples:
        >>> import tempfile, yolo_attention
        >>> from ultralytics import YOLO
        >>> base = build_baseline(YOLO("yolov8n-eca.yaml"), tempfile.mkdtemp())
        >>> yolo_attention.attention_layer_indices(base), len(base.model.model)
        ([], 23)
    """
    import yaml
    from ultralytics import YOLO

    yolo = model if hasattr(model, "export") else YOLO(str(model))
    cfg = dict(yolo.model.yaml)
    scale = cfg.get("scale")
    baseline_cfg = remove_attention(cfg)
    if scale and baseline_cfg.get("scales") and scale in baseline_cfg["scales"]:
        baseline_cfg["scales"] = {scale: baseline_cfg["scales"][scale]}  # the file name alone may not say the scale
    baseline_cfg.pop("scale", None)
    out = Path(save_dir) / _baseline_file_name(cfg.get("yaml_file"), scale)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = f"# {cfg.get('yaml_file', 'model')} without its attention layers (yolo_attention.export.baseline)\n"
    out.write_text(header + yaml.safe_dump(baseline_cfg, sort_keys=False))
    baseline = YOLO(str(out))
    if copy_weights:
        kept = kept_layers(cfg)
        src = yolo.model.float().state_dict()
        state = {}
        for j, i in enumerate(kept):
            prefix = f"model.{i}."
            state.update({f"model.{j}." + k[len(prefix) :]: v for k, v in src.items() if k.startswith(prefix)})
        missing = [k for k, v in baseline.model.state_dict().items() if k not in state or state[k].shape != v.shape]
        if missing:
            raise ValueError(f"baseline layers do not match the model's: {missing[:3]} ... ({len(missing)} tensors)")
        baseline.model.load_state_dict(state)
    baseline.model.names = yolo.model.names
    return baseline
