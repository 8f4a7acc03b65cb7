"""Reading WIDER FACE's official validation ground truth: the four MATLAB files its evaluation code reads.

``wider_face_val.mat`` holds, per event (61), the event name (``event_list``), its image names without ``.jpg``
(``file_list``) and each image's face boxes as ``x y w h`` in pixels (``face_bbx_list``). ``wider_easy_val.mat``,
``wider_medium_val.mat`` and ``wider_hard_val.mat`` hold the same lists plus ``gt_list``: per image, the 1-based indices
of the faces that count in that subset (Hard includes Medium, which includes Easy). scipy loads MATLAB cell arrays as
nested object arrays: ``event_list[i][0][0]``, ``file_list[i][0][j][0][0]``, ``face_bbx_list[i][0][j][0]`` (G x 4),
``gt_list[i][0][j][0]`` (K x 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["GT_FILES", "SUBSETS", "GroundTruthImage", "WiderFaceGroundTruth", "read_ground_truth"]

SUBSETS: tuple[str, ...] = ("easy", "medium", "hard")
"""The three settings of the official evaluation, in its order."""
GT_FILES: dict[str, str] = {
    "all": "wider_face_val.mat",
    "easy": "wider_easy_val.mat",
    "medium": "wider_medium_val.mat",
    "hard": "wider_hard_val.mat",
}
"""The file each part of the ground truth is read from, in the folder given as ``gt``."""


@dataclass(frozen=True)
class GroundTruthImage:
    """One validation image: where it is, its faces, and which of them count in each subset.

    Attributes:
        event (str): The event folder, e.g. ``0--Parade``.
        name (str): The image name without ``.jpg``, e.g. ``0_Parade_marchingband_1_465``.
        boxes (np.ndarray): (G, 4) float64 ``x y w h`` in pixels, as the ``.mat`` gives them.
        subsets (dict[str, np.ndarray]): Per subset, the 0-based indices of the faces that count, as listed (the
            official code counts a subset's faces as the length of this list).
    """

    event: str
    name: str
    boxes: np.ndarray
    subsets: dict[str, np.ndarray]

    @property
    def key(self) -> str:
        """(str): ``<event>/<name>``, the image's prediction file without ``.txt``."""
        return f"{self.event}/{self.name}"


@dataclass(frozen=True)
class WiderFaceGroundTruth:
    """The validation ground truth, images in the ``.mat`` files' order (event by event).

    Attributes:
        images (tuple[GroundTruthImage, ...]): Every image.
        folder (Path): Where it was read from.

    Examples:
        >>> image = GroundTruthImage("0--Parade", "0_a", np.zeros((2, 4)), {"easy": np.array([0])})
        >>> gt = WiderFaceGroundTruth((image,), Path("."))
        >>> gt.n_faces(), gt.n_faces("easy"), gt.events, gt.event_of("0_a")
        (2, 1, ['0--Parade'], '0--Parade')
    """

    images: tuple[GroundTruthImage, ...]
    folder: Path
    _by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_name", {image.name: image.event for image in self.images})

    @property
    def events(self) -> list[str]:
        """(list[str]): Event names in order."""
        return list(dict.fromkeys(image.event for image in self.images))

    def n_faces(self, subset: str | None = None) -> int:
        """Faces in all images (``None``) or faces that count in one subset."""
        if subset is None:
            return sum(len(image.boxes) for image in self.images)
        return sum(len(image.subsets.get(subset, ())) for image in self.images)

    def event_of(self, name: str) -> str | None:
        """The event of an image name (with or without ``.jpg``); None for a name not in the ground truth."""
        return self._by_name.get(name[:-4] if name.lower().endswith(".jpg") else name)


def _cells(array: np.ndarray) -> list:
    """The elements of a MATLAB cell column (N x 1 object array, as scipy loads it)."""
    return [cell for cell in np.asarray(array, dtype=object).reshape(-1)]


def _text(cell) -> str:
    return str(np.asarray(cell).reshape(-1)[0])


def _load(path: Path, keys: tuple[str, ...]) -> dict:
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
    except Exception as e:  # scipy raises several types for a file that is not a MATLAB file
        raise ValueError(f"'{path}' is not a readable MATLAB file ({e})") from None
    missing = [k for k in keys if k not in mat]
    if missing:
        raise ValueError(f"'{path}' lacks {', '.join(missing)}; expected WIDER FACE's official evaluation file")
    return mat


def read_ground_truth(gt_dir: str | Path) -> WiderFaceGroundTruth:
    """Read the four official ``.mat`` files from one folder.

    Args:
        gt_dir (str | Path): Folder with ``wider_face_val.mat``, ``wider_easy_val.mat``, ``wider_medium_val.mat``
            and ``wider_hard_val.mat`` (the official evaluation code's ``ground_truth`` folder).

    Returns:
        (WiderFaceGroundTruth): 3,226 images and 39,708 faces for the real files (7,211 / 13,319 / 31,958 counting
        in Easy / Medium / Hard).

    Raises:
        FileNotFoundError: If the folder or one of the four files is missing.
        ValueError: If a file is not in the official structure, or the subset files disagree with the face list.
    """
    gt_dir = Path(gt_dir)
    absent = [name for name in GT_FILES.values() if not (gt_dir / name).is_file()]
    if absent:
        raise FileNotFoundError(
            f"WIDER FACE ground truth incomplete in '{gt_dir}': missing {', '.join(absent)}; expected the four files "
            f"of the official evaluation code ({', '.join(GT_FILES.values())})"
        )
    face = _load(gt_dir / GT_FILES["all"], ("event_list", "file_list", "face_bbx_list"))
    subset_lists = {s: _cells(_load(gt_dir / GT_FILES[s], ("gt_list",))["gt_list"]) for s in SUBSETS}
    events, files, boxes = (_cells(face[k]) for k in ("event_list", "file_list", "face_bbx_list"))
    if not len(events) == len(files) == len(boxes) or any(len(g) != len(events) for g in subset_lists.values()):
        raise ValueError(f"'{gt_dir}': the event counts of the four files differ; not WIDER FACE's official files")

    images = []
    for i, event_cell in enumerate(events):
        event = _text(event_cell)
        names, event_boxes = _cells(files[i]), _cells(boxes[i])
        keeps = {s: _cells(g[i]) for s, g in subset_lists.items()}
        if len(names) != len(event_boxes) or any(len(k) != len(names) for k in keeps.values()):
            raise ValueError(f"'{gt_dir}': event {event} lists different image counts in the four files")
        for j, name_cell in enumerate(names):
            face_boxes = np.asarray(event_boxes[j], dtype=np.float64).reshape(-1, 4)
            subsets = {}
            for s, keep in keeps.items():
                index = np.asarray(keep[j]).reshape(-1).astype(np.int64) - 1
                if len(index) and (index.min() < 0 or index.max() >= len(face_boxes)):
                    raise ValueError(
                        f"'{GT_FILES[s]}': image {event}/{_text(name_cell)} names face {index.max() + 1} of "
                        f"{len(face_boxes)}"
                    )
                subsets[s] = index
            images.append(GroundTruthImage(event, _text(name_cell), face_boxes, subsets))
    return WiderFaceGroundTruth(tuple(images), gt_dir)
