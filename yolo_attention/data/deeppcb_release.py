"""Reading the DeepPCB release: its list files, image pairs and annotation files, with the release's quirks.

DeepPCB (https://github.com/tangsanli5201/DeepPCB, MIT licence) ships 640x640 binarised PCB scans, each "tested"
image paired with a defect-free template, annotated with axis-aligned boxes of six defect types. The layout of its
``PCBData`` folder and its quirks, all handled here:

- ``trainval.txt`` / ``test.txt`` list one pair per line, ``<image path> <annotation path>``, relative to ``PCBData``.
  The image path names ``<id>.jpg`` while the files on disk are ``<id>_test.jpg`` (annotated) and ``<id>_temp.jpg``
  (template). The last line has no trailing newline.
- Annotation lines are ``x1 y1 x2 y2 type`` in pixels; the release README says comma-separated, the files use spaces.
  Both are accepted. Types 1..6 map to YOLO classes 0..5 (see ``DEEPPCB_CLASSES``); other types are skipped.
- A listed file that is missing is reported and skipped, never fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from yolo_attention.data.yolo_labels import Box

if TYPE_CHECKING:
    from yolo_attention.data.deeppcb_report import ConversionReport

__all__ = ["DEEPPCB_CLASSES", "SPLIT_LISTS", "DeepPCBSample", "has_list_files", "parse_annotation", "read_release"]

DEEPPCB_CLASSES: tuple[str, ...] = ("open", "short", "mousebite", "spur", "copper", "pin-hole")
"""YOLO class names in DeepPCB order: DeepPCB type ``t`` (1..6) becomes YOLO class ``t - 1``."""

SPLIT_LISTS: tuple[tuple[str, str], ...] = (("trainval", "trainval.txt"), ("test", "test.txt"))
"""(release part, list file name in ``PCBData``), in the order they are read."""

_FIELD_SEPARATOR = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class DeepPCBSample:
    """One listed DeepPCB pair: the image id, its tested image, template and annotation file (any may be missing).

    Attributes:
        image_id (str): The id the release lists, e.g. ``"00041000"``; the output file stem.
        image (Path): The annotated ``<id>_test.jpg``.
        template (Path): The defect-free ``<id>_temp.jpg``.
        annotation (Path): The ``x1 y1 x2 y2 type`` file.
        where (str): ``"<list file>:<line>"`` (or the image path when scanned), for messages.
    """

    image_id: str
    image: Path
    template: Path
    annotation: Path
    where: str


def has_list_files(folder: Path) -> bool:
    """Whether ``folder`` holds ``trainval.txt`` or ``test.txt``."""
    return any((folder / name).is_file() for _, name in SPLIT_LISTS)


def read_release(src: Path, report: ConversionReport) -> dict[str, list[DeepPCBSample]]:
    """The listed pairs of each release part (``trainval``, ``test``) of a ``PCBData`` folder.

    When neither list file exists, every ``*_test.jpg`` under ``src`` with an annotation file makes up ``trainval``
    and a warning says so.

    Args:
        src (Path): The ``PCBData`` folder.
        report (ConversionReport): Receives skipped list lines and warnings.

    Returns:
        (dict[str, list[DeepPCBSample]]): Pairs per release part, in list order; only parts whose list exists.

    Raises:
        FileNotFoundError: If ``src`` holds neither a list file nor any annotated ``*_test.jpg`` image.
    """
    parts = {part: _read_list(src, src / name, report) for part, name in SPLIT_LISTS if (src / name).is_file()}
    if parts:
        if "trainval" in parts and "test" in parts:
            shared = {s.image_id for s in parts["trainval"]} & {s.image_id for s in parts["test"]}
            if shared:
                report.warn(
                    f"{len(shared)} image ids are listed in both trainval.txt and test.txt, e.g. {min(shared)}."
                )
        return parts
    lists = " / ".join(name for _, name in SPLIT_LISTS)
    samples = _scan_annotated_images(src, report)
    if not samples:
        raise FileNotFoundError(
            f"Nothing to convert in '{src}': no {lists} and no annotated '*_test.jpg' images; "
            f"expected the DeepPCB PCBData folder."
        )
    report.warn(
        f"No {lists} in '{src}': taking all {len(samples)} annotated '*_test.jpg' images found under it as trainval."
    )
    return {"trainval": samples}


def _sample_from_image_path(image_path: Path, annotation: Path, where: str) -> DeepPCBSample:
    """Build a sample from an image path as the list names it (``<id>.jpg``) or as on disk (``<id>_test.jpg``)."""
    stem = image_path.stem
    image_id = stem.removesuffix("_test").removesuffix("_temp")
    folder = image_path.parent
    image = folder / f"{image_id}_test{image_path.suffix or '.jpg'}"
    if not image.is_file() and image_path.is_file() and stem == image_id:
        image = image_path  # a re-packaged copy that kept the listed name
    return DeepPCBSample(image_id, image, folder / f"{image_id}_temp{image_path.suffix or '.jpg'}", annotation, where)


def _read_list(src: Path, list_file: Path, report: ConversionReport) -> list[DeepPCBSample]:
    """Parse one list file into samples; malformed lines and repeated ids are skipped and counted."""
    samples, seen = [], set()
    for n, line in enumerate(list_file.read_text(encoding="utf-8-sig").splitlines(), start=1):
        where = f"{list_file.name}:{n}"
        fields = [f for f in _FIELD_SEPARATOR.split(line.strip()) if f]
        if not fields:
            continue
        if len(fields) != 2:
            report.skip(where, f"expected '<image path> <annotation path>', got {line.strip()!r}")
            continue
        image_rel, annotation_rel = (f.replace("\\", "/") for f in fields)
        sample = _sample_from_image_path(src / image_rel, src / annotation_rel, where)
        if sample.image_id in seen:
            report.skip(where, f"image id {sample.image_id} listed again, kept the first")
            continue
        seen.add(sample.image_id)
        samples.append(sample)
    return samples


def _scan_annotated_images(src: Path, report: ConversionReport) -> list[DeepPCBSample]:
    """Find every ``*_test.jpg`` under ``src`` annotated in ``../<folder>_not/<id>.txt`` or ``<id>.txt`` beside it."""
    samples, unannotated = [], 0
    for image in sorted(src.rglob("*_test.jpg")):
        image_id = image.name.removesuffix("_test.jpg")
        candidates = (
            image.parent.parent / f"{image.parent.name}_not" / f"{image_id}.txt",
            image.with_name(f"{image_id}.txt"),
        )
        annotation = next((c for c in candidates if c.is_file()), None)
        if annotation is None:
            unannotated += 1
            continue
        template = image.with_name(f"{image_id}_temp.jpg")
        samples.append(DeepPCBSample(image_id, image, template, annotation, str(image)))
    if unannotated:
        report.warn(f"Ignored {unannotated} '*_test.jpg' images under '{src}' that have no annotation file.")
    return samples


def parse_annotation(sample: DeepPCBSample, width: int, height: int, report: ConversionReport) -> list[Box]:
    """Read one annotation file into ``(class, x1, y1, x2, y2)`` pixel boxes clipped to the image.

    Args:
        sample (DeepPCBSample): The pair whose annotation file to read.
        width (int): Image width in pixels.
        height (int): Image height in pixels.
        report (ConversionReport): Receives each skipped line (malformed, unknown type, degenerate after clipping).

    Returns:
        (list[Box]): Valid boxes, YOLO class ``type - 1``.
    """
    boxes = []
    for n, line in enumerate(sample.annotation.read_text(encoding="utf-8-sig").splitlines(), start=1):
        where = f"{sample.annotation}:{n}"
        fields = [f for f in _FIELD_SEPARATOR.split(line.strip()) if f]
        if not fields:
            continue
        try:
            if len(fields) != 5:
                raise ValueError
            x1, y1, x2, y2 = (float(f) for f in fields[:4])
            defect_type = int(float(fields[4]))
        except ValueError:
            report.skip(where, f"expected 'x1 y1 x2 y2 type' (spaces or commas), got {line.strip()!r}")
            continue
        if not 1 <= defect_type <= len(DEEPPCB_CLASSES):
            report.skip(where, f"type {fields[4]} is not a DeepPCB defect type (valid: 1..{len(DEEPPCB_CLASSES)})")
            continue
        x1, x2 = min(max(x1, 0.0), width), min(max(x2, 0.0), width)
        y1, y2 = min(max(y1, 0.0), height), min(max(y2, 0.0), height)
        if x2 <= x1 or y2 <= y1:
            report.skip(where, f"degenerate box {line.strip()!r} in a {width}x{height} image (after clipping)")
            continue
        boxes.append((defect_type - 1, x1, y1, x2, y2))
    return boxes
