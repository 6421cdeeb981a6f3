"""Fixtures: where the data sets are, for the CIFAR-10 problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from .synthetic import write_synthetic_cifar


@pytest.fixture
def no_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory: the CIFAR-10 problems are skipped."""
    root = tmp_path / "no-data"
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(root))
    return root


@pytest.fixture
def synthetic_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A small learnable CIFAR-10 look-alike installed as ``cifar-10``; returns its arrays."""
    root = tmp_path / "data"
    arrays = write_synthetic_cifar(root)
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(root))
    return arrays
