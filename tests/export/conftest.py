"""Fixtures of the export tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Ultralytics writes exports of YAML-built models to the working folder before they are moved."""
    monkeypatch.chdir(tmp_path)
