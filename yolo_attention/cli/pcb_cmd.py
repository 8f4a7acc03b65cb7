"""PCB commands of `yolo-attn`: sliced prediction on full boards, DeepPCB's protocol, the HRIPCB converter.

``predict`` and ``val`` are top-level commands; ``hripcb`` belongs in the ``convert`` group
(``convert.add_command(hripcb)``). Arguments use Ultralytics' ``key=value`` grammar.
"""

from __future__ import annotations

from pathlib import Path

import click

from yolo_attention.cli.overrides import parse_overrides

__all__ = ["hripcb", "predict", "val"]

PREDICT_DEFAULTS = {"slice": 640, "overlap": 0.2, "conf": 0.25, "out": "runs/predict", "format": "json"}
PREDICT_KEYS = {*PREDICT_DEFAULTS, "model", "source", "imgsz", "device", "merge", "merge_metric", "merge_threshold"}
PREDICT_KEYS |= {"full", "visuals"}

VAL_DEFAULTS = {"protocol": None, "imgsz": 640, "out": "runs/val", "split": "val", "conf": 0.25, "batch": 16}
VAL_KEYS = {*VAL_DEFAULTS, "model", "data", "device"}
PROTOCOLS = ("deeppcb", "ultralytics")

HRIPCB_DEFAULTS = {"tile": 640, "overlap": 0.2, "val": 0.15, "test": 0.15, "seed": 0, "min_visibility": 0.5}
HRIPCB_KEYS = {*HRIPCB_DEFAULTS, "src", "out", "keep_empty"}


def _protocol_for(data: str) -> str:
    """``deeppcb`` for data with DeepPCB's six classes, else Ultralytics' own metrics."""
    from ultralytics.data.utils import check_det_dataset

    from yolo_attention.data import DEEPPCB_CLASSES

    names = check_det_dataset(data).get("names", {})
    names = list(names.values()) if isinstance(names, dict) else list(names)
    return "deeppcb" if names == list(DEEPPCB_CLASSES) else "ultralytics"


def _require(args: dict, *keys: str) -> None:
    missing = [k for k in keys if args.get(k) in (None, "")]
    if missing:
        raise click.UsageError(f"missing {' and '.join(k + '=...' for k in missing)}")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def predict(overrides):
    """Sliced prediction on full boards: model= source= [slice=640 overlap=0.2 conf=0.25 out= format=json].

    \b
    Each board is cut into overlapping slice x slice tiles (sahi), predicted tile by tile at the tile's own
    resolution, and the boxes are merged back into board pixels. Written to out= (default runs/predict):
    <board>.png with the boxes drawn, and defects.json (per board, with its size) or defects.csv (one row per
    defect: image, class, class_id, confidence, x1, y1, x2, y2), or both with format=both.

    \b
    slice=0                      predict whole images (no slicing)
    imgsz=640                    inference size per tile (default: the slice size)
    merge=GREEDYNMM              merge of overlapping tiles' boxes: GREEDYNMM (sahi's default), NMM, NMS
    merge_metric=IOS merge_threshold=0.5
    full=True                    also predict the whole board shrunk to imgsz and merge it in
    visuals=False                no annotated images
    """
    from yolo_attention.inference.sliced import predict_boards

    args = {**PREDICT_DEFAULTS, **parse_overrides(overrides, PREDICT_KEYS)}
    _require(args, "model", "source")
    merge = {k: args[k] for k in ("merge", "merge_metric", "merge_threshold") if k in args}
    out = Path(str(args["out"])).resolve()
    defects = predict_boards(
        str(args["model"]),
        str(args["source"]),
        slice_size=int(args["slice"]),
        overlap=float(args["overlap"]),
        conf=float(args["conf"]),
        imgsz=int(args["imgsz"]) if args.get("imgsz") else None,
        device=str(args["device"]) if args.get("device") is not None else None,
        out=out,
        fmt=str(args["format"]),
        visuals=bool(args.get("visuals", True)),
        full_image=bool(args.get("full", False)),
        **merge,
    )
    boards = {d.image for d in defects}
    click.echo(f"{len(defects)} defects on {len(boards)} board(s) with defects; results in {out}")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def val(overrides):
    """Validate: model= data= [protocol= imgsz=640 split=val conf=0.25 out=runs/val].

    \b
    protocol= defaults to deeppcb for data with DeepPCB's six classes, else ultralytics.

    \b
    protocol=deeppcb     DeepPCB's released evaluation script, exactly: each defect pairs with the first free
                         detection by confidence at IoU > 0.33 whatever its type, correct if the types are
                         equal; one AP over all types, and precision, recall, F at conf. Writes
                         out/submission/res.zip, out/ground_truth/gt.zip, out/deeppcb_metrics.json.
    protocol=ultralytics Ultralytics' own validation (mAP50, mAP50-95), saved under out/.
    """
    args = {**VAL_DEFAULTS, **parse_overrides(overrides, VAL_KEYS)}
    _require(args, "model", "data")
    protocol = str(args["protocol"] or _protocol_for(str(args["data"]))).lower()
    if protocol not in PROTOCOLS:
        raise click.UsageError(f"protocol={protocol} is not one of {', '.join(PROTOCOLS)}")
    out = Path(str(args["out"])).resolve()
    device = str(args["device"]) if args.get("device") is not None else None
    if protocol == "ultralytics":
        from ultralytics import YOLO

        import yolo_attention  # noqa: F401

        metrics = YOLO(str(args["model"])).val(
            data=str(args["data"]),
            imgsz=int(args["imgsz"]),
            split=str(args["split"]),
            batch=int(args["batch"]),
            device=device,
            project=str(out),
            name="ultralytics",
        )
        click.echo(f"mAP50 {metrics.box.map50:.4f}  mAP50-95 {metrics.box.map:.4f}  ({metrics.save_dir})")
        return

    from yolo_attention.eval.deeppcb import evaluate_model, format_report

    conf = float(args["conf"])
    result, submission = evaluate_model(
        str(args["model"]),
        str(args["data"]),
        split=str(args["split"]),
        imgsz=int(args["imgsz"]),
        conf=conf,
        batch=int(args["batch"]),
        device=device,
        out=out,
    )
    click.echo(format_report(result, conf, submission))


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
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

    args = {**HRIPCB_DEFAULTS, **parse_overrides(overrides, HRIPCB_KEYS)}
    _require(args, "src", "out")
    report = convert_hripcb(
        str(args["src"]),
        str(args["out"]),
        tile=int(args["tile"] or 0),
        overlap=float(args["overlap"]),
        val=float(args["val"]),
        test=float(args["test"]),
        seed=int(args["seed"]),
        min_visibility=float(args["min_visibility"]),
        keep_empty=bool(args.get("keep_empty", True)),
    )
    click.echo(report.summary())
    click.echo(f"data YAML: {report.out / 'data.yaml'}")
