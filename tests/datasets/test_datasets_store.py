"""Where data sets live, what a missing one says, digits, and ``dlgrade datasets list``."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import write_mnist, write_small_cifar
from typer.testing import CliRunner

from graders import datasets
from graders.datasets import digits
from graders.datasets.cli import datasets_app
from graders.datasets.errors import CorruptDataset, DatasetMissing, UnknownDataset


def test_data_dir_follows_the_environment(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(tmp_path / "here"))
    assert datasets.data_dir() == tmp_path / "here"


def test_data_dir_defaults_to_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLGRADE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert datasets.data_dir() == tmp_path / "xdg" / "dlgrade" / "datasets"


def test_data_dir_ignores_relative_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLGRADE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.data_dir() == tmp_path / ".local" / "share" / "dlgrade" / "datasets"


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar-10"])
def test_missing_dataset_names_the_fetch_command(data_root: Path, name: str) -> None:
    assert not datasets.is_installed(name)
    with pytest.raises(DatasetMissing) as info:
        datasets.load(name)
    assert f"dlgrade datasets fetch {name}" in str(info.value)
    assert info.value.command == f"dlgrade datasets fetch {name}"
    assert str(data_root / name) in str(info.value)


def test_missing_file_is_listed(data_root: Path) -> None:
    write_mnist(data_root / "mnist")
    (data_root / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetMissing, match=r"t10k-labels-idx1-ubyte\.gz"):
        datasets.load("mnist")


def test_command_for_another_root_sets_the_directory(data_root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other dir"
    with pytest.raises(DatasetMissing) as info:
        datasets.load("mnist", root=other)
    assert info.value.command == f"DLGRADE_DATA_DIR='{other}' dlgrade datasets fetch mnist"


def test_load_reads_from_an_explicit_root(data_root: Path, tmp_path: Path) -> None:
    write_mnist(tmp_path / "elsewhere" / "mnist", n_train=3)
    assert datasets.load("mnist", root=tmp_path / "elsewhere").x_train.shape == (3, 28, 28)


def test_digits_always_loads(data_root: Path) -> None:
    assert datasets.is_installed("digits")
    data = datasets.load("digits")
    assert data.x_train.shape == (1797, 64) and data.x_train.dtype == np.float64
    assert data.y_train.shape == (1797,) and set(np.unique(data.y_train)) == set(range(10))
    assert data.x_test.shape == (0, 64) and data.y_test.shape == (0,)


def test_digits_are_exactly_load_digits_without_importing_scikit_learn(data_root: Path
                                                                       ) -> None:
    from sklearn.datasets import load_digits

    data = datasets.load("digits")
    expected = load_digits()
    np.testing.assert_array_equal(data.x_train, expected.data)
    np.testing.assert_array_equal(data.y_train, expected.target)
    assert data.y_train.dtype == np.int64


def test_a_truncated_digits_file_is_reported_as_corrupt(
        data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "digits.csv.gz"
    broken.write_bytes(gzip.compress(b"0," * 64 + b"3\n"))
    monkeypatch.setattr(digits, "bundled_file", lambda: broken)
    with pytest.raises(CorruptDataset, match=r"\(1, 65\) table, expected \(1797, 65\)"):
        datasets.load("digits")


def test_digits_without_scikit_learn_say_what_to_install(
        data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digits, "bundled_file", lambda: None)
    with pytest.raises(DatasetMissing) as info:
        datasets.load("digits")
    assert info.value.command == "pip install scikit-learn"


def test_unknown_dataset_lists_the_known_ones(data_root: Path) -> None:
    with pytest.raises(UnknownDataset, match="known: mnist, fashion-mnist, cifar-10, digits"):
        datasets.load("imagenet")


def test_list_shows_status_size_and_place(data_root: Path) -> None:
    write_mnist(data_root / "mnist")
    write_small_cifar(data_root / "cifar-10" / "cifar-10-python.tar.gz")

    result = CliRunner().invoke(datasets_app, ["list"])

    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[2:]}
    assert result.output.startswith(f"Data directory: {data_root} ($DLGRADE_DATA_DIR)")
    assert "installed" in lines["mnist"] and str(data_root / "mnist") in lines["mnist"]
    assert "installed" in lines["cifar-10"]
    assert "missing" in lines["fashion-mnist"]
    assert "30.9 MB to download" in lines["fashion-mnist"]
    assert "dlgrade datasets fetch fashion-mnist" in lines["fashion-mnist"]
    assert "bundled" in lines["digits"] and "scikit-learn" in lines["digits"]


def test_cli_fetch_of_a_bundled_set_downloads_nothing(data_root: Path) -> None:
    result = CliRunner().invoke(datasets_app, ["fetch", "digits"])
    assert result.exit_code == 0
    assert "ships with scikit-learn" in result.output


def test_cli_fetch_of_an_unknown_set_fails(data_root: Path) -> None:
    result = CliRunner().invoke(datasets_app, ["fetch", "imagenet"])
    assert result.exit_code == 2
    assert "known: mnist" in result.stderr
