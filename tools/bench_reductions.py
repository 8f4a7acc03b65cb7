"""Time the ONNX forms of the poolings attention modules use, op by op and in the model (issue 14).

Op by op: each candidate is a one- or few-op ONNX graph over a feature map of yolov8n at 640 (P3 1x64x80x80,
P4 1x128x40x40, P5 1x256x20x20), checked against numpy and timed as the median of --runs onnxruntime calls; a ReLU
over the same tensor (one pass over memory) is printed for scale. Alone, ReduceMean/ReduceMax over (H, W) look 2-3x
faster than GlobalAveragePool/MaxPool, and a MatMul with a constant row of 1/C 10x faster than ReduceMean over the
channels.

In the model (--in-graph): the same yolov8n-cbam weights exported three ways — the modules as they are (pooling ops,
ReduceMean over channels), with the global poolings as ReduceMean/ReduceMax over (H, W), and with in addition the
channel mean as that MatMul — and each alternative timed against the modules' form in paired blocks on onnxruntime and
OpenVINO (f32). Measured at 640, 2 threads, two runs: reductions / modules 1.0016 [0.998, 1.005] and 0.994
[0.990, 0.998] on onnxruntime, 0.9996 [0.996, 1.004] and 1.008 [0.999, 1.016] on OpenVINO; + MatMul 0.997
[0.993, 1.002] and 0.995 [0.991, 0.999] on onnxruntime, 1.009 [1.005, 1.013] and 1.010 [1.006, 1.015] on OpenVINO.
The op-level gains do not survive in the graph (within +-0.6 %, not the same sign twice), and the MatMul slows
OpenVINO by 1 %, so the modules keep the pooling ops.

    nice python tools/bench_reductions.py --threads 2 --in-graph
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

SHAPES = ((64, 80), (128, 40), (256, 20))


def _i64(name: str, values: list[int]):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def _time(nodes, shape, inits, check, runs: int, threads: int) -> float:
    """Median latency (us) of a graph x -> y; asserts y equals `check(x)`."""
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=list(inits),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    y = session.run(None, {"x": x})[0]
    np.testing.assert_allclose(y.reshape(-1), check(x).reshape(-1), rtol=1e-5, atol=1e-6)
    for _ in range(20):
        session.run(None, {"x": x})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {"x": x})
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e6


def candidates(c: int, h: int) -> list[tuple[str, list, list, object]]:
    """(name, nodes, initializers, numpy reference) for each form of each pooling on a (1, c, h, h) map."""
    node = helper.make_node
    mean_c = lambda x: x.mean(1, keepdims=True)  # noqa: E731
    max_c = lambda x: x.max(1, keepdims=True)  # noqa: E731
    avg_hw = lambda x: x.mean((2, 3), keepdims=True)  # noqa: E731
    max_hw = lambda x: x.max((2, 3), keepdims=True)  # noqa: E731
    row = helper.make_tensor("row", TensorProto.FLOAT, [1, c], np.full(c, 1.0 / c, np.float32))
    flat, back = _i64("flat", [1, c, h * h]), _i64("back", [1, 1, h, h])
    return [
        ("ReLU (one pass, for scale)", [node("Relu", ["x"], ["y"])], [], lambda x: np.maximum(x, 0)),
        ("global avg: GlobalAveragePool", [node("GlobalAveragePool", ["x"], ["y"])], [], avg_hw),
        ("global avg: ReduceMean(2,3)", [node("ReduceMean", ["x"], ["y"], axes=[2, 3])], [], avg_hw),
        ("global max: MaxPool(HxW)", [node("MaxPool", ["x"], ["y"], kernel_shape=[h, h])], [], max_hw),
        ("global max: GlobalMaxPool", [node("GlobalMaxPool", ["x"], ["y"])], [], max_hw),
        ("global max: ReduceMax(2,3)", [node("ReduceMax", ["x"], ["y"], axes=[2, 3])], [], max_hw),
        ("channel mean: ReduceMean(1)", [node("ReduceMean", ["x"], ["y"], axes=[1])], [], mean_c),
        (
            "channel mean: MatMul(row, x)",
            [
                node("Reshape", ["x", "flat"], ["r"]),
                node("MatMul", ["row", "r"], ["m"]),
                node("Reshape", ["m", "back"], ["y"]),
            ],
            [row, flat, back],
            mean_c,
        ),
        ("channel max: ReduceMax(1)", [node("ReduceMax", ["x"], ["y"], axes=[1])], [], max_c),
        (
            "channel max: MaxPool3d(C,1,1)",
            [node("Reshape", ["x", "five"], ["r"]), node("MaxPool", ["r"], ["y"], kernel_shape=[c, 1, 1])],
            [_i64("five", [1, 1, c, h, h])],
            max_c,
        ),
        ("channel max: Split/Max halving tree", _max_tree(c), [], max_c),
    ]


def _max_tree(c: int) -> list:
    nodes, current, k = [], "x", 0
    while c > 1:
        half = c // 2
        out = "y" if half == 1 else f"m{k}"
        nodes += [
            helper.make_node("Split", [current], [f"a{k}", f"b{k}"], axis=1),
            helper.make_node("Max", [f"a{k}", f"b{k}"], [out]),
        ]
        current, c, k = out, half, k + 1
    return nodes


def _alternative_forms(form: str):
    """Patch CBAM's poolings to `form` ("reduce": ReduceMean/ReduceMax over H, W; "matmul": also the channel mean)."""
    import torch

    from yolo_attention.modules import SAM, ChannelAttention

    def channel_weights(self, x):
        return self.gate(self._mlp(x.mean((2, 3), keepdim=True)) + self._mlp(x.amax((2, 3), keepdim=True)))

    def spatial_weights(self, x):
        b, c, h, w = x.shape
        row = torch.full((1, c), 1.0 / c, dtype=x.dtype)
        mean = torch.matmul(row, x.reshape(b, c, h * w)).reshape(b, 1, h, w)
        return self.gate(self.conv(torch.cat([mean, x.amax(1, keepdim=True)], dim=1)))

    ChannelAttention.weights = channel_weights
    if form == "matmul":
        SAM.weights = spatial_weights


def in_graph(threads: int, imgsz: int = 640) -> None:
    """Export the same yolov8n-cbam weights in each form (one process per form) and time them against the modules'."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from yolo_attention.export.benchmark import load_backend
    from yolo_attention.export.benchmark_timing import time_paired
    from yolo_attention.export.images import load_images

    folder = Path(tempfile.mkdtemp())
    for form in ("modules", "reduce", "matmul"):
        subprocess.run([sys.executable, __file__, "--export", form, "--folder", str(folder)], check=True)
    x = load_images(None, imgsz, 1).numpy()
    for backend, artifact in (("onnx", "m.onnx"), ("openvino", "m_openvino_model")):
        base, _ = load_backend(backend, folder / "modules" / artifact, threads)
        for form in ("reduce", "matmul"):
            other, _ = load_backend(backend, folder / form / artifact, threads)
            _, _, ratio = time_paired(lambda o=other: o(x), lambda b=base: b(x), 200, 10, 40, 0.004)
            print(f"in the graph, {backend}: {form} / modules {ratio.text()}", flush=True)


def _export(form: str, folder) -> None:
    from pathlib import Path

    import torch
    from ultralytics import YOLO

    import yolo_attention  # noqa: F401

    folder = Path(folder)
    if form != "modules":
        _alternative_forms(form)
    torch.manual_seed(0)
    (folder / form).mkdir(parents=True, exist_ok=True)
    pt = folder / form / "m.pt"
    YOLO("yolov8n-cbam.yaml").save(str(pt))
    for fmt in ("onnx", "openvino"):
        YOLO(str(pt)).export(format=fmt, imgsz=640, verbose=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--in-graph", action="store_true", help="also time the forms in yolov8n-cbam")
    parser.add_argument("--export", default=None, help=argparse.SUPPRESS)  # internal: one form per process
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        _export(args.export, args.folder)
        return
    print(f"onnxruntime {ort.__version__}, {args.threads} threads, median of {args.runs} runs (us)")
    print(f"{'form':<42}" + "".join(f"{f'1x{c}x{h}x{h}':>14}" for c, h in SHAPES))
    rows = {}
    for c, h in SHAPES:
        for name, nodes, inits, check in candidates(c, h):
            rows.setdefault(name, []).append(_time(nodes, [1, c, h, h], inits, check, args.runs, args.threads))
    for name, times in rows.items():
        print(f"{name:<42}" + "".join(f"{t:>14.1f}" for t in times))
    if args.in_graph:
        in_graph(args.threads)


if __name__ == "__main__":
    main()
