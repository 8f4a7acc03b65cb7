"""OpenVINO INT8 through NNCF: the attention gates, their products and the residual gate stay in floating point."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.export.export_cases import IMGSZ, yolo
from yolo_attention.export import export_and_verify, gate_nodes, image_files, quantize_openvino


def _quantised_inputs(folder: Path, names: list[str], types: tuple[str, ...]) -> int:
    """How many inputs of the named ops of these types come from a FakeQuantize in the IR saved in `folder`."""
    import openvino as ov

    ops = {op.get_friendly_name(): op for op in ov.Core().read_model(next(folder.glob("*.xml"))).get_ordered_ops()}
    chosen = [ops[name] for name in names if ops[name].get_type_name() in types]
    sources = [inp.get_source_output().get_node().get_type_name() for op in chosen for inp in op.inputs()]
    return sources.count("FakeQuantize")


def _residual_ops(ov_model, layers: list[int]) -> list[tuple[str, str, str]]:
    """The residual gate's ops, found from the graph. The gate is folded into the attention weights
    (`x * (a * w + (1 - a))`): from each layer's Sigmoid, the Multiply by `a`, the Add of `1 - a` and the product
    with the features."""
    prefixes = tuple(f"__module.model.{i}{sep}" for i in layers for sep in "/.")
    found = []
    for op in ov_model.get_ordered_ops():
        if op.get_type_name() != "Sigmoid" or not op.get_friendly_name().startswith(prefixes):
            continue
        [scale] = [t.get_node() for t in op.output(0).get_target_inputs()]
        [shift] = [t.get_node() for t in scale.output(0).get_target_inputs()]
        [product] = [t.get_node() for t in shift.output(0).get_target_inputs()]
        types = (scale.get_type_name(), shift.get_type_name(), product.get_type_name())
        assert types == ("Multiply", "Add", "Multiply"), types
        found.append((scale.get_friendly_name(), shift.get_friendly_name(), product.get_friendly_name()))
    return found


def _runtime_precisions(folder: Path, names: list[str]) -> dict[str, str]:
    """The precision the CPU plugin runs each named op in, from the compiled model's runtime graph."""
    from yolo_attention.export.runtimes.openvino import compile_openvino

    runtime = compile_openvino(folder, precision="int8").get_runtime_model()
    found = {}
    for node in runtime.get_ordered_ops():
        info = node.get_rt_info()
        for original in info["originalLayersNames"].astype(str).split(","):
            if original in names:
                found[original] = info["runtimePrecision"].astype(str)
    return found


class TestInt8:
    def test_gates_stay_float_only_when_protected(self, trained_cbam, tmp_path):
        pytest.importorskip("nncf")
        import openvino as ov
        from ultralytics import YOLO

        model = YOLO(trained_cbam)
        fp32 = Path(shutil.move(model.export(format="openvino", imgsz=IMGSZ, verbose=False), tmp_path / "fp32"))
        gates = gate_nodes(ov.Core().read_model(fp32 / "best.xml"), [5, 8, 12])
        assert len(gates) == 12  # 3 layers x (channel + spatial) x (sigmoid + product); no residual gate here

        common = {"data": "pcb-mini.yaml", "attention_layers": [5, 8, 12], "head_index": 25, "imgsz": IMGSZ}
        protected = quantize_openvino(fp32, out_dir=tmp_path / "p_int8_openvino_model", subset_size=8, **common)
        unprotected = quantize_openvino(
            fp32, out_dir=tmp_path / "u_int8_openvino_model", protect_gates=False, subset_size=8, **common
        )
        assert _quantised_inputs(protected, gates, ("Multiply",)) == 0
        assert _quantised_inputs(unprotected, gates, ("Multiply",)) > 0
        assert (protected / "metadata.yaml").is_file()
        xml = next(protected.glob("*.xml"))
        assert "FakeQuantize" in {op.get_type_name() for op in ov.Core().read_model(xml).get_ops()}

    def test_float_layers_keep_every_convolution_of_a_layer_unquantised(self, trained_cbam, tmp_path):
        """`float_layers` (tools/int8_recipes.py's probe) leaves whole layers in float, and only those."""
        pytest.importorskip("nncf")
        import openvino as ov
        from ultralytics import YOLO

        model = YOLO(trained_cbam)
        fp32 = Path(shutil.move(model.export(format="openvino", imgsz=IMGSZ, verbose=False), tmp_path / "fp32"))
        ir = ov.Core().read_model(fp32 / "best.xml")
        convs = {
            i: [
                op.get_friendly_name()
                for op in ir.get_ordered_ops()
                if op.get_type_name() == "Convolution" and op.get_friendly_name().startswith(f"__module.model.{i}.")
            ]
            for i in (4, 6)
        }
        assert convs[4] and convs[6]
        common = {"data": "pcb-mini.yaml", "attention_layers": [5, 8, 12], "head_index": 25, "imgsz": IMGSZ}
        int8 = quantize_openvino(
            fp32, out_dir=tmp_path / "f_int8_openvino_model", subset_size=8, float_layers=[4], **common
        )
        assert _quantised_inputs(int8, convs[4], ("Convolution",)) == 0
        assert _quantised_inputs(int8, convs[6], ("Convolution",)) == len(convs[6])  # its input activations

    def test_quantize_options_reach_nncf_over_the_recipe(self, trained_cbam, tmp_path, monkeypatch):
        """tools/int8_recipes.py measures nncf.quantize arguments (full bias correction, preset) through this."""
        nncf = pytest.importorskip("nncf")
        from ultralytics import YOLO

        seen, real = [], nncf.quantize
        monkeypatch.setattr(nncf, "quantize", lambda *a, **kw: seen.append(kw) or real(*a, **kw))
        fp32 = Path(shutil.move(YOLO(trained_cbam).export(format="openvino", imgsz=IMGSZ, verbose=False), tmp_path))
        common = {"data": "pcb-mini.yaml", "attention_layers": [5, 8, 12], "head_index": 25, "imgsz": IMGSZ}
        options = {"fast_bias_correction": False, "preset": nncf.QuantizationPreset.PERFORMANCE}
        quantize_openvino(
            fp32, out_dir=tmp_path / "o_int8_openvino_model", subset_size=4, quantize_options=options, **common
        )
        assert seen[0]["fast_bias_correction"] is False and seen[0]["preset"] == nncf.QuantizationPreset.PERFORMANCE
        assert seen[0]["subset_size"] == 4 and seen[0]["ignored_scope"] is not None  # the recipe's own stay

    def test_residual_gate_path_stays_float(self, tmp_path):
        """A newly inserted layer computes x + a * (attn(x) - x), as x * (a * w + (1 - a)): that path is not INT8."""
        pytest.importorskip("nncf")
        import openvino as ov

        model = yolo("yolov8n-eca.yaml")
        for i in (5, 8, 12):
            model.model.model[i].enable_residual_gate(0.1)
        fp32 = Path(shutil.move(model.export(format="openvino", imgsz=IMGSZ, verbose=False), tmp_path / "fp32"))
        ir = ov.Core().read_model(next(fp32.glob("*.xml")))
        gates = gate_nodes(ir, [5, 8, 12])
        triples = _residual_ops(ir, [5, 8, 12])
        assert len(triples) == 3  # Multiply by a, Add 1 - a, product with x in each of the 3 layers
        residual = [name for triple in triples for name in triple]
        assert set(residual) <= set(gates), sorted(set(residual) - set(gates))

        head = len(model.model.model) - 1
        common = {"data": "pcb-mini.yaml", "attention_layers": [5, 8, 12], "head_index": head, "imgsz": IMGSZ}
        protected = quantize_openvino(fp32, out_dir=tmp_path / "p_int8_openvino_model", subset_size=8, **common)
        unprotected = quantize_openvino(
            fp32, out_dir=tmp_path / "u_int8_openvino_model", protect_gates=False, subset_size=8, **common
        )
        arithmetic = ("Multiply", "Subtract", "Add")
        assert _quantised_inputs(protected, gates, arithmetic) == 0
        assert _quantised_inputs(protected, residual, arithmetic) == 0  # no FakeQuantize feeds the residual path
        assert _quantised_inputs(unprotected, residual, arithmetic) > 0
        # What the CPU plugin runs: the residual arithmetic in f32 when protected, on 8-bit integers when not. (The
        # Multiply by `a` and the Add may be fused into a node of another name; the product with x keeps its own.)
        protected_runtime = _runtime_precisions(protected, residual)
        assert {product for _, _, product in triples} <= set(protected_runtime)
        assert set(protected_runtime.values()) == {"f32"}, protected_runtime
        unprotected_runtime = _runtime_precisions(unprotected, residual)
        assert {"u8", "i8"} & set(unprotected_runtime.values()), unprotected_runtime

    @pytest.mark.slow
    def test_int8_export_reports_map_delta_with_and_without_protection(self, trained_cbam, tmp_path):
        pytest.importorskip("nncf")
        from ultralytics import YOLO

        reports = export_and_verify(
            YOLO(trained_cbam),
            "openvino",
            imgsz=IMGSZ,
            int8=True,
            data="pcb-mini.yaml",
            out_dir=tmp_path,
            images=2,
            subset_size=8,
        )
        [r] = reports
        assert r.error is None and r.precision == "int8" and r.judged_by.endswith("+mAP50")
        assert r.detections is not None and r.detections.criterion.score_tol == 0.1
        assert r.map50 is not None and r.ref_map50 is not None and r.map50_unprotected is not None
        assert r.map50_drop is not None and r.map_tol == 1.0
        assert "mAP50 drop <= 1 pts" in r.line()
        assert [p.name for p in tmp_path.iterdir()] == ["best_int8_openvino_model"]  # no FP32 leftover
        assert YOLO(r.artifact).predict(str(image_files(n=1)[0]), imgsz=IMGSZ)

    def test_int8_without_data_is_refused(self):
        with pytest.raises(ValueError, match="needs data="):
            export_and_verify(yolo("yolov8n-eca.yaml"), "openvino", imgsz=IMGSZ, int8=True)
