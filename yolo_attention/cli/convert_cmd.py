"""`yolo-attn convert deeppcb|hripcb|widerface`: public releases -> YOLO datasets (PCB detection, face pose).

Keys are the parameter names of `yolo_attention.data.convert_deeppcb` and `yolo_attention.data.hripcb.convert_hripcb`.
"""

from __future__ import annotations

import click

from yolo_attention.cli.errors import OneLineGroup
from yolo_attention.cli.overrides import key_value_command, parse_overrides, require

__all__ = ["DEEPPCB_KEYS", "HRIPCB_KEYS", "WIDERFACE_KEYS", "convert", "deeppcb", "hripcb", "widerface"]

DEEPPCB_KEYS = {"src": str, "out": str, "templates": bool}
HRIPCB_KEYS = {
    "src": str,
    "out": str,
    "tile": (int, None),
    "overlap": float,
    "val": float,
    "test": float,
    "seed": int,
    "min_visibility": float,
    "keep_empty": bool,
}


WIDERFACE_KEYS = {"src": str, "out": str}


@click.group(cls=OneLineGroup)
def convert():
    """Convert public datasets to YOLO format."""


@key_value_command()
def deeppcb(overrides):
    """DeepPCB release -> YOLO dataset: src=<PCBData folder> out=<dir> [templates=False].

    \b
    train/val from trainval.txt (val: the held-out 20 % of each dominant class, seed 0); test from test.txt,
    for the final figure only (yolo-attn val ... split=test). templates=True also copies each image's
    defect-free template to out/templates/<split>/.
    """
    from yolo_attention.data import convert_deeppcb

    args = parse_overrides(overrides, DEEPPCB_KEYS)
    require(args, "src", "out")
    report = convert_deeppcb(**args)
    click.echo(report.summary())
    click.echo(f"data YAML: {report.out / 'data.yaml'}")


@key_value_command()
def hripcb(overrides):
    """HRIPCB (PKU-Market-PCB) -> YOLO dataset: src=<PCB_DATASET folder> out=<dir> [tile=640 ...].

    \b
    Optional: tile=640 overlap=0.2 val=0.15 test=0.15 seed=0 min_visibility=0.5 keep_empty=True
    VOC XML under Annotations/<Class>/ (or a flat folder of .xml beside images); class names matched
    case-insensitively; a split by board (NN of NN_<defect>_MM, no board in two splits), stratified by
    class as far as boards allow, reproducible by seed; photos cut into overlapping tiles
    (tile=0 keeps whole boards), a defect labelled in a tile when min_visibility (0.5) of it is inside;
    keep_empty=False drops tiles without defects.
    """
    from yolo_attention.data.hripcb import convert_hripcb

    args = parse_overrides(overrides, HRIPCB_KEYS)
    require(args, "src", "out")
    report = convert_hripcb(**args)
    click.echo(report.summary())
    click.echo(f"data YAML: {report.out / 'data.yaml'}")


@key_value_command()
def widerface(overrides):
    """WIDER FACE with RetinaFace's five-landmark labels -> YOLO pose dataset: src=<root> out=<dir>.

    \b
    src holds train/label.txt and val/label.txt (RetinaFace's files) beside the images (train/images/<event>/ or
    WIDER_train/images/<event>/). Landmarks -1 become invisible, boxes with width or height <= 0 are dropped and
    counted, boxes are clipped to the image; the data YAML has kpt_shape [5, 3] and flip_idx [1, 0, 2, 4, 3].
    """
    from yolo_attention.data import convert_widerface

    args = parse_overrides(overrides, WIDERFACE_KEYS)
    require(args, "src", "out")
    report = convert_widerface(**args)
    click.echo(report.summary())


convert.add_command(deeppcb)
convert.add_command(hripcb)
convert.add_command(widerface)
