"""What the HRIPCB converter wrote and what it left out: counts per class and split, boards per split, problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from yolo_attention.data.hripcb_voc import HRIPCB_CLASSES
from yolo_attention.data.report_table import ProblemLog, format_table

__all__ = ["HRIPCBReport"]


@dataclass
class HRIPCBReport(ProblemLog):
    """What ``convert_hripcb`` wrote and what it had to leave out.

    Attributes:
        out (Path): Root of the written dataset (holds ``data.yaml``).
        photos (dict[str, int]): Source photos per split.
        boards (dict[str, list[str]]): Board ids per split (the ``NN`` of ``NN_<defect>_MM``); no board is in two.
        images (dict[str, int]): Images written per split: tiles when tiling, else the photos.
        defects (dict[str, dict[str, int]]): Defects of the source photos per split and class (before tiling).
        boxes (dict[str, dict[str, int]]): Label boxes written per split and class (a defect in two tiles counts twice).
        unknown_classes (dict[str, int]): Object names that match no HRIPCB class, with how often they occur.
        missing (list[str]): Photos not found for an XML, as the XML path.
        skipped (list[str]): ``"<file>: <reason>"`` for each XML, object or photo left out for another reason.
        clipped_to_image (int): Boxes partly outside their photo, clipped to it.
        dropped_in_tiles (int): Tile boxes dropped because less than ``min_visibility`` of the defect was inside.
        warnings (list[str]): Everything else worth knowing, also logged.
        split_rule (str): How the splits were drawn.

    Examples:
        >>> r = HRIPCBReport(out=Path("d"), photos={"train": 1}, boards={"train": ["01"]}, images={"train": 1},
        ...                  defects={"train": {"Short": 2}}, boxes={"train": {"Short": 2}})
        >>> r.n_defects("train")
        2
    """

    out: Path
    photos: dict[str, int] = field(default_factory=dict)
    boards: dict[str, list[str]] = field(default_factory=dict)
    images: dict[str, int] = field(default_factory=dict)
    defects: dict[str, dict[str, int]] = field(default_factory=dict)
    boxes: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_classes: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    clipped_to_image: int = 0
    dropped_in_tiles: int = 0
    warnings: list[str] = field(default_factory=list)
    split_rule: str = ""

    @property
    def splits(self) -> list[str]:
        """(list[str]): Split names written, in order."""
        return list(self.photos)

    def n_defects(self, split: str) -> int:
        """Defects of the source photos in one split (0 for an unknown split)."""
        return sum(self.defects.get(split, {}).values())

    def n_boxes(self, split: str) -> int:
        """Label boxes written to one split (0 for an unknown split)."""
        return sum(self.boxes.get(split, {}).values())

    def summary(self) -> str:
        """A plain-text table: defects per class (rows) and split (columns), then boards, photos, images, boxes.

        Below the table: the boards of each split, the split rule, and what was left out.

        Returns:
            (str): The table and the lines below it.
        """
        splits = self.splits
        rows = [("class", *splits)]
        rows += [(n, *(str(self.defects.get(s, {}).get(n, 0)) for s in splits)) for n in HRIPCB_CLASSES]
        rows.append(("defects", *(str(self.n_defects(s)) for s in splits)))
        rows.append(("boards", *(str(len(self.boards.get(s, []))) for s in splits)))
        rows.append(("photos", *(str(self.photos.get(s, 0)) for s in splits)))
        rows.append(("images", *(str(self.images.get(s, 0)) for s in splits)))
        rows.append(("boxes", *(str(self.n_boxes(s)) for s in splits)))
        lines = format_table(rows)
        lines.append("boards: " + "; ".join(f"{s} {_id_list(self.boards.get(s, []))}" for s in splits))
        if self.split_rule:
            lines.append(f"split: {self.split_rule}")
        unknown = ", ".join(f"{k} x{v}" for k, v in sorted(self.unknown_classes.items())) or "none"
        lines.append(
            f"missing images: {len(self.missing)}, skipped: {len(self.skipped)}, unknown classes: {unknown}, "
            f"clipped to image: {self.clipped_to_image}, dropped in tiles: {self.dropped_in_tiles}"
        )
        return "\n".join(lines)


def _id_list(ids: list[str], most: int = 12) -> str:
    """``"01, 04, 05"``, cut after ``most`` ids; ``"-"`` for none."""
    shown = ", ".join(ids[:most]) or "-"
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")
