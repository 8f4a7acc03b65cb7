"""Run DeepPCB's own evaluation script (a Python 3 port of the release's ``evaluation/script.py``) on two zips.

The script is not part of the package: point ``script_dir`` at a folder holding ``script.py`` and
``rrc_evaluation_funcs.py``; it needs the ``Polygon`` module (``pip install Polygon3``). It runs in a subprocess, as
its README says, and its result is read from ``results.zip`` / ``method.json`` in its output folder, not from its exit
status (Polygon3 can make Python abort at exit after the work is done).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

__all__ = ["OFFICIAL_KEYS", "run_official_script"]

OFFICIAL_KEYS: dict[str, str] = {"ap": "AP", "precision": "precision", "recall": "recall", "fscore": "hmean"}
"""``DeepPCBResult`` attribute -> the key of the same number in the script's ``method.json``."""


def run_official_script(
    gt_zip: str | Path,
    res_zip: str | Path,
    script_dir: str | Path,
    out_dir: str | Path | None = None,
    python: str | None = None,
    timeout: float = 1800,
) -> dict[str, float]:
    """Score ``res_zip`` against ``gt_zip`` with the release's script in LTRB mode; return its method figures.

    Args:
        gt_zip (str | Path): Ground truth zip (``write_ground_truth``).
        res_zip (str | Path): Submission zip (``write_submission``).
        script_dir (str | Path): Folder holding the release's ``script.py`` and ``rrc_evaluation_funcs.py``.
        out_dir (str | Path, optional): The script's ``-o`` folder (``results.zip`` lands there); a temporary one when
            None.
        python (str, optional): Interpreter to run it with (it needs ``Polygon``); this one when None.
        timeout (float): Seconds before giving up. Defaults to 1800.

    Returns:
        (dict[str, float]): The script's ``method`` dict: ``precision``, ``recall``, ``hmean``, ``AP``.

    Raises:
        FileNotFoundError: If ``script.py`` or a zip is missing.
        RuntimeError: If the script wrote no result, or refused the files (its message is included).
    """
    script_dir = Path(script_dir).resolve()
    if not (script_dir / "script.py").is_file():
        raise FileNotFoundError(f"no script.py in '{script_dir}': give the folder of the release's evaluation script")
    for zip_file in (gt_zip, res_zip):
        if not Path(zip_file).is_file():
            raise FileNotFoundError(f"'{zip_file}' not found")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(out_dir).resolve() if out_dir is not None else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        results = out / "results.zip"
        results.unlink(missing_ok=True)
        command = [
            python or sys.executable,
            "script.py",
            f"-g={Path(gt_zip).resolve()}",
            f"-s={Path(res_zip).resolve()}",
            "-p='{\"LTRB\": true}'",  # the script drops the first and last character of -p
            f"-o={out}",
        ]
        run = subprocess.run(command, cwd=script_dir, capture_output=True, text=True, timeout=timeout)
        if not results.is_file():
            raise RuntimeError(
                f"the release's script wrote no {results} (exit status {run.returncode}):\n{run.stderr[-2000:]}"
            )
        with zipfile.ZipFile(results) as archive:
            method = json.loads(archive.read("method.json"))
    if not method.get("calculated"):
        raise RuntimeError(f"the release's script refused the files: {method.get('Message')}")
    return {k: float(v) for k, v in method["method"].items()}
