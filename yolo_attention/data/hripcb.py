"""Convert HRIPCB (PKU-Market-PCB) Pascal VOC annotations to an Ultralytics YOLO dataset, optionally tiled.

HRIPCB (the PKU-Market-PCB release, folder ``PCB_DATASET``) holds 693 photos of bare boards of about 3000x1600 px or
more, each with a few defects of 25 to 280 px in six classes, one Pascal VOC XML per photo. The release's layout:

    PCB_DATASET/Annotations/<Class>/<stem>.xml     VOC XML, <object><name>missing_hole</name><bndbox>...
    PCB_DATASET/images/<Class>/<stem>.jpg          the photo (the folder name is the class, e.g. Missing_hole)
    PCB_DATASET/PCB_USED/, rotation/               templates and rotated copies: not read

A flat folder of ``<stem>.xml`` beside ``<stem>.jpg`` is accepted too. What this converter copes with:

- Class names are matched case-insensitively (spaces, hyphens and underscores alike) to ``HRIPCB_CLASSES``, which
  keeps the seed's display names and order. Unknown names are counted in the report and left out, never fatal.
- Boxes partly outside the photo are clipped to it; boxes empty after clipping are skipped and counted. An XML without
  objects gives a background image. An XML whose photo is missing or unreadable is reported and left out.
- The image size is read from the photo, not from the XML's ``<size>`` (which can be 0 or stale).
- VOC's 1-based pixel convention is not shifted (a 1 px offset, below the annotation noise of 25 px defects), and
  ``<difficult>`` boxes are kept: every defect is a defect.

Splits are drawn per board, stratified by each board's main class (the class with most boxes, background boards
apart), reproducibly from ``seed``. Tiling happens after the split, so tiles of one board never straddle splits.
"""

from __future__ import annotations

import logging
import math
import random
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from PIL import Image
from tqdm import tqdm

__all__ = [
    "HRIPCB_CLASSES",
    "HRIPCBReport",
    "class_index",
    "clip_box_to_tile",
    "convert_hripcb",
    "split_boards",
    "tile_starts",
]

LOGGER = logging.getLogger(__name__)

HRIPCB_CLASSES: tuple[str, ...] = ("Missing_hole", "Mouse_bite", "Open_circuit", "Short", "Spurious_copper", "Spur")
"""YOLO class names in the seed's order and spelling; XML names match them case-insensitively."""

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
ANNOTATION_FOLDERS: tuple[str, ...] = ("annotations", "annotation", "xml", "xmls")
IMAGE_FOLDERS: tuple[str, ...] = ("images", "image", "jpegimages", "imgs")
SPLITS: tuple[str, ...] = ("train", "val", "test")
BACKGROUND = "background"

_KEY = {re.sub(r"[\s\-_]+", "_", name).lower(): i for i, name in enumerate(HRIPCB_CLASSES)}


def class_index(name: str) -> int | None:
    """Return the YOLO class index of an HRIPCB class name, matched case-insensitively, or None if unknown.

    Spaces, hyphens and underscores count as the same separator.

    Examples:
        >>> class_index("missing_hole"), class_index("Spurious-Copper"), class_index("SPUR"), class_index("crack")
        (0, 4, 5, None)
    """
    return _KEY.get(re.sub(r"[\s\-_]+", "_", name.strip()).lower())


def tile_starts(length: int, tile: int, overlap: float) -> list[int]:
    """Start offsets of overlapping tiles along one side, the last tile flush with the far edge (as sahi slices).

    Consecutive tiles overlap by ``int(overlap * tile)`` pixels, except the last one, which is moved back so it ends
    at ``length`` (overlapping more). A side no longer than a tile gets one tile at 0 (the tile is then smaller).

    Args:
        length (int): Image side in pixels.
        tile (int): Tile side in pixels.
        overlap (float): Overlap between neighbouring tiles as a fraction of ``tile``, in [0, 1).

    Returns:
        (list[int]): Start offsets, ascending.

    Examples:
        >>> tile_starts(1600, 640, 0.2)
        [0, 512, 960]
        >>> tile_starts(500, 640, 0.2)
        [0]
    """
    if length <= tile:
        return [0]
    stride = tile - int(overlap * tile)
    return list(range(0, length - tile, stride)) + [length - tile]


def clip_box_to_tile(
    box: tuple[float, float, float, float], tile: tuple[int, int, int, int]
) -> tuple[tuple[float, float, float, float] | None, float]:
    """Clip a board box to a tile; return the box in tile coordinates and the fraction of its area still visible.

    Args:
        box (tuple[float, float, float, float]): ``(x1, y1, x2, y2)`` in board pixels.
        tile (tuple[int, int, int, int]): ``(x0, y0, x1, y1)`` of the tile in board pixels.

    Returns:
        (tuple): ``((x1, y1, x2, y2) in tile pixels, visible fraction)``, or ``(None, 0.0)`` when nothing is visible.

    Examples:
        >>> clip_box_to_tile((600, 100, 680, 140), (0, 0, 640, 640))
        ((600, 100, 640, 140), 0.5)
    """
    x1, y1, x2, y2 = box
    tx1, ty1, tx2, ty2 = tile
    cx1, cy1, cx2, cy2 = max(x1, tx1), max(y1, ty1), min(x2, tx2), min(y2, ty2)
    if cx2 <= cx1 or cy2 <= cy1:
        return None, 0.0
    area = (x2 - x1) * (y2 - y1)
    visible = (cx2 - cx1) * (cy2 - cy1) / area if area > 0 else 0.0
    return (cx1 - tx1, cy1 - ty1, cx2 - tx1, cy2 - ty1), visible


@dataclass
class HRIPCBReport:
    """What ``convert_hripcb`` wrote and what it had to leave out.

    Attributes:
        out (Path): Root of the written dataset (holds ``data.yaml``).
        boards (dict[str, int]): Source photos per split.
        images (dict[str, int]): Images written per split: tiles when tiling, else the photos.
        defects (dict[str, dict[str, int]]): Defects of the source photos per split and class (before tiling).
        boxes (dict[str, dict[str, int]]): Label boxes written per split and class (a defect in two tiles counts twice).
        unknown_classes (dict[str, int]): Object names that match no HRIPCB class, with how often they occur.
        missing (list[str]): Photos not found for an XML, as the XML path.
        skipped (list[str]): ``"<file>: <reason>"`` for each XML, object or photo left out for another reason.
        clipped_to_image (int): Boxes partly outside their photo, clipped to it.
        dropped_in_tiles (int): Tile boxes dropped because less than ``min_visibility`` of the defect was inside.
        warnings (list[str]): Everything else worth knowing, also logged.

    Examples:
        >>> r = HRIPCBReport(out=Path("d"), boards={"train": 1}, images={"train": 1},
        ...                  defects={"train": {"Short": 2}}, boxes={"train": {"Short": 2}})
        >>> r.n_defects("train")
        2
    """

    out: Path
    boards: dict[str, int] = field(default_factory=dict)
    images: dict[str, int] = field(default_factory=dict)
    defects: dict[str, dict[str, int]] = field(default_factory=dict)
    boxes: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_classes: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    clipped_to_image: int = 0
    dropped_in_tiles: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def splits(self) -> list[str]:
        """(list[str]): Split names written, in order."""
        return list(self.boards)

    def n_defects(self, split: str) -> int:
        """Defects of the source photos in one split (0 for an unknown split)."""
        return sum(self.defects.get(split, {}).values())

    def n_boxes(self, split: str) -> int:
        """Label boxes written to one split (0 for an unknown split)."""
        return sum(self.boxes.get(split, {}).values())

    def summary(self) -> str:
        """A plain-text table: defects per class (rows) and split (columns), then boards, images, boxes, problems.

        Returns:
            (str): The table.
        """
        splits = self.splits
        rows = [("class", *splits)]
        rows += [(n, *(str(self.defects.get(s, {}).get(n, 0)) for s in splits)) for n in HRIPCB_CLASSES]
        rows.append(("defects", *(str(self.n_defects(s)) for s in splits)))
        rows.append(("boards", *(str(self.boards.get(s, 0)) for s in splits)))
        rows.append(("images", *(str(self.images.get(s, 0)) for s in splits)))
        rows.append(("boxes", *(str(self.n_boxes(s)) for s in splits)))
        widths = [max(8, *(len(row[i]) for row in rows)) for i in range(len(rows[0]))]
        lines = ["  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]) for r in rows]
        unknown = ", ".join(f"{k} x{v}" for k, v in sorted(self.unknown_classes.items())) or "none"
        lines.append(
            f"missing images: {len(self.missing)}, skipped: {len(self.skipped)}, unknown classes: {unknown}, "
            f"clipped to image: {self.clipped_to_image}, dropped in tiles: {self.dropped_in_tiles}"
        )
        return "\n".join(lines)

    def _skip(self, where: str, reason: str) -> None:
        self.skipped.append(f"{where}: {reason}")

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        LOGGER.warning(message)


@dataclass
class _Board:
    """One annotated photo: its XML, photo, size and boxes ``(class, x1, y1, x2, y2)`` in pixels."""

    xml: Path
    image: Path
    width: int
    height: int
    boxes: list[tuple[int, float, float, float, float]]

    @property
    def stratum(self) -> str:
        """The board's main class (most boxes, ties to the lower index), or ``"background"``."""
        if not self.boxes:
            return BACKGROUND
        counts = [0] * len(HRIPCB_CLASSES)
        for box in self.boxes:
            counts[box[0]] += 1
        return HRIPCB_CLASSES[max(range(len(counts)), key=lambda i: (counts[i], -i))]


def convert_hripcb(
    src: str | Path,
    out: str | Path,
    tile: int | None = 640,
    overlap: float = 0.2,
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 0,
    min_visibility: float = 0.5,
    keep_empty: bool = True,
    progress: bool = True,
) -> HRIPCBReport:
    """Convert an HRIPCB (PKU-Market-PCB) folder of VOC XML and photos to an Ultralytics YOLO detection dataset.

    Writes ``out/images/<split>/`` and ``out/labels/<split>/`` for splits ``train``, ``val`` and (when ``test > 0``)
    ``test``, and ``out/data.yaml`` without a ``path:`` key (Ultralytics resolves the splits against the YAML's own
    folder). With ``tile`` set, each photo is cut into ``tile`` x ``tile`` tiles overlapping by ``overlap`` (the last
    tile of a row or column flush with the edge, as sahi slices at prediction time), named
    ``<stem>_<x0>_<y0>.<ext>`` after their offset on the board. A defect is labelled in a tile when at least
    ``min_visibility`` of its area lies inside the tile, clipped to it; a smaller remainder is dropped and counted.
    With the defaults (640 px tiles, 0.2 overlap, 0.5) every defect up to 128 px lies whole in some tile and larger
    ones are labelled wherever at least half of them shows.

    Args:
        src (str | Path): The release's ``PCB_DATASET`` folder (``Annotations/<Class>/*.xml``, ``images/<Class>/``)
            or a flat folder of ``<stem>.xml`` beside ``<stem>.jpg``. With an ``Annotations`` folder present only
            the XML under it are read.
        out (str | Path): Output dataset root; created if needed. Images and labels an earlier conversion left in
            its split folders are removed first, so a new seed or tiling never mixes with an old one.
        tile (int, optional): Tile side in pixels; ``None`` or 0 keeps whole photos. Defaults to 640.
        overlap (float): Overlap of neighbouring tiles as a fraction of ``tile``, in [0, 1). Defaults to 0.2.
        val (float): Fraction of boards for validation. Defaults to 0.15.
        test (float): Fraction of boards for test; 0 writes no test split. Defaults to 0.15.
        seed (int): Seed of the split; the same seed and files give the same split. Defaults to 0.
        min_visibility (float): Least fraction of a defect's area inside a tile for it to be labelled there,
            in (0, 1]. Defaults to 0.5.
        keep_empty (bool): Keep tiles without defects (background); photos without defects are always kept.
        progress (bool): Show a tqdm progress bar.

    Returns:
        (HRIPCBReport): Per-split counts of boards, images, defects and boxes per class, and what was left out.

    Raises:
        FileNotFoundError: If ``src`` does not exist or holds no ``*.xml`` file.
        ValueError: If a fraction or the tile size is out of range.

    Examples:
        >>> report = convert_hripcb("PCB_DATASET", "datasets/hripcb", tile=640)  # doctest: +SKIP
        >>> print(report.summary())  # doctest: +SKIP
    """
    src, out = Path(src), Path(out)
    tile = int(tile or 0)
    _check_arguments(tile, overlap, val, test, min_visibility)
    if not src.is_dir():
        raise FileNotFoundError(
            f"HRIPCB source folder '{src}' not found; expected the PKU-Market-PCB PCB_DATASET folder holding "
            f"Annotations/<Class>/*.xml and images/<Class>/*.jpg, or a folder of .xml files beside their images."
        )
    xml_files = _annotation_files(src)
    if not xml_files:
        raise FileNotFoundError(
            f"No VOC annotation (*.xml) under '{src}'; expected PCB_DATASET/Annotations/<Class>/*.xml or a flat "
            f"folder of .xml files beside their images."
        )

    report = HRIPCBReport(out=out)
    boards = _read_boards(src, xml_files, report, progress)
    splits = split_boards(boards, val=val, test=test, seed=seed)
    for split in SPLITS:
        if split == "test" and test <= 0:
            continue
        _write_split(split, splits[split], out, tile, overlap, min_visibility, keep_empty, progress, report)
    _write_data_yaml(out, has_val=report.boards.get("val", 0) > 0, has_test=report.boards.get("test", 0) > 0)
    LOGGER.info(f"HRIPCB converted to '{out}':\n{report.summary()}")
    return report


def _check_arguments(tile: int, overlap: float, val: float, test: float, min_visibility: float) -> None:
    if tile and tile < 32:
        raise ValueError(f"tile={tile} is too small: give a tile side of at least 32 px, or 0 to keep whole photos")
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap={overlap} is not a fraction in [0, 1), e.g. 0.2")
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"val={val}, test={test}: each must be in [0, 1) and together below 1, e.g. 0.15 and 0.15")
    if not 0 < min_visibility <= 1:
        raise ValueError(f"min_visibility={min_visibility} is not a fraction in (0, 1], e.g. 0.5")


def _annotation_files(src: Path) -> list[Path]:
    """Every XML under the release's Annotations folder if there is one, else every XML under ``src``."""
    roots = [p for p in src.iterdir() if p.is_dir() and p.name.lower() in ANNOTATION_FOLDERS]
    if src.name.lower() in ANNOTATION_FOLDERS:
        roots = [src]
    files = [f for root in (roots or [src]) for f in root.rglob("*") if f.suffix.lower() == ".xml" and f.is_file()]
    return sorted(files)


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
    names += [xml.stem + suffix for suffix in IMAGE_SUFFIXES]
    for folder in folders:
        if not folder.is_dir():
            continue
        for name in names:
            candidate = _child_ci(folder, name)
            if candidate.is_file() and candidate.suffix.lower() in IMAGE_SUFFIXES:
                return candidate
    return None


def _read_boards(src: Path, xml_files: list[Path], report: HRIPCBReport, progress: bool) -> list[_Board]:
    boards, stems = [], set()
    for xml in tqdm(xml_files, desc="HRIPCB read", unit="xml", disable=not progress):
        try:
            root = ET.parse(xml).getroot()
        except ET.ParseError as e:
            report._skip(str(xml), f"not valid XML ({e})")
            continue
        image = _find_image(src, xml, root.findtext("filename"))
        if image is None:
            report.missing.append(str(xml))
            LOGGER.warning(f"{xml}: no image found (filename {root.findtext('filename')!r}); left out.")
            continue
        if image.stem in stems:
            report._skip(str(xml), f"image name '{image.stem}' already used by another XML; left out")
            continue
        try:
            with Image.open(image) as im:
                width, height = im.size
        except OSError as e:
            report._skip(str(image), f"unreadable image ({e})")
            continue
        stems.add(image.stem)
        boards.append(_Board(xml, image, width, height, _parse_objects(xml, root, width, height, report)))
    return boards


def _parse_objects(
    xml: Path, root: ET.Element, width: int, height: int, report: HRIPCBReport
) -> list[tuple[int, float, float, float, float]]:
    boxes = []
    for n, obj in enumerate(root.iter("object")):
        where = f"{xml} object {n}"
        name = (obj.findtext("name") or "").strip()
        cls = class_index(name) if name else None
        if cls is None:
            key = name or "<no name>"
            if key not in report.unknown_classes:
                report._warn(f"{where}: unknown class {key!r} (known: {', '.join(HRIPCB_CLASSES)}); left out")
            report.unknown_classes[key] = report.unknown_classes.get(key, 0) + 1
            continue
        try:
            box = obj.find("bndbox")
            x1, y1, x2, y2 = (float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        except (AttributeError, TypeError, ValueError):
            report._skip(where, "no numeric <bndbox> xmin/ymin/xmax/ymax")
            continue
        x1, x2 = sorted((x1, x2))
        y1, y2 = sorted((y1, y2))
        cx1, cy1, cx2, cy2 = max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height))
        if cx2 <= cx1 or cy2 <= cy1:
            report._skip(where, f"box ({x1}, {y1}, {x2}, {y2}) is empty inside the {width}x{height} image")
            continue
        if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
            report.clipped_to_image += 1
        boxes.append((cls, cx1, cy1, cx2, cy2))
    return boxes


def split_boards(boards: list, val: float, test: float, seed: int) -> dict[str, list]:
    """Split boards into train/val/test, stratified by each board's main class, reproducibly from ``seed``.

    Within each stratum (sorted by image path, then shuffled with ``random.Random(seed)``) ``round(n * test)`` boards
    go to test, ``round(n * val)`` to val (halves round up) and the rest to train.

    Args:
        boards (list): Items with ``.stratum`` (str) and ``.image`` (Path).
        val (float): Fraction for validation.
        test (float): Fraction for test.
        seed (int): Random seed.

    Returns:
        (dict[str, list]): Boards per split name.
    """
    rng = random.Random(seed)
    strata: dict[str, list] = {}
    for board in sorted(boards, key=lambda b: str(b.image)):
        strata.setdefault(board.stratum, []).append(board)
    out = {split: [] for split in SPLITS}
    for stratum in [*HRIPCB_CLASSES, BACKGROUND]:
        members = strata.get(stratum, [])
        rng.shuffle(members)
        n_test = min(len(members), math.floor(len(members) * test + 0.5))
        n_val = min(len(members) - n_test, math.floor(len(members) * val + 0.5))
        out["test"] += members[:n_test]
        out["val"] += members[n_test : n_test + n_val]
        out["train"] += members[n_test + n_val :]
    return out


def _yolo_lines(boxes: list[tuple[int, float, float, float, float]], width: int, height: int) -> str:
    return "".join(
        f"{c} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} {(x2 - x1) / width:.6f} "
        f"{(y2 - y1) / height:.6f}\n"
        for c, x1, y1, x2, y2 in boxes
    )


def _write_split(
    split: str,
    boards: list[_Board],
    out: Path,
    tile: int,
    overlap: float,
    min_visibility: float,
    keep_empty: bool,
    progress: bool,
    report: HRIPCBReport,
) -> None:
    images_dir, labels_dir = out / "images" / split, out / "labels" / split
    _clear_previous(images_dir, labels_dir, out / "labels" / f"{split}.cache")
    images_dir.mkdir(parents=True, exist_ok=True)
    labels_dir.mkdir(parents=True, exist_ok=True)
    report.boards[split], report.images[split] = len(boards), 0
    defects = report.defects.setdefault(split, dict.fromkeys(HRIPCB_CLASSES, 0))
    written = report.boxes.setdefault(split, dict.fromkeys(HRIPCB_CLASSES, 0))

    for board in tqdm(boards, desc=f"HRIPCB {split}", unit="board", disable=not progress):
        for box in board.boxes:
            defects[HRIPCB_CLASSES[box[0]]] += 1
        suffix = board.image.suffix.lower()
        if not tile:
            shutil.copy2(board.image, images_dir / f"{board.image.stem}{suffix}")
            (labels_dir / f"{board.image.stem}.txt").write_text(
                _yolo_lines(board.boxes, board.width, board.height), encoding="utf-8"
            )
            report.images[split] += 1
            for box in board.boxes:
                written[HRIPCB_CLASSES[box[0]]] += 1
            continue
        with Image.open(board.image) as im:
            im.load()
            for y0 in tile_starts(board.height, tile, overlap):
                for x0 in tile_starts(board.width, tile, overlap):
                    region = (x0, y0, min(x0 + tile, board.width), min(y0 + tile, board.height))
                    kept = []
                    for cls, *xyxy in board.boxes:
                        clipped, visible = clip_box_to_tile(tuple(xyxy), region)
                        if clipped is None:
                            continue
                        if visible + 1e-9 < min_visibility:
                            report.dropped_in_tiles += 1
                            continue
                        kept.append((cls, *clipped))
                    if not kept and not keep_empty:
                        continue
                    name = f"{board.image.stem}_{x0}_{y0}"
                    options = {"quality": 95} if suffix in (".jpg", ".jpeg") else {}
                    im.crop(region).save(images_dir / f"{name}{suffix}", **options)
                    tw, th = region[2] - x0, region[3] - y0
                    (labels_dir / f"{name}.txt").write_text(_yolo_lines(kept, tw, th), encoding="utf-8")
                    report.images[split] += 1
                    for box in kept:
                        written[HRIPCB_CLASSES[box[0]]] += 1


def _clear_previous(images_dir: Path, labels_dir: Path, cache: Path) -> None:
    """Remove the images and labels an earlier conversion left in a split folder (another seed would leak boards).

    Only files this converter writes are removed: images by suffix in ``images_dir``, ``.txt`` in ``labels_dir``,
    and Ultralytics' label cache of the split.
    """
    stale = [p for p in images_dir.glob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    stale += [p for p in labels_dir.glob("*.txt") if p.is_file()]
    stale += [cache] if cache.is_file() else []
    if stale:
        LOGGER.info(f"Replacing {len(stale)} files of an earlier conversion in '{images_dir.parent.parent}'.")
    for path in stale:
        path.unlink()


def _write_data_yaml(out: Path, has_val: bool, has_test: bool) -> Path:
    """Write ``out/data.yaml``; without a ``path:`` key Ultralytics takes the YAML's own folder as the dataset root."""
    data = {"train": "images/train", "val": "images/val" if has_val else "images/train"}
    if has_test:
        data["test"] = "images/test"
    data["names"] = dict(enumerate(HRIPCB_CLASSES))
    header = (
        "# HRIPCB (PKU-Market-PCB), converted by yolo_attention.data.hripcb.\n"
        "# No 'path:' key: Ultralytics resolves train/val/test relative to this file's folder.\n"
    )
    if not has_val:
        header += "# No board went to validation, so 'val' reuses the train images.\n"
    file = out / "data.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return file
