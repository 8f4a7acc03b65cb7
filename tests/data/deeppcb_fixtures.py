"""Writing DeepPCB fixtures in the release's own layout (``groupNNNNN/NNNNN/<id>_test.jpg``, ``NNNNN_not/<id>.txt``)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def jpeg(path: Path, size: tuple[int, int] = (640, 640)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, color=255).save(path, quality=50)


def board(src: Path, image_id: str, annotation: str | None, size=(640, 640), image=True, template=True) -> str:
    """Write one board in the release layout; return its list line (image path names ``<id>.jpg``, as released)."""
    folder, notes = src / "group00000" / "00000", src / "group00000" / "00000_not"
    if image:
        jpeg(folder / f"{image_id}_test.jpg", size)
    if template:
        jpeg(folder / f"{image_id}_temp.jpg", size)
    if annotation is not None:
        notes.mkdir(parents=True, exist_ok=True)
        (notes / f"{image_id}.txt").write_text(annotation)
    return f"group00000/00000/{image_id}.jpg group00000/00000_not/{image_id}.txt"


def stems(folder: Path) -> set[str]:
    return {p.stem for p in folder.iterdir()} if folder.is_dir() else set()
