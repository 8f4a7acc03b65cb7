"""QDQ ONNX models in onnxruntime's QNN execution provider (Snapdragon), HTP backend, with CPU fallback disabled.

The QNN EP ships as a plugin library (``onnxruntime-qnn`` >= 2.0, the ``onnxruntime_qnn`` package) for a standard
onnxruntime: it is registered once per process with `onnxruntime.register_execution_provider_library` and selected
through its `OrtEpDevice`. ``session.disable_cpu_ep_fallback=1`` makes session creation fail when any node is not
taken by the QNN EP, instead of running it silently on the CPU EP; ``offload_graph_io_quantization=0`` keeps the
graph's input QuantizeLinear and output DequantizeLinear on the HTP too, so that every node of the model is QNN's.

On a Snapdragon device the HTP backend runs on the NPU. On x86-64 Linux the same ``libQnnHtp.so`` runs the HTP as a
simulator: the arithmetic is the HTP's fixed-point arithmetic, the latency means nothing.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path

import numpy as np

from yolo_attention.export.runtimes.outputs import as_numpy

__all__ = [
    "EP_NAME",
    "QNNRefusedError",
    "QNNUnavailableError",
    "check_qnn",
    "load_qnn",
    "qnn_session",
    "read_op_trace",
    "register_qnn",
]

EP_NAME = "QNNExecutionProvider"
"""Name the plugin library is registered under (the QNN EP's own name, as its documentation registers it)."""


class QNNUnavailableError(RuntimeError):
    """format=qnn was asked for without the onnxruntime-qnn package (the QNN EP plugin and its HTP backend)."""


class QNNRefusedError(RuntimeError):
    """The QNN EP did not take every node of a model (with CPU fallback disabled), or its backend could not build it."""


def check_qnn() -> None:
    """Raise a one-line `QNNUnavailableError` unless the ``onnxruntime_qnn`` package is installed.

    Raises:
        QNNUnavailableError: Saying what to install.
    """
    if importlib.util.find_spec("onnxruntime_qnn") is None:
        raise QNNUnavailableError(
            "format=qnn needs the onnxruntime-qnn package, the QNN execution provider with its HTP backend "
            "(pip install 'yolo-attention[snapdragon]')"
        )


def register_qnn() -> list:
    """Register the QNN EP plugin library with onnxruntime (once per process); return its `OrtEpDevice` list.

    Raises:
        QNNUnavailableError: Without onnxruntime-qnn, or when it offers no device on this machine.
    """
    check_qnn()
    import onnxruntime as ort
    import onnxruntime_qnn

    devices = [d for d in ort.get_ep_devices() if d.ep_name == EP_NAME]
    if not devices:
        ort.register_execution_provider_library(EP_NAME, onnxruntime_qnn.get_library_path())
        devices = [d for d in ort.get_ep_devices() if d.ep_name == EP_NAME]
    if not devices:
        raise QNNUnavailableError(f"the QNN EP ({onnxruntime_qnn.get_library_path()}) offers no device here")
    return devices


def read_op_trace(trace_dir: str | Path) -> dict | None:
    """Return the QNN EP's framework op trace written into `trace_dir`, or None when it wrote none.

    Its ``summary`` counts the ONNX nodes the EP took (``supported_nodes`` of ``total_onnx_nodes``) and the QNN
    subgraphs they form; ``unsupported_nodes`` lists the refused ones with the EP's reason.
    """
    path = Path(trace_dir) / "qnn_op_trace.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _refused_text(trace: dict | None) -> str:
    """The refused nodes of an op trace in one line: ``Erf 'layer1' (reason); ...``."""
    if not trace or not trace.get("unsupported_nodes"):
        return ""
    seen, parts = set(), []
    for node in trace["unsupported_nodes"]:
        if node.get("op_type") in ("QuantizeLinear", "DequantizeLinear") and not node.get("node_name"):
            continue  # the Q/DQ pair around a refused node is refused with it
        key = (node.get("op_type"), node.get("node_name"))
        if key not in seen:
            seen.add(key)
            parts.append(f"{key[0]} '{key[1]}' ({node.get('reason', '').split('.')[0]})")
    summary = trace.get("summary", {})
    return (
        f"the QNN EP does not take {summary.get('unsupported_nodes', len(trace['unsupported_nodes']))} of "
        f"{summary.get('total_onnx_nodes', '?')} nodes: " + "; ".join(parts)
    )


def qnn_session(
    path: str | Path,
    backend: str = "htp",
    fallback: bool = False,
    trace_dir: str | Path | None = None,
    threads: int | None = None,
):
    """Create an onnxruntime session of `path` on the QNN EP.

    The EP writes its framework op trace (``qnn_op_trace.json``: which ONNX node became which QNN op, which nodes it
    refused and why) into `trace_dir`, or a temporary folder; when the session cannot be created, the error names
    the refused nodes from it.

    Args:
        path (str | Path): The ``.onnx`` model (a QDQ model for the HTP).
        backend (str): QNN backend: ``htp`` (the NPU; a simulator on x86-64) or ``gpu``.
        fallback (bool): Let nodes the QNN EP does not take run on the CPU EP. Off: such a model fails to load.
        trace_dir (str | Path, optional): Folder to keep the op trace in (see `read_op_trace`).
        threads (int, optional): Intra-op threads of the session; onnxruntime's default when None.

    Returns:
        (onnxruntime.InferenceSession): The session.

    Raises:
        QNNUnavailableError: Without onnxruntime-qnn.
        QNNRefusedError: When the EP refuses a node (fallback off) or the backend cannot build the graph.
    """
    import onnxruntime as ort

    devices = register_qnn()
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    if not fallback:
        options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    with tempfile.TemporaryDirectory(prefix="qnn_trace_") as tmp:
        folder = Path(trace_dir) if trace_dir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        ep_options = {
            "backend_type": backend,
            "offload_graph_io_quantization": "0",
            "enable_framework_op_trace": "1",
            "framework_op_trace_dir": str(folder),
        }
        options.add_provider_for_devices(devices, ep_options)
        try:
            return ort.InferenceSession(str(path), sess_options=options)
        except Exception as e:  # onnxruntime's own errors name no node: the trace does
            text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            refused = _refused_text(read_op_trace(folder))
            raise QNNRefusedError(f"{refused} ({text})" if refused else f"QNN EP ({backend}): {text}") from e


def load_qnn(path: str | Path, threads: int | None = None):
    """Load a QDQ ``.onnx`` model on the QNN EP's HTP backend with CPU fallback disabled (see `qnn_session`).

    Returns:
        (Callable[[np.ndarray], np.ndarray]): (B, 3, H, W) float32 images -> first output.
    """
    session = qnn_session(path, threads=threads)
    name = session.get_inputs()[0].name
    return lambda x: as_numpy(session.run(None, {name: np.ascontiguousarray(x, dtype=np.float32)}))
