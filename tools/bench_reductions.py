"""Time the ONNX forms of the poolings attention modules use, on onnxruntime's CPU provider (issue 14).

Each candidate is a one- or few-op ONNX graph over a feature map of yolov8n at 640 (P3 1x64x80x80, P4 1x128x40x40,
P5 1x256x20x20), checked against numpy for the value and timed as the median of --runs calls; a ReLU over the same
tensor (one pass over memory) is printed for scale. The forms chosen in ``yolo_attention/modules/pooling.py`` come
from this table. (OpenVINO is not timed op by op: one inference call costs 150-250 us there, more than any of these.)

    nice python tools/bench_reductions.py --threads 2
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
        ("global avg: ReduceMean(2,3)  [used]", [node("ReduceMean", ["x"], ["y"], axes=[2, 3])], [], avg_hw),
        ("global max: MaxPool(HxW)", [node("MaxPool", ["x"], ["y"], kernel_shape=[h, h])], [], max_hw),
        ("global max: GlobalMaxPool", [node("GlobalMaxPool", ["x"], ["y"])], [], max_hw),
        ("global max: ReduceMax(2,3)  [used]", [node("ReduceMax", ["x"], ["y"], axes=[2, 3])], [], max_hw),
        ("channel mean: ReduceMean(1)", [node("ReduceMean", ["x"], ["y"], axes=[1])], [], mean_c),
        (
            "channel mean: MatMul(row, x)  [used]",
            [
                node("Reshape", ["x", "flat"], ["r"]),
                node("MatMul", ["row", "r"], ["m"]),
                node("Reshape", ["m", "back"], ["y"]),
            ],
            [row, flat, back],
            mean_c,
        ),
        ("channel max: ReduceMax(1)  [used]", [node("ReduceMax", ["x"], ["y"], axes=[1])], [], max_c),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"onnxruntime {ort.__version__}, {args.threads} threads, median of {args.runs} runs (us)")
    print(f"{'form':<42}" + "".join(f"{f'1x{c}x{h}x{h}':>14}" for c, h in SHAPES))
    rows = {}
    for c, h in SHAPES:
        for name, nodes, inits, check in candidates(c, h):
            rows.setdefault(name, []).append(_time(nodes, [1, c, h, h], inits, check, args.runs, args.threads))
    for name, times in rows.items():
        print(f"{name:<42}" + "".join(f"{t:>14.1f}" for t in times))


if __name__ == "__main__":
    main()
