"""What the DeepPCB converter wrote and what it left out: counts per class and split, problems, the split rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from yolo_attention.data.deeppcb_release import DEEPPCB_CLASSES
from yolo_attention.data.report_table import ProblemLog, format_table

__all__ = ["ConversionReport"]


@dataclass
class ConversionReport(ProblemLog):
    """What ``convert_deeppcb`` wrote and what it had to leave out.

    Attributes:
        out (Path): Root of the written dataset (holds ``data.yaml``).
        images (dict[str, int]): Images written per split (``train``, ``val``, ``test``), background images included.
        boxes (dict[str, dict[str, int]]): Boxes written per split and class name.
        missing (list[str]): Listed files not found on disk (images, annotations, templates), as paths.
        skipped_lines (int): Annotation or list lines left out: malformed, unknown type, degenerate box, duplicate id.
        skipped (list[str]): One ``"<file>:<line>: <reason>"`` entry per skipped line.
        warnings (list[str]): Everything else worth knowing, also logged (e.g. no list files, unreadable images).
        split_rule (str): How the splits were drawn, e.g. which release list fed ``test``.

    Examples:
        >>> report = ConversionReport(out=Path("pcb"), images={"train": 2}, boxes={"train": {"open": 3}})
        >>> report.n_boxes("train")
        3
        >>> [line.split() for line in report.summary().splitlines()[:2]]
        [['class', 'train'], ['open', '3']]
    """

    out: Path
    images: dict[str, int] = field(default_factory=dict)
    boxes: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    skipped_lines: int = 0
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    split_rule: str = ""

    @property
    def splits(self) -> list[str]:
        """(list[str]): Split names in writing order."""
        return list(self.images)

    def n_boxes(self, split: str) -> int:
        """Total boxes written to one split.

        Args:
            split (str): Split name, e.g. ``"train"``.

        Returns:
            (int): Sum of the per-class box counts of that split (0 for an unknown split).
        """
        return sum(self.boxes.get(split, {}).values())

    def summary(self) -> str:
        """A small plain-text table: box counts per class (rows) and split (columns), then totals.

        Returns:
            (str): The table, the split rule, then the number of missing files and skipped lines.
        """
        splits = self.splits
        rows = [("class", *splits)]
        rows += [(name, *(str(self.boxes.get(s, {}).get(name, 0)) for s in splits)) for name in DEEPPCB_CLASSES]
        rows.append(("boxes", *(str(self.n_boxes(s)) for s in splits)))
        rows.append(("images", *(str(self.images[s]) for s in splits)))
        lines = format_table(rows)
        if self.split_rule:
            lines.append(f"split: {self.split_rule}")
        lines.append(f"missing files: {len(self.missing)}, skipped lines: {self.skipped_lines}")
        return "\n".join(lines)

    def skip(self, where: str, reason: str) -> None:
        """Count one left-out line: ``"<where>: <reason>"``."""
        self.skipped_lines += 1
        super().skip(where, reason)
