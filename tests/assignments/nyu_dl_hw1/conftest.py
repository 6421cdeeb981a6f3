"""Data directories for nyu-dl-hw1: empty, or filled by ``synthetic.write_synthetic``.

Grading reads ``DLGRADE_DATA_DIR``; each test points it at its own folder, so
a data set installed on the machine never changes a result here.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def no_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``DLGRADE_DATA_DIR`` at an empty folder: neither MNIST nor Fashion-MNIST installed."""
    root = tmp_path / "no-data"
    root.mkdir()
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(root))
    return root


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``DLGRADE_DATA_DIR`` at a folder the test fills with ``write_synthetic``."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(root))
    return root
