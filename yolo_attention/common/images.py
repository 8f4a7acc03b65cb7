"""Image files: one suffix list (Ultralytics' own) and one way to list a folder, a ``.txt`` list or a glob."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["IMAGE_SUFFIXES", "is_image", "list_images"]

IMAGE_SUFFIXES: tuple[str, ...] = (
    ".avif",
    ".bmp",
    ".dng",
    ".heic",
    ".heif",
    ".jp2",
    ".jpeg",
    ".jpg",
    ".mpo",
    ".png",
    ".tif",
    ".tiff",
    ".webp",
)
"""Suffixes Ultralytics reads as images (``ultralytics.data.utils.IMG_FORMATS``, checked by a canary test)."""


def is_image(path: str | Path) -> bool:
    """Whether ``path`` names an image file by its suffix (case-insensitive).

    Examples:
        >>> is_image("a/B.JPG"), is_image("a/b.txt")
        (True, False)
    """
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def list_images(source: str | Path | Iterable[str | Path]) -> list[Path]:
    """Sorted, de-duplicated image files of a source.

    A source is an image file, a folder (searched recursively), a ``.txt`` file listing images one per line (relative
    lines are taken against the list's folder, as Ultralytics does), a glob pattern, or a list of these.

    Examples:
        >>> list_images([])
        []
    """
    if not isinstance(source, (str, Path)):
        return sorted({f for s in source for f in list_images(s)})
    path = Path(source)
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file() and is_image(p)]
    elif path.is_file() and path.suffix.lower() == ".txt":
        files = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if line:
                p = Path(line[2:] if line.startswith("./") else line)
                files.append(p if p.is_absolute() else (path.parent / p))
    elif path.is_file():
        files = [path] if is_image(path) else []
    else:
        anchor = Path(path.anchor) if path.is_absolute() else Path()
        pattern = str(path.relative_to(anchor)) if path.is_absolute() else str(path)
        files = [p for p in anchor.glob(pattern) if p.is_file() and is_image(p)] if pattern else []
    return sorted(set(files))
