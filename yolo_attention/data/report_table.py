"""The plain-text table the converters' reports print: counts per row (class) and column (split)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_table"]


def format_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Lay out rows of cells: the first column left-aligned, the others right-aligned, each at least 8 wide.

    Args:
        rows (Sequence[Sequence[str]]): The header row first; every row as long as the header.

    Returns:
        (list[str]): One line per row.

    Examples:
        >>> print("\\n".join(format_table([("class", "train"), ("open", "3")])))
        class        train
        open             3
    """
    widths = [max(8, *(len(row[i]) for row in rows)) for i in range(len(rows[0]))]
    return ["  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]) for r in rows]
