"""Gating functions that turn attention logits into weights, resolved by name."""

from __future__ import annotations

from torch import nn

from .suggest import did_you_mean

__all__ = ["GATES", "make_gate"]

GATES: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "hard_sigmoid": nn.Hardsigmoid}
"""Gate name -> module class. Add an entry to offer another gate to every module with a `gate` argument."""


def make_gate(name: str) -> nn.Module:
    """Build a gate module by name.

    Args:
        name (str): One of `GATES`: `"sigmoid"` (the papers' choice) or `"hard_sigmoid"` (cheaper on mobile CPUs).

    Returns:
        (nn.Module): A fresh gate module.

    Raises:
        ValueError: If `name` is not a known gate; the message lists the valid names and suggests the closest.

    Examples:
        >>> make_gate("hard_sigmoid")
        Hardsigmoid()
    """
    if not isinstance(name, str) or name not in GATES:
        valid = ", ".join(GATES)
        raise ValueError(f"unknown gate {name!r}. Valid gates: {valid}.{did_you_mean(str(name), GATES)}")
    return GATES[name]()
