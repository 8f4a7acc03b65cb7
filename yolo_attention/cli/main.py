"""The `yolo-attn` command: the group and where each command family is registered.

One file per family (info_cmd, train_cmd, convert_cmd, predict_cmd, val_cmd, export_cmd, compare_cmd,
explain_cmd), one ``key=value`` parser (overrides.py) and one error path (errors.py) for all of them. Command
modules import nothing heavy at import time: Ultralytics' training, export and data code loads when a command runs.
"""

from __future__ import annotations

import click

from yolo_attention.cli.compare_cmd import compare, report
from yolo_attention.cli.convert_cmd import convert
from yolo_attention.cli.errors import OneLineGroup
from yolo_attention.cli.explain_cmd import explain
from yolo_attention.cli.export_cmd import benchmark, export
from yolo_attention.cli.info_cmd import models, modules
from yolo_attention.cli.predict_cmd import predict
from yolo_attention.cli.train_cmd import train
from yolo_attention.cli.val_cmd import val, widerface_eval

__all__ = ["cli"]


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="yolo-attention", prog_name="yolo-attn")
def cli():
    """Attention modules for Ultralytics YOLOv8: CBAM, ECA, CoordAtt, SE, ECA-SAM and more (`yolo-attn modules`).

    \b
    yolo-attn modules                      list the attention modules
    yolo-attn models                       list the bundled model YAMLs
    yolo-attn train [key=value ...]        train (defaults: yolov8n-cbam.yaml on pcb-mini.yaml)
    yolo-attn convert deeppcb|hripcb|widerface ...   public release -> YOLO dataset
    yolo-attn predict model= source=       sliced prediction on full boards
    yolo-attn export model= format=        export (onnx, openvino, torchscript, engine, qnn), verify vs PyTorch
    yolo-attn benchmark model= format=     latency and memory against the attention-free baseline
    yolo-attn val model= data= protocol=   validation, also with DeepPCB's own protocol
    yolo-attn widerface-eval pred= gt=     WIDER FACE Easy/Medium/Hard AP of any detector's predictions
    yolo-attn compare data= models= pretrained=   variants vs plain fine-tuning over seeds, with CIs
    yolo-attn report <folder>              one Markdown page for an experiment or a comparison
    yolo-attn explain model= source=       what each attention layer looks at (PNG maps, Eigen-CAM)

    Keys are the parameter names of the Python function each command calls; `yolo-attn COMMAND -h` lists them.
    """
    import yolo_attention  # noqa: F401  registers the modules with Ultralytics


# Command families, one file each. A new family is one file in cli/ whose commands use `key_value_command`
# (cli/overrides.py); register its commands here.
cli.add_command(modules)
cli.add_command(models)
cli.add_command(train)
cli.add_command(convert)
cli.add_command(predict)
cli.add_command(val)
cli.add_command(widerface_eval)
cli.add_command(export)
cli.add_command(benchmark)
cli.add_command(compare)
cli.add_command(report)
cli.add_command(explain)

if __name__ == "__main__":
    cli()
