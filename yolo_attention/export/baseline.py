"""The matching baseline of an attention model: the same YAML with its attention layers removed, same weights.

`remove_attention` is the inverse of `yolo_attention.arch.yaml_edit.insert_attention`: it drops every attention layer
and points each consumer at the layer the attention read from, so the result is Ultralytics' own architecture.
"""

from __future__ import annotations

from pathlib import Path

from yolo_attention.arch.yaml_edit import kept_layers, remove_attention

__all__ = ["remove_attention", "kept_layers", "build_baseline"]


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
