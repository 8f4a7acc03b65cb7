"""Is the attention's latency on CPU a layout cost? Two in-graph A/B tests of alternative graph forms (issue 14).

onnxruntime runs yolov8n's convolutions in its blocked NCHWc layout and converts back to NCHW (ReorderOutput /
ReorderInput, a full pass over the feature map each) around every op it has no NCHWc kernel for. An attention
layer's ``x * weights`` with broadcast weights (B, C, 1, 1) is such an op (onnxruntime's NCHWc transformer keeps a
Mul in NCHWc only when both inputs have the same shape), so each ECA layer adds a reorder pair at full size.

--eca: the exported yolov8n-eca is rewritten so that every op of its ECA layers has an NCHWc kernel: the 1-D
channel convolution as a 1x1 Conv2d with the banded C x C matrix of the same kernel, the (B, C, 1, 1) weights
broadcast by a nearest Resize to (B, C, H, W) (static integer scales, which onnxruntime runs in NCHWc), and a Mul of
equal shapes. The optimised graph then has exactly the baseline's reorders (25 ReorderOutput, 19 ReorderInput
against 33 and 24), and the same outputs (largest difference 0). Timed at 640 px, 2 threads, paired blocks, two
runs of this script (2026-11-29):

    rewritten / as exported     1.001 [0.997, 1.005]    0.996 [0.992, 0.999]
    rewritten / yolov8n         1.012 [1.008, 1.016]    1.008 [1.005, 1.010]
    as exported / yolov8n       1.015 [1.011, 1.019]    1.014 [1.012, 1.016]

Removing the reorders gains 0-0.4 %: the Resize writes the full-size tensor the reorders did (onnxruntime's profile
of the rewritten model: the ECA layers' own ops, Resize and Mul, take 0.5 ms of 72). The form is not shipped: the
gain is within the runs' spread, it helps onnxruntime only (TensorRT and OpenVINO broadcast the Mul natively, and
the Resize is one more full-size write for them), and its static Resize scales would break a dynamic-shape export.

--coordatt: CoordAtt's directional poolings as AveragePool with (1, W) and (H, 1) kernels instead of ReduceMean over
one axis (OpenVINO's profile put the ReduceMean over W of layer 5 at 0.43 ms, the one over H at 0.15 ms). Measured
twice: OpenVINO f32 0.992 [0.988, 0.996] and 0.989 [0.985, 0.993], onnxruntime 1.006 [1.002, 1.010] and 1.006
[1.003, 1.008]: 1 % faster on one runtime, 0.6 % slower on the other, and the kernel sizes would be baked into the
graph, so a dynamic-shape export would pool wrong windows at another size. The module keeps ReduceMean.

    nice python tools/bench_layout.py --eca --coordatt
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def nchwc_eca(src: Path, dst: Path) -> int:
    """Rewrite each ECA layer of an exported ONNX into ops onnxruntime runs in NCHWc; return how many were rewritten."""
    import onnx
    from onnx import helper, numpy_helper, shape_inference

    model = shape_inference.infer_shapes(onnx.load(str(src)))
    graph = model.graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in graph.value_info}
    inits = {i.name: i for i in graph.initializer}
    by_name = {n.name: n for n in graph.node}
    replaced = {}
    for node in graph.node:
        if node.op_type != "Mul" or not node.name.endswith("/Mul") or "/gate/" not in node.input[1]:
            continue
        prefix = node.name[: -len("Mul")]  # "/model.5/"
        kernel = numpy_helper.to_array(inits[by_name[prefix + "conv/Conv"].input[1]]).reshape(-1)
        pooled = by_name[prefix + "GlobalAveragePool"].output[0]
        x = node.input[0]
        c, h, w = shapes[x][1:]
        pad = (len(kernel) - 1) // 2
        band = np.zeros((c, c, 1, 1), np.float32)
        for i in range(c):
            for t, value in enumerate(kernel):
                if 0 <= i + t - pad < c:
                    band[i, i + t - pad, 0, 0] = value
        graph.initializer.extend(
            [
                numpy_helper.from_array(band, prefix + "band"),
                numpy_helper.from_array(np.array([1, 1, h, w], np.float32), prefix + "scales"),
            ]
        )
        replaced[node.name] = [
            helper.make_node("Conv", [pooled, prefix + "band"], [prefix + "logits"], name=prefix + "band/Conv"),
            helper.make_node("Sigmoid", [prefix + "logits"], [prefix + "weights"], name=prefix + "band/Sigmoid"),
            helper.make_node(
                "Resize",
                [prefix + "weights", "", prefix + "scales"],
                [prefix + "full"],
                name=prefix + "band/Resize",
                mode="nearest",
                coordinate_transformation_mode="asymmetric",
                nearest_mode="floor",
            ),
            helper.make_node("Mul", [x, prefix + "full"], list(node.output), name=prefix + "band/Mul"),
        ]
    nodes = [new for n in graph.node for new in replaced.get(n.name, [n])]
    live, kept = {o.name for o in graph.output}, []
    for n in reversed(nodes):  # drop the old ECA ops nothing reads any more
        if any(o in live for o in n.output):
            kept.append(n)
            live.update(n.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    del graph.value_info[:]
    used = {i for n in kept for i in n.input}
    kept_inits = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept_inits)
    onnx.save(model, str(dst))
    return len(replaced)


def _coordatt_pool_form() -> None:
    """Patch CoordAtt's poolings to AveragePool with whole-row and whole-column kernels (export-time experiment)."""
    import torch.nn.functional as F

    from yolo_attention.modules.coord_att import CoordAtt

    def weights(self, x):
        h, w = int(x.shape[2]), int(x.shape[3])
        y_h, y_w = (self.act(self.bn1(self.conv1(t))) for t in (F.avg_pool2d(x, (1, w)), F.avg_pool2d(x, (h, 1))))
        return self.conv_h(y_h).sigmoid(), self.conv_w(y_w).sigmoid()

    CoordAtt.weights = weights


def _export(cfg: str, form: str, folder: Path, formats: tuple[str, ...]) -> None:
    """Export `cfg` (seed 0 weights) to `folder/form` in one process (the patch must not leak into the other form)."""
    import torch
    from ultralytics import YOLO

    import yolo_attention  # noqa: F401

    if form == "avgpool":
        _coordatt_pool_form()
    torch.manual_seed(0)
    (folder / form).mkdir(parents=True, exist_ok=True)
    pt = folder / form / "m.pt"
    YOLO(cfg).save(str(pt))
    for fmt in formats:
        YOLO(str(pt)).export(format=fmt, imgsz=640, verbose=False)


def _ab(backend: str, a: Path, b: Path, label: str, threads: int, x) -> None:
    from yolo_attention.export.benchmark import load_backend
    from yolo_attention.export.benchmark_timing import time_paired

    first, _ = load_backend(backend, a, threads)
    second, _ = load_backend(backend, b, threads)
    diff = float(np.abs(np.asarray(first(x)) - np.asarray(second(x))).max())
    _, _, ratio = time_paired(lambda: first(x), lambda: second(x), 200, 10, 40, 0.004)
    print(f"{backend}: {label} {ratio.text()}; largest output difference {diff:.2e}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eca", action="store_true", help="ECA rewritten to NCHWc ops vs as exported (onnxruntime)")
    parser.add_argument("--coordatt", action="store_true", help="CoordAtt with AveragePool vs ReduceMean")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--export", nargs=3, default=None, help=argparse.SUPPRESS)  # internal: cfg form folder
    args = parser.parse_args()
    if args.export:
        cfg, form, folder = args.export
        _export(cfg, form, Path(folder), ("onnx",) if cfg == "yolov8n-eca.yaml" else ("onnx", "openvino"))
        return
    if not (args.eca or args.coordatt):
        parser.error("choose --eca and/or --coordatt")
    from yolo_attention.export.images import load_images

    folder = Path(tempfile.mkdtemp(prefix="bench-layout-"))
    x = load_images(None, 640, 1).numpy()

    def export(cfg: str, form: str) -> Path:
        subprocess.run([sys.executable, __file__, "--export", cfg, form, str(folder)], check=True)
        return folder / form

    if args.eca:
        eca, base = export("yolov8n-eca.yaml", "eca"), export("yolov8n.yaml", "baseline")
        print(f"ECA layers rewritten: {nchwc_eca(eca / 'm.onnx', eca / 'nchwc.onnx')}", flush=True)
        _ab("onnx", eca / "nchwc.onnx", eca / "m.onnx", "ECA NCHWc form / as exported", args.threads, x)
        _ab("onnx", eca / "nchwc.onnx", base / "m.onnx", "ECA NCHWc form / yolov8n", args.threads, x)
        _ab("onnx", eca / "m.onnx", base / "m.onnx", "ECA as exported / yolov8n", args.threads, x)
    if args.coordatt:
        pool, reduce = export("yolov8n-coordatt.yaml", "avgpool"), export("yolov8n-coordatt.yaml", "modules")
        for backend, artifact in (("openvino", "m_openvino_model"), ("onnx", "m.onnx")):
            _ab(backend, pool / artifact, reduce / artifact, "CoordAtt AveragePool / ReduceMean", args.threads, x)


if __name__ == "__main__":
    main()
