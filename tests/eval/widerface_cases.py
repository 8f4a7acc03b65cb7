"""Shared WIDER FACE test material: a ground truth written with scipy in the official .mat structure, and paths."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REFERENCE_DIR = Path(os.environ.get("WIDERFACE_REFERENCE", "/work/shared/tools/widerface-reference"))
REAL_GT = Path("/work/shared/datasets/widerface-val-gt")
TOOL = Path(__file__).resolve().parents[2] / "tools" / "check_widerface_reference.py"

needs_real_gt = pytest.mark.skipif(
    not (REAL_GT / "wider_face_val.mat").is_file(), reason=f"needs the official ground truth in {REAL_GT}"
)
needs_reference = pytest.mark.skipif(
    not (REFERENCE_DIR / "evaluation.py").is_file(),
    reason=f"needs the reference port in {REFERENCE_DIR} ($WIDERFACE_REFERENCE)",
)

Image = tuple[str, list[tuple[float, float, float, float]], dict[str, list[int]]]
"""``(name, faces as x y w h, {subset: 0-based indices of the faces that count})``."""


def _cell(items: list) -> np.ndarray:
    """A MATLAB cell column: an (N, 1) object array."""
    column = np.empty((len(items), 1), dtype=object)
    for i, item in enumerate(items):
        column[i, 0] = item
    return column


def write_gt(folder: Path, events: dict[str, list[Image]]) -> Path:
    """Write the four official .mat files for ``events`` (event -> images), as scipy loads the real ones.

    Faces are int32 ``x y w h`` (G x 4); subset indices are 1-based uint8 columns (K x 1), as in the real files.
    """
    from scipy.io import savemat

    folder.mkdir(parents=True, exist_ok=True)
    event_list = _cell([np.array([event]) for event in events])
    file_list = _cell([_cell([np.array([name]) for name, _, _ in images]) for images in events.values()])
    boxes = _cell(
        [_cell([np.array(faces, np.int32).reshape(-1, 4) for _, faces, _ in images]) for images in events.values()]
    )
    common = {"event_list": event_list, "file_list": file_list, "face_bbx_list": boxes}
    savemat(str(folder / "wider_face_val.mat"), common)
    for subset in ("easy", "medium", "hard"):
        gt_list = _cell(
            [
                _cell([np.array(kept.get(subset, []), np.uint8).reshape(-1, 1) + 1 for _, _, kept in images])
                for images in events.values()
            ]
        )
        savemat(str(folder / f"wider_{subset}_val.mat"), {**common, "gt_list": gt_list})
    return folder


# Two images of one event. Face a2 counts in no subset (the official "ignore" faces); a1 only in medium and hard.
HAND_GT = {
    "0--Parade": [
        (
            "0_Parade_a",
            [(0, 0, 20, 20), (100, 100, 20, 20), (200, 200, 10, 10)],
            {"easy": [0], "medium": [0, 1], "hard": [0, 1]},
        ),
        ("0_Parade_b", [(0, 0, 30, 30)], {"easy": [0], "medium": [0], "hard": [0]}),
    ]
}
HAND_PERFECT = {  # one exact box per face, distinct scores
    "0--Parade/0_Parade_a": [[0, 0, 20, 20, 0.8], [100, 100, 20, 20, 0.6], [200, 200, 10, 10, 0.5]],
    "0--Parade/0_Parade_b": [[0, 0, 30, 30, 0.7]],
}
