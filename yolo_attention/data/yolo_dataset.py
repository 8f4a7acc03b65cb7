"""The folder a converter writes: ``images/<split>/``, ``labels/<split>/`` and a ``data.yaml`` without ``path:``.

Both converters share it, so every converted dataset looks the same to Ultralytics: a split's labels sit where
Ultralytics looks for them (``.../images/x`` -> ``.../labels/x``), and the YAML resolves against its own folder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import yaml

from yolo_attention.common.images import is_image

__all__ = ["clear_split_folders", "prepare_split_folders", "write_data_yaml"]

LOGGER = logging.getLogger(__name__)


def clear_split_folders(out: Path, split: str, kinds: Iterable[str] = ("images", "labels")) -> None:
    """Remove what an earlier conversion wrote to ``out/<kind>/<split>/``; the folders themselves stay.

    A re-conversion with another split or source must not leave images of the old one behind (they would leak into
    the new split), so images (by suffix) in image folders, ``.txt`` files in ``labels``, and Ultralytics' label
    cache ``labels/<split>.cache`` are removed. Nothing else is touched.

    Args:
        out (Path): Dataset root.
        split (str): Split name, e.g. ``"train"``.
        kinds (Iterable[str]): Top-level folders, e.g. ``("images", "labels", "templates")``; ``labels`` holds
            ``.txt`` files, every other kind holds images.
    """
    stale = []
    for kind in kinds:
        folder = out / kind / split
        if folder.is_dir():
            wanted = (lambda p: p.suffix == ".txt") if kind == "labels" else is_image
            stale += [p for p in folder.iterdir() if p.is_file() and wanted(p)]
    cache = out / "labels" / f"{split}.cache"
    stale += [cache] if cache.is_file() else []
    if stale:
        LOGGER.info(f"Removing {len(stale)} files of an earlier conversion from '{out}' ({split}).")
    for path in stale:
        path.unlink()


def prepare_split_folders(out: Path, split: str, kinds: Iterable[str] = ("images", "labels")) -> dict[str, Path]:
    """Create ``out/<kind>/<split>/`` for each kind, emptied of what an earlier conversion wrote there.

    Args:
        out (Path): Dataset root.
        split (str): Split name, e.g. ``"train"``.
        kinds (Iterable[str]): Top-level folders, see ``clear_split_folders``.

    Returns:
        (dict[str, Path]): The folder of each kind.
    """
    kinds = tuple(kinds)
    clear_split_folders(out, split, kinds)
    folders = {kind: out / kind / split for kind in kinds}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def write_data_yaml(out: Path, splits: Mapping[str, str], names: Sequence[str], comments: Iterable[str]) -> Path:
    """Write ``out/data.yaml``: comment lines, the splits, the class names; no ``path:`` key.

    Without ``path:`` Ultralytics takes the YAML's own folder as the dataset root, so the dataset can be moved.

    Args:
        out (Path): Dataset root; created if needed.
        splits (Mapping[str, str]): Split key (``train``, ``val``, ``test``) to its image folder relative to ``out``.
        names (Sequence[str]): Class names in class-id order.
        comments (Iterable[str]): Header lines, written after ``# `` each.

    Returns:
        (Path): The written file.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     print(write_data_yaml(Path(d), {"train": "images/train"}, ["a"], ["demo"]).read_text(), end="")
        # demo
        train: images/train
        names:
          0: a
    """
    data = {**splits, "names": dict(enumerate(names))}
    header = "".join(f"# {line}\n" for line in comments)
    out.mkdir(parents=True, exist_ok=True)
    file = out / "data.yaml"
    file.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return file
