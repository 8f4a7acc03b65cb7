"""Switch attention modules inside a model on and off by kind, for ablations with the same weights."""

from __future__ import annotations

from collections.abc import Mapping

from torch import nn

from .base import AttentionModule
from .registry import MODULES
from .suggest import did_you_mean

__all__ = ["ALL", "set_attention"]

ALL = "all"
"""The kind that names every attention module (training schedules use it too)."""


def set_attention(model: nn.Module, switches: Mapping[str, bool]) -> dict[str, int]:
    """Set `enabled` on every attention submodule of the given kinds, nested ones included.

    A kind matches a submodule whose class name equals it (ignoring case) or whose class is registered under it,
    so `{"SAM": False}` also reaches the SAM inside every CBAM and ECASAM; ``all`` (any case) matches every attention
    module, as in training schedules. Disabled modules return their input unchanged. Only `AttentionModule`
    subclasses have the switch: a registered module of another kind is always on.

    Args:
        model (nn.Module): Any model containing `AttentionModule`s (the model itself is included).
        switches (Mapping[str, bool]): Kind name -> True (on) / False (off); ``all`` first, then the others in
            order, as training schedules apply them: ``{"ECA": True, "all": False}`` leaves only the ECA modules on.

    Returns:
        (dict[str, int]): Kind name -> number of modules switched; 0 for a known kind absent from the model.

    Raises:
        ValueError: If a value is not a bool, a kind is neither ``all``, registered nor the class name of an attention
            module in the model (the message suggests the closest name), or a kind to switch off is registered but
            not an `AttentionModule` (it has no switch).

    Examples:
        >>> from torch import nn
        >>> from yolo_attention.modules import CBAM, ECASAM
        >>> model = nn.Sequential(CBAM(16), ECASAM(16))
        >>> set_attention(model, {"sam": False, "ECA": True})
        {'sam': 2, 'ECA': 1}
        >>> model[0].spatial.enabled, model[0].channel.enabled
        (False, True)
    """
    if not isinstance(switches, Mapping):
        raise ValueError(f"set_attention expects a dict of kind -> bool, e.g. {{'CBAM': False}}, got {switches!r}")
    attention = [m for m in model.modules() if isinstance(m, AttentionModule)]
    in_model = {type(m).__name__ for m in attention}
    in_lower = {name.lower() for name in in_model}
    registered_lower = {name.lower(): cls for name, cls in MODULES.items()}
    counts: dict[str, int] = {}
    ordered = sorted(switches.items(), key=lambda item: not (isinstance(item[0], str) and item[0].lower() == ALL))
    for kind, on in ordered:
        if not isinstance(on, bool):
            raise ValueError(f"set_attention: the switch for {kind!r} must be True or False, got {on!r}")
        if not isinstance(kind, str):
            raise ValueError(f"set_attention: kinds must be module names (str), got {kind!r}")
        key = kind.lower()
        registered = registered_lower.get(key)
        if key == ALL:
            matched = attention
        elif registered is None and key not in in_lower:
            known = [ALL, *sorted({*MODULES, *in_model}, key=str.lower)]
            raise ValueError(
                f"set_attention: unknown attention kind {kind!r}. Known: {', '.join(known)}.{did_you_mean(kind, known)}"
            )
        elif registered is not None and not issubclass(registered, AttentionModule) and key not in in_lower:
            if not on:
                raise ValueError(
                    f"set_attention: {kind!r} cannot be switched off: {registered.__qualname__} has no on/off switch "
                    "(only AttentionModule subclasses have one; subclass yolo_attention.modules.AttentionModule)"
                )
            counts[kind] = sum(isinstance(m, registered) for m in model.modules())  # always on
            continue
        else:
            matched = [m for m in attention if type(m).__name__.lower() == key or type(m) is registered]
        for module in matched:
            module.enabled = on
        counts[kind] = len(matched)
    return counts
