"""Face pose labels: a box and five landmarks as one Ultralytics pose line, and the face data YAML.

A face dataset is an Ultralytics pose dataset with one class (``face``) and five keypoints of three values each
(``kpt_shape: [5, 3]``): left eye, right eye, nose, left and right mouth corner, "left" meaning the point on the
image's left in a frontal face (RetinaFace's order). A horizontal flip swaps the eyes and the mouth corners
(``flip_idx: [1, 0, 2, 4, 3]``). A keypoint is ``x y v``, normalised by the image size, ``v`` 2 for a visible point
and 0 for a missing one (written ``0 0 0``: Ultralytics rejects negative label values). The WIDER FACE converter and
the synthetic faces both write through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = [
    "FACE_FLIP_IDX",
    "FACE_KPT_SHAPE",
    "FACE_LANDMARKS",
    "FACE_NAMES",
    "FacePose",
    "parse_pose_line",
    "pose_line",
    "read_pose_labels",
    "write_face_data_yaml",
    "write_pose_labels",
]

FACE_NAMES: tuple[str, ...] = ("face",)
"""The one class of a face dataset."""
FACE_LANDMARKS: tuple[str, ...] = ("left_eye", "right_eye", "nose", "left_mouth", "right_mouth")
"""The five keypoints in label order (RetinaFace's order; left = the image's left in a frontal face)."""
FACE_KPT_SHAPE: tuple[int, int] = (5, 3)
"""Keypoints per face and values per keypoint (``x, y, visibility``)."""
FACE_FLIP_IDX: tuple[int, ...] = (1, 0, 2, 4, 3)
"""Keypoint order after a horizontal flip: the eyes and the mouth corners swap."""

VISIBLE = 2
"""Visibility written for a labelled point (COCO's "labelled and visible"; Ultralytics treats any v > 0 as present)."""


@dataclass(frozen=True)
class FacePose:
    """One face in pixels: a box and its five landmarks.

    Attributes:
        box (tuple[float, float, float, float]): ``x1, y1, x2, y2``.
        keypoints (tuple[tuple[float, float, int], ...]): Five ``(x, y, v)`` in ``FACE_LANDMARKS`` order; ``v`` is 2
            for a labelled point, 0 for a missing one (its ``x, y`` are then meaningless).
    """

    box: tuple[float, float, float, float]
    keypoints: tuple[tuple[float, float, int], ...]

    @property
    def n_visible(self) -> int:
        """(int): Landmarks with ``v > 0``."""
        return sum(v > 0 for _, _, v in self.keypoints)


def pose_line(face: FacePose, width: int, height: int) -> str:
    """One Ultralytics pose label line (no newline): ``0 cx cy w h`` then ``x y v`` per landmark, 6 decimals.

    A missing landmark (``v == 0``) is written ``0.000000 0.000000 0``.

    Examples:
        >>> face = FacePose((0, 0, 64, 32), ((16, 8, 2), (48, 8, 2), (32, 16, 2), (20, 24, 0), (44, 24, 2)))
        >>> pose_line(face, 640, 320).split()[:8]
        ['0', '0.050000', '0.050000', '0.100000', '0.100000', '0.025000', '0.025000', '2']
        >>> pose_line(face, 640, 320).split()[14:17]
        ['0.000000', '0.000000', '0']
    """
    if len(face.keypoints) != FACE_KPT_SHAPE[0]:
        raise ValueError(f"a face needs {FACE_KPT_SHAPE[0]} keypoints, got {len(face.keypoints)}")
    x1, y1, x2, y2 = face.box
    fields = [f"0 {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} {(x2 - x1) / width:.6f}"]
    fields.append(f"{(y2 - y1) / height:.6f}")
    for x, y, v in face.keypoints:
        fields.append(f"{x / width:.6f} {y / height:.6f} {VISIBLE}" if v > 0 else "0.000000 0.000000 0")
    return " ".join(fields)


def parse_pose_line(line: str, width: int, height: int) -> FacePose:
    """The pixel face of one pose label line: the inverse of ``pose_line`` (up to its 6 decimals; any class).

    Raises:
        ValueError: If the line does not hold a class, a box and five ``x y v`` keypoints.

    Examples:
        >>> face = parse_pose_line("0 0.5 0.5 0.5 0.5" + " 0.25 0.5 2" * 4 + " 0 0 0", 100, 200)
        >>> face.box, face.keypoints[0], face.keypoints[4]
        ((25.0, 50.0, 75.0, 150.0), (25.0, 100.0, 2), (0.0, 0.0, 0))
    """
    n_kpt, ndim = FACE_KPT_SHAPE
    try:
        values = [float(f) for f in line.split()]
        if len(values) != 5 + n_kpt * ndim:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"expected a face pose label line 'cls cx cy w h' + {n_kpt} x 'x y v' ({5 + n_kpt * ndim} numbers), "
            f"got {line.strip()!r}"
        ) from None
    cx, cy, w, h = values[1:5]
    box = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
    points = values[5:]
    keypoints = tuple(
        (points[i] * width, points[i + 1] * height, int(points[i + 2])) for i in range(0, len(points), ndim)
    )
    return FacePose(box, keypoints)


def write_pose_labels(path: str | Path, faces: Iterable[FacePose], width: int, height: int) -> Path:
    """Write one pose label file, a ``pose_line`` and a newline per face; no faces give an empty file."""
    path = Path(path)
    path.write_text("".join(pose_line(face, width, height) + "\n" for face in faces), encoding="utf-8")
    return path


def read_pose_labels(path: str | Path, width: int, height: int) -> list[FacePose]:
    """The pixel faces of one pose label file (blank lines skipped); ``[]`` when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_pose_line(line, width, height) for line in lines if line.strip()]


def write_face_data_yaml(out: Path, splits: Mapping[str, str], comments: Sequence[str]) -> Path:
    """Write ``out/data.yaml`` of a face pose dataset: comments, the splits, ``kpt_shape``, ``flip_idx``, ``names``.

    No ``path:`` key, as ``yolo_dataset.write_data_yaml`` writes: Ultralytics resolves the splits against the YAML's
    own folder.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     print(write_face_data_yaml(Path(d), {"train": "images/train"}, ["faces"]).read_text(), end="")
        # faces
        train: images/train
        kpt_shape: [5, 3]
        flip_idx: [1, 0, 2, 4, 3]
        names:
          0: face
    """
    out.mkdir(parents=True, exist_ok=True)
    header = "".join(f"# {line}\n" for line in comments)
    body = yaml.safe_dump(dict(splits), sort_keys=False)
    body += f"kpt_shape: {list(FACE_KPT_SHAPE)}\nflip_idx: {list(FACE_FLIP_IDX)}\n"
    body += yaml.safe_dump({"names": dict(enumerate(FACE_NAMES))}, sort_keys=False)
    file = out / "data.yaml"
    file.write_text(header + body, encoding="utf-8")
    return file
