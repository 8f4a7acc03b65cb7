"""What the converters' reports share: the plain-text table they print and the log of what they left out."""

from __future__ import annotations

import logging
from collections.abc import Sequence

__all__ = ["ProblemLog", "format_table"]


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


class ProblemLog:
    """Mixin for a converter's report dataclass with ``skipped`` and ``warnings`` lists: record what was left out.

    Warnings are logged under the report's own module, as each converter logged them before.
    """

    skipped: list[str]
    warnings: list[str]

    def skip(self, where: str, reason: str) -> None:
        """Record one left-out item (label line, object, image): ``"<where>: <reason>"``."""
        self.skipped.append(f"{where}: {reason}")

    def warn(self, message: str) -> None:
        """Keep and log a warning."""
        self.warnings.append(message)
        logging.getLogger(type(self).__module__).warning(message)
