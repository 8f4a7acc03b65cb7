"""Export proven right: parity of every bundled variant in every runtime, INT8 gates, baseline, CLI, benchmark."""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import yolo_attention
from yolo_attention.cli.export_cmd import benchmark as benchmark_command
from yolo_attention.cli.export_cmd import export as export_command
from yolo_attention.export import (
    TensorRTUnavailableError,
    attention_metadata,
    build_baseline,
    export_and_verify,
    gate_nodes,
    kept_layers,
    load_images,
    parse_formats,
    quantize_openvino,
    remove_attention,
    resolve_precision,
    run_benchmark,
    verify_export,
)
from yolo_attention.export.benchmark import time_interleaved
from yolo_attention.export.verify import compare_outputs, image_files
from yolo_attention.resources import bundled_model_cfgs

ATTENTION_CFGS = [p.name for p in bundled_model_cfgs() if "\nattention:" in p.read_text()]  # yolov8-cbam.yaml ...
DETECT_CFGS = [name for name in ATTENTION_CFGS if "-pose-" not in name]
POSE_CFGS = [name for name in ATTENTION_CFGS if "-pose-" in name]
IMGSZ = 64
HAS_TENSORRT = torch.cuda.is_available() and importlib.util.find_spec("tensorrt") is not None


def _scaled(cfg: str) -> str:
    """yolov8-pcb-cbam.yaml -> yolov8n-pcb-cbam.yaml"""
    return cfg.replace("yolov8-", "yolov8n-", 1)


def _yolo(name: str):
    from ultralytics import YOLO

    return YOLO(name)


def _sensitive(name: str, seed: int = 0):
    """A random-weight model whose outputs depend on its input and its attention.

    Freshly initialised YOLO heads output nearly constant boxes and scores whatever the input (switching every
    attention layer off moves them by ~1e-6), so a parity check on them proves nothing. BatchNorm statistics measured
    on real images make every layer pass on a normalised signal: outputs then differ by O(1) between images and when
    the attention is switched off. The head's last convolutions are scaled down (as training leaves them: boxes of
    image size, not of ten images' size), which keeps the network's gain, and with it the rounding noise between
    fused and unfused convolutions, near a trained model's (~1e-5 relative) instead of ~5e-4.
    """
    torch.manual_seed(seed)
    model = _yolo(name)
    net = model.model
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    images = load_images(imgsz=IMGSZ, n=8)
    net.train()
    with torch.no_grad():
        net(images)
        net(images.flip(3))
        head = net.model[-1]
        for branch in list(head.cv2) + list(head.cv3):
            branch[-1].weight.mul_(0.1)
    net.eval()
    return model


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Ultralytics writes exports of YAML-built models to the working folder before they are moved."""
    monkeypatch.chdir(tmp_path)


class TestRemoveAttention:
    def test_every_bundled_variant_was_found(self):
        assert {"yolov8-cbam.yaml", "yolov8-eca.yaml", "yolov8-coordatt.yaml", "yolov8-se.yaml"} <= set(DETECT_CFGS)
        assert "yolov8-ecasam.yaml" in DETECT_CFGS and len(POSE_CFGS) >= 5

    @pytest.mark.parametrize("cfg", ATTENTION_CFGS)
    def test_bundled_model_minus_attention_is_its_baseline(self, cfg):
        from ultralytics.nn.tasks import yaml_model_load

        model = yaml_model_load(_scaled(cfg))
        base = yaml_model_load(_scaled(cfg.rsplit("-", 1)[0] + ".yaml"))  # yolov8-pcb-cbam -> yolov8-pcb
        out = remove_attention(model)
        assert out["backbone"] == base["backbone"] and out["head"] == base["head"]
        assert "attention" not in out
        layers = model["backbone"] + model["head"]
        attention = [i for i, layer in enumerate(layers) if layer[2] in yolo_attention.MODULES]
        assert len(attention) >= 3 and kept_layers(model) == [i for i in range(len(layers)) if i not in attention]

    def test_round_trip_with_insert_attention_at_other_places(self):
        from yolo_attention.placement import insert_attention

        base = _yolo("yolov8n.yaml").model.yaml
        cfg = {k: v for k, v in base.items() if k in ("nc", "scales", "backbone", "head")}
        for after in ([0], [2, 14], [9, 12, 15, 18, 21]):
            assert remove_attention(insert_attention(cfg, "CBAM", after)) == cfg

    def test_attention_reading_attention_and_custom_names(self):
        cfg = {
            "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "ECA", []], [-1, 1, "SE", []]],
            "head": [[[-1, 0], 1, "Concat", [1]], [[1, 3], 1, "Concat", [1]]],
        }
        out = remove_attention(cfg)
        assert out["backbone"] == [[-1, 1, "Conv", [16, 3, 2]]]
        assert out["head"] == [[[-1, 0], 1, "Concat", [1]], [[0, 1], 1, "Concat", [1]]]  # absolute stays absolute
        assert remove_attention(cfg, modules={"SE"})["backbone"][1] == [-1, 1, "ECA", []]

    def test_multi_input_attention_is_refused(self):
        cfg = {"backbone": [[-1, 1, "Conv", [16, 3, 2]], [[-1, 0], 1, "ECA", []]], "head": []}
        with pytest.raises(ValueError, match="must read one input"):
            remove_attention(cfg)

    def test_baseline_computes_what_the_model_computes_with_attention_off(self, tmp_path, pcb_batch):
        model = _yolo("yolov8n-cbam.yaml")
        base = build_baseline(model, tmp_path)
        assert yolo_attention.attention_layer_indices(base) == []
        yolo_attention.set_attention(
            model.model, {"CBAM": False}
        )  # an exact identity: the rest must be the same weights
        with torch.inference_mode():
            expected = model.model.eval()(pcb_batch[:2])[0]
            got = base.model.eval()(pcb_batch[:2])[0]
        assert torch.equal(expected, got)


class TestFormatsAndPrecision:
    def test_parse_formats(self):
        assert parse_formats("ONNX, openvino,trt,onnx") == ["onnx", "openvino", "engine"]
        with pytest.raises(ValueError, match="Did you mean 'onnx'"):
            parse_formats("onxx")
        with pytest.raises(ValueError, match="no export format"):
            parse_formats(" , ")

    @pytest.mark.parametrize(
        "fmt,half,int8,expected",
        [
            ("onnx", False, False, "fp32"),
            ("onnx", True, False, "fp16"),
            ("onnx", False, True, "fp32"),
            ("openvino", True, True, "int8"),
            ("engine", False, True, "int8"),
            ("torchscript", True, False, "fp32"),
        ],
    )
    def test_resolve_precision(self, fmt, half, int8, expected):
        precision, note = resolve_precision(fmt, half, int8, cuda=False)
        assert precision == expected
        assert (note is None) == (precision == ("int8" if int8 else "fp16" if half else "fp32"))

    def test_compare_outputs_relative_to_value_floored_at_one(self):
        ref = np.array([0.01, 0.5, 640.0], dtype=np.float32)
        assert compare_outputs(ref + np.array([5e-4, 5e-4, 0.5], dtype=np.float32), ref, 1e-3)["ok"]
        assert not compare_outputs(ref + np.array([2e-3, 0, 0], dtype=np.float32), ref, 1e-3)["ok"]
        assert not compare_outputs(np.array([np.nan, 0.5, 640], dtype=np.float32), ref, 1e-3)["ok"]
        with pytest.raises(ValueError, match="shape"):
            compare_outputs(ref[:2], ref, 1e-3)


class TestParity:
    """Every bundled variant: ONNX static and dynamic, OpenVINO FP32 and TorchScript, checked on real images."""

    @pytest.mark.parametrize("cfg", DETECT_CFGS)
    def test_every_variant_exports_and_matches_pytorch(self, cfg, tmp_path):
        name = _scaled(cfg)
        model = _sensitive(name)
        reports = export_and_verify(model, "onnx,openvino,torchscript", imgsz=IMGSZ, out_dir=tmp_path, images=2)
        assert [r.format for r in reports] == ["onnx", "openvino", "torchscript"]
        for r in reports:
            assert r.passed, r.line()
            assert r.precision == "fp32" and r.max_rel <= 1e-3
            assert r.attention_effect > 1e-1 and not r.notes  # the check would see a lost attention layer
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
        [r] = export_and_verify(_sensitive(_scaled(cfg)), "onnx", imgsz=IMGSZ, out_dir=tmp_path, images=2)
        assert r.passed and r.attention_effect > 1e-1, r.line()

    def test_coordatt_dynamic_in_every_runtime(self, tmp_path):
        """CoordAtt's pooling along H and W is where dynamic shapes break exporters."""
        model = _sensitive("yolov8n-coordatt.yaml")
        reports = export_and_verify(model, "openvino,torchscript", imgsz=IMGSZ, dynamic=True, out_dir=tmp_path)
        assert all(r.passed and len(r.shapes) == 2 for r in reports), [r.line() for r in reports]

    def test_an_export_that_lost_its_attention_fails_parity(self, tmp_path):
        model = _sensitive("yolov8n-eca.yaml")
        yolo_attention.set_attention(model.model, {"ECA": False})  # what a broken exporter could silently do
        artifact = shutil.move(model.export(format="onnx", imgsz=IMGSZ, verbose=False), tmp_path / "a.onnx")
        yolo_attention.set_attention(model.model, {"ECA": True})
        report = verify_export(model, artifact, load_images(imgsz=IMGSZ, n=1))
        assert not report.passed and report.error is None and report.max_rel > 1e-3
        assert "FAIL" in report.line()

    def test_untrained_head_is_flagged_as_weak_evidence(self, tmp_path):
        model = _yolo("yolov8n-eca.yaml")  # fresh initialisation: near-constant outputs
        artifact = shutil.move(model.export(format="torchscript", imgsz=IMGSZ, verbose=False), tmp_path / "a.ts")
        report = verify_export(model, artifact, load_images(imgsz=IMGSZ, n=1), fmt="torchscript")
        assert report.passed and report.attention_effect < 1e-3
        assert "cannot see the attention" in report.notes[0]

    def test_a_broken_file_is_a_failed_report_not_a_crash(self, tmp_path):
        (tmp_path / "broken.onnx").write_bytes(b"not a model")
        report = verify_export(_yolo("yolov8n-se.yaml"), tmp_path / "broken.onnx", load_images(imgsz=IMGSZ, n=1))
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

        exported = YOLO(report.artifact)
        image = image_files(n=1)[0]
        results = exported.predict(str(image), imgsz=IMGSZ, verbose=False)
        assert results[0].boxes is not None and results[0].names[0] == "open"
        metrics = exported.val(data="pcb-mini.yaml", imgsz=IMGSZ, batch=1, plots=False, project=str(tmp_path))
        assert 0.0 <= metrics.box.map50 <= 1.0

    def test_fp16_onnx_is_judged_by_looser_parity(self, trained_cbam, tmp_path):
        from ultralytics import YOLO

        [report] = export_and_verify(YOLO(trained_cbam), "onnx", imgsz=IMGSZ, half=True, out_dir=tmp_path, images=2)
        assert report.precision == "fp16" and report.rtol == 1e-2
        assert report.passed, report.line()

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


class TestInt8:
    def test_gates_stay_float_only_when_protected(self, trained_cbam, tmp_path):
        pytest.importorskip("nncf")
        import openvino as ov
        from ultralytics import YOLO

        model = YOLO(trained_cbam)
        fp32 = Path(shutil.move(model.export(format="openvino", imgsz=IMGSZ, verbose=False), tmp_path / "fp32"))
        core = ov.Core()
        gates = gate_nodes(core.read_model(fp32 / "best.xml"), [5, 8, 12])
        assert len(gates) == 12  # 3 layers x (channel + spatial) x (sigmoid + product)

        def quantised_gate_inputs(folder):
            q = core.read_model(next(folder.glob("*.xml")))
            ops = {op.get_friendly_name(): op for op in q.get_ordered_ops()}
            multiplies = [ops[name] for name in gates if ops[name].get_type_name() == "Multiply"]
            return sum(
                inp.get_source_output().get_node().get_type_name() == "FakeQuantize"
                for op in multiplies
                for inp in op.inputs()
            )

        common = {"data": "pcb-mini.yaml", "attention_layers": [5, 8, 12], "head_index": 25, "imgsz": IMGSZ}
        protected = quantize_openvino(fp32, out_dir=tmp_path / "p_int8_openvino_model", subset_size=8, **common)
        unprotected = quantize_openvino(
            fp32, out_dir=tmp_path / "u_int8_openvino_model", protect_gates=False, subset_size=8, **common
        )
        assert quantised_gate_inputs(protected) == 0
        assert quantised_gate_inputs(unprotected) > 0
        assert (protected / "metadata.yaml").is_file()
        assert "FakeQuantize" in {op.get_type_name() for op in core.read_model(next(protected.glob("*.xml"))).get_ops()}

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
        assert r.error is None and r.precision == "int8" and r.judged_by == "mAP50"
        assert r.map50 is not None and r.ref_map50 is not None and r.map50_unprotected is not None
        assert r.map50_drop is not None and r.map_tol == 1.0
        assert [p.name for p in tmp_path.iterdir()] == ["best_int8_openvino_model"]  # no FP32 leftover
        assert YOLO(r.artifact).predict(str(image_files(n=1)[0]), imgsz=IMGSZ)

    def test_int8_without_data_is_refused(self):
        with pytest.raises(ValueError, match="needs data="):
            export_and_verify(_yolo("yolov8n-eca.yaml"), "openvino", imgsz=IMGSZ, int8=True)


class TestTensorRT:
    @pytest.mark.skipif(HAS_TENSORRT, reason="this machine can build engines")
    def test_engine_without_gpu_is_one_line_error(self):
        with pytest.raises(TensorRTUnavailableError) as e:
            export_and_verify(_yolo("yolov8n-cbam.yaml"), "onnx,engine", imgsz=IMGSZ)
        message = str(e.value)
        assert "\n" not in message
        for fragment in ("NVIDIA GPU", "yolo-attention[tensorrt]", "Jetson", "trtexec --onnx=model.onnx"):
            assert fragment in message

    @pytest.mark.skipif(HAS_TENSORRT, reason="this machine can build engines")
    def test_engine_cli_error_is_one_line(self):
        result = CliRunner().invoke(export_command, ["model=yolov8n-cbam.yaml", "format=engine", "imgsz=64"])
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) == 1 and "trtexec" in result.output

    @pytest.mark.skipif(not HAS_TENSORRT, reason="needs CUDA and tensorrt")
    @pytest.mark.parametrize("half", [False, True])
    def test_engine_dynamic_batch_parity(self, half, tmp_path):
        model = _yolo("yolov8n-cbam.yaml")
        [r] = export_and_verify(model, "engine", imgsz=IMGSZ, half=half, dynamic=True, out_dir=tmp_path, images=2)
        assert r.passed, r.line()


class TestCli:
    def test_export_verifies_and_writes(self, trained_cbam, tmp_path):
        result = CliRunner().invoke(
            export_command,
            [f"model={trained_cbam}", "format=onnx,torchscript", "imgsz=64", f"out={tmp_path}", "images=2"],
        )
        assert result.exit_code == 0, result.output
        assert "all 2 exports verified" in result.output
        assert (tmp_path / "best.onnx").is_file() and (tmp_path / "best.torchscript").is_file()

    @pytest.mark.parametrize(
        "args,fragment",
        [
            (["model=yolov8n-cbam.yaml", "format=onxx"], "Did you mean 'onnx'"),
            (["model=missing.pt"], "missing.pt"),
            (["format=onnx"], "missing model="),
            (["model=yolov8n-cbam.yaml", "formt=onnx"], "Did you mean 'format'"),
            (["model=yolov8n-cbam.yaml", "format=openvino", "int8=True"], "needs data="),
            (["model=yolov8n-cbam.yaml", "imgsz=[64,32]"], "imgsz must be an int"),
        ],
    )
    def test_export_bad_input_is_one_line(self, args, fragment):
        result = CliRunner().invoke(export_command, args)
        assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1, result.output

    def test_benchmark_prints_ratios(self, tmp_path):
        result = CliRunner().invoke(
            benchmark_command,
            ["model=yolov8n-eca.yaml", "formats=onnx", "imgsz=64", "runs=30", "warmup=1", "memory=False"],
        )
        assert result.exit_code == 0, result.output
        ratio = next(line for line in result.output.splitlines() if "ratio attention/baseline" in line).split()
        assert ratio[0] == "onnx" and float(ratio[5]) > 0  # params, GFLOPs, median, p90 ratios; no memory column

    @pytest.mark.parametrize(
        "args,fragment",
        [
            (["model=yolov8n-eca.yaml", "runs=5"], "runs must be"),
            (["model=yolov8n-eca.yaml", "formats=tflite"], "tflite"),
        ],
    )
    def test_benchmark_bad_input_is_one_line(self, args, fragment):
        result = CliRunner().invoke(benchmark_command, args)
        assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1, result.output


class TestBenchmark:
    @pytest.mark.slow
    def test_latency_and_memory_against_baseline(self, tmp_path):
        result = run_benchmark(
            "yolov8n-cbam.yaml", "torchscript,onnx", imgsz=IMGSZ, runs=30, warmup=2, out_dir=tmp_path, threads=1
        )
        assert result.backends == ["torchscript", "onnx"] and result.threads == 1
        for backend in result.backends:
            attention, baseline = result.pair(backend)
            assert attention.error is None and baseline.error is None
            assert attention.runs == baseline.runs == 30
            assert attention.params > baseline.params and attention.gflops >= baseline.gflops > 0
            assert attention.peak_mib > 0 and baseline.peak_mib > 0
            assert result.ratio(backend) > 0
        assert (tmp_path / "yolov8n-cbam-baseline.yaml").is_file() and (tmp_path / "baseline.onnx").is_file()
        assert "ratio attention/baseline" in result.table()

    def test_interleaved_timing_needs_30_runs(self):
        calls = []
        times = time_interleaved([lambda: calls.append("a"), lambda: calls.append("b")], runs=30, warmup=0, blocks=3)
        assert [len(t) for t in times] == [30, 30]
        assert calls[:10] == ["a"] * 10 and calls[10:30] == ["b"] * 20  # A, then B, B, then A again
        with pytest.raises(ValueError, match="runs must be"):
            time_interleaved([lambda: None], runs=10)
