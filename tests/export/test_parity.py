"""FP32 parity: every bundled variant in every CPU runtime on real images, and what the exported files carry."""

from __future__ import annotations

import ast
import json
import shutil

import numpy as np
import pytest

import yolo_attention
from tests.export.export_cases import DETECT_CFGS, IMGSZ, POSE_CFGS, scaled, sensitive, yolo
from yolo_attention.export import attention_metadata, export_and_verify, load_images, verify_export


class TestParity:
    """Every bundled variant: ONNX static and dynamic, OpenVINO FP32 and TorchScript, checked on real images."""

    @pytest.mark.parametrize("cfg", DETECT_CFGS)
    def test_every_variant_exports_and_matches_pytorch(self, cfg, tmp_path):
        name = scaled(cfg)
        model = sensitive(name)
        reports = export_and_verify(model, "onnx,openvino,torchscript", imgsz=IMGSZ, out_dir=tmp_path, images=2)
        assert [r.format for r in reports] == ["onnx", "openvino", "torchscript"]
        # GLSA's `A * L` starts small (fresh attention averages its keys into a near-constant A): 2.9e-3 here, still
        # above the 1e-3 tolerance, so a lost GLSA layer fails parity; tests/export/test_new_modules_export.py
        # checks a GLSA model whose effect is O(1)
        min_effect = 2e-3 if "-glsa" in cfg else 1e-1
        for r in reports:
            assert r.passed, r.line()
            assert r.precision == "fp32" and r.max_rel <= 1e-3 and r.judged_by == "parity"
            assert r.attention_effect > min_effect and not r.notes  # the check would see a lost attention layer
            assert r.shapes == [(1, 3, IMGSZ, IMGSZ)] * 2
        stem = name.removesuffix(".yaml")
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            f"{stem}.onnx",
            f"{stem}.torchscript",
            f"{stem}_openvino_model",
        ]
        dynamic = export_and_verify(model, "onnx", imgsz=IMGSZ, dynamic=True, out_dir=tmp_path / "dyn", images=2)[0]
        assert dynamic.passed, dynamic.line()
        assert dynamic.shapes == [(2, 3, IMGSZ, IMGSZ), (2, 3, IMGSZ + 32, IMGSZ)]  # batch and height both vary

    @pytest.mark.parametrize("cfg", POSE_CFGS)
    def test_pose_variants_export_to_onnx_and_match(self, cfg, tmp_path):
        [r] = export_and_verify(sensitive(scaled(cfg)), "onnx", imgsz=IMGSZ, out_dir=tmp_path, images=2)
        assert r.passed and r.attention_effect > 1e-1, r.line()

    def test_coordatt_dynamic_in_every_runtime(self, tmp_path):
        """CoordAtt's pooling along H and W is where dynamic shapes break exporters."""
        model = sensitive("yolov8n-coordatt.yaml")
        reports = export_and_verify(model, "openvino,torchscript", imgsz=IMGSZ, dynamic=True, out_dir=tmp_path)
        assert all(r.passed and len(r.shapes) == 2 for r in reports), [r.line() for r in reports]

    def test_an_export_that_lost_its_attention_fails_parity(self, tmp_path):
        model = sensitive("yolov8n-eca.yaml")
        yolo_attention.set_attention(model.model, {"ECA": False})  # what a broken exporter could silently do
        artifact = shutil.move(model.export(format="onnx", imgsz=IMGSZ, verbose=False), tmp_path / "a.onnx")
        yolo_attention.set_attention(model.model, {"ECA": True})
        report = verify_export(model, artifact, load_images(imgsz=IMGSZ, n=1))
        assert not report.passed and report.error is None and report.max_rel > 1e-3
        assert "FAIL" in report.line()

    def test_untrained_head_is_flagged_as_weak_evidence(self, tmp_path):
        model = yolo("yolov8n-eca.yaml")  # fresh initialisation: near-constant outputs
        artifact = shutil.move(model.export(format="torchscript", imgsz=IMGSZ, verbose=False), tmp_path / "a.ts")
        report = verify_export(model, artifact, load_images(imgsz=IMGSZ, n=1), fmt="torchscript")
        assert report.passed and report.attention_effect < 1e-3
        assert "cannot see the attention" in report.notes[0]

    def test_a_broken_file_is_a_failed_report_not_a_crash(self, tmp_path):
        (tmp_path / "broken.onnx").write_bytes(b"not a model")
        report = verify_export(yolo("yolov8n-se.yaml"), tmp_path / "broken.onnx", load_images(imgsz=IMGSZ, n=1))
        assert not report.passed and report.error


class TestOnnxArtifact:
    def test_metadata_and_yolo_predict_and_val(self, trained_cbam, tmp_path):
        import onnx
        from ultralytics import YOLO

        [report] = export_and_verify(YOLO(trained_cbam), "onnx", imgsz=IMGSZ, out_dir=tmp_path, images=2)
        assert report.passed, report.line()
        meta = {p.key: p.value for p in onnx.load(report.artifact).metadata_props}
        assert ast.literal_eval(meta["names"])[0] == "open"
        assert ast.literal_eval(meta["imgsz"]) == [IMGSZ, IMGSZ]
        assert int(meta["stride"]) == 32
        attention = ast.literal_eval(meta["attention"])
        assert sorted(attention) == [5, 8, 12] and attention[5].startswith("CBAM(c1=64")
        assert attention == attention_metadata(YOLO(trained_cbam))

        # Through Ultralytics' own predictor and validator, the exported file finds what the checkpoint finds.
        exported, pytorch = YOLO(report.artifact), YOLO(trained_cbam)
        image = load_images(imgsz=IMGSZ, n=1)  # one letterboxed tensor, so that both predictors see the same pixels
        got = exported.predict(image, imgsz=IMGSZ, conf=0.001, verbose=False)[0]
        expected = pytorch.predict(image, imgsz=IMGSZ, conf=0.001, verbose=False)[0]
        assert got.names[0] == "open"  # read back from the ONNX metadata
        assert len(expected.boxes) > 0 and abs(len(got.boxes) - len(expected.boxes)) <= 1
        top = min(5, len(expected.boxes))
        np.testing.assert_allclose(got.boxes.data[:top].numpy(), expected.boxes.data[:top].numpy(), atol=1e-2)
        settings = {"data": "pcb-mini.yaml", "imgsz": IMGSZ, "batch": 1, "rect": False, "plots": False}
        map50 = exported.val(**settings, project=str(tmp_path / "onnx")).box.map50
        assert map50 == pytest.approx(pytorch.val(**settings, project=str(tmp_path / "pt")).box.map50, abs=0.01)

    def test_static_batch_two(self, trained_cbam, tmp_path):
        from ultralytics import YOLO

        [report] = export_and_verify(YOLO(trained_cbam), "onnx", imgsz=IMGSZ, batch=2, images=3, out_dir=tmp_path)
        assert report.passed and report.shapes == [(2, 3, IMGSZ, IMGSZ)], report.line()

    def test_experiment_checkpoint_exports_into_its_models_folder(self, trained_cbam, tmp_path):
        experiment = tmp_path / "yolov8n-cbam_two-stage_20260101_000000"
        (experiment / "checkpoints").mkdir(parents=True)
        (experiment / "experiment.json").write_text(json.dumps({"name": "x"}))
        checkpoint = experiment / "checkpoints" / "final_model.pt"
        shutil.copy(trained_cbam, checkpoint)
        [report] = export_and_verify(str(checkpoint), "torchscript", imgsz=IMGSZ, images=1)
        assert report.passed
        assert (experiment / "models" / "final_model.torchscript").is_file()
