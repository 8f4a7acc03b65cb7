"""export_and_verify's arguments: the export size follows the host's stride rounding; bad values fail up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.export_cases import yolo
from yolo_attention.export import export_and_verify, exporter


class TestArguments:
    def test_imgsz_is_rounded_up_to_the_stride_and_verified_at_that_size(self, tmp_path, monkeypatch):
        """Ultralytics exports imgsz=100 at 128 (stride 32, rounded up); verifying at 100 broke every runtime."""
        warned = []
        monkeypatch.setattr(exporter.LOGGER, "warning", warned.append)
        [report] = export_and_verify(yolo("yolov8n-cbam.yaml"), "onnx", imgsz=100, out_dir=tmp_path, images=1)
        assert report.error is None and report.passed, report.line()
        assert report.shapes == [(1, 3, 128, 128)]
        assert [w for w in warned if "imgsz=100" in w and "128" in w and "stride 32" in w], warned

    @pytest.mark.parametrize(
        "kwargs,fragment",
        [
            ({"format": None}, "format must be"),
            ({"format": 3}, "format must be"),
            ({"rtol": -1}, r"rtol must be a number > 0 .*, got -1"),
            ({"rtol": 0}, r"rtol must be a number > 0 .*, got 0"),
            ({"format": "onnx", "formats": "openvino"}, "give one"),
            ({"subset_size": 0}, r"subset_size must be an int >= 1 \(INT8 calibration images\), got 0"),
        ],
    )
    def test_bad_arguments_fail_before_anything_is_exported(self, kwargs, fragment, tmp_path):
        with pytest.raises(ValueError, match=fragment):
            export_and_verify("yolov8n-se.yaml", imgsz=64, out_dir=tmp_path, **kwargs)
        assert not any(tmp_path.iterdir())


def test_the_shipped_checkpoint_exports_into_the_working_directory_not_the_package(tmp_path, monkeypatch):
    """Ultralytics writes an export beside its checkpoint: for the shipped one, inside the installed package."""
    from yolo_attention.resources import WEIGHTS_DIR

    before = set(WEIGHTS_DIR.iterdir())
    monkeypatch.chdir(tmp_path)
    [report] = export_and_verify("yolov8n-deeppcb.pt", "onnx", imgsz=64, images=1)
    assert report.passed and report.artifact == str(tmp_path / "yolov8n-deeppcb.onnx"), report.line()
    assert set(WEIGHTS_DIR.iterdir()) == before


def test_ultralytics_writes_into_out_dir_itself_and_the_model_is_left_as_it_was(tmp_path, monkeypatch):
    """Its "Results saved to" line and its predict/val commands name out_dir, not a file moved away afterwards."""
    from ultralytics import YOLO

    source = tmp_path / "ckpt"
    source.mkdir()
    YOLO("yolov8n-se.yaml").save(source / "best.pt")
    model = YOLO(str(source / "best.pt"))
    before = model.model.pt_path
    written = []
    real_export = model.export
    monkeypatch.setattr(model, "export", lambda **kw: written.append(real_export(**kw)) or written[-1])
    [report] = export_and_verify(model, "onnx", imgsz=64, images=1, out_dir=tmp_path / "out")
    assert report.passed, report.line()
    assert written == [str(tmp_path / "out" / "best.onnx")]
    assert sorted(p.name for p in source.iterdir()) == ["best.pt"]
    assert model.model.pt_path == before


def test_an_int8_export_leaves_an_earlier_export_in_out_dir_alone(tmp_path):
    """INT8 quantises an FP32 export made on the way: written into out_dir, it replaced and then deleted the FP32
    export an earlier call had left there."""
    from ultralytics import YOLO

    YOLO("yolov8n-se.yaml").save(tmp_path / "best.pt")
    out = tmp_path / "models"
    [fp32] = export_and_verify(str(tmp_path / "best.pt"), "openvino", imgsz=64, images=1, out_dir=out)
    files = {p: p.read_bytes() for p in Path(fp32.artifact).iterdir()}
    [int8] = export_and_verify(
        str(tmp_path / "best.pt"),
        "openvino",
        int8=True,
        data="pcb-mini.yaml",
        imgsz=64,
        images=1,
        subset_size=4,
        out_dir=out,
        int8_compare=False,
    )
    assert int8.error is None and Path(int8.artifact).parent == out, int8.line()
    assert {p: p.read_bytes() for p in Path(fp32.artifact).iterdir()} == files
    assert sorted(p.name for p in out.iterdir()) == ["best_int8_openvino_model", "best_openvino_model"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "models"]  # nothing left beside the checkpoint
