"""Synthetic faces with five known landmarks: a face pose dataset drawn from a seed, for demos and tests.

Each image is a colour gradient with a few distracting rectangles and discs, and one to three drawn faces: an
elliptic head (sometimes with hair), two eyes, a nose and a mouth, turned a little (the features shift sideways) and
rolled by up to 20 degrees. The five points are known exactly where they are drawn: the eye centres, the nose tip and
the mouth corners, in ``widerface_pose.FACE_LANDMARKS`` order (the left eye is on the image's left). The box is the
head ellipse's extent. Faces never overlap and lie wholly inside the image, so every keypoint is visible.

The bundled ``faces-synthetic.yaml`` is this generator's output with its defaults (``datasets/faces-synthetic/``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from yolo_attention.data.widerface_pose import FacePose, write_face_data_yaml, write_pose_labels
from yolo_attention.data.yolo_dataset import prepare_split_folders

__all__ = ["SYNTHETIC_DEFAULTS", "draw_face_image", "make_synthetic_faces"]

SYNTHETIC_DEFAULTS = {"n_train": 128, "n_val": 32, "imgsz": 160, "seed": 0}
"""The arguments the bundled ``datasets/faces-synthetic/`` was generated with."""

_SUPERSAMPLE = 2  # draw at twice the size, then downsample: smooth edges, still deterministic
_JPEG_QUALITY = 90
_SKIN = np.array([[255, 224, 196], [241, 194, 125], [224, 172, 105], [198, 134, 66], [141, 85, 36], [92, 58, 30]])
_HAIR = np.array([[20, 20, 20], [70, 45, 25], [130, 90, 50], [200, 170, 110], [150, 150, 150]])


def make_synthetic_faces(
    out: str | Path,
    n_train: int = SYNTHETIC_DEFAULTS["n_train"],
    n_val: int = SYNTHETIC_DEFAULTS["n_val"],
    imgsz: int = SYNTHETIC_DEFAULTS["imgsz"],
    seed: int = SYNTHETIC_DEFAULTS["seed"],
    progress: bool = False,
) -> Path:
    """Draw a face pose dataset: ``out/images/{train,val}/*.jpg``, ``out/labels/{train,val}/*.txt``, ``data.yaml``.

    Image ``i`` of a split depends only on ``(seed, split, i, imgsz)``, so the same arguments give the same files
    and a larger ``n_train`` keeps the first images. Labels are ``widerface_pose`` lines (one class, five keypoints,
    ``flip_idx: [1, 0, 2, 4, 3]``).

    Args:
        out (str | Path): Dataset root; created if needed. Images and labels an earlier run left there are removed.
        n_train (int): Training images. Defaults to 128.
        n_val (int): Validation images. Defaults to 32.
        imgsz (int): Side of the square images in pixels, at least 64. Defaults to 160.
        seed (int): Seed of the drawing. Defaults to 0.
        progress (bool): Show a progress bar.

    Returns:
        (Path): The written ``out/data.yaml``.

    Raises:
        ValueError: If a count is negative or ``imgsz`` is below 64.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     data = make_synthetic_faces(d, n_train=2, n_val=1, imgsz=64)
        ...     sorted(p.name for p in (data.parent / "labels" / "val").iterdir())
        ['val_00000.txt']
    """
    if n_train < 0 or n_val < 0:
        raise ValueError(f"n_train={n_train}, n_val={n_val}: image counts cannot be negative")
    if imgsz < 64:
        raise ValueError(f"imgsz={imgsz} is too small to draw faces with features; give at least 64")
    out = Path(out)
    for split_id, (split, n) in enumerate((("train", n_train), ("val", n_val))):
        folders = prepare_split_folders(out, split)
        for i in tqdm(range(n), desc=f"synthetic faces {split}", unit="img", disable=not progress):
            image, faces = draw_face_image(np.random.default_rng([seed, split_id, i]), imgsz)
            image.save(folders["images"] / f"{split}_{i:05d}.jpg", quality=_JPEG_QUALITY)
            write_pose_labels(folders["labels"] / f"{split}_{i:05d}.txt", faces, imgsz, imgsz)
    comments = [
        f"Synthetic faces with five known landmarks: {n_train} train and {n_val} val images of {imgsz}x{imgsz} px,",
        f"drawn by yolo_attention.data.faces_synthetic.make_synthetic_faces (seed {seed}).",
        "No 'path:' key: Ultralytics resolves train/val relative to this file's folder.",
        "Keypoints: left eye, right eye, nose, left and right mouth corner.",
    ]
    return write_face_data_yaml(out, {"train": "images/train", "val": "images/val"}, comments)


def draw_face_image(rng: np.random.Generator, imgsz: int) -> tuple[Image.Image, list[FacePose]]:
    """One ``imgsz`` x ``imgsz`` RGB image with one to three faces, and the faces' boxes and landmarks in pixels.

    Examples:
        >>> image, faces = draw_face_image(np.random.default_rng(0), 96)
        >>> image.size, 1 <= len(faces) <= 3, all(f.n_visible == 5 for f in faces)
        ((96, 96), True, True)
    """
    s = _SUPERSAMPLE
    size = imgsz * s
    canvas = Image.fromarray(_gradient(rng, size))
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(0, 4))):
        _distractor(rng, draw, size)
    faces: list[FacePose] = []
    for _ in range(int(rng.integers(1, 4))):
        for _try in range(20):  # place without overlap; give up on this face after 20 tries
            layout = _face_layout(rng, size, [f.box for f in faces])
            if layout is not None:
                faces.append(_draw_face(draw, layout))
                break
    image = canvas.resize((imgsz, imgsz), Image.Resampling.LANCZOS)
    scaled = [FacePose(tuple(c / s for c in f.box), tuple((x / s, y / s, v) for x, y, v in f.keypoints)) for f in faces]
    return image, scaled


def _gradient(rng: np.random.Generator, size: int) -> np.ndarray:
    """A linear blend of two random colours along a random direction, (size, size, 3) uint8."""
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    t = (xx * math.cos(angle) + yy * math.sin(angle) + 1.5) / 3
    return (a[None, None] * (1 - t[..., None]) + b[None, None] * t[..., None]).clip(0, 255).astype(np.uint8)


def _distractor(rng: np.random.Generator, draw: ImageDraw.ImageDraw, size: int) -> None:
    x, y = rng.uniform(0, size, 2)
    w, h = rng.uniform(0.05, 0.3, 2) * size
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    shape = draw.rectangle if rng.random() < 0.5 else draw.ellipse
    shape((x, y, x + w, y + h), fill=colour)


def _rotate(points: np.ndarray, centre: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, s], [-s, c]]) + centre


def _ellipse(cx: float, cy: float, a: float, b: float, n: int = 48, start: float = 0.0, end: float = 2 * math.pi):
    t = np.linspace(start, end, n, endpoint=end - start < 2 * math.pi)
    return np.stack([cx + a * np.cos(t), cy + b * np.sin(t)], axis=1)


def _face_layout(rng: np.random.Generator, size: int, taken: list[tuple[float, float, float, float]]) -> dict | None:
    """Where and how to draw one face: a head that lies inside the canvas and overlaps no box of ``taken``, or None."""
    a = rng.uniform(0.09, 0.21) * size  # half-width of the head
    b = a * rng.uniform(1.15, 1.35)
    angle = math.radians(rng.uniform(-20, 20))
    head = _rotate(_ellipse(0, 0, a, b, 96), np.zeros(2), angle)
    lo, hi = head.min(0), head.max(0)
    centre = np.array([rng.uniform(-lo[0] + 1, size - hi[0] - 1), rng.uniform(-lo[1] + 1, size - hi[1] - 1)])
    box = tuple(float(v) for v in (*(lo + centre), *(hi + centre)))
    if any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken):
        return None
    return {
        "a": a,
        "b": b,
        "angle": angle,
        "centre": centre,
        "box": box,
        "turn": rng.uniform(-0.15, 0.15) * a,  # a turned head: the features shift sideways
        "skin": np.clip(_SKIN[rng.integers(len(_SKIN))] + rng.integers(-15, 16, 3), 0, 255),
        "hair": _HAIR[rng.integers(len(_HAIR))] if rng.random() < 0.6 else None,
        "eye": rng.uniform(0.11, 0.15),
        "smile": rng.uniform(-0.05, 0.12),
    }


def _draw_face(draw: ImageDraw.ImageDraw, layout: dict) -> FacePose:
    """Draw the face a ``_face_layout`` describes; its box and the five points where they were drawn."""
    a, b, turn, skin = layout["a"], layout["b"], layout["turn"], layout["skin"]

    def place(points) -> list[tuple[float, float]]:
        return [tuple(p) for p in _rotate(np.asarray(points, float).reshape(-1, 2), layout["centre"], layout["angle"])]

    def colour(rgb) -> tuple[int, ...]:
        return tuple(int(c) for c in rgb)

    draw.polygon(place(_ellipse(0, 0, a, b, 96)), fill=colour(skin), outline=colour(skin * 0.6))
    if layout["hair"] is not None:
        draw.polygon(place(_ellipse(0, 0, a, b, 48, math.pi * 1.08, math.pi * 1.92)), fill=colour(layout["hair"]))
    eyes = [(-0.38 * a + turn, -0.12 * b), (0.38 * a + turn, -0.12 * b)]
    r = layout["eye"] * a
    for ex, ey in eyes:
        draw.polygon(place(_ellipse(ex, ey, r * 1.4, r * 0.8, 24)), fill=(250, 250, 250), outline=(40, 40, 40))
        draw.polygon(place(_ellipse(ex, ey, r * 0.55, r * 0.55, 16)), fill=(30, 30, 60))
    nose = (1.4 * turn, 0.22 * b)
    wings = [(turn, -0.02 * b), (nose[0] - 0.12 * a, nose[1]), (nose[0] + 0.12 * a, nose[1])]
    draw.polygon(place(wings), fill=colour(skin * 0.75))
    mouth = [(-0.34 * a + turn, 0.5 * b), (0.34 * a + turn, 0.5 * b)]
    ts = np.linspace(0, 1, 12)
    lip_x = mouth[0][0] + (mouth[1][0] - mouth[0][0]) * ts
    lip = np.stack([lip_x, (0.5 + layout["smile"] * np.sin(np.pi * ts)) * b], axis=1)
    draw.line(place(lip), fill=(150, 40, 50), width=max(2, round(0.06 * a)))
    keypoints = place([*eyes, nose, *mouth])
    return FacePose(layout["box"], tuple((float(x), float(y), 2) for x, y in keypoints))
