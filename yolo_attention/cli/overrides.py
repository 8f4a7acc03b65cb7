"""Ultralytics' `key=value` command-line grammar: one parser for every `yolo-attn` command.

A command declares its keys as a dict ``{key: type}`` whose keys are the parameter names of the Python function it
calls (``slice_size=``, not ``slice=``), so what a user reads in the Python docstring is what they type. Values are
converted as the ``yolo`` command converts them and then checked against the type; keys renamed since an earlier
release still work for one release, with a one-line warning (`DEPRECATED_KEYS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import click

from yolo_attention.cli.errors import OneLineCommand
from yolo_attention.modules.suggest import did_you_mean

__all__ = [
    "DEPRECATED_KEYS",
    "VALUE_HINTS",
    "check_model_path",
    "check_type",
    "key_value_command",
    "parse_overrides",
    "require",
    "ultralytics_keys",
]

# Old command-line keys -> their new names (the Python parameter names), per command. Accepted with a warning
# for one release; delete an entry when its release has passed.
DEPRECATED_KEYS: dict[str, dict[str, str]] = {
    "export": {"out": "out_dir", "subset": "subset_size"},
    "benchmark": {"formats": "format", "out": "out_dir"},
    "predict": {"slice": "slice_size", "full": "full_image"},
}

# A key's type in a command's key dict: one of these, or a tuple of them; None in a tuple allows `key=None`.
# `object` takes any value as Ultralytics parses it (`device=0`, `device=cpu`, `device=0,1`).
_KINDS = {bool: "True or False", int: "an int", float: "a number", str: "a string", None: "None"}
# What a key's value looks like, for `key` typed without `=value` (``yolo-attn train resume``).
VALUE_HINTS = {
    "resume": "<experiment folder>",
    "model": "<checkpoint or model YAML>",
    "data": "<dataset YAML>",
    "source": "<image, folder or glob>",
    "folder": "<folder>",
    "config": "<configuration YAML>",
}


def ultralytics_keys() -> set[str]:
    """Return every key Ultralytics' default configuration accepts (`epochs`, `imgsz`, `lr0`, ...)."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    return set(DEFAULT_CFG_DICT)


def check_type(key: str, value: Any, kind: type | tuple, text: str | None = None) -> Any:
    """Return `value` as `kind` wants it, or raise a one-line usage error naming the key and the type.

    Args:
        key (str): The key, for the message.
        value (Any): The value as Ultralytics parsed it (`smart_value`).
        kind (type | tuple): `bool`, `int`, `float`, `str`, `object` (anything), or a tuple of them and None.
        text (str, optional): The value as typed; a `str` key keeps it verbatim when Ultralytics made it a number or
            a list (``out=0.10`` stays ``"0.10"``).

    Examples:
        >>> check_type("conf", 1, float)
        1.0
        >>> check_type("tile", None, (int, None)) is None
        True
        >>> check_type("imgsz", "abc", int)
        Traceback (most recent call last):
        ...
        click.exceptions.UsageError: imgsz must be an int, not 'abc'
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if value is None and None in kinds:
        return None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    for k in kinds:
        if k is object:
            return value
        if k is bool and isinstance(value, bool):
            return value
        if k is int and number and isinstance(value, int):
            return value
        if k is float and number:
            return float(value)
        if k is str and value is not None:  # a path or a name: what was typed (`out=0.10`, not 0.1)
            return value if isinstance(value, str) or text is None else text
    expected = " or ".join(_KINDS[k] for k in kinds)
    raise click.UsageError(f"{key} must be {expected}, not {value!r}")


def parse_overrides(
    tokens: Iterable[str],
    keys: Mapping[str, type | tuple] | set[str],
    dotted: bool = False,
    aliases: Mapping[str, str] | None = None,
) -> dict:
    """Parse `key=value` tokens as the `yolo` command does; an unknown key or a wrong type is a usage error.

    Args:
        tokens (Iterable[str]): The command's arguments (``key=value``, or ``key = value`` split by the shell).
        keys (Mapping | set): The keys the command takes; with a dict ``{key: type}`` each value is checked by
            `check_type`, with a set values pass as parsed.
        dotted (bool): Let keys such as ``training_strategy.warmup.epochs`` pass for the caller to check.
        aliases (Mapping[str, str], optional): Deprecated key -> its new name (see `DEPRECATED_KEYS`): accepted
            under the new name, with one warning line on stderr.

    Returns:
        (dict): ``{key: value}``, values converted like Ultralytics does (``epochs=3`` -> 3, ``cos_lr=True`` ->
        True, ``name=run1`` stays a string).

    Examples:
        >>> parse_overrides(["epochs=3", "imgsz", "=", "64"], {"epochs", "imgsz"})
        {'epochs': 3, 'imgsz': 64}
        >>> parse_overrides(["conf=1"], {"conf": float})
        {'conf': 1.0}
        >>> parse_overrides(["resume"], {"resume", "epochs"})
        Traceback (most recent call last):
        ...
        click.exceptions.UsageError: resume needs a value: resume=<experiment folder>
    """
    from ultralytics.cfg import merge_equals_args, parse_key_value_pair

    aliases = aliases or {}
    types = keys if isinstance(keys, Mapping) else {}
    out: dict = {}
    spelt: dict[str, str] = {}  # key -> the name it was given under
    for token in merge_equals_args(list(tokens)):
        if "=" not in token:
            raise click.UsageError(_not_key_value(token, keys, types, aliases))
        key, text = (part.strip() for part in token.split("=", 1))
        given = key
        if key in aliases:
            key = aliases[key]
            click.echo(f"Warning: '{given}=' is deprecated and goes in a later release; use '{key}='.", err=True)
        if key not in keys and not (dotted and "." in key):
            raise click.UsageError(f"'{key}' is not a valid argument here.{did_you_mean(key, keys)}")
        if key in spelt and spelt[key] != given:
            raise click.UsageError(f"'{spelt[key]}=' and '{given}=' are the same argument; give '{key}=' once")
        try:
            key, value = parse_key_value_pair(f"{key}={text}")
        except AssertionError as e:  # Ultralytics asserts on 'key=' with no value
            raise click.UsageError(f"'{token}': {e}") from e
        spelt[key] = given
        out[key] = check_type(key, value, types[key], text) if key in types else value
    return out


def _not_key_value(token: str, keys: Mapping | set, types: Mapping, aliases: Mapping[str, str]) -> str:
    """The message for a word without ``=``: a key typed without its value, else a typo with its closest key."""
    known = {k.lower(): k for k in keys} | {old.lower(): new for old, new in aliases.items()}
    key = known.get(token.lower())
    if key is None:
        return f"'{token}' is not key=value.{did_you_mean(token, keys)}"
    kind = types.get(key)
    if kind is bool and key not in VALUE_HINTS:
        return f"{key} needs a value: {key}=True or {key}=False"
    value = VALUE_HINTS.get(key) or {int: "<int>", float: "<number>"}.get(kind, "...")
    return f"{key} needs a value: {key}={value}"


def check_model_path(model, key: str = "model") -> None:
    """Raise a one-line `FileNotFoundError` for a ``.pt`` model that is neither a file nor a shipped checkpoint.

    Nothing is downloaded: Ultralytics would try (network warnings) and then fail with a bare ``Errno 2``.

    Examples:
        >>> check_model_path("yolov8n-deeppcb.pt")  # a shipped checkpoint, by name
        >>> check_model_path("nope.pt")
        Traceback (most recent call last):
        ...
        FileNotFoundError: model 'nope.pt' not found: not a file, and not a shipped checkpoint (yolov8n-deeppcb.pt); \
nothing is downloaded
    """
    from pathlib import Path

    from yolo_attention.training.values import resolve_weights

    if Path(str(model)).suffix == ".pt":
        try:
            resolve_weights(model, key)
        except FileNotFoundError as e:
            raise FileNotFoundError(f"{e}; nothing is downloaded") from None


def require(args: dict, *keys: str) -> None:
    """Raise a usage error naming every one of `keys` that `args` lacks (``missing src=... and out=...``)."""
    missing = [k for k in keys if args.get(k) in (None, "")]
    if missing:
        raise click.UsageError(f"missing {' and '.join(k + '=...' for k in missing)}")


def key_value_command(name: str | None = None, **attrs) -> Callable:
    """Make a function ``f(..., overrides)`` a command taking ``key=value`` pairs, with the one error path.

    ``overrides`` receives the raw tokens; parse them with `parse_overrides`. Other click options may be stacked
    below this decorator (``yolo-attn train --config``).
    """

    def decorate(f: Callable) -> click.Command:
        f = click.argument("overrides", nargs=-1, type=click.UNPROCESSED)(f)
        settings = {"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]}
        settings.update(attrs.pop("context_settings", {}))
        return click.command(name, cls=OneLineCommand, context_settings=settings, **attrs)(f)

    return decorate
