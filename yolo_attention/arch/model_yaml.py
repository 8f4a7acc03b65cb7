"""Write a model YAML dict the way Ultralytics writes its model files: one flow-style line per layer."""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["render_model_yaml", "write_model_yaml"]

_SECTIONS = ("backbone", "head")


def _flow(value) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=1000, sort_keys=False).strip()
    return text.removesuffix("...").strip()  # a bare scalar is dumped as a document ending in '...'


def render_model_yaml(cfg: dict, comments: list[str] = (), notes: dict[int, str] | None = None) -> str:
    """Return the YAML text of a model dict: comments, top-level keys, `scales:` in order, then one line per layer.

    Args:
        cfg (dict): Ultralytics model dict (``nc``, ``scales``, ``backbone``, ``head``, ...).
        comments (list[str]): Header comment lines, without the leading ``#``.
        notes (dict[int, str], optional): Comment per layer index (default: the index).

    Returns:
        (str): YAML text that `yaml.safe_load` turns back into `cfg`.

    Examples:
        >>> cfg = {"nc": 2, "backbone": [[-1, 1, "Conv", [16, 3, 2]]], "head": [[[-1], 1, "Detect", ["nc"]]]}
        >>> yaml.safe_load(render_model_yaml(cfg)) == cfg
        True
    """
    notes = notes or {}
    lines = [f"# {c}".rstrip() for c in comments]
    if lines:
        lines.append("")
    for key, value in cfg.items():
        if key in _SECTIONS or key in ("yaml_file", "scale"):
            continue
        if key == "scales" and isinstance(value, dict):
            lines.append("scales: # [depth, width, max_channels]")
            lines += [f"  {k}: {_flow(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {_flow(value)}")
    index = 0
    for section in _SECTIONS:
        lines += ["", f"{section}:"]
        for layer in cfg.get(section, []):
            lines.append(f"  - {_flow(layer)}  # {notes.get(index, index)}")
            index += 1
    return "\n".join(lines) + "\n"


def write_model_yaml(
    cfg: dict, path: str | Path, comments: list[str] = (), notes: dict[int, str] | None = None
) -> Path:
    """Write a model dict so that Ultralytics rebuilds it at the same scale.

    Ultralytics takes the scale from the file name (``yolov8n-...``) and otherwise falls back to the first row of
    `scales:` with a warning. When the name carries no scale letter, only the row of the dict's own `scale` is kept.

    Returns:
        (Path): The file written.
    """
    from ultralytics.nn.tasks import guess_model_scale

    path = Path(path)
    cfg = dict(cfg)
    scale = cfg.get("scale")
    if cfg.get("scales") and scale and guess_model_scale(path) != scale:
        cfg["scales"] = {scale: cfg["scales"][scale]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_model_yaml(cfg, comments, notes))
    return path
