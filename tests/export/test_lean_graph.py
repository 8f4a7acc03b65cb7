"""Exported attention layers carry only the ops they need (issue 14): checked in the ONNX graph, output for output."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch

from tests.export.export_cases import IMGSZ, sensitive
from yolo_attention.modules import AttentionModule

# For each bundled model: op types that must not appear in its attention layers, and ones that must.
EXPECTED = {
    "yolov8n-eca.yaml": ({"Transpose", "Sub"}, {"GlobalAveragePool": 1, "Conv": 1, "Sigmoid": 1}),
    "yolov8n-se.yaml": ({"Transpose", "Sub"}, {"GlobalAveragePool": 1, "Conv": 2, "Sigmoid": 1}),
    "yolov8n-cbam.yaml": ({"Transpose", "Sub"}, {"GlobalAveragePool": 1, "Sigmoid": 2}),
    "yolov8n-ecasam.yaml": ({"Transpose", "Sub"}, {"GlobalAveragePool": 1, "Sigmoid": 2}),
    "yolov8n-coordatt.yaml": ({"Transpose", "Sub", "BatchNormalization", "Concat", "Slice"}, {"Sigmoid": 2}),
}


def _gated(name: str, g: float = 0.3):
    """A model whose attention layers all carry an open residual gate (as after transfer and some training)."""
    model = sensitive(name)
    layers = [i for i, m in enumerate(model.model.model) if isinstance(m, AttentionModule)]
    for i in layers:
        model.model.model[i].enable_residual_gate(g)
    return model, layers


@pytest.mark.parametrize("name", list(EXPECTED))
def test_attention_layers_export_lean_and_compute_the_same(name, tmp_path, monkeypatch):
    import onnx
    import onnxruntime as ort

    monkeypatch.chdir(tmp_path)
    model, layers = _gated(name)
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    with torch.no_grad():
        expected = model.model(x)[0].numpy()
    path = model.export(format="onnx", imgsz=IMGSZ, verbose=False)
    graph = onnx.load(path).graph
    forbidden, required = EXPECTED[name]
    for i in layers:
        ops = collections.Counter(n.op_type for n in graph.node if n.name.startswith(f"/model.{i}/"))
        assert not forbidden & set(ops), (i, dict(ops))
        assert all(ops[op] == n for op, n in required.items()), (i, dict(ops))
        # the gate is a scale and a shift of the small weight tensor and one product with the features: at most
        # Mul/Add ops in the numbers below, whatever the module (it was Sub, Mul, Add on full-size tensors before)
        assert ops["Mul"] <= 4 and ops["Add"] <= 2, (i, dict(ops))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    # (1, 4 + nc, anchors): boxes in pixels of a 64-px image, then class scores; the export fuses Conv+BN (rounding)
    np.testing.assert_allclose(got[:, :4], expected[:, :4], rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(got[:, 4:], expected[:, 4:], atol=5e-4)
