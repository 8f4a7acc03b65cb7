"""Convert HRIPCB (PKU-Market-PCB) to an Ultralytics YOLO dataset, split by board and optionally tiled.

The release photographs each of its ten boards many times, one defect type per photo (``NN_<defect>_MM.jpg``, ``NN``
the board). Photos of one board share everything but the defect, so a split by photo would validate on boards the
model trained on. Splits are therefore drawn per board (``splits.group_stratified_split``): every photo of a board
lands in one split, stratified by each photo's main defect class as far as whole boards allow, reproducibly from
``seed``. Tiling happens after the split, so tiles of one photo never straddle splits either. Reading the release
(layout, quirks) lives in ``hripcb_voc``; the tile maths in ``tiling``.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from yolo_attention.data.hripcb_report import HRIPCBReport
from yolo_attention.data.hripcb_voc import HRIPCB_CLASSES, HRIPCBPhoto, annotation_files, board_id, read_photos
from yolo_attention.data.splits import group_stratified_split
from yolo_attention.data.tiling import boxes_in_tile, tile_regions
from yolo_attention.data.yolo_dataset import clear_split_folders, prepare_split_folders, write_data_yaml
from yolo_attention.data.yolo_labels import write_yolo_labels

__all__ = ["HRIPCB_CLASSES", "HRIPCBReport", "convert_hripcb", "split_by_board"]

LOGGER = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "val", "test")


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
    folder). Splits hold whole boards (``split_by_board``). With ``tile`` set, each photo is cut into ``tile`` x
    ``tile`` tiles overlapping by ``overlap`` (the last tile of a row or column flush with the edge, as sahi slices at
    prediction time), named ``<stem>_<x0>_<y0>.<ext>`` after their offset on the photo. A defect is labelled in a tile
    when at least ``min_visibility`` of its area lies inside the tile, clipped to it; a smaller remainder is dropped
    and counted. With the defaults (640 px tiles, 0.2 overlap, 0.5) every defect up to 128 px lies whole in some tile
    and larger ones are labelled wherever at least half of them shows.

    Args:
        src (str | Path): The release's ``PCB_DATASET`` folder (``Annotations/<Class>/*.xml``, ``images/<Class>/``)
            or a flat folder of ``<stem>.xml`` beside ``<stem>.jpg``. With an ``Annotations`` folder present only
            the XML under it are read.
        out (str | Path): Output dataset root; created if needed. Images and labels an earlier conversion left in
            its split folders are removed first, so a new seed or tiling never mixes with an old one.
        tile (int, optional): Tile side in pixels; ``None`` or 0 keeps whole photos. Defaults to 640.
        overlap (float): Overlap of neighbouring tiles as a fraction of ``tile``, in [0, 1). Defaults to 0.2.
        val (float): Share of the photos for validation, reached with whole boards. Defaults to 0.15.
        test (float): Share of the photos for test, reached with whole boards; 0 writes no test split.
            Defaults to 0.15.
        seed (int): Seed of the split; the same seed and files give the same split. Defaults to 0.
        min_visibility (float): Least fraction of a defect's area inside a tile for it to be labelled there,
            in (0, 1]. Defaults to 0.5.
        keep_empty (bool): Keep tiles without defects (background); photos without defects are always kept.
        progress (bool): Show a tqdm progress bar.

    Returns:
        (HRIPCBReport): Per-split boards, photos, images, defects and boxes per class, the split rule, and what was
        left out.

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
    xml_files = annotation_files(src)
    if not xml_files:
        raise FileNotFoundError(
            f"No VOC annotation (*.xml) under '{src}'; expected PCB_DATASET/Annotations/<Class>/*.xml or a flat "
            f"folder of .xml files beside their images."
        )

    report = HRIPCBReport(out=out)
    photos = read_photos(src, xml_files, report, progress)
    unnamed = sum(board_id(p.image.stem) is None for p in photos)
    if unnamed:
        report.warn(f"{unnamed} photos are not named 'NN_<defect>_MM' (NN the board): each counts as its own board.")
    splits = split_by_board(photos, val=val, test=test, seed=seed)
    for split in SPLITS:
        if split == "test" and test <= 0:
            clear_split_folders(out, split)  # a test split an earlier conversion left would hold boards of train
            continue
        _write_split(split, splits[split], out, tile, overlap, min_visibility, keep_empty, progress, report)
    for split, fraction in (("val", val), ("test", test)):
        if fraction > 0 and not report.photos[split]:
            report.warn(f"No board went to {split} (fraction {fraction}): too few boards for that share.")
    report.split_rule = (
        f"whole boards (NN of NN_<defect>_MM) per split, stratified by each photo's main class as far as boards "
        f"allow, targets train {1 - val - test:.2f} / val {val:.2f} / test {test:.2f} of the photos, seed {seed}; "
        f"tiles follow their photo"
    )
    _write_data_yaml(out, has_val=report.photos["val"] > 0, has_test=report.photos.get("test", 0) > 0)
    LOGGER.info(f"HRIPCB converted to '{out}':\n{report.summary()}")
    return report


def split_by_board(photos: list[HRIPCBPhoto], val: float, test: float, seed: int) -> dict[str, list[HRIPCBPhoto]]:
    """Split photos into train/val/test by board, stratified by each photo's main class, reproducibly from ``seed``.

    ``splits.group_stratified_split`` with the board (``HRIPCBPhoto.board``) as the group and the main class
    (``HRIPCBPhoto.stratum``) as the stratum; the shares are shares of the photos.

    Args:
        photos (list[HRIPCBPhoto]): The photos, names unique.
        val (float): Share for validation.
        test (float): Share for test.
        seed (int): Random seed.

    Returns:
        (dict[str, list[HRIPCBPhoto]]): Photos per split name (``train``, ``val``, ``test``), sorted by name.
    """
    by_name = {photo.image.stem: photo for photo in photos}
    parts = group_stratified_split(
        list(by_name),
        groups={name: photo.board for name, photo in by_name.items()},
        strata={name: photo.stratum for name, photo in by_name.items()},
        fractions={"train": 1 - val - test, "val": val, "test": test},
        seed=seed,
    )
    return {split: [by_name[name] for name in names] for split, names in parts.items()}


def _check_arguments(tile: int, overlap: float, val: float, test: float, min_visibility: float) -> None:
    if tile and tile < 32:
        raise ValueError(f"tile={tile} is too small: give a tile side of at least 32 px, or 0 to keep whole photos")
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap={overlap} is not a fraction in [0, 1), e.g. 0.2")
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"val={val}, test={test}: each must be in [0, 1) and together below 1, e.g. 0.15 and 0.15")
    if not 0 < min_visibility <= 1:
        raise ValueError(f"min_visibility={min_visibility} is not a fraction in (0, 1], e.g. 0.5")


def _write_split(
    split: str,
    photos: list[HRIPCBPhoto],
    out: Path,
    tile: int,
    overlap: float,
    min_visibility: float,
    keep_empty: bool,
    progress: bool,
    report: HRIPCBReport,
) -> None:
    folders = prepare_split_folders(out, split)
    images_dir, labels_dir = folders["images"], folders["labels"]
    report.photos[split], report.images[split] = len(photos), 0
    report.boards[split] = sorted({photo.board for photo in photos})
    defects = report.defects.setdefault(split, dict.fromkeys(HRIPCB_CLASSES, 0))
    written = report.boxes.setdefault(split, dict.fromkeys(HRIPCB_CLASSES, 0))

    for photo in tqdm(photos, desc=f"HRIPCB {split}", unit="photo", disable=not progress):
        for box in photo.boxes:
            defects[HRIPCB_CLASSES[box[0]]] += 1
        stem, suffix = photo.image.stem, photo.image.suffix.lower()
        if not tile:
            shutil.copy2(photo.image, images_dir / f"{stem}{suffix}")
            write_yolo_labels(labels_dir / f"{stem}.txt", photo.boxes, photo.width, photo.height)
            report.images[split] += 1
            for box in photo.boxes:
                written[HRIPCB_CLASSES[box[0]]] += 1
            continue
        with Image.open(photo.image) as im:
            im.load()
            for region in tile_regions(photo.width, photo.height, tile, overlap):
                kept, dropped = boxes_in_tile(photo.boxes, region, min_visibility)
                report.dropped_in_tiles += dropped
                if not kept and not keep_empty:
                    continue
                x0, y0, x1, y1 = region
                name = f"{stem}_{x0}_{y0}"
                options = {"quality": 95} if suffix in (".jpg", ".jpeg") else {}
                im.crop(region).save(images_dir / f"{name}{suffix}", **options)
                write_yolo_labels(labels_dir / f"{name}.txt", kept, x1 - x0, y1 - y0)
                report.images[split] += 1
                for box in kept:
                    written[HRIPCB_CLASSES[box[0]]] += 1


def _write_data_yaml(out: Path, has_val: bool, has_test: bool) -> Path:
    splits = {"train": "images/train", "val": "images/val" if has_val else "images/train"}
    comments = [
        "HRIPCB (PKU-Market-PCB), converted by yolo_attention.data.hripcb.",
        "No 'path:' key: Ultralytics resolves train/val/test relative to this file's folder.",
        "Split by board: all photos (and tiles) of one board are in one split.",
    ]
    if not has_val:
        comments.append("No board went to validation, so 'val' reuses the train images.")
    if has_test:
        splits["test"] = "images/test"
    return write_data_yaml(out, splits, HRIPCB_CLASSES, comments)
