"""What the WIDER FACE converter wrote and what it left out: images, faces and landmarks per split, problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from yolo_attention.data.report_table import ProblemLog, format_table

__all__ = ["KEYS", "WiderFaceReport"]


KEYS: tuple[str, ...] = (
    "images",  # images written, background images included
    "background",  # images without a face
    "faces",  # faces written
    "with_landmarks",  # faces with all five landmarks
    "without_landmarks",  # faces without any landmark (box-only rows, or all -1)
    "clipped",  # boxes clipped to the image
    "dropped_zero_size",  # boxes with width or height <= 0 in the label file, dropped
    "dropped_outside",  # boxes wholly outside the image, dropped
    "points_missing",  # landmarks given as -1, written invisible
    "points_outside",  # landmarks outside the image, written invisible
)
"""The counts a ``WiderFaceReport`` keeps per split, in the order ``summary`` prints them."""


@dataclass
class WiderFaceReport(ProblemLog):
    """What ``convert_widerface`` wrote and what it had to leave out.

    Every count is per split (``train``, ``val``): ``counts[split][key]`` with the keys of ``KEYS``.

    Attributes:
        out (Path): Root of the written dataset (holds ``data.yaml``).
        sources (dict[str, str]): The label file and image folder each split was read from.
        counts (dict[str, dict[str, int]]): Per split: images, background, faces, with_landmarks,
            without_landmarks, clipped, dropped_zero_size, dropped_outside, points_missing, points_outside.
        missing (list[str]): Listed images not found on disk, as paths.
        skipped (list[str]): ``"<file>:<line>: <reason>"`` for each label line or image left out for another reason.
        warnings (list[str]): Everything else worth knowing, also logged.

    Examples:
        >>> report = WiderFaceReport(out=Path("faces"))
        >>> report.add("train", "faces", 3)
        >>> report.counts["train"]["faces"], report.counts["train"]["images"]
        (3, 0)
        >>> [line.split()[:2] for line in report.summary().splitlines()[:2]]
        [['count', 'train'], ['images', '0']]
    """

    out: Path
    sources: dict[str, str] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def splits(self) -> list[str]:
        """(list[str]): Split names in writing order."""
        return list(self.counts)

    def add(self, split: str, key: str, n: int = 1) -> None:
        """Add ``n`` to one count of one split (the split's counts start at 0)."""
        counts = self.counts.setdefault(split, dict.fromkeys(KEYS, 0))
        counts[key] += n

    def summary(self) -> str:
        """A plain-text table: each count (rows) per split (columns), then sources and what was left out."""
        splits = self.splits
        rows = [("count", *splits)]
        rows += [(key, *(str(self.counts[s][key]) for s in splits)) for key in KEYS]
        lines = format_table(rows)
        lines += [f"{split}: {source}" for split, source in self.sources.items()]
        lines.append(f"missing images: {len(self.missing)}, skipped: {len(self.skipped)}")
        return "\n".join(lines)
