"""Ultralytics' `key=value` command-line grammar, checked against the keys a command accepts."""

from __future__ import annotations

from collections.abc import Iterable

import click

from yolo_attention.modules.suggest import did_you_mean

__all__ = ["parse_overrides", "ultralytics_keys"]


def ultralytics_keys() -> set[str]:
    """Return every key Ultralytics' default configuration accepts (`epochs`, `imgsz`, `lr0`, ...)."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    return set(DEFAULT_CFG_DICT)


def parse_overrides(tokens: Iterable[str], allowed: set[str], dotted: bool = False) -> dict:
    """Parse `key=value` tokens as the `yolo` command does; an unknown key is a one-line usage error.

    Values are converted like Ultralytics does (`epochs=3` -> 3, `cos_lr=True` -> True, `name=run1` stays a string).
    With `dotted`, keys such as `training_strategy.warmup.epochs` pass through for the caller to check.

    Examples:
        >>> parse_overrides(["epochs=3", "imgsz", "=", "64"], {"epochs", "imgsz"})
        {'epochs': 3, 'imgsz': 64}
    """
    from ultralytics.cfg import merge_equals_args, parse_key_value_pair

    out = {}
    for token in merge_equals_args(list(tokens)):
        if "=" not in token:
            raise click.UsageError(f"'{token}' is not key=value.{did_you_mean(token, allowed)}")
        key = token.split("=", 1)[0].strip()
        if key not in allowed and not (dotted and "." in key):
            raise click.UsageError(f"'{key}' is not a valid argument here.{did_you_mean(key, allowed)}")
        try:
            key, value = parse_key_value_pair(token)
        except AssertionError as e:  # Ultralytics asserts on 'key=' with no value
            raise click.UsageError(f"'{token}': {e}") from e
        out[key] = value
    return out
