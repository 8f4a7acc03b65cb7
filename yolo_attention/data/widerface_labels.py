"""Reading WIDER FACE with RetinaFace's ``label.txt`` files: the folder layout, the label format, its quirks.

WIDER FACE (http://shuoyang1213.me/WIDERFACE/) ships images as ``WIDER_<split>/images/<event>/<name>.jpg``;
RetinaFace's authors added five landmarks to the training faces and published one ``label.txt`` per split
(``retinaface_gt_v1.1``: ``train/label.txt``, ``val/label.txt``, ``test/label.txt``). Both layouts below are read,
per split, from one root folder ``src``:

- RetinaFace's training layout: ``src/train/images/<event>/*.jpg`` beside ``src/train/label.txt`` (same for val);
- the release unpacked beside the label files: ``src/WIDER_train/images/<event>/*.jpg`` and ``src/train/label.txt``.

``label.txt``: a ``# <event>/<name>.jpg`` line (relative to the split's ``images`` folder), then one row per face:

- training rows: ``x y w h`` (pixels, top-left corner and size), five landmarks as ``x y flag`` (left eye, right eye,
  nose, left and right mouth corner; flag 0.0 or 1.0), then a score: 20 numbers. A face without landmarks has -1 for
  all fifteen (and the score). A row of 19 numbers (no score) is read the same way;
- validation rows: ``x y w h`` alone (the val and test files carry no landmarks).

An image line with no row after it is an image without faces. Rows of another length (e.g. the official
``wider_face_*_bbx_gt.txt`` format's ten numbers) are skipped and counted, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yolo_attention.data.widerface_report import WiderFaceReport

__all__ = ["LABEL_FILE", "SPLITS", "LabelRow", "LabelledImage", "read_label_file", "split_sources"]

SPLITS: tuple[str, ...] = ("train", "val")
"""Splits with labels: WIDER FACE's test labels are not public."""
LABEL_FILE = "label.txt"
"""RetinaFace's label file name, in ``src/<split>/``."""

_BOX_ONLY, _WITH_SCORE, _WITHOUT_SCORE = 4, 20, 19


@dataclass(frozen=True)
class LabelRow:
    """One face row as written in ``label.txt``.

    Attributes:
        box (tuple[float, float, float, float]): ``x, y, w, h`` in pixels.
        landmarks (tuple[tuple[float, float, float], ...] | None): Five ``(x, y, flag)``; None for a box-only row.
        where (str): ``"<file>:<line>"``, for messages.
    """

    box: tuple[float, float, float, float]
    landmarks: tuple[tuple[float, float, float], ...] | None
    where: str


@dataclass
class LabelledImage:
    """One ``# <event>/<name>.jpg`` entry and its face rows.

    Attributes:
        path (str): The image path as listed, ``/``-separated, relative to the split's ``images`` folder.
        where (str): ``"<file>:<line>"`` of the ``#`` line.
        rows (list[LabelRow]): Its faces in file order.
    """

    path: str
    where: str
    rows: list[LabelRow] = field(default_factory=list)

    @property
    def name(self) -> str:
        """(str): The file name, e.g. ``0_Parade_marchingband_1_465.jpg``."""
        return self.path.rsplit("/", 1)[-1]


def split_sources(src: Path) -> dict[str, tuple[Path, Path]]:
    """The label file and image folder of each split found under ``src``, in ``SPLITS`` order.

    A split counts when ``src/<split>/label.txt`` exists. Its images are ``src/<split>/images`` if that folder
    exists, else ``src/WIDER_<split>/images`` (which may be missing: every image is then reported missing).

    Examples:
        >>> split_sources(Path("no-such-folder"))
        {}
    """
    sources = {}
    for split in SPLITS:
        label = src / split / LABEL_FILE
        if not label.is_file():
            continue
        candidates = (src / split / "images", src / f"WIDER_{split}" / "images")
        sources[split] = (label, next((c for c in candidates if c.is_dir()), candidates[-1]))
    return sources


def _parse_row(fields: list[str], where: str) -> LabelRow | str:
    """The row, or the reason to skip it."""
    try:
        values = [float(f) for f in fields]
    except ValueError:
        return f"not a row of numbers: {' '.join(fields)!r}"
    if len(values) == _BOX_ONLY:
        return LabelRow(tuple(values), None, where)
    if len(values) in (_WITH_SCORE, _WITHOUT_SCORE):
        points = values[4:19]
        return LabelRow(tuple(values[:4]), tuple(tuple(points[i : i + 3]) for i in range(0, 15, 3)), where)
    hint = " (a wider_face_*_bbx_gt.txt row? give RetinaFace's label.txt)" if len(values) == 10 else ""
    return f"expected 4 (x y w h) or 20 (box, 5 x 'x y flag', score) numbers, got {len(values)}{hint}"


def read_label_file(path: Path, report: WiderFaceReport) -> list[LabelledImage]:
    """Read a RetinaFace ``label.txt`` into its images and face rows, in file order.

    Malformed rows, rows before the first ``#`` line and images listed again are skipped and recorded in ``report``.

    Args:
        path (Path): The ``label.txt``.
        report (WiderFaceReport): Receives each skipped line.

    Returns:
        (list[LabelledImage]): The listed images; an image without rows has no faces.
    """
    images: list[LabelledImage] = []
    seen: set[str] = set()
    current: LabelledImage | None = None
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        where = f"{path.parent.name}/{path.name}:{n}"
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            listed = text[1:].strip().replace("\\", "/").lstrip("/")
            current = LabelledImage(listed, where)
            if listed in seen:  # its rows are read into an entry that is not kept
                report.skip(where, f"image {listed} listed again, kept the first")
                continue
            seen.add(listed)
            images.append(current)
            continue
        if current is None:
            report.skip(where, "face row before any '# <event>/<name>.jpg' line")
            continue
        row = _parse_row(text.split(), where)
        if isinstance(row, str):
            report.skip(where, row)
        else:
            current.rows.append(row)
    return images
