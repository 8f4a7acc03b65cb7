"""Reading HRIPCB (PKU-Market-PCB): its Pascal VOC XML and photos, with the release's quirks, into ``HRIPCBPhoto``.

HRIPCB (the PKU-Market-PCB release, folder ``PCB_DATASET``) holds 693 photos of ten bare boards, about 3000x1600 px
or more, each with a few defects of 25 to 280 px in six classes, one Pascal VOC XML per photo. The release's layout:

    PCB_DATASET/Annotations/<Class>/<stem>.xml     VOC XML, <object><name>missing_hole</name><bndbox>...
    PCB_DATASET/images/<Class>/<stem>.jpg          the photo (the folder name is the class, e.g. Missing_hole)
    PCB_DATASET/PCB_USED/, rotation/               templates and rotated copies: not read

Photos are named ``NN_<defect>_MM`` where ``NN`` is the board (``board_id``). A flat folder of ``<stem>.xml`` beside
``<stem>.jpg`` is accepted too. What this reader copes with:

- Class names are matched case-insensitively (spaces, hyphens and underscores alike) to ``HRIPCB_CLASSES``, which
  keeps the seed's display names and order. Unknown names are counted in the report and left out, never fatal.
- Boxes partly outside the photo are clipped to it; boxes empty after clipping are skipped and counted. An XML without
  objects gives a background image. An XML whose photo is missing or unreadable is reported and left out.
- The image size is read from the photo, not from the XML's ``<size>`` (which can be 0 or stale).
- VOC's 1-based pixel convention is not shifted (a 1 px offset, below the annotation noise of 25 px defects), and
  ``<difficult>`` boxes are kept: every defect is a defect.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from tqdm import tqdm

from yolo_attention.common.images import IMAGE_SUFFIXES
from yolo_attention.data.yolo_labels import Box

if TYPE_CHECKING:
    from yolo_attention.data.hripcb_report import HRIPCBReport

__all__ = [
    "BACKGROUND",
    "HRIPCB_CLASSES",
    "HRIPCBPhoto",
    "annotation_files",
    "board_id",
    "class_index",
    "read_photos",
]

LOGGER = logging.getLogger(__name__)

HRIPCB_CLASSES: tuple[str, ...] = ("Missing_hole", "Mouse_bite", "Open_circuit", "Short", "Spurious_copper", "Spur")
"""YOLO class names in the seed's order and spelling; XML names match them case-insensitively."""

BACKGROUND = "background"
"""The stratum of a photo without defects."""

ANNOTATION_FOLDERS: tuple[str, ...] = ("annotations", "annotation", "xml", "xmls")
IMAGE_FOLDERS: tuple[str, ...] = ("images", "image", "jpegimages", "imgs")

_KEY = {re.sub(r"[\s\-_]+", "_", name).lower(): i for i, name in enumerate(HRIPCB_CLASSES)}
_BOARD_PREFIX = re.compile(r"^(\d+)_")


def class_index(name: str) -> int | None:
    """Return the YOLO class index of an HRIPCB class name, matched case-insensitively, or None if unknown.

    Spaces, hyphens and underscores count as the same separator.

    Examples:
        >>> class_index("missing_hole"), class_index("Spurious-Copper"), class_index("SPUR"), class_index("crack")
        (0, 4, 5, None)
    """
    return _KEY.get(re.sub(r"[\s\-_]+", "_", name.strip()).lower())


def board_id(stem: str) -> str | None:
    """The board a photo shows: the ``NN`` of a name ``NN_<defect>_MM``, or None for a name without that prefix.

    Examples:
        >>> board_id("01_missing_hole_01"), board_id("12_spurious_copper_10"), board_id("b1")
        ('01', '12', None)
    """
    match = _BOARD_PREFIX.match(stem)
    return match.group(1) if match else None


@dataclass
class HRIPCBPhoto:
    """One annotated photo: its XML, photo file, size and boxes in pixels.

    Attributes:
        xml (Path): The VOC annotation.
        image (Path): The photo.
        width (int): Photo width in pixels (read from the photo).
        height (int): Photo height in pixels.
        boxes (list[Box]): ``(class, x1, y1, x2, y2)``, clipped to the photo.
    """

    xml: Path
    image: Path
    width: int
    height: int
    boxes: list[Box]

    @property
    def board(self) -> str:
        """(str): The board id (``NN`` of ``NN_<defect>_MM``), or the photo's stem when its name has no board id."""
        return board_id(self.image.stem) or self.image.stem

    @property
    def stratum(self) -> str:
        """(str): The photo's main class (most boxes, ties to the lower index), or ``"background"``."""
        if not self.boxes:
            return BACKGROUND
        counts = [0] * len(HRIPCB_CLASSES)
        for box in self.boxes:
            counts[box[0]] += 1
        return HRIPCB_CLASSES[max(range(len(counts)), key=lambda i: (counts[i], -i))]


def annotation_files(src: Path) -> list[Path]:
    """Every XML under the release's Annotations folder if there is one, else every XML under ``src``, sorted."""
    roots = [p for p in src.iterdir() if p.is_dir() and p.name.lower() in ANNOTATION_FOLDERS]
    if src.name.lower() in ANNOTATION_FOLDERS:
        roots = [src]
    files = [f for root in (roots or [src]) for f in root.rglob("*") if f.suffix.lower() == ".xml" and f.is_file()]
    return sorted(files)


def read_photos(src: Path, xml_files: list[Path], report: HRIPCBReport, progress: bool = True) -> list[HRIPCBPhoto]:
    """Read each XML and its photo's size; what cannot be read is counted in ``report`` and left out.

    Args:
        src (Path): The release folder the XML were found under (to find the photos in the ``images`` tree).
        xml_files (list[Path]): VOC annotations, e.g. from ``annotation_files``.
        report (HRIPCBReport): Receives missing photos, skipped files and objects, unknown classes, clipped boxes.
        progress (bool): Show a tqdm progress bar.

    Returns:
        (list[HRIPCBPhoto]): The readable photos, in ``xml_files`` order; a photo name used twice is kept once.
    """
    photos, stems = [], set()
    for xml in tqdm(xml_files, desc="HRIPCB read", unit="xml", disable=not progress):
        try:
            root = ET.parse(xml).getroot()
        except ET.ParseError as e:
            report.skip(str(xml), f"not valid XML ({e})")
            continue
        image = _find_image(src, xml, root.findtext("filename"))
        if image is None:
            report.missing.append(str(xml))
            LOGGER.warning(f"{xml}: no image found (filename {root.findtext('filename')!r}); left out.")
            continue
        if image.stem in stems:
            report.skip(str(xml), f"image name '{image.stem}' already used by another XML; left out")
            continue
        try:
            with Image.open(image) as im:
                width, height = im.size
        except OSError as e:
            report.skip(str(image), f"unreadable image ({e})")
            continue
        stems.add(image.stem)
        photos.append(HRIPCBPhoto(xml, image, width, height, _parse_objects(xml, root, width, height, report)))
    return photos


def _child_ci(folder: Path, name: str) -> Path:
    """``folder / name``, or the entry of ``folder`` whose name matches ``name`` case-insensitively."""
    exact = folder / name
    if exact.exists() or not folder.is_dir():
        return exact
    return next((p for p in folder.iterdir() if p.name.lower() == name.lower()), exact)


def _find_image(src: Path, xml: Path, filename: str | None) -> Path | None:
    """Locate the photo of an XML: beside it, or in the ``images`` tree mirroring the ``Annotations`` tree."""
    folders = [xml.parent]
    parts = xml.relative_to(src).parts[:-1]
    for i, part in enumerate(parts):
        if part.lower() in ANNOTATION_FOLDERS:
            for image_folder in IMAGE_FOLDERS:
                folder = _child_ci(src.joinpath(*parts[:i]), image_folder)
                for sub in parts[i + 1 :]:
                    folder = _child_ci(folder, sub)
                folders.append(folder)
    names = [Path(filename).name] if filename else []
    names += [xml.stem + suffix for suffix in dict.fromkeys((".jpg", *IMAGE_SUFFIXES))]  # the release's first
    for folder in folders:
        if not folder.is_dir():
            continue
        for name in names:
            candidate = _child_ci(folder, name)
            if candidate.is_file() and candidate.suffix.lower() in IMAGE_SUFFIXES:
                return candidate
    return None


def _parse_objects(xml: Path, root: ET.Element, width: int, height: int, report: HRIPCBReport) -> list[Box]:
    boxes = []
    for n, obj in enumerate(root.iter("object")):
        where = f"{xml} object {n}"
        name = (obj.findtext("name") or "").strip()
        cls = class_index(name) if name else None
        if cls is None:
            key = name or "<no name>"
            if key not in report.unknown_classes:
                report.warn(f"{where}: unknown class {key!r} (known: {', '.join(HRIPCB_CLASSES)}); left out")
            report.unknown_classes[key] = report.unknown_classes.get(key, 0) + 1
            continue
        try:
            box = obj.find("bndbox")
            x1, y1, x2, y2 = (float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        except (AttributeError, TypeError, ValueError):
            report.skip(where, "no numeric <bndbox> xmin/ymin/xmax/ymax")
            continue
        x1, x2 = sorted((x1, x2))
        y1, y2 = sorted((y1, y2))
        cx1, cy1, cx2, cy2 = max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height))
        if cx2 <= cx1 or cy2 <= cy1:
            report.skip(where, f"box ({x1}, {y1}, {x2}, {y2}) is empty inside the {width}x{height} image")
            continue
        if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
            report.clipped_to_image += 1
        boxes.append((cls, cx1, cy1, cx2, cy2))
    return boxes
