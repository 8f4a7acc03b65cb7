"""Where attention goes: a placement name (``backbone``, ``neck``) or layer indices -> original layer indices."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["WHERE", "resolve_where"]

WHERE = ("backbone", "neck")


def _layers(cfg: dict) -> list:
    return list(cfg["backbone"]) + list(cfg["head"])


def _absolute_inputs(f, i: int) -> list[int]:
    return [i + x if x < 0 else x for x in (f if isinstance(f, list) else [f])]


def resolve_where(cfg: dict, where: str | int | Sequence[int]) -> list[int]:
    """Return the original layer indices to attend for a placement name or explicit indices.

    - ``backbone``: after each backbone layer the head reads (for YOLOv8: the C2f at P3, the C2f at P4 and the SPPF
      at P5, layers 4, 6 and 9);
    - ``neck``: after each layer feeding the output layer (for YOLOv8: layers 15, 18 and 21), i.e. before each
      detection input;
    - indices: ``[4, 6]``, ``"4,6"`` or ``7``.

    Raises:
        ValueError: On an unknown name, an index out of range, or a value that selects no layer (``[]``).

    Examples:
        >>> import yaml
        >>> from ultralytics.utils import ROOT
        >>> cfg = yaml.safe_load((ROOT / "cfg/models/v8/yolov8.yaml").read_text())
        >>> resolve_where(cfg, "backbone"), resolve_where(cfg, "neck"), resolve_where(cfg, "4, 6")
        ([4, 6, 9], [15, 18, 21], [4, 6])
    """
    layers = _layers(cfg)
    n_backbone = len(cfg["backbone"])
    if isinstance(where, str) and where.strip().lower() in WHERE:
        if where.strip().lower() == "backbone":
            read = {n_backbone - 1}
            for i in range(n_backbone, len(layers)):
                read |= {x for x in _absolute_inputs(layers[i][0], i) if 0 <= x < n_backbone}
            return sorted(read)
        return sorted(_absolute_inputs(layers[-1][0], len(layers) - 1))
    if isinstance(where, str):
        if not re.fullmatch(r"\s*\[?\s*\d+(\s*,\s*\d+)*\s*\]?\s*", where):
            raise ValueError(f"where must be one of {', '.join(WHERE)} or layer indices like '4,6,9', got {where!r}")
        where = [int(x) for x in re.findall(r"\d+", where)]
    if isinstance(where, bool) or not isinstance(where, (int, Iterable)):
        raise ValueError(
            f"where must be one of {', '.join(WHERE)}, a layer index or a list of them (4, [4, 6], '4,6'), "
            f"got {where!r}"
        )
    indices = [where] if isinstance(where, int) else list(where)
    if not indices:
        raise ValueError(f"where={where!r} selected no layers; give {', '.join(WHERE)} or layer indices like [4, 6]")
    bad = [i for i in indices if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(layers) - 1]
    if bad:
        raise ValueError(f"where: layer indices must be 0..{len(layers) - 2} for this model, got {bad}")
    return sorted(set(indices))
