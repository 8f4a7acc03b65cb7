"""Convert WIDER FACE with RetinaFace's five-landmark ``label.txt`` to an Ultralytics pose dataset of faces.

Faces become one class with five keypoints (``widerface_pose``: ``kpt_shape: [5, 3]``, ``flip_idx: [1, 0, 2, 4,
3]``). The splits are WIDER FACE's own: ``train`` from the training labels, ``val`` from the validation labels, the
split every published Easy / Medium / Hard figure is measured on (``yolo_attention.eval.widerface`` scores it
exactly as the official evaluation does). Reading the folder layout and ``label.txt`` lives in
``widerface_labels``.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from yolo_attention.data.widerface_labels import LabelledImage, LabelRow, read_label_file, split_sources
from yolo_attention.data.widerface_pose import FacePose, write_face_data_yaml, write_pose_labels
from yolo_attention.data.widerface_report import WiderFaceReport
from yolo_attention.data.yolo_dataset import clear_split_folders, prepare_split_folders

__all__ = ["WiderFaceReport", "convert_widerface", "face_from_row"]

LOGGER = logging.getLogger(__name__)

LAYOUT = (
    "expected RetinaFace's layout: <src>/train/label.txt with <src>/train/images/<event>/*.jpg (or the release's "
    "<src>/WIDER_train/images/<event>/*.jpg), and the same for val"
)


def convert_widerface(src: str | Path, out: str | Path, progress: bool = True) -> WiderFaceReport:
    """Convert a WIDER FACE root with RetinaFace's ``label.txt`` files to an Ultralytics pose dataset of faces.

    Writes ``out/images/<split>/<name>.jpg`` (copied; WIDER FACE's file names already carry their event and are
    unique), ``out/labels/<split>/<name>.txt`` (one ``widerface_pose.pose_line`` per face; empty for an image without
    faces) and ``out/data.yaml`` (no ``path:`` key), for each split whose ``label.txt`` exists (``train``, ``val``;
    see ``widerface_labels`` for the two accepted layouts). Per face row:

    - a box with width or height <= 0 is dropped and counted; a box is clipped to the image (counted), and dropped
      when nothing of it is left;
    - a landmark of -1 (coordinates or flag) becomes invisible (``v = 0``); a flag of 0 or 1 becomes visible
      (``v = 2``); a landmark outside the image becomes invisible (counted); a box-only row (the validation
      ``label.txt``) gets five invisible keypoints.

    Args:
        src (str | Path): The root holding ``train/label.txt`` and/or ``val/label.txt`` and the images.
        out (str | Path): Output dataset root; created if needed. Images and labels an earlier conversion left in its
            ``train``/``val`` folders are removed first.
        progress (bool): Show a tqdm progress bar per split.

    Returns:
        (WiderFaceReport): Per-split counts of images, faces, landmarks and what was clipped or dropped; missing
        images and skipped lines.

    Raises:
        FileNotFoundError: If ``src`` does not exist or holds no ``<split>/label.txt``.

    Examples:
        >>> report = convert_widerface("widerface", "datasets/widerface")  # doctest: +SKIP
        >>> print(report.summary())  # doctest: +SKIP
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"WIDER FACE source folder '{src}' not found; {LAYOUT}.")
    sources = split_sources(src)
    if not sources:
        raise FileNotFoundError(f"No train/label.txt or val/label.txt under '{src}'; {LAYOUT}.")

    report = WiderFaceReport(out=out)
    for split in ("train", "val"):
        if split not in sources:
            clear_split_folders(out, split)  # a split an earlier conversion left would not match this source
            continue
        label_file, images_dir = sources[split]
        report.sources[split] = f"{label_file} with images in {images_dir}"
        if not images_dir.is_dir():
            report.warn(f"No image folder for {split}: looked for {src / split / 'images'} and {images_dir}.")
        _write_split(split, read_label_file(label_file, report), images_dir, out, progress, report)
    _write_data_yaml(out, has_train="train" in sources, has_val="val" in sources)
    LOGGER.info(f"WIDER FACE converted to '{out}':\n{report.summary()}")
    return report


def face_from_row(row: LabelRow, width: int, height: int, report: WiderFaceReport, split: str) -> FacePose | None:
    """The face of one ``label.txt`` row on a ``width`` x ``height`` image, or None when its box is dropped.

    Applies the rules listed in ``convert_widerface`` and counts what it changes in ``report`` under ``split``.

    Examples:
        >>> report = WiderFaceReport(out=Path("faces"))
        >>> row = LabelRow((-5, 10, 20, 20), ((2, 15, 0.0), (12, 15, 1.0), (-1, -1, -1), (4, 25, 0.0), (50, 25, 0)), "")
        >>> face = face_from_row(row, 40, 40, report, "train")
        >>> face.box, [v for _, _, v in face.keypoints]
        ((0, 10, 15, 30), [2, 2, 0, 2, 0])
        >>> [report.counts["train"][k] for k in ("clipped", "points_missing", "points_outside")]
        [1, 1, 1]
    """
    x, y, w, h = row.box
    if w <= 0 or h <= 0:
        report.add(split, "dropped_zero_size")
        return None
    box = (min(max(x, 0), width), min(max(y, 0), height), min(max(x + w, 0), width), min(max(y + h, 0), height))
    if box[2] <= box[0] or box[3] <= box[1]:
        report.add(split, "dropped_outside")
        return None
    if box != (x, y, x + w, y + h):
        report.add(split, "clipped")
    keypoints = []
    for px, py, flag in row.landmarks or [(-1.0, -1.0, -1.0)] * 5:
        if flag == -1 or (px == -1 and py == -1):
            keypoints.append((0.0, 0.0, 0))
            if row.landmarks is not None:
                report.add(split, "points_missing")
        elif 0 <= px <= width and 0 <= py <= height:
            keypoints.append((px, py, 2))
        else:
            keypoints.append((0.0, 0.0, 0))
            report.add(split, "points_outside")
    face = FacePose(box, tuple(keypoints))
    if face.n_visible == 5:
        report.add(split, "with_landmarks")
    elif face.n_visible == 0:
        report.add(split, "without_landmarks")
    return face


def _write_split(
    split: str, images: list[LabelledImage], images_dir: Path, out: Path, progress: bool, report: WiderFaceReport
) -> None:
    folders = prepare_split_folders(out, split)
    report.add(split, "images", 0)
    written: dict[str, str] = {}
    missing_before = len(report.missing)
    for image in tqdm(images, desc=f"WIDER FACE {split}", unit="img", disable=not progress):
        path = images_dir / image.path
        if not path.is_file():
            report.missing.append(str(path))
            continue
        if image.name in written:
            report.skip(image.where, f"file name {image.name} already written from {written[image.name]}; left out")
            continue
        try:
            with Image.open(path) as im:
                width, height = im.size
        except OSError as e:
            report.skip(image.where, f"unreadable image '{path}' ({e}); left out")
            continue
        faces = [f for f in (face_from_row(row, width, height, report, split) for row in image.rows) if f]
        name = Path(image.name)
        shutil.copy2(path, folders["images"] / f"{name.stem}{name.suffix.lower()}")
        write_pose_labels(folders["labels"] / f"{name.stem}.txt", faces, width, height)
        written[image.name] = image.path
        report.add(split, "images")
        report.add(split, "faces", len(faces))
        if not faces:
            report.add(split, "background")
    missing = report.missing[missing_before:]
    if missing:
        report.warn(f"{split}: {len(missing)} listed images not found, e.g. {missing[0]}; left out.")


def _write_data_yaml(out: Path, has_train: bool, has_val: bool) -> Path:
    comments = [
        "WIDER FACE (http://shuoyang1213.me/WIDERFACE/, non-commercial research use) with RetinaFace's five",
        "landmarks (retinaface_gt_v1.1), converted by yolo_attention.data.widerface.",
        "No 'path:' key: Ultralytics resolves train/val relative to this file's folder.",
        "Keypoints: left eye, right eye, nose, left and right mouth corner (v 0: not labelled).",
    ]
    train = "images/train" if has_train else "images/val"
    val = "images/val" if has_val else "images/train"
    if not has_train:
        comments.append("Converted without train/label.txt: 'train' reuses the validation images (evaluation only).")
    if not has_val:
        comments.append("Converted without val/label.txt: 'val' reuses the train images.")
    else:
        comments.append("val: WIDER FACE's validation set, the one the Easy / Medium / Hard APs are measured on.")
    return write_face_data_yaml(out, {"train": train, "val": val}, comments)
