"""Reports: ``report.md`` for a finished experiment folder or comparison folder (`yolo-attn report`)."""

from __future__ import annotations

from yolo_attention.report.markdown import write_report

__all__ = ["write_report"]
