"""Which attention modules an export carries, written next to Ultralytics' own metadata."""

from __future__ import annotations

from pathlib import Path

__all__ = ["add_attention_metadata", "attention_metadata"]


def attention_metadata(model) -> dict[int, str]:
    """Return ``{layer index: "Module(settings)"}`` for every attention layer of `model`.

    Examples:
        >>> import yolo_attention
        >>> from ultralytics import YOLO
        >>> attention_metadata(YOLO("yolov8n-eca.yaml"))[5]
        "ECA(c1=64, kernel_size=3, gate='sigmoid', enabled=True)"
    """
    import torch

    from yolo_attention.common.models import layers_of
    from yolo_attention.integration import attention_layer_indices

    layers = layers_of(model)
    out = {}
    for i in attention_layer_indices(model):
        modules = list(layers[i]) if isinstance(layers[i], torch.nn.Sequential) else [layers[i]]
        out[i] = " -> ".join(f"{type(m).__name__}({m.extra_repr()})" for m in modules)
    return out


def add_attention_metadata(artifact: str | Path, attention: dict[int, str]) -> None:
    """Record the attention modules next to Ultralytics' metadata: an ONNX ``attention`` property or metadata.yaml key.

    The value is a Python literal (like Ultralytics' own ``names``), readable with `ast.literal_eval`.
    """
    import yaml

    path = Path(artifact)
    if path.suffix == ".onnx":
        import onnx

        model = onnx.load(str(path))
        for prop in list(model.metadata_props):
            if prop.key == "attention":
                model.metadata_props.remove(prop)
        prop = model.metadata_props.add()
        prop.key, prop.value = "attention", str(attention)
        onnx.save(model, str(path))
    elif path.is_dir() and (path / "metadata.yaml").is_file():
        meta = yaml.safe_load((path / "metadata.yaml").read_text()) or {}
        meta["attention"] = str(attention)
        (path / "metadata.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
