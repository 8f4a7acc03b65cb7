"""OpenVINO exports in the CPU plugin: an FP32 artifact is kept in f32 even on CPUs with bf16 units."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from yolo_attention.export.runtimes.outputs import as_numpy

__all__ = ["compile_openvino", "load_openvino", "openvino_xml"]


def openvino_xml(path: str | Path) -> Path:
    """Return the ``.xml`` model of a ``*_openvino_model`` folder, or `path` itself when it is the ``.xml``.

    Raises:
        FileNotFoundError: If the folder holds no ``.xml``.
    """
    path = Path(path)
    xml = path if path.suffix == ".xml" else next(path.glob("*.xml"), None)
    if xml is None or not xml.is_file():
        raise FileNotFoundError(f"no .xml model in OpenVINO folder '{path}'")
    return xml


def compile_openvino(path: str | Path, precision: str = "fp32", threads: int | None = None):
    """Compile an OpenVINO model for the CPU plugin with the settings verification and benchmarks use.

    ``PERFORMANCE_HINT=LATENCY``; for an FP32 artifact ``INFERENCE_PRECISION_HINT=f32``, so that CPUs with bf16 units
    do not silently lower it. `compiled.get_runtime_model()` shows the precision each op runs in.

    Args:
        path (str | Path): The ``*_openvino_model`` folder or its ``.xml``.
        precision (str): ``fp32``, ``fp16`` or ``int8``, the artifact's precision.
        threads (int, optional): ``INFERENCE_NUM_THREADS``; the plugin's default when None.

    Returns:
        (openvino.CompiledModel): The compiled model.
    """
    import openvino as ov

    core = ov.Core()
    config = {"PERFORMANCE_HINT": "LATENCY"}
    if precision == "fp32":
        config["INFERENCE_PRECISION_HINT"] = "f32"
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    return core.compile_model(core.read_model(str(openvino_xml(path))), "CPU", config)


def load_openvino(path: str | Path, precision: str = "fp32", threads: int | None = None):
    """Load an OpenVINO model (see `compile_openvino`).

    Returns:
        (Callable[[np.ndarray], np.ndarray]): (B, 3, H, W) float32 images -> first output.
    """
    compiled = compile_openvino(path, precision, threads)
    return lambda x: as_numpy(compiled(np.ascontiguousarray(x, dtype=np.float32))[0])
