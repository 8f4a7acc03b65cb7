"""YOLO label files: a pixel box to a normalised ``cls cx cy w h`` line and back, one line per box.

Every converter writes its labels through here, so all of them share one number format (6 decimals, ``\\n`` after
every line, an empty file for an image without defects: a background image to Ultralytics).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["Box", "label_classes", "parse_yolo_line", "read_yolo_labels", "write_yolo_labels", "yolo_line"]

Box = tuple[int, float, float, float, float]
"""``(class, x1, y1, x2, y2)``: a class id and a box in pixels, corners inclusive of ``x1, y1``."""


def yolo_line(box: Box, width: int, height: int) -> str:
    """One YOLO label line (no newline): the class, then centre and size normalised by the image size, 6 decimals.

    Args:
        box (Box): ``(class, x1, y1, x2, y2)`` in pixels.
        width (int): Image width in pixels.
        height (int): Image height in pixels.

    Returns:
        (str): ``"cls cx cy w h"``.

    Examples:
        >>> yolo_line((2, 0, 0, 64, 32), 640, 320)
        '2 0.050000 0.050000 0.100000 0.100000'
    """
    cls, x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
    return f"{cls} {cx:.6f} {cy:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"


def parse_yolo_line(line: str, width: int, height: int) -> Box:
    """The pixel box of one YOLO label line: the inverse of ``yolo_line`` (up to its 6 decimals).

    Args:
        line (str): ``"cls cx cy w h"``, normalised; surrounding whitespace is ignored.
        width (int): Image width in pixels.
        height (int): Image height in pixels.

    Returns:
        (Box): ``(class, x1, y1, x2, y2)`` in pixels.

    Raises:
        ValueError: If the line does not hold an integer class and four numbers.

    Examples:
        >>> parse_yolo_line("2 0.05 0.05 0.1 0.1", 640, 320)
        (2, 0.0, 0.0, 64.0, 32.0)
    """
    fields = line.split()
    try:
        if len(fields) != 5:
            raise ValueError
        cls = int(fields[0])
        cx, cy, w, h = (float(f) for f in fields[1:])
    except ValueError:
        raise ValueError(
            f"expected a YOLO label line 'cls cx cy w h' (class an integer), got {line.strip()!r}"
        ) from None
    return cls, (cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height


def write_yolo_labels(path: str | Path, boxes: Iterable[Box], width: int, height: int) -> Path:
    """Write one YOLO label file, a ``yolo_line`` and a newline per box; no boxes give an empty file.

    Args:
        path (str | Path): Label file to write (its folder must exist).
        boxes (Iterable[Box]): Boxes in pixels.
        width (int): Image width in pixels.
        height (int): Image height in pixels.

    Returns:
        (Path): ``path``.
    """
    path = Path(path)
    path.write_text("".join(yolo_line(box, width, height) + "\n" for box in boxes), encoding="utf-8")
    return path


def read_yolo_labels(path: str | Path, width: int, height: int) -> list[Box]:
    """The pixel boxes of one YOLO label file (blank lines skipped); the inverse of ``write_yolo_labels``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If a line is not a YOLO label line.
    """
    text = Path(path).read_text(encoding="utf-8")
    return [parse_yolo_line(line, width, height) for line in text.splitlines() if line.strip()]


def label_classes(path: str | Path) -> list[int]:
    """The class id of every line of a YOLO label file, in file order; ``[]`` when the file does not exist.

    What ``splits.dominant_class`` takes to give an image its stratum.

    Examples:
        >>> label_classes("no-such-file.txt")
        []
    """
    path = Path(path)
    if not path.is_file():
        return []
    return [int(line.split()[0]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
