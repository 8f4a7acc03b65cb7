"""DeepPCB's file formats, reading side: zips (or folders) of ``<id>.txt`` read exactly as the release's script reads.

Mirrored from the release's ``rrc_evaluation_funcs.py`` (LTRB mode, with confidences and types):

- Members are keyed by the pattern ``([0-9]+).txt`` (a ``re.match``: the leading digits). A ground-truth member that
  does not match is ignored; a submission member that does not match is an error. Bytes are decoded as UTF-8 with
  replacement, a BOM dropped.
- Lines split on ``\\n``, ``\\r`` dropped, empty lines skipped. Submission lines ``x1,y1,x2,y2,confidence,type``,
  ground-truth lines ``x1,y1,x2,y2,type``: ``x1, y1`` integers (a minus sign allowed), ``x2, y2`` digits only,
  ``x2 >= x1`` and ``y2 >= y1``; the confidence starts with 0 or 1 and has no exponent; the type is everything after
  the comma, spaces included (a ``"quoted"`` type is unquoted). Rows stay in file order.
"""

from __future__ import annotations

import codecs
import logging
import re
import zipfile
from pathlib import Path

from yolo_attention.eval.deeppcb.submission import Row

__all__ = ["read_ground_truth", "read_submission"]

LOGGER = logging.getLogger(__name__)

# The release script's patterns (rrc_evaluation_funcs.get_tl_line_values, LTRB), copied character for character.
_SUBMISSION_LINE = re.compile(
    r"^\s*(-?[0-9]+)\s*,\s*(-?[0-9]+)\s*,\s*([0-9]+)\s*,\s*([0-9]+)\s*,\s*([0-1].?[0-9]*)\s*,(.*)$"
)
_GROUND_TRUTH_LINE = re.compile(r"^\s*(-?[0-9]+)\s*,\s*(-?[0-9]+)\s*,\s*([0-9]+)\s*,\s*([0-9]+)\s*,(.*)$")
_QUOTED_TYPE = re.compile(r"^\s*\"(.*)\"\s*$")
_MEMBER_NAME = re.compile(r"([0-9]+).txt")  # script.py's GT_SAMPLE_NAME_2_ID / DET_SAMPLE_NAME_2_ID


def _members(source: str | Path, submission: bool) -> dict[str, str]:
    """Image id -> decoded text of a zip's (or a folder's) members, keyed and filtered as the release's script does."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"'{source}' not found: give a folder of <image id>.txt files or a zip of them")
    if source.is_dir():
        members = [(p.name, p.read_bytes()) for p in sorted(source.iterdir()) if p.is_file() and p.suffix == ".txt"]
    else:
        with zipfile.ZipFile(source) as archive:
            members = [(name, archive.read(name)) for name in archive.namelist()]
    out = {}
    for name, raw in members:
        m = _MEMBER_NAME.match(name)
        if m is None:
            if submission:
                raise ValueError(f"{source}: member {name!r} is not named <digits>.txt: the script refuses it")
            LOGGER.warning(f"{source}: member {name!r} is not named <digits>.txt; the release's script ignores it")
            continue
        text = codecs.decode(raw, "utf-8", "replace")
        out[m.group(1)] = text[1:] if text.startswith("\ufeff") else text
    return out


def _parse(text: str, pattern: re.Pattern, image_id: str) -> list[Row]:
    rows = []
    for line in text.split("\n"):
        line = line.replace("\r", "")
        if not line:
            continue
        m = pattern.match(line)
        if m is None:
            layout = "x1,y1,x2,y2,confidence,type" if pattern.groups == 6 else "x1,y1,x2,y2,type"
            raise ValueError(f"{image_id}.txt: {line!r} is not '{layout}' with integer pixels")
        x1, y1, x2, y2 = (int(m.group(i)) for i in range(1, 5))
        if x2 < x1 or y2 < y1:
            raise ValueError(f"{image_id}.txt: {line!r} has x2 < x1 or y2 < y1")
        kind = m.group(pattern.groups)
        quoted = _QUOTED_TYPE.match(kind)
        if quoted is not None:
            kind = quoted.group(1).replace("\\\\", "\\").replace('\\"', '"')
        if pattern.groups == 6:
            try:
                rows.append((x1, y1, x2, y2, float(m.group(5)), kind))
            except ValueError:
                raise ValueError(f"{image_id}.txt: {line!r}: the confidence is not a number") from None
        else:
            rows.append((x1, y1, x2, y2, kind))
    return rows


def read_submission(source: str | Path) -> dict[str, list[Row]]:
    """Read a submission zip or folder as the release's script does (its member names, line rule and line order).

    Score what is read with ``evaluate_deeppcb(..., as_submitted=False)``: the rows are already what the script sees,
    and their file order decides how numpy orders tied confidences.

    Args:
        source (str | Path): A zip of ``<image id>.txt`` files or a folder of them.

    Returns:
        (dict[str, list[Row]]): Image id -> ``(x1, y1, x2, y2, confidence, type)`` rows in file order.

    Raises:
        ValueError: On a member name or a line the release's script would refuse (with the file and the line).
        FileNotFoundError: If ``source`` does not exist.
    """
    return {image_id: _parse(text, _SUBMISSION_LINE, image_id) for image_id, text in _members(source, True).items()}


def read_ground_truth(source: str | Path) -> dict[str, list[Row]]:
    """Read a ground-truth zip or folder as the release's script does: ``x1,y1,x2,y2,type`` lines in file order.

    Args:
        source (str | Path): A zip of ``<image id>.txt`` files or a folder of them.

    Returns:
        (dict[str, list[Row]]): Image id -> ``(x1, y1, x2, y2, type)`` rows, in the zip's member order.

    Raises:
        ValueError: On a line the release's script would refuse.
        FileNotFoundError: If ``source`` does not exist.
    """
    return {image_id: _parse(text, _GROUND_TRUTH_LINE, image_id) for image_id, text in _members(source, False).items()}
