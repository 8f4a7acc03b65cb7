"""`yolo-attn predict`: sliced prediction on full boards, written as annotated images and a JSON/CSV of defects.

Keys are the parameter names of `yolo_attention.inference.sliced.predict_boards` (and of `predict_board`, which its
``**merge`` reaches).
"""

from __future__ import annotations

from pathlib import Path

import click

from yolo_attention.cli.overrides import DEPRECATED_KEYS, check_model_path, key_value_command, parse_overrides, require

__all__ = ["POSE_KEYS", "PREDICT_DEFAULTS", "PREDICT_KEYS", "predict"]

PREDICT_KEYS = {
    "model": str,
    "source": str,
    "slice_size": int,
    "overlap": float,
    "conf": float,
    "imgsz": (int, None),
    "device": (str, None),
    "out": str,
    "format": str,
    "visuals": bool,
    "full_image": bool,
    "merge": str,
    "merge_metric": str,
    "merge_threshold": float,
}
# Keys a pose (face) model takes: `yolo_attention.inference.keypoints.predict_keypoints`'s parameters.
POSE_KEYS = {"model", "source", "out", "conf", "imgsz", "device", "visuals"}
# Where the command differs from the Python default (None: write nothing).
PREDICT_DEFAULTS = {"out": "runs/predict"}


@key_value_command()
def predict(overrides):
    """Sliced prediction on full boards: model= source= [slice_size=640 overlap=0.2 conf=0.25 out= format=json].

    \b
    Each board is cut into overlapping slice_size x slice_size tiles (sahi), predicted tile by tile at the tile's
    own resolution, and the boxes are merged back into board pixels. Written to out= (default runs/predict):
    <board>.png with the boxes drawn, and defects.json (per board, with its size) or defects.csv (one row per
    defect: image, class, class_id, confidence, x1, y1, x2, y2), or both with format=both (or format=json,csv).

    \b
    slice_size=0                 predict whole images (no slicing)
    imgsz=640                    inference size per tile (default: the slice size)
    device=cpu                   inference device, as Ultralytics takes it
    merge=GREEDYNMM              merge of overlapping tiles' boxes: GREEDYNMM (sahi's default), NMM, NMS
    merge_metric=IOS merge_threshold=0.5
    full_image=True              also predict the whole board shrunk to imgsz and merge it in
    visuals=False                no annotated images
    A pose model (e.g. yolov8n-face-ecasam-lite) is predicted on whole images instead: boxes and their keypoints
    drawn, and keypoints.json (keys model, source, out, conf, imgsz, device, visuals).
    (slice= and full= are the deprecated names of slice_size= and full_image=)
    """
    from yolo_attention.inference.sliced import predict_boards

    given = parse_overrides(overrides, PREDICT_KEYS, aliases=DEPRECATED_KEYS["predict"])
    args = {**PREDICT_DEFAULTS, **given}
    require(args, "model", "source")
    check_model_path(args["model"])
    if "format" in args:
        args["format"] = _format(args["format"])
    args["out"] = out = Path(args["out"]).resolve()
    loaded = _load(args["model"])  # loaded once, for both paths
    if loaded is not None:
        args["model"] = loaded
    if loaded is not None and loaded.task == "pose":  # face models: whole images, boxes and their five points
        from yolo_attention.inference.keypoints import predict_keypoints

        sliced = sorted(set(given) - set(POSE_KEYS))
        if sliced:
            raise click.UsageError(f"{', '.join(k + '=' for k in sliced)} apply to sliced (detection) prediction only")
        found = predict_keypoints(**{k: v for k, v in args.items() if k in POSE_KEYS})
        click.echo(f"{len(found)} detections with keypoints; results in {out} (keypoints.json)")
        return
    defects = predict_boards(args.pop("model"), args.pop("source"), **args)
    boards = {d.image for d in defects}
    click.echo(f"{len(defects)} defects on {len(boards)} board(s) with defects; results in {out}")


def _format(text: str) -> str:
    """``json,csv`` (a list, as where several formats are allowed) -> ``both``; anything else as given.

    Examples:
        >>> _format("csv,json"), _format("json"), _format("json,xml")
        ('both', 'json', 'json,xml')
    """
    parts = {part.strip().lower() for part in text.split(",") if part.strip()}
    if "," not in text or not parts or not parts <= {"json", "csv", "both"}:
        return text  # predict_boards names what is valid
    return "both" if len(parts) > 1 or "both" in parts else parts.pop()


def _load(model: str):
    """The `YOLO` model, or None when the file cannot be read (the sliced path then reports it in one line)."""
    from ultralytics import YOLO

    import yolo_attention  # noqa: F401

    try:
        return YOLO(str(model))
    except Exception:
        return None
