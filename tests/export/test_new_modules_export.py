"""Export of BAM, scSE, SimAM and GLSA: every GLSA strategy through ONNX (onnxruntime) and OpenVINO with dynamic
shapes, and a YOLO model with GLSA strategies written in its YAML. The bundled yolov8-{bam,scse,simam,glsa} models go
through tests/export/test_parity.py with the other bundled variants (ONNX static and dynamic, OpenVINO, TorchScript)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from tests.export.export_cases import DETECT_CFGS, IMGSZ, sensitive
from tests.helpers.threads import single_thread  # noqa: F401  autouse: one thread here
from tests.modules.test_modules import rand, randomize_
from yolo_attention.export import export_and_verify
from yolo_attention.modules import BAM, FUSIONS, GLSA, LOCALS, RESIDUALS, SimAM, scSE
from yolo_attention.resources import MODEL_CFG_DIR

AXES = {0: "batch", 2: "height", 3: "width"}
SHAPES = [(1, 16, 8, 10), (3, 16, 13, 7), (2, 16, 1, 1)]  # odd sizes: partial pooling windows at the border


def export_onnx(module: torch.nn.Module, path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer warnings
        torch.onnx.export(
            module.eval(),
            (rand(1, 16, 8, 10),),
            str(path),
            opset_version=17,
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": AXES, "y": AXES},
        )


def runtimes(path) -> dict:
    """name -> run(x: np.ndarray) -> np.ndarray, for onnxruntime and OpenVINO (CPU) on one ONNX file."""
    ort = pytest.importorskip("onnxruntime")
    ov = pytest.importorskip("openvino")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    compiled = ov.Core().compile_model(str(path), "CPU")
    return {
        "onnxruntime": lambda x: session.run(None, {"x": x})[0],
        "openvino": lambda x: compiled([x])[compiled.output(0)],
    }


def assert_parity(module: torch.nn.Module, tmp_path, atol: float = 1e-4) -> None:
    path = tmp_path / "m.onnx"
    export_onnx(module, path)
    for name, run in runtimes(path).items():
        for shape in SHAPES:
            x = rand(*shape, seed=sum(shape))
            with torch.no_grad():
                expected = module(x).numpy()
            y = run(x.numpy())
            assert y.shape == shape, (name, shape)
            np.testing.assert_allclose(y, expected, atol=atol, rtol=0, err_msg=f"{name} {shape}")


def test_new_bundled_models_are_in_the_parity_sweep():
    assert {"yolov8-bam.yaml", "yolov8-scse.yaml", "yolov8-simam.yaml", "yolov8-glsa.yaml"} <= set(DETECT_CFGS)


@pytest.mark.parametrize("fusion", list(FUSIONS))
def test_every_fusion_exports(fusion, tmp_path):
    assert_parity(randomize_(GLSA(16, heads=4, fusion=fusion)), tmp_path)


@pytest.mark.parametrize("residual", [r for r in RESIDUALS if r != "original"])  # original: every fusion test
def test_every_residual_exports(residual, tmp_path):
    assert_parity(randomize_(GLSA(16, heads=4, residual=residual)), tmp_path)


@pytest.mark.parametrize("local", [name for name in LOCALS if name != "CBAM"])  # CBAM: every test above
def test_every_local_exports(local, tmp_path):
    assert_parity(randomize_(GLSA(16, local=local, kv_stride=3)), tmp_path)


def test_identity_gated_glsa_exports_as_an_identity(tmp_path):
    module = GLSA(16, residual="progressive").enable_residual_gate(0.0)
    path = tmp_path / "m.onnx"
    export_onnx(module, path)
    x = rand(2, 16, 9, 6)
    for run in runtimes(path).values():
        np.testing.assert_allclose(run(x.numpy()), x.numpy(), atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "module",
    [
        randomize_(BAM(16)),
        randomize_(BAM(16)).fuse(),
        randomize_(scSE(16)),
        randomize_(scSE(16, combine="sum")),
        SimAM(16),
        SimAM(16).enable_residual_gate(0.5),
    ],
    ids=["bam", "bam-fused", "scse-max", "scse-sum", "simam", "simam-gated"],
)
def test_bam_scse_simam_export(module, tmp_path):
    assert_parity(module, tmp_path)


def test_a_yaml_with_glsa_strategies_exports_and_matches(tmp_path):
    """A YOLO model whose YAML writes GLSA's strategies: ONNX with dynamic shapes, checked on real images."""
    text = (
        (MODEL_CFG_DIR / "yolov8-glsa.yaml")
        .read_text()
        .replace("GLSA, []", "GLSA, [4, BAM, cross_attn, learnable_gate]")
    )
    cfg = tmp_path / "yolov8n-glsa-ca.yaml"
    cfg.write_text(text)
    [report] = export_and_verify(sensitive(str(cfg)), "onnx", imgsz=IMGSZ, dynamic=True, out_dir=tmp_path, images=2)
    assert report.passed and report.max_rel <= 1e-3, report.line()
    assert report.attention_effect > 1e-1, report.line()  # the check would see a lost GLSA layer
