"""`yolo-attn val`: validation by DeepPCB's own protocol or by Ultralytics' metrics, chosen from the data.

Keys are the parameter names of `yolo_attention.eval.deeppcb.evaluate_model`, plus ``protocol``.
"""

from __future__ import annotations

from pathlib import Path

import click

from yolo_attention.cli.overrides import check_model_path, key_value_command, parse_overrides, require
from yolo_attention.eval.protocol import PROTOCOLS, protocol_for

__all__ = ["PROTOCOLS", "VAL_DEFAULTS", "VAL_KEYS", "WIDERFACE_KEYS", "protocol_for", "val", "widerface_eval"]

VAL_KEYS = {
    "model": str,
    "data": str,
    "protocol": (str, None),
    "imgsz": int,
    "split": str,
    "conf": float,
    "batch": int,
    "device": (str, None),
    "out": str,
}
# protocol=widerface also takes these (`yolo_attention.eval.widerface.evaluate_model`'s own parameters).
WIDERFACE_KEYS = {"gt": str, "iou": float, "max_det": int}
# Every protocol gets these, so Ultralytics' validation does not fall back to the checkpoint's training imgsz.
# imgsz, split, conf and batch equal evaluate_model's defaults (a test checks).
VAL_DEFAULTS = {"protocol": None, "imgsz": 640, "split": "val", "conf": 0.25, "batch": 16, "out": "runs/val"}


@key_value_command()
def val(overrides):
    """Validate: model= data= [protocol= imgsz=640 split=val conf=0.25 batch=16 device= out=runs/val].

    \b
    protocol= defaults to deeppcb for data with DeepPCB's six classes, widerface when gt= is given, else
    ultralytics.

    \b
    protocol=deeppcb     DeepPCB's released evaluation script, exactly: each defect pairs with the first free
                         detection by confidence at IoU > 0.33 whatever its type, correct if the types are
                         equal; one AP over all types, and precision, recall, F at conf. Writes
                         out/submission/res.zip, out/ground_truth/gt.zip, out/deeppcb_metrics.json.
    protocol=ultralytics Ultralytics' own validation (mAP50, mAP50-95), saved under out/ (conf= not used).
    protocol=widerface   WIDER FACE's official evaluation (Easy / Medium / Hard AP) against gt=<folder with
                         wider_face_val.mat and wider_{easy,medium,hard}_val.mat>; predicts with the protocol's
                         settings (conf=0.02 iou=0.5 max_det=1000 imgsz=640 unless given) and writes
                         out/predictions/<event>/<name>.txt in the official layout.
    """
    from yolo_attention.inference.values import check_conf, check_imgsz

    given = parse_overrides(overrides, {**VAL_KEYS, **WIDERFACE_KEYS})
    args = {**VAL_DEFAULTS, **given}
    require(args, "model", "data")
    check_model_path(args["model"])
    check_imgsz(args["imgsz"])  # Ultralytics would run imgsz=-3 at 32 and score anything at conf=5
    check_conf(args["conf"])
    protocol = str(args.pop("protocol") or ("widerface" if "gt" in args else protocol_for(args["data"]))).lower()
    if protocol not in PROTOCOLS:
        raise click.UsageError(f"protocol={protocol} is not one of {', '.join(PROTOCOLS)}")
    extra = sorted(set(given) & set(WIDERFACE_KEYS))
    if protocol != "widerface" and extra:
        raise click.UsageError(f"{', '.join(k + '=' for k in extra)} only apply to protocol=widerface")
    args["out"] = Path(args["out"]).resolve()
    if protocol == "widerface":
        from yolo_attention.eval.widerface import WIDERFACE_PREDICT, evaluate_model

        require(args, "gt")
        args = {**args, **{k: v for k, v in WIDERFACE_PREDICT.items() if k not in given}}
        result, _ = evaluate_model(args.pop("model"), args.pop("data"), args.pop("gt"), **args)
        click.echo(result.summary())
        return
    if protocol == "ultralytics":
        from ultralytics import YOLO

        import yolo_attention  # noqa: F401

        metrics = YOLO(args["model"]).val(
            data=args["data"],
            imgsz=args["imgsz"],
            split=args["split"],
            batch=args["batch"],
            device=args.get("device"),
            project=str(args["out"]),
            name="ultralytics",
        )
        click.echo(f"mAP50 {metrics.box.map50:.4f}  mAP50-95 {metrics.box.map:.4f}  ({metrics.save_dir})")
        return

    from yolo_attention.eval.deeppcb import evaluate_model, format_report

    result, submission = evaluate_model(args.pop("model"), args.pop("data"), **args)
    click.echo(format_report(result, args["conf"], submission))


@key_value_command("widerface-eval")
def widerface_eval(overrides):
    """Score any detector's WIDER FACE predictions: pred=<folder of <event>/<name>.txt> gt=<folder of the .mat files>.

    \b
    Easy, Medium and Hard AP exactly as the official evaluation: scores normalised over the whole set, a match at
    IoU >= 0.5, faces outside the subset ignored, 1,000 thresholds, VOC all-point AP.
    """
    from yolo_attention.eval.widerface import evaluate_widerface

    args = parse_overrides(overrides, {"pred": str, "gt": str})
    require(args, "pred", "gt")
    click.echo(evaluate_widerface(args["pred"], args["gt"]).summary())
