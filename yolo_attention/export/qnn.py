"""Snapdragon: a QDQ INT8 ONNX model whose every node onnxruntime's QNN execution provider runs on the HTP (NPU).

Ultralytics' FP32 ONNX export is quantised with onnxruntime's QNN-specific configuration (`get_qnn_qdq_config`:
uint8 activations and weights, per tensor, min/max ranges, the quantisation parameters each QNN op requires),
calibrated on real images of the dataset's train split. The QNN EP compiles it for the device's HTP when the session
is created (``<stem>_int8_qdq.onnx``: a portable model, not a context binary for one chip). Each choice below comes
from a run on the QNN EP's HTP backend (onnxruntime-qnn 2.7.0, QAIRT 2.51; the HTP simulator of x86-64 Linux) with
trained yolov8n, -cbam, -eca and -coordatt checkpoints at 320 px on DeepPCB (`tools/qnn_deeppcb.py`):

- 8-bit activations in the body (w8a8), not 16-bit (w8a16, Ultralytics' own ``format=qnn`` recipe; `quantize_qnn`
  can write it, ``scheme="w8a16"``, for such measurements). As a QDQ graph w8a16 is far closer to PyTorch
  (onnxruntime's CPU EP: mAP50 within 0.3 point of PyTorch on the 199 held-out boards, where w8a8 loses 1.3-2.4), but
  the HTP does not compute it as the graph says. Compared tensor by tensor with the CPU EP on one board: its first
  16-bit convolution is already off by up to 117 output steps (with uint8 asymmetric weights; int8 symmetric ones
  bring an isolated convolution to within ~10 steps, but not the rest), and from layer 7 of yolov8n on, SiLU's
  multiplications come out anywhere in the 16-bit range. On 40 held-out boards the HTP's w8a16 lost 1.8 mAP50 points
  on the shipped yolov8n and 24.8 on a fine-tuned one (85 of 120 PyTorch boxes found), against 0.2 and -0.6 for w8a8.
  The export's mAP is measured on the CPU EP (the simulator is too slow for a dataset), so a w8a16 export would
  report accuracy the phone may not have. Ultralytics' own export also stops on CBAM at opset 18 (onnxruntime's
  symbolic shape inference cannot follow a ReduceMax whose axes are an input) and, exported at opset 17, loses 70 of
  129 PyTorch boxes of yolov8n-cbam on the HTP.
- The detection head's decoding runs on 16-bit activations, its convolutions on 8-bit. The head's output concatenates
  box coordinates (0..imgsz px) and class scores (0..1): on one 8-bit grid the scores get 2-4 levels and every
  detection is lost (0 of 58 PyTorch boxes found).
- Division by a constant is rewritten as multiplication by its reciprocal (`reciprocal_divisions`; the head's
  ``(x1y1 + x2y2) / 2``): with 16-bit activations the HTP cannot build a Div by a constant (graph finalisation fails
  with QNN_COMMON_ERROR_MEM_ALLOC), the Mul it builds. ``x / 2`` and ``x * 0.5`` are the same float.
- Weights per tensor: per-channel int8 weights gained nothing on the QDQ graph (CBAM, 40 boards: mean score error
  0.00048 against 0.00051, 308 against 309 of 311 boxes matched), and onnxruntime's CPU EP, which measures the
  export's mAP, computes them wrongly on an AVX2 CPU without VNNI (u8s8 saturation: 26.8 mAP50 points lost).
- Min/max calibration: percentile calibration failed on ECA and CoordAtt models (onnxruntime's histogram "Too many
  bins for data range") and gained nothing measurable on the others.

The attention gates stay 8-bit, unlike OpenVINO's INT8 (`int8`), which keeps them in float: every node must run on
the HTP, and 16-bit gates measured worse there (largest score difference to PyTorch 0.29 against 0.13).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "QNN_SCHEMES",
    "QNNSupport",
    "compare_qnn_cpu",
    "head_decode_tensors",
    "qnn_support",
    "quantize_qnn",
    "reciprocal_divisions",
    "verification_notes",
]

_LAYER = re.compile(r"^/model\.(\d+)/")  # Ultralytics' ONNX node names: /model.<layer>/...

QNN_SCHEMES = {
    "w8a8": "8-bit weights and activations, the head's decoding in 16 bits: what the export writes",
    "w8a16": "8-bit weights, 16-bit activations: for measurements only, the HTP does not compute it as written",
}
"""Quantisation schemes of `quantize_qnn`, in the names of Ultralytics' ``quantize=`` (its qnn export: w8a16)."""


def _scheme(scheme) -> str:
    """Return `scheme` as a `QNN_SCHEMES` key (case-insensitive), or raise a one-line ValueError.

    Examples:
        >>> _scheme("W8A16")
        'w8a16'
    """
    name = str(scheme).strip().lower()
    if name not in QNN_SCHEMES:
        raise ValueError(f"scheme={scheme} is not a QNN scheme: use one of {', '.join(QNN_SCHEMES)}")
    return name


def reciprocal_divisions(model) -> list[str]:
    """Rewrite every ``Div(x, c)`` by a float constant `c` as ``Mul(x, 1 / c)``, in place; return the nodes changed.

    The HTP cannot finalise a Div by a constant on 16-bit activations; the Mul it can. For a power of two (the only
    divisor in Ultralytics' heads) the result is the same float; otherwise it differs by at most one rounding.

    Args:
        model (onnx.ModelProto): The model.

    Returns:
        (list[str]): Names of the rewritten nodes.
    """
    from onnx import numpy_helper

    constants = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    taken = {init.name for init in model.graph.initializer}
    changed = []
    for node in model.graph.node:
        if node.op_type != "Div" or node.input[1] not in constants:
            continue
        divisor = constants[node.input[1]]
        if divisor.dtype.kind != "f" or not np.all(divisor != 0):
            continue
        name = f"{node.input[1]}_reciprocal"
        if name not in taken:
            model.graph.initializer.append(numpy_helper.from_array((1 / divisor).astype(divisor.dtype), name))
            taken.add(name)
        node.op_type, node.input[1] = "Mul", name
        changed.append(node.name)
    return changed


def head_decode_tensors(model) -> list[str]:
    """Return the float tensors the detection head computes after its last convolutions (its decoding).

    The head is the highest-numbered layer (``/model.<i>/...``). Its per-level convolution branches (``cv2``, ``cv3``,
    a pose head's ``cv4``, ...) and a segmentation head's ``proto`` are not decoding; the rest (reshapes, concats,
    the DFL softmax and convolution, box arithmetic, score sigmoid, the output concat) is.

    Raises:
        ValueError: When the graph has no node named as Ultralytics' exporter names them.
    """
    import onnx

    layers = [int(m.group(1)) for node in model.graph.node if (m := _LAYER.match(node.name))]
    if not layers:
        raise ValueError("no node named /model.<i>/... in this ONNX graph: was it exported by Ultralytics?")
    head = max(layers)
    branch = re.compile(rf"^/model\.{head}/(cv\d+\.|proto/)")
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in [*inferred.graph.value_info, *inferred.graph.output]}
    tensors = []
    for node in model.graph.node:
        if node.name.startswith(f"/model.{head}/") and not branch.match(node.name) and node.op_type != "Constant":
            tensors += [out for out in node.output if types.get(out) == onnx.TensorProto.FLOAT]
    return tensors


class _Calibration:
    """onnxruntime's calibration data reader over letterboxed dataset images, readable in ranges (``set_range``)."""

    def __init__(self, files: Sequence[Path], input_name: str, imgsz: tuple[int, int]):
        self.files, self.input_name, self.imgsz = list(files), input_name, imgsz
        self.set_range(0, len(self.files))

    def __len__(self) -> int:
        return len(self.files)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._next = iter(self.files[start_index:end_index])

    def get_next(self) -> dict | None:
        from yolo_attention.export.images import letterbox_image

        path = next(self._next, None)
        return None if path is None else {self.input_name: letterbox_image(path, self.imgsz)[None]}

    def rewind(self) -> None:
        self.set_range(0, len(self.files))


def _static_input(model) -> tuple[str, tuple[int, int]]:
    graph_input = model.graph.input[0]
    dims = [d.dim_value if d.HasField("dim_value") else None for d in graph_input.type.tensor_type.shape.dim]
    if len(dims) != 4 or None in dims or dims[0] != 1:
        raise ValueError(
            f"the QNN EP needs a static (1, 3, H, W) input, got {dims} for '{graph_input.name}': export with "
            "dynamic=False batch=1"
        )
    return graph_input.name, (dims[2], dims[3])


def quantize_qnn(
    fp32_onnx: str | Path,
    data: str | Path,
    out: str | Path | None = None,
    subset_size: int = 300,
    split: str = "train",
    seed: int = 0,
    scheme: str = "w8a8",
) -> Path:
    """Quantise an Ultralytics FP32 ONNX export into a QDQ model for the QNN EP's HTP backend (see the module docs).

    Args:
        fp32_onnx (str | Path): The ``.onnx`` file Ultralytics exported, with a static (1, 3, H, W) input.
        data (str | Path): Dataset YAML to calibrate on.
        out (str | Path, optional): The QDQ file; defaults to ``<stem>_int8_qdq.onnx`` next to `fp32_onnx`.
        subset_size (int): Calibration images (at most), drawn with a fixed seed from `split`.
        split (str): Dataset split to calibrate on (the train split keeps the validation images unseen).
        seed (int): Seed of the draw.
        scheme (str): ``w8a8`` (8-bit activations, the head's decoding in 16; what the export writes) or ``w8a16``
            (every activation in 16 bits, for measurements: the HTP does not compute it as written, see the module
            docs). Weights are uint8 per tensor in both. See `QNN_SCHEMES`.

    Returns:
        (Path): The QDQ model, with Ultralytics' metadata and a ``quantization`` property saying how it was made.

    Raises:
        ValueError: A dynamic input, a graph not exported by Ultralytics, or an unknown `scheme`.
    """
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantType, quantize
    from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config

    from yolo_attention.export.images import image_files

    if not isinstance(subset_size, int) or isinstance(subset_size, bool) or subset_size < 1:
        raise ValueError(f"subset_size must be an int >= 1, got {subset_size!r}")
    scheme = _scheme(scheme)
    src = Path(fp32_onnx)
    target = Path(out) if out is not None else src.with_name(f"{src.stem}_int8_qdq.onnx")
    model = onnx.load(str(src))
    input_name, imgsz = _static_input(model)
    reciprocal_divisions(model)
    overrides = {name: [{"quant_type": QuantType.QUInt16}] for name in head_decode_tensors(model)}
    files = image_files(data, split)
    if len(files) > subset_size:
        files = sorted(random.Random(seed).sample(files, subset_size))
    # Calibration keeps every intermediate tensor of the images it is given: feed it a few at a time.
    chunk = max(d for d in range(1, min(8, len(files)) + 1) if len(files) % d == 0)
    config = get_qnn_qdq_config(
        model,
        _Calibration(files, input_name, imgsz),
        calibrate_method=CalibrationMethod.MinMax,
        activation_type=QuantType.QUInt16 if scheme == "w8a16" else QuantType.QUInt8,
        weight_type=QuantType.QUInt8,
        init_overrides=overrides,
        stride=chunk,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    quantize(model, str(target), config)
    qdq = onnx.load(str(target))
    prop = qdq.metadata_props.add()
    prop.key = "quantization"
    body = "uint16 activations" if scheme == "w8a16" else "uint8 activations (head decoding uint16)"
    prop.value = (
        f"QDQ for the QNN EP (HTP), {scheme}: {body}, uint8 weights per tensor, min/max calibration on "
        f"{len(files)} images of the {split} split of {data}"
    )
    onnx.save(qdq, str(target))
    return target


@dataclass
class QNNSupport:
    """What the QNN EP takes of a model, from its framework op trace.

    Attributes:
        nodes (int): ONNX nodes in the model.
        supported (int): Nodes the QNN EP takes.
        subgraphs (int): QNN graphs they form (1: the whole model runs as one graph on the backend).
        refused (list[tuple[str, str, str]]): ``(op type, node name, reason)`` of every node it does not take (the
            QuantizeLinear/DequantizeLinear pair around such a node, refused with it, left out).
        op_types (dict[str, int]): ONNX op types of the model, counted (QuantizeLinear/DequantizeLinear included).
    """

    nodes: int
    supported: int
    subgraphs: int
    refused: list[tuple[str, str, str]] = field(default_factory=list)
    op_types: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """(bool): Whether the QNN EP takes every node, in one graph."""
        return self.supported == self.nodes and not self.refused and self.subgraphs == 1

    def text(self) -> str:
        """Return the counts in one phrase.

        Examples:
            >>> QNNSupport(nodes=10, supported=10, subgraphs=1).text()
            'QNN EP takes 10/10 nodes in 1 graph'
        """
        graphs = f"{self.subgraphs} graph{'s' * (self.subgraphs != 1)}"
        text = f"QNN EP takes {self.supported}/{self.nodes} nodes in {graphs}"
        if self.refused:
            text += "; refused: " + ", ".join(sorted({op for op, _, _ in self.refused}))
        return text


def qnn_support(artifact: str | Path, backend: str = "htp") -> QNNSupport:
    """Return which nodes of `artifact` the QNN EP takes on `backend`, from a session built with CPU fallback allowed.

    Raises:
        QNNUnavailableError: Without onnxruntime-qnn.
        QNNRefusedError: When the backend cannot build even the part the EP takes.
    """
    import tempfile
    from collections import Counter

    import onnx

    from yolo_attention.export.runtimes.qnn import qnn_session, read_op_trace

    op_types = dict(Counter(node.op_type for node in onnx.load(str(artifact)).graph.node))
    with tempfile.TemporaryDirectory(prefix="qnn_support_") as tmp:
        qnn_session(artifact, backend, fallback=True, trace_dir=tmp)
        trace = read_op_trace(tmp)
    if trace is None:  # nothing was composed for QNN: it took no node
        return QNNSupport(sum(op_types.values()), 0, 0, op_types=op_types)
    summary = trace["summary"]
    refused = [
        (n.get("op_type", ""), n.get("node_name", ""), n.get("reason", ""))
        for n in trace["unsupported_nodes"]
        if n.get("node_name") or n.get("op_type") not in ("QuantizeLinear", "DequantizeLinear")
    ]  # the unnamed Q/DQ pair around a refused node is refused with it
    nodes, supported, subgraphs = summary["total_onnx_nodes"], summary["supported_nodes"], summary["qnn_subgraphs"]
    return QNNSupport(nodes, supported, subgraphs, refused, op_types)


def compare_qnn_cpu(artifact: str | Path, images, nc: int, criterion=None) -> dict:
    """Run the same QDQ model on the QNN EP (HTP) and on onnxruntime's CPU EP, and compare them.

    The CPU EP runs with graph optimisations off, so that it computes what the QDQ graph says (dequantise, float op,
    quantise) rather than its own fused integer kernels. The HTP computes in fixed point and rounds differently: a
    step or two of 8 bits here and there, layer after layer, so the two agree by their detections, not to the bit.

    Args:
        artifact (str | Path): The QDQ ``.onnx`` model.
        images: (N, 3, H, W) float images in [0, 1] (tensor or array), run one at a time.
        nc (int): Number of classes.
        criterion (DetectionCriterion, optional): Defaults to the INT8 criterion.

    Returns:
        (dict): ``detections`` (`DetectionMatch`, QNN's against the CPU EP's), ``max_abs`` and ``mean_abs`` of the
        raw outputs.
    """
    import onnxruntime as ort

    from yolo_attention.export.detections import DETECTION_CRITERIA, compare_detections
    from yolo_attention.export.runtimes.qnn import load_qnn

    images = np.ascontiguousarray(np.asarray(images), dtype=np.float32)
    run = load_qnn(artifact)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    cpu = ort.InferenceSession(str(artifact), options, providers=["CPUExecutionProvider"])
    name = cpu.get_inputs()[0].name
    qnn_out = [run(images[i : i + 1]) for i in range(len(images))]
    cpu_out = [cpu.run(None, {name: images[i : i + 1]})[0] for i in range(len(images))]
    diff = np.abs(np.concatenate([a.ravel() for a in qnn_out]) - np.concatenate([b.ravel() for b in cpu_out]))
    match = compare_detections(qnn_out, cpu_out, nc, criterion or DETECTION_CRITERIA["int8"])
    return {"detections": match, "max_abs": float(diff.max()), "mean_abs": float(diff.mean())}


def verification_notes(artifact: str | Path, images, nc: int, validated: bool = False) -> list[str]:
    """Return what a QNN verification adds to its report: what the EP takes, and the HTP against the CPU EP.

    Args:
        artifact (str | Path): The QDQ ``.onnx`` model (already run on the HTP against PyTorch).
        images: The verification images, (N, 3, H, W) in [0, 1].
        nc (int): Number of classes.
        validated (bool): Whether the model is also validated on a dataset (then its mAP comes from the CPU EP).

    Returns:
        (list[str]): Notes for the `ParityReport`.
    """
    support = qnn_support(artifact)
    backends = compare_qnn_cpu(artifact, images, nc)
    match = backends["detections"]
    notes = [
        f"{support.text()} (HTP backend, CPU fallback disabled; on x86-64 the HTP is a simulator: no latency "
        "is meaningful here)",
        f"HTP against onnxruntime's CPU EP on the same QDQ model: {match.text()}, mean|d| {backends['mean_abs']:.2e}"
        f" ({'within' if match.ok else 'beyond'} the INT8 criterion)",
    ]
    if validated:
        notes.append("its mAP is the QDQ model's on onnxruntime's CPU EP (the HTP simulator is too slow for a dataset)")
    return notes
