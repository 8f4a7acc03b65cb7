"""FP16 and INT8 exports are judged by their detections: boxes matched by IoU within a class, scores, unmatched boxes.

The verdict tests run designed "exports": a module whose raw head output is a fixed tensor stands in for PyTorch, and
a TorchScript file of the same module with that tensor changed stands in for the export, so that what changed (a box
moved, a class flipped, background scores shifted) is known exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.export.export_cases import IMGSZ, sensitive
from yolo_attention.export import (
    DETECTION_CRITERIA,
    DetectionCriterion,
    ParityReport,
    export_and_verify,
    verify_export,
)
from yolo_attention.export.detections import compare_detections, detections_of

SMALL, LARGE, TIED = 0, 1, 2  # anchors of the designed detections; every other anchor is background


class FixedOutput(torch.nn.Module):
    """A two-class "model" whose raw head output (1, 6, anchors) is `output`, whatever the image."""

    def __init__(self, output: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("output", output.clone())
        self.names = {0: "open", 1: "short"}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output.expand(x.shape[0], -1, -1) + 0 * x.mean()


def designed(anchors: int = 64) -> torch.Tensor:
    """Three detections on a 640 px image: a 16 px box far from the origin, a large box, a near tie between classes."""
    out = torch.zeros(1, 6, anchors)
    grid = torch.arange(anchors, dtype=torch.float32)
    out[0, 0], out[0, 1] = 40 + (grid % 8) * 70, 40 + (grid // 8) * 70  # background boxes on a grid
    out[0, 2:4] = 30
    out[0, 4:6] = 0.01
    out[0, :, SMALL] = torch.tensor([600.0, 600.0, 16.0, 16.0, 0.9, 0.01])
    out[0, :, LARGE] = torch.tensor([200.0, 320.0, 60.0, 60.0, 0.01, 0.8])
    out[0, :, TIED] = torch.tensor([400.0, 100.0, 50.0, 50.0, 0.503, 0.497])
    return out


def fake_export(reference: torch.Tensor, exported: torch.Tensor, folder, precision: str) -> ParityReport:
    """Verify a TorchScript "export" computing `exported` against a model computing `reference`."""
    path = folder / "fake.torchscript"
    torch.jit.trace(FixedOutput(exported), torch.zeros(1, 3, 32, 32)).save(str(path))
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    return verify_export(FixedOutput(reference), path, images, precision=precision)


class TestVerdicts:
    """Each case is judged wrongly by a tensor tolerance alone (1e-2 for FP16, 1e-1 for INT8)."""

    @pytest.mark.parametrize("precision,shift", [("fp16", 0.009), ("int8", 0.09)])
    def test_a_box_moved_within_the_tensor_tolerance_fails(self, tmp_path, precision, shift):
        reference = designed()
        moved = reference.clone()
        moved[0, :2, SMALL] *= 1 + shift  # 5.4 px (FP16) off a 16 px box: IoU 0.28; relative change < tolerance
        report = fake_export(reference, moved, tmp_path, precision)
        assert report.error is None and report.max_rel <= report.rtol  # the tensor tolerance cannot see it
        assert report.judged_by == "detections" and not report.passed, report.line()
        assert report.detections.missed == report.detections.extra == 2  # the small box, once per image
        assert report.detections.matched == 4 and report.detections.reference == 6

    def test_a_flipped_class_within_the_tensor_tolerance_fails(self, tmp_path):
        reference = designed()
        flipped = reference.clone()
        flipped[0, 4:6, TIED] = flipped[0, 4:6, TIED].flip(0)  # 0.503/0.497 -> 0.497/0.503: |d| 0.006
        report = fake_export(reference, flipped, tmp_path, "fp16")
        assert report.max_rel <= report.rtol and not report.passed, report.line()
        assert report.detections.missed == report.detections.extra == 2

    @pytest.mark.parametrize("precision,shift", [("fp16", 0.05), ("int8", 0.12)])
    def test_background_scores_beyond_the_tensor_tolerance_pass(self, tmp_path, precision, shift):
        reference = designed()
        noisy = reference.clone()
        noisy[0, 4:6, 3:] += shift  # anchors far below conf 0.25 move: no detection changes
        report = fake_export(reference, noisy, tmp_path, precision)
        assert report.max_rel > report.rtol  # a tensor tolerance would fail it
        assert report.passed, report.line()
        assert report.detections.unmatched == 0 and report.detections.matched == report.detections.reference == 6

    def test_a_box_crossing_the_threshold_within_score_tol_passes(self, tmp_path):
        reference = designed()
        reference[0, 4, TIED], reference[0, 5, TIED] = 0.26, 0.01
        crossed = reference.clone()
        crossed[0, 4, TIED] = 0.245  # below conf 0.25 now, by less than FP16's score_tol 0.02
        report = fake_export(reference, crossed, tmp_path, "fp16")
        assert report.max_rel > report.rtol and report.passed, report.line()

    def test_a_score_drift_beyond_score_tol_fails(self, tmp_path):
        reference = designed()
        drifted = reference.clone()
        drifted[0, 5, LARGE] -= 0.05
        report = fake_export(reference, drifted, tmp_path, "fp16")
        assert report.detections.unmatched == 0 and report.detections.max_score_diff == pytest.approx(0.05)
        assert not report.passed, report.line()

    def test_the_report_states_its_criterion(self, tmp_path):
        report = fake_export(designed(), designed(), tmp_path, "fp16")
        assert report.passed and report.judged_by == "detections"
        line = report.line()
        for fragment in ("boxes 6/6 matched", "0 missed", "0 extra", "conf 0.25", "IoU>=0.5", "same class"):
            assert fragment in line, line
        assert "|dscore|<=0.02" in line and "unmatched<=2%" in line
        assert report.criterion == DETECTION_CRITERIA["fp16"].text()

    def test_fp32_keeps_the_tensor_tolerance(self, tmp_path):
        reference = designed()
        noisy = reference.clone()
        noisy[0, 4:6, 3:] += 2e-3  # no detection changes, but beyond 1e-3
        report = fake_export(reference, noisy, tmp_path, "fp32")
        assert report.detections is None and report.judged_by == "parity" and not report.passed
        assert "|d| <= 0.001 * max(|torch|, 1)" in report.line()

    def test_no_detections_fall_back_on_the_tensor_tolerance_with_a_note(self, tmp_path):
        empty = designed()
        empty[0, 4:6] = 0.01
        report = fake_export(empty, empty + 0.03, tmp_path, "fp16")  # nothing detected either side; |d| 0.03 > 1e-2
        assert report.judged_by == "parity" and not report.passed
        assert "neither model detects anything" in report.notes[-1]
        assert "no detections at conf 0.25 to compare" in report.line()


class TestMatching:
    def test_detections_follow_ultralytics_nms(self):
        out = designed().numpy()
        out[0, :, 3] = [601.0, 600.0, 16.0, 16.0, 0.85, 0.0]  # the small box again (IoU 0.88), lower score
        found = detections_of(out, nc=2)[0].astype(float)
        assert found[:, 4].round(3).tolist() == [0.9, 0.8, 0.503]  # the duplicate is suppressed
        assert found[:, 5].tolist() == [0.0, 1.0, 0.0]
        assert found[0, :4].tolist() == [592.0, 592.0, 608.0, 608.0]

    def test_counts_and_allowed_unmatched(self):
        reference = designed().numpy()
        lost = reference.copy()
        lost[0, 4, SMALL] = 0.1  # the small box is gone
        rule = DetectionCriterion(max_unmatched=0.5)
        match = compare_detections([lost], [reference], 2, rule)
        assert (match.reference, match.exported, match.matched, match.missed, match.extra) == (3, 2, 2, 1, 0)
        assert match.allowed_unmatched == 1 and match.ok
        assert not compare_detections([lost], [reference], 2, DetectionCriterion()).ok

    def test_bad_output_shape_is_a_value_error(self):
        with pytest.raises(ValueError, match="raw head output"):
            detections_of(np.zeros((1, 5, 8), dtype=np.float32), nc=2)


class TestRealExports:
    def test_fp16_onnx_and_openvino_pass_by_their_detections(self, tmp_path):
        model = sensitive("yolov8n-pcb-cbam.yaml", class_bias=-1.5)  # ~50 boxes at conf 0.25 on 8 images
        reports = export_and_verify(model, "onnx,openvino", imgsz=IMGSZ, half=True, out_dir=tmp_path, images=8)
        for report in reports:
            assert report.precision == "fp16" and report.judged_by == "detections", report.line()
            assert report.detections.reference >= 20 and report.detections.mean_iou > 0.9, report.line()
            assert report.passed, report.line()
            assert report.criterion in report.line()

    def test_a_model_that_detects_nothing_is_judged_by_tensor_tolerance_with_a_note(self, trained_cbam, tmp_path):
        from ultralytics import YOLO

        [report] = export_and_verify(YOLO(trained_cbam), "onnx", imgsz=IMGSZ, half=True, out_dir=tmp_path, images=8)
        assert report.precision == "fp16" and report.rtol == 1e-2, report.line()
        assert report.detections.reference == report.detections.exported == 0  # one epoch: every score < 0.01
        assert report.judged_by == "parity" and report.passed, report.line()
        assert any("neither model detects anything" in note for note in report.notes)
