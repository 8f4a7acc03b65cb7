"""The project's held-out DeepPCB split, as a dataset on disk: the one place tools/ get real data from.

Converts ``../shared/datasets/deeppcb-trainval`` (the DeepPCB release's trainval part) and splits it with
``yolo_attention.data.splits`` (20 % held out, seed 0, stratified by each image's dominant defect class). Writes:

    <out>/images/{train,val}, labels/...        the converted release, split by the converter
    <out>/train.txt, val.txt                    the split (absolute image paths)
    <out>/train_no_mini.txt                     train.txt without the images bundled in pcb-mini
    <out>/holdout.yaml                          train: train.txt, val: val.txt
    <out>/baseline.yaml                         train: train_no_mini.txt, val: val.txt (the shipped baseline's data)

    python tools/deeppcb_holdout.py --out runs/deeppcb
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without the package installed
    sys.path.insert(0, str(REPO_ROOT))

from yolo_attention.data.deeppcb import DEEPPCB_CLASSES, convert_deeppcb  # noqa: E402
from yolo_attention.data.splits import HOLDOUT_FRACTION, HOLDOUT_SEED  # noqa: E402

DEFAULT_SRC = REPO_ROOT.parent / "shared" / "datasets" / "deeppcb-trainval"
PCB_MINI_IMAGES = REPO_ROOT / "datasets" / "pcb-mini" / "images"


def build_holdout(src: Path = DEFAULT_SRC, out: Path = Path("runs/deeppcb")) -> Path:
    """Convert DeepPCB trainval (once) and write the held-out split; returns ``<out>/holdout.yaml``."""
    out = out.resolve()
    if not any((out / "images" / "val").glob("*.jpg")):
        convert_deeppcb(src, out)  # train/val: the held-out split of yolo_attention.data.splits
    images = {p.stem: p for s in ("train", "val") for p in sorted((out / "images" / s).glob("*.jpg"))}
    train = sorted(p.stem for p in (out / "images" / "train").glob("*.jpg"))
    val = sorted(p.stem for p in (out / "images" / "val").glob("*.jpg"))
    mini = {p.stem for p in PCB_MINI_IMAGES.glob("*/*.jpg")}
    lists = {"train": train, "val": val, "train_no_mini": [k for k in train if k not in mini]}
    for name, keys in lists.items():
        (out / f"{name}.txt").write_text("".join(f"{images[k]}\n" for k in keys))
    names = dict(enumerate(DEEPPCB_CLASSES))
    for name, train_list in (("holdout", "train.txt"), ("baseline", "train_no_mini.txt")):
        data = {"path": str(out), "train": train_list, "val": "val.txt", "names": names}
        (out / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    print(
        f"DeepPCB trainval: {len(images)} images -> train {len(train)} (without pcb-mini: "
        f"{len(lists['train_no_mini'])}), held-out val {len(val)} "
        f"(fraction {HOLDOUT_FRACTION}, seed {HOLDOUT_SEED}, stratified by dominant class)"
    )
    return out / "holdout.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--out", type=Path, default=Path("runs/deeppcb"))
    args = parser.parse_args()
    print(build_holdout(args.src, args.out))


if __name__ == "__main__":
    main()
