"""One-line attention placement: a baseline model or YAML in, the same model with attention layers out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from yolo_attention.arch.model_yaml import write_model_yaml
from yolo_attention.arch.where import WHERE, resolve_where
from yolo_attention.arch.yaml_edit import insert_attention
from yolo_attention.modules import MODULES, get_module

__all__ = ["insert"]


def _source_cfg(model):
    """Return (model YAML dict, YAML file name, the object to take weights from or None)."""
    from ultralytics import YOLO
    from ultralytics.engine.model import Model
    from ultralytics.nn.tasks import yaml_model_load

    if isinstance(model, (str, Path)) and str(model).endswith((".yaml", ".yml")):
        cfg = yaml_model_load(model)
        return cfg, Path(str(model)).name, None
    yolo = model if isinstance(model, Model) else YOLO(model) if isinstance(model, (str, Path)) else None
    task_model = yolo.model if yolo is not None else model
    cfg = getattr(task_model, "yaml", None)
    if not isinstance(cfg, dict):
        raise ValueError(f"insert needs an Ultralytics model, checkpoint or model YAML, got {model!r}")
    has_weights = yolo is None or yolo.ckpt is not None or isinstance(model, (str, Path))
    return dict(cfg), Path(str(cfg.get("yaml_file", "model.yaml"))).name, task_model if has_weights else None


def _registered_name(module: str | type) -> str:
    """Return the registry name of a module given by name (any case) or as its registered class."""
    if isinstance(module, type):
        names = [k for k, v in MODULES.items() if v is module]
        if not names:
            raise ValueError(
                f"module {module.__qualname__} is not a registered attention module; pass a name "
                f"({', '.join(MODULES)}) or register the class first with yolo_attention.register_module"
            )
        return names[0]
    cls = get_module(module)
    return next(k for k, v in MODULES.items() if v is cls)


def insert(
    model,
    module: str | type,
    where: str | int | Sequence[int] = "backbone",
    args: list | None = None,
    attn_init: str | None = None,
    save_dir: str | Path = "runs/models",
):
    """Insert attention layers into a baseline model and carry its weights over layer by layer.

    Args:
        model: A baseline `YOLO`, a checkpoint path (``yolov8n.pt``) or a model YAML (``yolov8n.yaml``).
        module (str | type): Attention module name, any case (``cbam``, ``ECA`` ...), or a registered class
            (``CBAM``), which is written into the YAML under its registered name.
        where (str | int | Sequence[int]): ``backbone``, ``neck`` or original layer indices (see `resolve_where`).
        args (list, optional): YAML args of each inserted layer, a list (channels are always inferred).
        attn_init (str, optional): ``identity`` (default with weights: the new model predicts exactly as the source
            until training opens the attention's residual gates) or ``paper`` (the paper's initialisation).
        save_dir (str | Path): Folder for the generated model YAML, which rebuilds the model.

    Returns:
        (YOLO): The model with attention; weights transferred when the source had any.

    Raises:
        ValueError: On an unknown or unregistered module, a `where` that selects no layer or is out of range, `args`
            that are not a list, or an unknown `attn_init`.

    Examples:
        >>> import yolo_attention
        >>> from ultralytics import YOLO
        >>> import tempfile
        >>> m = yolo_attention.insert("yolov8n.yaml", "eca", where="neck", save_dir=tempfile.mkdtemp())
        >>> yolo_attention.attention_layer_indices(m), Path(m.cfg).name
        ([16, 20, 24], 'yolov8n-eca-neck.yaml')
    """
    from ultralytics import YOLO

    from yolo_attention.arch.transfer import resolve_attn_init

    name = _registered_name(module)
    cfg, file_name, weights = _source_cfg(model)
    after = resolve_where(cfg, where)
    new = insert_attention(cfg, name, after, args)
    if attn_init is not None:
        new["attn_init"] = resolve_attn_init({}, attn_init)
    tag = where if isinstance(where, str) and where in WHERE else "at" + "-".join(map(str, after))
    stem = Path(file_name).stem
    out = Path(save_dir) / f"{stem}-{name.lower()}-{tag}.yaml"
    new["scale"] = cfg.get("scale")
    comment = f"{name} inserted after layers {after} of {file_name} by yolo_attention.insert (where={where!r})"
    notes = {i + 1 + n: f"{i + 1 + n}: attention" for n, i in enumerate(after)}
    write_model_yaml(new, out, [comment], notes)
    result = YOLO(str(out))
    if weights is not None:
        result.load(weights)  # another architecture: it no longer carries the source's path (see load_into)
    return result
