"""Convert the DeepPCB defect-detection release to an Ultralytics YOLO dataset.

DeepPCB (https://github.com/tangsanli5201/DeepPCB, MIT licence) ships 640x640 binarised PCB scans, each "tested"
image paired with a defect-free template, annotated with axis-aligned boxes of six defect types. This module reads the
release's own layout (the ``PCBData`` folder) and writes ``images/``, ``labels/``, optionally ``templates/`` and a
``data.yaml`` that Ultralytics can train on directly.

The release's layout and its quirks, all handled here:

- ``trainval.txt`` / ``test.txt`` list one pair per line, ``<image path> <annotation path>``, relative to ``PCBData``.
  The image path names ``<id>.jpg`` while the files on disk are ``<id>_test.jpg`` (annotated) and ``<id>_temp.jpg``
  (template). The last line has no trailing newline.
- Annotation lines are ``x1 y1 x2 y2 type`` in pixels; the release README says comma-separated, the files use spaces.
  Both are accepted. Types 1..6 map to YOLO classes 0..5 (see ``DEEPPCB_CLASSES``); other types are skipped.
- A listed file that is missing is reported in the ``ConversionReport`` and skipped, never fatal.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from PIL import Image
from tqdm import tqdm

__all__ = ["DEEPPCB_CLASSES", "ConversionReport", "convert_deeppcb"]

LOGGER = logging.getLogger(__name__)

DEEPPCB_CLASSES: tuple[str, ...] = ("open", "short", "mousebite", "spur", "copper", "pin-hole")
"""YOLO class names in DeepPCB order: DeepPCB type ``t`` (1..6) becomes YOLO class ``t - 1``."""

SPLIT_LISTS: tuple[tuple[str, str], ...] = (("trainval", "trainval.txt"), ("test", "test.txt"))
"""(output split name, list file name in ``PCBData``), in the order they are converted."""

_FIELD_SEPARATOR = re.compile(r"[,\s]+")


@dataclass
class ConversionReport:
    """What ``convert_deeppcb`` wrote and what it had to leave out.

    Attributes:
        out (Path): Root of the written dataset (holds ``data.yaml``).
        images (dict[str, int]): Images written per split, background images (no boxes) included.
        boxes (dict[str, dict[str, int]]): Boxes written per split and class name.
        missing (list[str]): Listed files not found on disk (images, annotations, templates), as paths.
        skipped_lines (int): Annotation or list lines left out: malformed, unknown type, degenerate box, duplicate id.
        skipped (list[str]): One ``"<file>:<line>: <reason>"`` entry per skipped line.
        warnings (list[str]): Everything else worth knowing, also logged (e.g. no list files, unreadable images).

    Examples:
        >>> report = ConversionReport(out=Path("pcb"), images={"trainval": 2}, boxes={"trainval": {"open": 3}})
        >>> report.n_boxes("trainval")
        3
        >>> [line.split() for line in report.summary().splitlines()[:2]]
        [['class', 'trainval'], ['open', '3']]
    """

    out: Path
    images: dict[str, int] = field(default_factory=dict)
    boxes: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    skipped_lines: int = 0
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def splits(self) -> list[str]:
        """(list[str]): Split names in conversion order."""
        return list(self.images)

    def n_boxes(self, split: str) -> int:
        """Total boxes written to one split.

        Args:
            split (str): Split name, e.g. ``"trainval"``.

        Returns:
            (int): Sum of the per-class box counts of that split (0 for an unknown split).
        """
        return sum(self.boxes.get(split, {}).values())

    def summary(self) -> str:
        """A small plain-text table: box counts per class (rows) and split (columns), then totals.

        Returns:
            (str): The table, ending with the number of missing files and skipped lines.
        """
        splits = self.splits
        rows = [("class", *splits)]
        rows += [(name, *(str(self.boxes.get(s, {}).get(name, 0)) for s in splits)) for name in DEEPPCB_CLASSES]
        rows.append(("boxes", *(str(self.n_boxes(s)) for s in splits)))
        rows.append(("images", *(str(self.images[s]) for s in splits)))
        widths = [max(8, *(len(row[i]) for row in rows)) for i in range(len(rows[0]))]
        lines = ["  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]) for r in rows]
        lines.append(f"missing files: {len(self.missing)}, skipped lines: {self.skipped_lines}")
        return "\n".join(lines)

    def _skip(self, where: str, reason: str) -> None:
        self.skipped_lines += 1
        self.skipped.append(f"{where}: {reason}")

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        LOGGER.warning(message)


@dataclass(frozen=True)
class _Sample:
    """One listed DeepPCB pair: the image id, its tested image, template and annotation file (any may be missing)."""

    image_id: str
    image: Path
    template: Path
    annotation: Path
    where: str  # "<list file>:<line>" for messages


def convert_deeppcb(
    src: str | Path, out: str | Path, templates: bool = False, progress: bool = True
) -> ConversionReport:
    """Convert a DeepPCB ``PCBData`` folder to an Ultralytics YOLO detection dataset.

    Writes ``out/images/<split>/<id>.jpg`` (the annotated ``<id>_test.jpg``), ``out/labels/<split>/<id>.txt`` (one
    ``class cx cy w h`` line per box, normalised, 6 decimals; empty for an image without defects) and, with
    ``templates=True``, the defect-free ``out/templates/<split>/<id>.jpg``. Splits come from ``trainval.txt`` (split
    ``"trainval"``) and ``test.txt`` (split ``"test"``); when neither exists, every ``*_test.jpg`` under ``src`` with
    an annotation file goes to ``"trainval"`` and a warning says so. ``out/data.yaml`` has no ``path:`` key, so
    Ultralytics resolves ``train``/``val`` against the YAML's own folder; ``val`` is the test split when there is one,
    else the trainval split. Images are copied (never linked), so the output is independent of ``src``.

    Args:
        src (str | Path): The DeepPCB ``PCBData`` folder (holds ``trainval.txt`` / ``test.txt`` and ``groupNNNNN/``).
            The release's root folder (holding ``PCBData/``) is accepted too.
        out (str | Path): Output dataset root; created if needed, existing files with the same names are overwritten.
        templates (bool): Also copy each image's defect-free template to ``out/templates/<split>/``.
        progress (bool): Show a tqdm progress bar per split.

    Returns:
        (ConversionReport): Per-split image and per-class box counts, missing files, skipped lines, warnings.

    Raises:
        FileNotFoundError: If ``src`` does not exist, or holds neither a list file nor any ``*_test.jpg`` image.

    Examples:
        >>> report = convert_deeppcb("DeepPCB/PCBData", "datasets/deeppcb")  # doctest: +SKIP
        >>> print(report.summary())  # doctest: +SKIP
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(
            f"DeepPCB source folder '{src}' not found; expected the release's PCBData folder holding "
            f"trainval.txt / test.txt and groupNNNNN/ folders."
        )
    if not _has_list_files(src) and _has_list_files(src / "PCBData"):
        LOGGER.info(f"Using '{src / 'PCBData'}': the list files live there, not in '{src}'.")
        src = src / "PCBData"

    report = ConversionReport(out=out)
    splits = {split: _read_list(src, src / name, report) for split, name in SPLIT_LISTS if (src / name).is_file()}
    if not splits:
        samples = _scan_annotated_images(src, report)
        if not samples:
            raise FileNotFoundError(
                f"Nothing to convert in '{src}': no {' / '.join(n for _, n in SPLIT_LISTS)} and no annotated "
                f"'*_test.jpg' images; expected the DeepPCB PCBData folder."
            )
        report._warn(
            f"No {' / '.join(n for _, n in SPLIT_LISTS)} in '{src}': converting all {len(samples)} annotated "
            f"'*_test.jpg' images found under it into split 'trainval'."
        )
        splits = {"trainval": samples}

    for split, samples in splits.items():
        _convert_split(split, samples, out, templates, progress, report)
    _write_data_yaml(out, has_test="test" in splits and report.images.get("test", 0) > 0)
    LOGGER.info(f"DeepPCB converted to '{out}':\n{report.summary()}")
    return report


def _has_list_files(folder: Path) -> bool:
    return any((folder / name).is_file() for _, name in SPLIT_LISTS)


def _sample_from_image_path(image_path: Path, annotation: Path, where: str) -> _Sample:
    """Build a sample from an image path as the list names it (``<id>.jpg``) or as on disk (``<id>_test.jpg``)."""
    stem = image_path.stem
    image_id = stem.removesuffix("_test").removesuffix("_temp")
    folder = image_path.parent
    image = folder / f"{image_id}_test{image_path.suffix or '.jpg'}"
    if not image.is_file() and image_path.is_file() and stem == image_id:
        image = image_path  # a re-packaged copy that kept the listed name
    return _Sample(image_id, image, folder / f"{image_id}_temp{image_path.suffix or '.jpg'}", annotation, where)


def _read_list(src: Path, list_file: Path, report: ConversionReport) -> list[_Sample]:
    """Parse one list file into samples; malformed lines and repeated ids are skipped and counted."""
    samples, seen = [], set()
    for n, line in enumerate(list_file.read_text(encoding="utf-8-sig").splitlines(), start=1):
        where = f"{list_file.name}:{n}"
        fields = [f for f in _FIELD_SEPARATOR.split(line.strip()) if f]
        if not fields:
            continue
        if len(fields) != 2:
            report._skip(where, f"expected '<image path> <annotation path>', got {line.strip()!r}")
            continue
        image_rel, annotation_rel = (f.replace("\\", "/") for f in fields)
        sample = _sample_from_image_path(src / image_rel, src / annotation_rel, where)
        if sample.image_id in seen:
            report._skip(where, f"image id {sample.image_id} listed again, kept the first")
            continue
        seen.add(sample.image_id)
        samples.append(sample)
    return samples


def _scan_annotated_images(src: Path, report: ConversionReport) -> list[_Sample]:
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
        samples.append(_Sample(image_id, image, image.with_name(f"{image_id}_temp.jpg"), annotation, str(image)))
    if unannotated:
        report._warn(f"Ignored {unannotated} '*_test.jpg' images under '{src}' that have no annotation file.")
    return samples


def _parse_annotation(
    sample: _Sample, width: int, height: int, report: ConversionReport
) -> list[tuple[int, float, float, float, float]]:
    """Read one annotation file into ``(class, x1, y1, x2, y2)`` pixel boxes clipped to the image.

    Returns:
        (list[tuple[int, float, float, float, float]]): Valid boxes; each skipped line is counted in ``report``.
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
            report._skip(where, f"expected 'x1 y1 x2 y2 type' (spaces or commas), got {line.strip()!r}")
            continue
        if not 1 <= defect_type <= len(DEEPPCB_CLASSES):
            report._skip(where, f"type {fields[4]} is not a DeepPCB defect type (valid: 1..{len(DEEPPCB_CLASSES)})")
            continue
        x1, x2 = min(max(x1, 0.0), width), min(max(x2, 0.0), width)
        y1, y2 = min(max(y1, 0.0), height), min(max(y2, 0.0), height)
        if x2 <= x1 or y2 <= y1:
            report._skip(where, f"degenerate box {line.strip()!r} in a {width}x{height} image (after clipping)")
            continue
        boxes.append((defect_type - 1, x1, y1, x2, y2))
    return boxes


def _yolo_line(box: tuple[int, float, float, float, float], width: int, height: int) -> str:
    cls, x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
    return f"{cls} {cx:.6f} {cy:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"


def _convert_split(
    split: str, samples: list[_Sample], out: Path, templates: bool, progress: bool, report: ConversionReport
) -> None:
    images_dir, labels_dir, templates_dir = (out / kind / split for kind in ("images", "labels", "templates"))
    for folder in (images_dir, labels_dir, *((templates_dir,) if templates else ())):
        folder.mkdir(parents=True, exist_ok=True)
    report.images[split] = 0
    counts = report.boxes.setdefault(split, dict.fromkeys(DEEPPCB_CLASSES, 0))

    for sample in tqdm(samples, desc=f"DeepPCB {split}", unit="img", disable=not progress):
        absent = [p for p in (sample.image, sample.annotation) if not p.is_file()]
        if absent:  # without its annotation an image would train as defect-free: leave it out
            report.missing.extend(str(p) for p in absent)
            LOGGER.warning(f"{sample.where}: missing {', '.join(map(str, absent))}; image left out.")
            continue
        try:
            with Image.open(sample.image) as im:
                width, height = im.size
        except OSError as e:
            report._warn(f"{sample.where}: unreadable image '{sample.image}' ({e}); image left out.")
            continue
        boxes = _parse_annotation(sample, width, height, report)

        shutil.copy2(sample.image, images_dir / f"{sample.image_id}{sample.image.suffix.lower()}")
        text = "".join(_yolo_line(b, width, height) + "\n" for b in boxes)
        (labels_dir / f"{sample.image_id}.txt").write_text(text, encoding="utf-8")
        for box in boxes:
            counts[DEEPPCB_CLASSES[box[0]]] += 1
        report.images[split] += 1
        if templates:
            if sample.template.is_file():
                shutil.copy2(sample.template, templates_dir / f"{sample.image_id}{sample.template.suffix.lower()}")
            else:
                report.missing.append(str(sample.template))
                LOGGER.warning(f"{sample.where}: missing template '{sample.template}'.")


def _write_data_yaml(out: Path, has_test: bool) -> Path:
    """Write ``out/data.yaml``; without a ``path:`` key Ultralytics takes the YAML's own folder as the dataset root."""
    data = {
        "train": "images/trainval",
        "val": "images/test" if has_test else "images/trainval",
        "names": dict(enumerate(DEEPPCB_CLASSES)),
    }
    header = (
        "# DeepPCB (https://github.com/tangsanli5201/DeepPCB, MIT licence), converted by yolo_attention.data.\n"
        "# No 'path:' key: Ultralytics resolves train/val relative to this file's folder.\n"
    )
    if not has_test:
        header += "# No test split was converted, so 'val' reuses the trainval images.\n"
    file = out / "data.yaml"
    file.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return file
