"""Convert the DeepPCB defect-detection release to an Ultralytics YOLO dataset with a held-out validation split.

Reads the release's ``PCBData`` folder (see ``deeppcb_release`` for its layout and quirks) and writes ``images/``,
``labels/``, optionally ``templates/`` and a ``data.yaml`` that Ultralytics can train on directly. Model selection
never sees the release's test images: ``val`` is the project's held-out part of trainval (``splits.HOLDOUT_FRACTION``,
``HOLDOUT_SEED``, stratified by each image's dominant class) and the release's test list becomes ``test``, for the
final figure only (``yolo val split=test``).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from yolo_attention.data.deeppcb_release import (
    DEEPPCB_CLASSES,
    SPLIT_LISTS,
    DeepPCBSample,
    has_list_files,
    parse_annotation,
    read_release,
)
from yolo_attention.data.deeppcb_report import ConversionReport
from yolo_attention.data.splits import HOLDOUT_FRACTION, HOLDOUT_SEED, holdout_split
from yolo_attention.data.yolo_dataset import clear_split_folders, prepare_split_folders, write_data_yaml
from yolo_attention.data.yolo_labels import Box, write_yolo_labels

__all__ = ["DEEPPCB_CLASSES", "ConversionReport", "convert_deeppcb"]

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Annotated:
    """A readable pair with its image size and boxes, ready to write."""

    sample: DeepPCBSample
    width: int
    height: int
    boxes: list[Box]


def convert_deeppcb(
    src: str | Path, out: str | Path, templates: bool = False, progress: bool = True
) -> ConversionReport:
    """Convert a DeepPCB ``PCBData`` folder to an Ultralytics YOLO detection dataset.

    Writes ``out/images/<split>/<id>.jpg`` (the annotated ``<id>_test.jpg``), ``out/labels/<split>/<id>.txt`` (one
    ``class cx cy w h`` line per box, normalised, 6 decimals; empty for an image without defects) and, with
    ``templates=True``, the defect-free ``out/templates/<split>/<id>.jpg``, for three splits:

    - ``train`` and ``val``: the release's ``trainval.txt``, split by ``holdout_split`` (``HOLDOUT_FRACTION`` of
      each dominant class held out for ``val``, seed ``HOLDOUT_SEED``), the project's one held-out split;
    - ``test``: the release's ``test.txt``, never used for model selection; absent when there is no ``test.txt``.

    When neither list exists, every ``*_test.jpg`` under ``src`` with an annotation file counts as trainval and a
    warning says so. ``out/data.yaml`` has no ``path:`` key, so Ultralytics resolves ``train``/``val``/``test``
    against the YAML's own folder. Images are copied (never linked), so the output is independent of ``src``.

    Args:
        src (str | Path): The DeepPCB ``PCBData`` folder (holds ``trainval.txt`` / ``test.txt`` and ``groupNNNNN/``).
            The release's root folder (holding ``PCBData/``) is accepted too.
        out (str | Path): Output dataset root; created if needed. Images and labels an earlier conversion left in its
            ``train``/``val``/``test`` folders are removed first.
        templates (bool): Also copy each image's defect-free template to ``out/templates/<split>/``.
        progress (bool): Show a tqdm progress bar per split.

    Returns:
        (ConversionReport): Per-split image and per-class box counts, missing files, skipped lines, warnings and the
        split rule.

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
    if not has_list_files(src) and has_list_files(src / "PCBData"):
        LOGGER.info(f"Using '{src / 'PCBData'}': the list files live there, not in '{src}'.")
        src = src / "PCBData"

    report = ConversionReport(out=out)
    parts = {part: _read_pairs(part, samples, report, progress) for part, samples in read_release(src, report).items()}
    trainval = parts.get("trainval", [])
    _, val_ids = holdout_split({a.sample.image_id: [box[0] for box in a.boxes] for a in trainval})
    held_out = set(val_ids)
    splits = {
        "train": [a for a in trainval if a.sample.image_id not in held_out],
        "val": [a for a in trainval if a.sample.image_id in held_out],
    }
    if "test" in parts:
        splits["test"] = parts["test"]
    else:  # a test split an earlier conversion left would not match this source
        clear_split_folders(out, "test", ("images", "labels", "templates"))
    for split, pairs in splits.items():
        _write_split(split, pairs, out, templates, progress, report)

    if not trainval:
        report.warn(f"No trainval images in '{src}': train and val are empty.")
    lists = " / ".join(name for _, name in SPLIT_LISTS)
    source = "trainval.txt" if has_list_files(src) else f"the annotated images (no {lists})"
    report.split_rule = (
        f"train/val from {source}, {HOLDOUT_FRACTION:.0%} of each dominant class held out for val "
        f"(seed {HOLDOUT_SEED}); "
        + ("test from test.txt, for the final figure only" if "test" in splits else "no test split (no test.txt)")
    )
    _write_data_yaml(out, has_val=report.images["val"] > 0, has_test=report.images.get("test", 0) > 0)
    LOGGER.info(f"DeepPCB converted to '{out}':\n{report.summary()}")
    return report


def _read_pairs(part: str, samples: list[DeepPCBSample], report: ConversionReport, progress: bool) -> list[_Annotated]:
    """Size and boxes of every listed pair; pairs missing their image or annotation are reported and left out."""
    pairs = []
    for sample in tqdm(samples, desc=f"DeepPCB read {part}", unit="img", disable=not progress):
        absent = [p for p in (sample.image, sample.annotation) if not p.is_file()]
        if absent:  # without its annotation an image would train as defect-free: leave it out
            report.missing.extend(str(p) for p in absent)
            LOGGER.warning(f"{sample.where}: missing {', '.join(map(str, absent))}; image left out.")
            continue
        try:
            with Image.open(sample.image) as im:
                width, height = im.size
        except OSError as e:
            report.warn(f"{sample.where}: unreadable image '{sample.image}' ({e}); image left out.")
            continue
        pairs.append(_Annotated(sample, width, height, parse_annotation(sample, width, height, report)))
    return pairs


def _write_split(
    split: str, pairs: list[_Annotated], out: Path, templates: bool, progress: bool, report: ConversionReport
) -> None:
    folders = prepare_split_folders(
        out, split, ("images", "labels", "templates") if templates else ("images", "labels")
    )
    report.images[split] = 0
    counts = report.boxes.setdefault(split, dict.fromkeys(DEEPPCB_CLASSES, 0))
    for pair in tqdm(pairs, desc=f"DeepPCB {split}", unit="img", disable=not progress):
        sample = pair.sample
        shutil.copy2(sample.image, folders["images"] / f"{sample.image_id}{sample.image.suffix.lower()}")
        write_yolo_labels(folders["labels"] / f"{sample.image_id}.txt", pair.boxes, pair.width, pair.height)
        for box in pair.boxes:
            counts[DEEPPCB_CLASSES[box[0]]] += 1
        report.images[split] += 1
        if templates:
            if sample.template.is_file():
                shutil.copy2(
                    sample.template, folders["templates"] / f"{sample.image_id}{sample.template.suffix.lower()}"
                )
            else:
                report.missing.append(str(sample.template))
                LOGGER.warning(f"{sample.where}: missing template '{sample.template}'.")


def _write_data_yaml(out: Path, has_val: bool, has_test: bool) -> Path:
    splits = {"train": "images/train", "val": "images/val" if has_val else "images/train"}
    comments = [
        "DeepPCB (https://github.com/tangsanli5201/DeepPCB, MIT licence), converted by yolo_attention.data.",
        "No 'path:' key: Ultralytics resolves train/val/test relative to this file's folder.",
        f"train/val: the release's trainval images, {HOLDOUT_FRACTION:.0%} of each dominant class held out for val",
        f"(seed {HOLDOUT_SEED}, yolo_attention.data.splits): the only split model selection may look at.",
    ]
    if not has_val:
        comments.append("Too few images to hold any out, so 'val' reuses the train images.")
    if has_test:
        splits["test"] = "images/test"
        comments.append("test: the release's test.txt, for the final figure only (yolo val split=test).")
    else:
        comments.append("No test split: the source had no test.txt (e.g. a trainval-only copy of the release).")
    return write_data_yaml(out, splits, DEEPPCB_CLASSES, comments)
