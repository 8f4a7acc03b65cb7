"""`yolo-attn explain`: what each attention layer looks at, an Eigen-CAM and the detections, as PNGs per image.

Keys are the parameter names of `yolo_attention.explain.explain`.
"""

from __future__ import annotations

from pathlib import Path

import click

from yolo_attention.cli.overrides import check_model_path, key_value_command, parse_overrides, require

__all__ = ["EXPLAIN_DEFAULTS", "EXPLAIN_KEYS", "explain"]

EXPLAIN_KEYS = {
    "model": str,
    "source": str,
    "imgsz": int,
    "out": str,
    "layers": (str, None),
    "query": str,
    "cam_layers": (str, None),
    "conf": float,
    "device": (str, None),
}
# out= always set, so the closing line can name the folder; the same as the Python default.
EXPLAIN_DEFAULTS = {"out": "runs/explain"}


@key_value_command()
def explain(overrides):
    """Show what attention looks at: model= source= [imgsz= out=runs/explain layers= query=0.5,0.5 cam_layers=].

    \b
    Writes out/<image name>/ per image:
      layerNN_<Module>.png   each attention layer: its spatial weights over the image (SAM, CBAM's spatial half,
                             scSE; CoordAtt's rows x columns, BAM and SimAM averaged over channels; GLSA's global
                             attention of the query position) and its channel weights as bars (SE, ECA, CBAM's
                             channel half, scSE), captured from the modules' own gates; switched off: all 1
      eigencam.png           Eigen-CAM (pytorch-grad-cam) of the feature maps the head reads
      detections.png         the detections (conf=0.25)

    \b
    imgsz=640                    inference size (default: the size the checkpoint was trained at)
    layers=8,12                  only these attention layers (default: all)
    query=0.5,0.5                GLSA's query position, as fractions of the image's width and height
    cam_layers=-2                Eigen-CAM of these layers instead (negative: from the end)
    device=cpu                   inference device, as Ultralytics takes it
    Eigen-CAM needs the explain extra: pip install 'yolo-attention[explain]'
    """
    from yolo_attention.explain import explain as run

    args = {**EXPLAIN_DEFAULTS, **parse_overrides(overrides, EXPLAIN_KEYS)}
    require(args, "model", "source")
    check_model_path(args["model"])
    results = run(args.pop("model"), args.pop("source"), **args)
    for note in dict.fromkeys(note for result in results for note in result.notes):  # once each, in order
        click.echo(note, err=True)
    maps = sum(len(result.layers) for result in results)
    click.echo(f"{maps} attention map(s) of {len(results)} image(s); results in {Path(args['out']).resolve()}")
