"""Closest-name suggestions for error messages about misspelt names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(value: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """Suggest the choice closest to a misspelt value, ignoring case.

    Args:
        value (str): The name that was not found.
        choices (Iterable[str]): The valid names.
        cutoff (float): Minimum `difflib` similarity (0-1) for a suggestion.

    Returns:
        (str): `" Did you mean 'X'?"` (with a leading space, ready to append to a message), or `""` when no
            choice is close enough.

    Examples:
        >>> did_you_mean("CBMA", ["CBAM", "ECA", "SE"])
        " Did you mean 'CBAM'?"
        >>> did_you_mean("cbam", ["CBAM", "ECA"])
        " Did you mean 'CBAM'?"
        >>> did_you_mean("ResNet", ["CBAM", "ECA"])
        ''
    """
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(str(choice).lower(), str(choice))
    key = str(value).lower()
    if key in by_lower:  # only the case differs
        return f" Did you mean '{by_lower[key]}'?"
    matches = difflib.get_close_matches(key, list(by_lower), n=1, cutoff=cutoff)
    return f" Did you mean '{by_lower[matches[0]]}'?" if matches else ""
