"""The official prediction layout: one ``<event>/<name>.txt`` per image, the name, the count, ``x y w h score`` rows.

The format every WIDER FACE evaluation reads (the official MATLAB code, its Python ports)::

    0_Parade_marchingband_1_465
    2
    345.0 211.0 4.0 4.0 0.912345
    331.5 126.0 3.0 3.0 0.051234

Boxes are ``x y w h`` in pixels of the original image; scores are any real numbers (the evaluation rescales them
to [0, 1] over the whole set). Files are written with rows sorted by score, highest first: the official MATLAB code
sorts on reading, the widely used Python port does not, so sorted files give both the same figures.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from yolo_attention.eval.widerface.reading import WiderFaceGroundTruth

__all__ = ["read_prediction_file", "read_predictions", "write_predictions"]

LOGGER = logging.getLogger(__name__)


def _rows(boxes) -> np.ndarray:
    rows = np.asarray(boxes, dtype=np.float64)
    if rows.size == 0:
        return np.zeros((0, 5))
    if rows.ndim != 2 or rows.shape[1] != 5:
        raise ValueError(f"expected (N, 5) rows of x y w h score, got an array of shape {rows.shape}")
    return rows


def write_predictions(predictions: Mapping[str, np.ndarray], out: str | Path) -> Path:
    """Write predictions in the official layout, ``out/<event>/<name>.txt`` per image.

    Args:
        predictions (Mapping[str, np.ndarray]): ``"<event>/<name>"`` (name without ``.jpg``) -> (N, 5) rows ``x y w h
            score`` in pixels. An image with no rows gets a file with count 0.
        out (str | Path): Folder to write into; created if needed. Files of other images already there are kept.

    Returns:
        (Path): ``out``.

    Raises:
        ValueError: If a key is not ``<event>/<name>`` or rows are not (N, 5).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     folder = write_predictions({"0--Parade/0_a": [[1, 2, 30, 40, 0.5], [0, 0, 9, 9, 0.9]]}, d)
        ...     print((folder / "0--Parade" / "0_a.txt").read_text(), end="")
        0_a
        2
        0.0 0.0 9.0 9.0 0.900000
        1.0 2.0 30.0 40.0 0.500000
    """
    out = Path(out)
    for key, boxes in predictions.items():
        event, _, name = key.partition("/")
        if not event or not name or "/" in name:
            raise ValueError(
                f"prediction key {key!r} is not '<event>/<name>' (e.g. '0--Parade/0_Parade_marchingband_1_465')"
            )
        rows = _rows(boxes)
        rows = rows[np.argsort(-rows[:, 4], kind="stable")]
        lines = [name, str(len(rows))]
        lines += [f"{x:.1f} {y:.1f} {w:.1f} {h:.1f} {s:.6f}" for x, y, w, h, s in rows.tolist()]
        (out / event).mkdir(parents=True, exist_ok=True)
        (out / event / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def read_prediction_file(path: str | Path) -> tuple[str, np.ndarray]:
    """The image name (first line) and the (N, 5) rows of one prediction file, in file order.

    Blank lines are skipped and fields beyond the fifth ignored (as the Python port does). A count line that
    disagrees with the rows is logged; the rows are what counts.

    Raises:
        ValueError: If the file has no count line, or a row has fewer than five numbers.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    if len(lines) < 2:
        raise ValueError(
            f"{path}: expected the image name, the count, then 'x y w h score' rows; got {len(lines)} lines"
        )
    rows = []
    for n, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        try:
            if len(fields) < 5:
                raise ValueError
            rows.append([float(f) for f in fields[:5]])
        except ValueError:
            raise ValueError(f"{path}:{n}: expected 'x y w h score', got {line.strip()!r}") from None
    try:
        count = int(float(lines[1].split()[0])) if lines[1].split() else 0
    except ValueError:
        raise ValueError(f"{path}:2: expected the number of boxes, got {lines[1].strip()!r}") from None
    if count != len(rows):
        LOGGER.warning(f"{path}: the count line says {count} boxes, the file has {len(rows)} rows; all rows are read")
    return lines[0].strip(), np.asarray(rows, dtype=np.float64).reshape(-1, 5)


def read_predictions(pred_dir: str | Path, ground_truth: WiderFaceGroundTruth) -> dict[str, np.ndarray]:
    """The predictions of every ground-truth image that has a file ``pred_dir/<event>/<name>.txt``.

    Files are found by the ground truth's event and image names, as the official MATLAB code finds them; an image
    without a file is absent from the result (scored as no detections). Files of other images are not read.

    Args:
        pred_dir (str | Path): Folder of ``<event>/<name>.txt`` files.
        ground_truth (WiderFaceGroundTruth): Which images to read.

    Returns:
        (dict[str, np.ndarray]): ``"<event>/<name>"`` -> (N, 5) ``x y w h score`` rows in file order.

    Raises:
        FileNotFoundError: If ``pred_dir`` is not a folder or holds no file of any ground-truth image.
    """
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise FileNotFoundError(f"prediction folder '{pred_dir}' not found; expected <event>/<name>.txt files in it")
    predictions = {}
    for image in ground_truth.images:
        path = pred_dir / image.event / f"{image.name}.txt"
        if path.is_file():
            predictions[image.key] = read_prediction_file(path)[1]
    if not predictions and ground_truth.images:
        first = ground_truth.images[0]
        raise FileNotFoundError(
            f"no prediction file for any of the {len(ground_truth.images)} ground-truth images in '{pred_dir}', e.g. "
            f"{first.event}/{first.name}.txt; expected the official layout <event>/<name>.txt"
        )
    return predictions
