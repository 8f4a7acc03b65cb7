"""Build ``datasets/pcb-mini``, the small real PCB-defect dataset the package bundles, from the DeepPCB release.

Converts the DeepPCB ``PCBData`` folder with ``yolo_attention.data.convert_deeppcb`` into a temporary folder, then picks
a fixed-seed, greedy class-balanced subset (32 train and 8 val images by default) in which every one of the six defect
classes appears in both splits, and writes:

    datasets/pcb-mini/images/{train,val}/<DeepPCB id>.jpg
    datasets/pcb-mini/labels/{train,val}/<DeepPCB id>.txt
    datasets/pcb-mini/LICENSE            the DeepPCB MIT licence, with a provenance header
    datasets/pcb-mini.yaml               Ultralytics data YAML (no ``path:`` key: relative to its own folder)

Run from anywhere::

    python tools/make_pcb_mini.py --src /path/to/DeepPCB/PCBData
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

import yaml
from PIL import Image

try:
    from yolo_attention.data.deeppcb import DEEPPCB_CLASSES, convert_deeppcb
    from yolo_attention.data.yolo_labels import label_classes
except ModuleNotFoundError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from yolo_attention.data.deeppcb import DEEPPCB_CLASSES, convert_deeppcb
    from yolo_attention.data.yolo_labels import label_classes

__all__ = ["build_pcb_mini", "select_balanced"]

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = Path("/work/shared/datasets/deeppcb-trainval")
DEEPPCB_URL = "https://github.com/tangsanli5201/DeepPCB"
NAME = "pcb-mini"


def select_balanced(classes_by_id: dict[str, set[int]], n: int, rng: random.Random) -> list[str]:
    """Greedily pick ``n`` images so that every class appears, and class presence stays as even as possible.

    Each step takes the image maximising ``sum(1 / (1 + images_so_far[c]) for c in its classes)``: a class not yet
    present weighs 1, so uncovered classes are taken first; ties go to the earlier image in a seeded shuffle.

    Args:
        classes_by_id (dict[str, set[int]]): Candidate image ids and the class ids each contains.
        n (int): How many images to pick.
        rng (random.Random): Seeded generator that orders the candidates (the tie-break).

    Returns:
        (list[str]): The chosen ids, sorted.

    Raises:
        ValueError: If there are fewer than ``n`` candidates.

    Examples:
        >>> select_balanced({"a": {0}, "b": {0}, "c": {1}}, 2, random.Random(0))
        ['a', 'c']
    """
    if n > len(classes_by_id):
        raise ValueError(f"Cannot pick {n} images from {len(classes_by_id)} candidates; need at least {n}.")
    order = sorted(classes_by_id)
    rng.shuffle(order)
    presence: dict[int, int] = {}
    chosen: list[str] = []
    for _ in range(n):
        best = max(order, key=lambda i: sum(1 / (1 + presence.get(c, 0)) for c in classes_by_id[i]))
        order.remove(best)
        chosen.append(best)
        for c in classes_by_id[best]:
            presence[c] = presence.get(c, 0) + 1
    return sorted(chosen)


def build_pcb_mini(
    src: Path, out: Path, n_train: int = 32, n_val: int = 8, seed: int = 0, max_bytes: int = 4_000_000
) -> dict[str, dict[str, list[int]]]:
    """Convert DeepPCB, select the subset and write ``out/pcb-mini/`` and ``out/pcb-mini.yaml``.

    Args:
        src (Path): DeepPCB ``PCBData`` folder (holds ``trainval.txt`` and ``LICENSE`` or ``../LICENSE``).
        out (Path): Folder that receives ``pcb-mini/`` (replaced) and ``pcb-mini.yaml``.
        n_train (int): Training images.
        n_val (int): Validation images.
        seed (int): Seed of the candidate order; the same seed and source give the same files.
        max_bytes (int): If the selected JPEGs exceed this, they are re-encoded at JPEG quality 90.

    Returns:
        (dict[str, dict[str, list[int]]]): Per split (``train``, ``val``) and image id, the class id of each box.

    Raises:
        FileNotFoundError: If ``src`` or its ``LICENSE`` is missing.
        RuntimeError: If some class could not be placed in both splits.
    """
    licence = next((p for p in (src / "LICENSE", src.parent / "LICENSE") if p.is_file()), None)
    if licence is None:
        raise FileNotFoundError(f"No DeepPCB LICENSE in '{src}' or its parent; the bundled images must ship with it.")

    with tempfile.TemporaryDirectory(prefix="deeppcb-") as tmp:
        report = convert_deeppcb(src, tmp)
        converted = Path(tmp)
        labels = {
            f.stem: (split, label_classes(f))
            for split in report.splits
            for f in sorted((converted / "labels" / split).glob("*.txt"))
        }
        candidates = {i: set(cls) for i, (_, cls) in labels.items() if cls}  # background images teach little here
        rng = random.Random(seed)
        val = select_balanced(candidates, n_val, rng)
        train = select_balanced({i: c for i, c in candidates.items() if i not in val}, n_train, rng)
        chosen = {"train": {i: labels[i][1] for i in train}, "val": {i: labels[i][1] for i in val}}
        for split, images in chosen.items():
            absent = set(range(len(DEEPPCB_CLASSES))) - {c for cls in images.values() for c in cls}
            if absent:
                raise RuntimeError(f"Classes {sorted(absent)} missing from split '{split}'; try another --seed.")

        sources = {i: converted / "images" / labels[i][0] / f"{i}.jpg" for images in chosen.values() for i in images}
        reencode = sum(p.stat().st_size for p in sources.values()) > max_bytes
        root = out / NAME
        if root.exists():
            shutil.rmtree(root)
        for split, images in chosen.items():
            (root / "images" / split).mkdir(parents=True)
            (root / "labels" / split).mkdir(parents=True)
            for i in images:
                image_out = root / "images" / split / f"{i}.jpg"
                if reencode:
                    with Image.open(sources[i]) as im:
                        im.save(image_out, quality=90)
                else:
                    shutil.copyfile(sources[i], image_out)
                shutil.copyfile(converted / "labels" / labels[i][0] / f"{i}.txt", root / "labels" / split / f"{i}.txt")

    (root / "LICENSE").write_text(
        f"The images and annotations in this folder are from the DeepPCB release {DEEPPCB_URL} (MIT licence).\n"
        f"Selected and converted to YOLO format by tools/make_pcb_mini.py of yolo-attention. Original licence:\n\n"
        + licence.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    _write_yaml(out / f"{NAME}.yaml", n_train, n_val, seed, reencode)
    return chosen


def _write_yaml(file: Path, n_train: int, n_val: int, seed: int, reencoded: bool) -> None:
    images = "re-encoded at JPEG quality 90 with PIL" if reencoded else "copied unchanged"
    header = (
        f"# pcb-mini: {n_train + n_val} real PCB scans ({n_train} train, {n_val} val) with boxes of six defect types,\n"
        f"# for smoke tests, demos and tiny training runs. Every class appears in both splits.\n"
        f"# Source: DeepPCB {DEEPPCB_URL} (trainval split), MIT licence: see {NAME}/LICENSE.\n"
        f"# Built by tools/make_pcb_mini.py (seed {seed}): 640x640 binarised JPEGs {images}; labels in YOLO format.\n"
        f"# No 'path:' key: Ultralytics resolves train/val relative to this file's folder.\n"
    )
    data = {
        "train": f"{NAME}/images/train",
        "val": f"{NAME}/images/val",
        "names": dict(enumerate(DEEPPCB_CLASSES)),
    }
    file.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _print_counts(chosen: dict[str, dict[str, list[int]]], root: Path) -> None:
    splits = list(chosen)
    print(f"{'class':<10}" + "".join(f"{s + ' boxes':>14}{s + ' images':>14}" for s in splits))
    for c, name in enumerate(DEEPPCB_CLASSES):
        cells = "".join(
            f"{sum(cls.count(c) for cls in chosen[s].values()):>14}{sum(c in cls for cls in chosen[s].values()):>14}"
            for s in splits
        )
        print(f"{name:<10}{cells}")
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    print(f"{'total':<10}" + "".join(f"{sum(map(len, chosen[s].values())):>14}{len(chosen[s]):>14}" for s in splits))
    print(f"{root}: {size / 1e6:.2f} MB")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="DeepPCB PCBData folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "datasets", help="output folder (default: %(default)s)")
    parser.add_argument("--train", type=int, default=32, help="training images (default: %(default)s)")
    parser.add_argument("--val", type=int, default=8, help="validation images (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="selection seed (default: %(default)s)")
    args = parser.parse_args(argv)
    chosen = build_pcb_mini(args.src, args.out, args.train, args.val, args.seed)
    _print_counts(chosen, args.out / NAME)


if __name__ == "__main__":
    main()
