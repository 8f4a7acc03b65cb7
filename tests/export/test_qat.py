"""Quantisation-aware fine-tuning (tests/export/qat_isolated.py), run in a pytest process of its own.

NNCF's PyTorch backend compiles and loads a CPU extension and hooks torch functions for the process's lifetime; with
those tests in the main process, the suite's pytest process crashed (segmentation fault) a few hundred tests later.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_qat_tests_pass_in_their_own_process(tmp_path):
    cmd = [sys.executable, "-m", "pytest", "tests/export/qat_isolated.py", "-q", "-p", "no:cacheprovider", "-n", "0"]
    out = subprocess.run(
        [*cmd, "--basetemp", str(tmp_path / "basetemp")], capture_output=True, text=True, cwd=REPO, timeout=840,
    )  # fmt: skip
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
