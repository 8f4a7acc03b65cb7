"""DeepPCB's file formats, writing side: per-image ``<id>.txt`` submissions and ground truth, zipped flat.

The release scores zips of ``<image id>.txt`` files with its ICDAR-2015-derived ``evaluation/script.py`` in LTRB mode
(``reading`` mirrors how it reads them). Written here:

- Submission lines ``x1,y1,x2,y2,confidence,type``; ground-truth lines ``x1,y1,x2,y2,type``. Integer pixels (rounded
  half up, no negative corner, ``x2 >= x1``, ``y2 >= y1``), the confidence with 6 decimals (no exponent, which the
  script refuses), the type a name without commas, quotes or spaces (DeepPCB's: open, short, mousebite, spur, copper,
  pin-hole). A submission's lines are ordered by confidence, highest first.
- Zip members ``<image id>.txt`` with no folder. The script reads only members named by its pattern
  ``([0-9]+).txt``, so image ids should be digits (DeepPCB's are, e.g. ``00041000``); others are written with a
  warning.

``submission_rows`` gives exactly the rows written (in the order written), which is what the metric scores by default.
"""

from __future__ import annotations

import logging
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from yolo_attention.data import DEEPPCB_CLASSES

__all__ = [
    "DEEPPCB_TYPES",
    "Row",
    "ground_truth_rows",
    "submission_lines",
    "submission_rows",
    "type_name",
    "write_ground_truth",
    "write_submission",
]

LOGGER = logging.getLogger(__name__)

DEEPPCB_TYPES: tuple[str, ...] = DEEPPCB_CLASSES
"""The release README's type names, type ids 1..6: open, short, mousebite, spur, copper, pin-hole."""

Row = tuple
"""A row ``(x1, y1, x2, y2, [confidence,] class)``."""


def type_name(cls: str | int | float, names: Sequence[str] | None = None) -> str:
    """The type string of a class: a name as given, an index looked up in ``names`` (or its digits without names).

    Examples:
        >>> type_name(2, DEEPPCB_TYPES), type_name("spur"), type_name(3.0)
        ('mousebite', 'spur', '3')
    """
    if isinstance(cls, str):
        return cls
    if not float(cls).is_integer():
        raise ValueError(f"class {cls!r} is neither a name nor an integer index")
    index = int(cls)
    if names is None:
        return str(index)
    if not 0 <= index < len(names):
        raise ValueError(f"class index {index} is out of range for {len(names)} names {list(names)}")
    return str(names[index])


def _pixel_box(x1: float, y1: float, x2: float, y2: float) -> tuple[int, int, int, int]:
    """The integer rectangle a line carries: rounded half up, no negative corner, ``x2 >= x1``, ``y2 >= y1``."""
    x1, y1, x2, y2 = (max(0, math.floor(float(v) + 0.5)) for v in (x1, y1, x2, y2))
    return x1, y1, max(x1, x2), max(y1, y2)


def _conf_text(conf: float) -> str:
    return f"{min(max(float(conf), 0.0), 1.0):.6f}"


def _writable_type(cls, names: Sequence[str] | None) -> str:
    if not isinstance(cls, str) and names is None:
        raise ValueError(f"class index {cls} given without `names`: pass the class names (e.g. DEEPPCB_TYPES)")
    name = type_name(cls, names)
    if not name or "," in name or '"' in name or any(c.isspace() for c in name):
        raise ValueError(f"class {cls!r} gives type {name!r}: a type must be a name without commas, quotes or spaces")
    return name


def submission_rows(rows: Sequence[Row], names: Sequence[str] | None = None, conf: float = 0.0) -> list[Row]:
    """The rows ``write_submission`` writes for one image, as the release's script reads them back, in file order.

    Boxes become integer pixels, confidences the float of their 6-decimal text; rows whose written confidence is below
    ``conf`` are left out; the rest are ordered by written confidence, highest first (ties keep their given order).

    Args:
        rows (Sequence[Row]): ``(x1, y1, x2, y2, confidence, class)`` per detection, pixels; ``class`` a name or an
            index into ``names``.
        names (Sequence[str], optional): Class names by index; without them an index becomes its digits.
        conf (float): Lowest confidence kept. Defaults to 0.

    Returns:
        (list[Row]): ``(x1, y1, x2, y2, confidence, type)`` with ints, a float and a str.

    Examples:
        >>> submission_rows([(0.4, 1, 9.5, 9, 0.30000004, 0), (0, 0, 5, 5, 0.9, 1)], ["open", "short"])
        [(0, 0, 5, 5, 0.9, 'short'), (0, 1, 10, 9, 0.3, 'open')]
    """
    out = []
    for row in rows:
        if len(row) != 6:
            raise ValueError(f"prediction row {tuple(row)!r}: expected (x1, y1, x2, y2, confidence, class)")
        written = float(_conf_text(row[4]))
        if written >= conf:
            out.append((*_pixel_box(*row[:4]), written, type_name(row[5], names)))
    out.sort(key=lambda r: -r[4])
    return out


def submission_lines(rows: Sequence[Row], names: Sequence[str] | None = None) -> list[str]:
    """Format detections as the release's submission lines ``x1,y1,x2,y2,confidence,type``, in the order given.

    Examples:
        >>> submission_lines([(10.4, 20.6, 50.5, 80, 0.91234567, 2)], ["open", "short", "mousebite"])
        ['10,21,51,80,0.912346,mousebite']
    """
    return [f"{x1},{y1},{x2},{y2},{_conf_text(c)},{t}" for x1, y1, x2, y2, c, t in _rows_as_written(rows, names)]


def _rows_as_written(rows: Sequence[Row], names: Sequence[str] | None) -> list[Row]:
    return [(*_pixel_box(*r[:4]), r[4], _writable_type(r[5], names)) for r in rows]


def ground_truth_rows(rows: Sequence[Row], names: Sequence[str] | None = None) -> list[Row]:
    """Ground-truth rows as ``write_ground_truth`` writes them: ``(x1, y1, x2, y2, type)``, integer pixels, in order.

    Examples:
        >>> ground_truth_rows([(9.6, 10, 20.5, 30, 5)], DEEPPCB_TYPES)
        [(10, 10, 21, 30, 'pin-hole')]
    """
    out = []
    for row in rows:
        if len(row) != 5:
            raise ValueError(f"ground-truth row {tuple(row)!r}: expected (x1, y1, x2, y2, class)")
        out.append((*_pixel_box(*row[:4]), type_name(row[4], names)))
    return out


def _check_image_id(image_id: str) -> None:
    if not image_id or Path(image_id).name != image_id or image_id.endswith(".txt"):
        raise ValueError(f"image id {image_id!r} must be a bare file stem such as '00041000' (no folder, no .txt)")


def _write_files(texts: Mapping[str, str], out_dir: str | Path, zip_name: str | None) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    unreadable = [i for i in texts if not re.fullmatch(r"[0-9]+", i)]
    if unreadable:
        LOGGER.warning(
            f"{len(unreadable)} image id(s) such as {unreadable[0]!r} are not digits: the release's script reads only "
            f"members named <digits>.txt"
        )
    files = []
    for image_id, text in texts.items():
        file = out_dir / f"{image_id}.txt"
        file.write_text(text, encoding="utf-8", newline="\n")
        files.append(file)
    if zip_name:
        with zipfile.ZipFile(out_dir / zip_name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, arcname=file.name)
    return out_dir


def write_submission(
    predictions: Mapping[str, Sequence[Row]],
    out_dir: str | Path,
    names: Sequence[str] | None = None,
    conf: float = 0.0,
    zip_name: str | None = "res.zip",
) -> Path:
    """Write detections in the release's submission format: ``<out_dir>/<image id>.txt`` and a flat ``res.zip``.

    Every image in ``predictions`` gets a file (an empty one when nothing is kept); the lines are ``submission_rows``.

    Args:
        predictions (Mapping[str, Sequence[Row]]): Image id (e.g. ``00041000``) -> ``(x1, y1, x2, y2, confidence,
            class)`` rows in pixels.
        out_dir (str | Path): Folder for the ``.txt`` files; created if needed.
        names (Sequence[str], optional): Class names by index, when classes are indices.
        conf (float): Leave out detections whose written confidence is below this (precision, recall and F-score
            depend on it). Defaults to 0.
        zip_name (str, optional): Zip written inside ``out_dir`` (the ``.txt`` files only, no folder); None writes
            none. Defaults to ``"res.zip"``.

    Returns:
        (Path): ``out_dir``.

    Examples:
        >>> write_submission({"00041000": [(1, 2, 30, 40, 0.9, 0)]}, "runs/sub", ["open"])  # doctest: +SKIP
    """
    texts = {}
    for image_id, rows in predictions.items():
        _check_image_id(image_id)
        for row in rows:
            _writable_type(row[-1], names)
        texts[image_id] = "".join(line + "\n" for line in submission_lines(submission_rows(rows, names, conf)))
    return _write_files(texts, out_dir, zip_name)


def write_ground_truth(
    ground_truth: Mapping[str, Sequence[Row]],
    out_dir: str | Path,
    names: Sequence[str] | None = None,
    zip_name: str | None = "gt.zip",
) -> Path:
    """Write ground truth as the release's script reads it: ``<id>.txt`` lines ``x1,y1,x2,y2,type`` and ``gt.zip``.

    Args:
        ground_truth (Mapping[str, Sequence[Row]]): Image id -> ``(x1, y1, x2, y2, class)`` rows, in order. An image
            without defects gets an empty file.
        out_dir (str | Path): Folder for the ``.txt`` files; created if needed.
        names (Sequence[str], optional): Class names by index, when classes are indices.
        zip_name (str, optional): Zip written inside ``out_dir``; None writes none. Defaults to ``"gt.zip"``.

    Returns:
        (Path): ``out_dir``.
    """
    texts = {}
    for image_id, rows in ground_truth.items():
        _check_image_id(image_id)
        for row in rows:
            _writable_type(row[-1], names)
        lines = (f"{x1},{y1},{x2},{y2},{t}\n" for x1, y1, x2, y2, t in ground_truth_rows(rows, names))
        texts[image_id] = "".join(lines)
    return _write_files(texts, out_dir, zip_name)
