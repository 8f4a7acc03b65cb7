"""What verifying one export found, and its verdict under the rule for its precision."""

from __future__ import annotations

from dataclasses import dataclass, field

from yolo_attention.export.detections import DetectionMatch

__all__ = ["RTOL", "ParityReport"]

RTOL = {"fp32": 1e-3, "fp16": 1e-2, "int8": 1e-1}
"""Tensor tolerance per precision on ``|d| / max(|torch|, 1)``. It is FP32's verdict; FP16/INT8 are judged by their
detections and fall back on it only when neither model detects anything on the verification images."""


@dataclass
class ParityReport:
    """What verifying one exported model found.

    Verdicts: FP32 by the tensor tolerance (every raw output value within ``rtol * max(|torch|, 1)``); FP16 and INT8
    by their detections (`detections`, see `yolo_attention.export.detections`) and, when validated on a dataset, by
    their mAP50 drop too.

    Attributes:
        format (str): ``onnx``, ``openvino``, ``torchscript`` or ``engine``.
        artifact (str): The exported file or folder.
        precision (str): ``fp32``, ``fp16`` or ``int8``.
        dynamic (bool): Whether the export has dynamic shapes (then several input shapes were checked).
        shapes (list[tuple[int, ...]]): Input shapes run through both models.
        max_abs (float): Largest absolute difference of the raw head outputs.
        mean_abs (float): Mean absolute difference.
        max_rel (float): Largest ``|d| / max(|torch|, 1)``.
        rtol (float): Tolerance on `max_rel`.
        detections (DetectionMatch, optional): FP16/INT8: the export's detections matched with PyTorch's.
        map50 (float, optional): The exported model's mAP50 on the dataset (0..1), when one was given.
        map50_95 (float, optional): Its mAP50-95.
        ref_map50 (float, optional): PyTorch's mAP50 on the same data and settings.
        ref_map50_95 (float, optional): PyTorch's mAP50-95.
        map_tol (float, optional): Largest mAP50 drop allowed, in points (0..100).
        map50_unprotected (float, optional): INT8 only: mAP50 when the attention gates are quantised too.
        attention_effect (float, optional): How far the PyTorch outputs move (same measure as `max_rel`) when every
            attention module is switched off. At or below `rtol` the parity check cannot tell whether the attention
            survived the export (an untrained head outputs nearly constants), and a note says so.
        error (str, optional): Why the export or its runtime failed, if it did.
        notes (list[str]): Anything the user should know (a precision the format does not offer, ...).
    """

    format: str
    artifact: str
    precision: str = "fp32"
    dynamic: bool = False
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    max_abs: float = float("nan")
    mean_abs: float = float("nan")
    max_rel: float = float("nan")
    rtol: float = RTOL["fp32"]
    detections: DetectionMatch | None = None
    map50: float | None = None
    map50_95: float | None = None
    ref_map50: float | None = None
    ref_map50_95: float | None = None
    map_tol: float | None = None
    map50_unprotected: float | None = None
    attention_effect: float | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def validated(self) -> bool:
        """(bool): Whether the export and PyTorch were both validated on a dataset."""
        return self.map50 is not None and self.ref_map50 is not None

    @property
    def judged_by(self) -> str:
        """(str): ``parity`` (tensor tolerance) or ``detections``, with ``+mAP50`` for FP16/INT8 validated on data.

        FP16/INT8 are judged by ``parity`` only when neither model detects anything on the verification images.
        """
        reduced = self.precision != "fp32"
        by = "detections" if reduced and self.detections is not None and self.detections.evidence else "parity"
        return by + ("+mAP50" if reduced and self.validated else "")

    @property
    def parity_ok(self) -> bool:
        """(bool): Whether the raw outputs agree within `rtol`."""
        return self.error is None and bool(self.max_rel <= self.rtol)

    @property
    def map50_drop(self) -> float | None:
        """(float, optional): PyTorch's mAP50 minus the exported model's, in points (0..100)."""
        if not self.validated:
            return None
        return 100.0 * (self.ref_map50 - self.map50)

    @property
    def map_ok(self) -> bool:
        """(bool): Whether the mAP50 drop is within `map_tol` (1 point when unset); True when not validated."""
        return not self.validated or self.map50_drop <= (self.map_tol if self.map_tol is not None else 1.0)

    @property
    def passed(self) -> bool:
        """(bool): The verdict under `criterion`."""
        if self.error is not None:
            return False
        by = self.judged_by
        ok = self.detections.ok if by.startswith("detections") else self.parity_ok
        return ok and (self.map_ok if by.endswith("mAP50") else True)

    @property
    def criterion(self) -> str:
        """(str): The rule the verdict applies, in words.

        Examples:
            >>> ParityReport("onnx", "best.onnx").criterion
            '|d| <= 0.001 * max(|torch|, 1) on every output value'
        """
        by = self.judged_by
        if by.startswith("detections"):
            text = self.detections.criterion.text()
        else:
            text = f"|d| <= {self.rtol:g} * max(|torch|, 1) on every output value"
            if self.precision != "fp32" and self.detections is not None:
                text += f" (no detections at conf {self.detections.criterion.conf:g} to compare)"
        if by.endswith("mAP50"):
            text += f", mAP50 drop <= {self.map_tol if self.map_tol is not None else 1.0:g} pts"
        return text

    def line(self) -> str:
        """Return a one-line summary: format, precision, differences, detections, mAP, verdict and its criterion."""
        verdict = "PASS" if self.passed else "FAIL"
        if self.error is not None:
            return f"{self.format:<12}{self.precision:<6}{'ERROR':<52}{verdict}  {self.error}"
        text = f"{self.format:<12}{self.precision:<6}max|d| {self.max_abs:8.2e}  mean|d| {self.mean_abs:8.2e}  "
        if self.judged_by.startswith("parity"):
            text += f"rel {self.max_rel:8.2e} {'<=' if self.parity_ok else '> '} {self.rtol:.0e}"
        else:
            text += f"rel {self.max_rel:8.2e}  {self.detections.text()}"
        if self.validated:
            text += f"  mAP50 {100 * self.map50:5.1f} (PyTorch {100 * self.ref_map50:5.1f})"
            if self.map50_unprotected is not None:
                text += f"  unprotected gates {100 * self.map50_unprotected:5.1f}"
        return f"{text}  {verdict} by {self.criterion}"
