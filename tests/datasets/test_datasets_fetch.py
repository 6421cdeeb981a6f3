"""``fetch`` against a local HTTP server: verified installs, refused downloads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import MNIST_NAMES, LocalServer, write_mnist
from typer.testing import CliRunner

from graders import datasets
from graders.datasets.cli import datasets_app
from graders.datasets.errors import ChecksumMismatch, DatasetError, DownloadFailed
from graders.datasets.registry import DATASETS, DatasetSpec, RemoteFile


def _served_mnist(server: LocalServer, *, n_train: int = 7) -> dict[str, np.ndarray]:
    """MNIST-format files on the server under ``mnist/``, as a mirror lays them out."""
    return write_mnist(server.root / "mnist", n_train=n_train)


def _registry(server: LocalServer, *, sources: tuple[str, ...] | None = None,
              corrupt: str = "") -> dict[str, DatasetSpec]:
    """Checksums of the served files; ``corrupt`` names a file given a wrong MD5."""
    files = []
    for filename in MNIST_NAMES.values():
        payload = (server.root / "mnist" / filename).read_bytes()
        md5 = hashlib.md5(payload).hexdigest()
        if filename == corrupt:
            md5 = "0" * 32
        files.append(RemoteFile(filename, md5, len(payload),
                                sources or (f"{server.url}/mnist/",)))
    return {"mnist": DatasetSpec("mnist", "test MNIST", tuple(files))}


def _no_leftovers(folder: Path) -> bool:
    return not any(p.name.endswith(".part") for p in folder.iterdir())


def test_fetch_installs_verified_files(data_root: Path, http_server: LocalServer) -> None:
    expected = _served_mnist(http_server)

    fetched = datasets.fetch("mnist", progress=False, registry=_registry(http_server))

    assert sorted(p.name for p in fetched) == sorted(MNIST_NAMES.values())
    assert datasets.is_installed("mnist")
    np.testing.assert_array_equal(datasets.load("mnist").x_train, expected["x_train"])
    assert _no_leftovers(data_root / "mnist")


def test_wrong_checksum_deletes_the_download(data_root: Path,
                                             http_server: LocalServer) -> None:
    _served_mnist(http_server)
    bad = MNIST_NAMES["x_train"]

    with pytest.raises(ChecksumMismatch) as info:
        datasets.fetch("mnist", progress=False, registry=_registry(http_server, corrupt=bad))

    message = str(info.value)
    assert f"mnist/{bad}" in message and "differs from the published 0000" in message
    assert "the download was deleted" in message
    assert not (data_root / "mnist" / bad).exists()
    assert _no_leftovers(data_root / "mnist")
    assert not datasets.is_installed("mnist")


def test_next_source_is_tried_after_a_failure(data_root: Path,
                                              http_server: LocalServer) -> None:
    _served_mnist(http_server)
    sources = (f"{http_server.url}/gone/", f"{http_server.url}/mnist/")

    datasets.fetch("mnist", progress=False, registry=_registry(http_server, sources=sources))

    assert datasets.is_installed("mnist")
    assert f"/gone/{MNIST_NAMES['x_train']}" in http_server.requests


def test_every_source_failing_lists_each(data_root: Path, http_server: LocalServer) -> None:
    _served_mnist(http_server)
    sources = (f"{http_server.url}/gone/", f"{http_server.url}/also-gone/")

    with pytest.raises(DownloadFailed) as info:
        datasets.fetch("mnist", progress=False,
                       registry=_registry(http_server, sources=sources))

    assert not isinstance(info.value, ChecksumMismatch)
    assert "/gone/" in str(info.value) and "/also-gone/" in str(info.value)
    assert "HTTP 404" in str(info.value)


def test_oversized_download_is_stopped(data_root: Path, http_server: LocalServer) -> None:
    _served_mnist(http_server)
    registry = _registry(http_server)
    small = [RemoteFile(f.filename, f.md5, f.size - 1, f.sources) for f in registry["mnist"].files]
    registry["mnist"] = DatasetSpec("mnist", "test", tuple(small))

    with pytest.raises(DownloadFailed, match="sent more than the published"):
        datasets.fetch("mnist", progress=False, registry=registry)
    assert _no_leftovers(data_root / "mnist")


def test_verified_files_are_not_downloaded_again(data_root: Path,
                                                 http_server: LocalServer) -> None:
    _served_mnist(http_server)
    registry = _registry(http_server)
    datasets.fetch("mnist", progress=False, registry=registry)
    http_server.requests.clear()

    assert datasets.fetch("mnist", progress=False, registry=registry) == []
    assert http_server.requests == []


def test_a_damaged_file_is_replaced(data_root: Path, http_server: LocalServer) -> None:
    _served_mnist(http_server)
    registry = _registry(http_server)
    datasets.fetch("mnist", progress=False, registry=registry)
    damaged = data_root / "mnist" / MNIST_NAMES["y_test"]
    damaged.write_bytes(b"garbage")

    fetched = datasets.fetch("mnist", progress=False, registry=registry)

    assert fetched == [damaged]
    assert damaged.read_bytes() == (http_server.root / "mnist" / damaged.name).read_bytes()


def test_mirror_replaces_official_sources(data_root: Path, http_server: LocalServer,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _served_mnist(http_server)
    unreachable = ("http://127.0.0.1:9/",)  # the discard port: nothing listens
    registry = _registry(http_server, sources=unreachable)
    monkeypatch.setenv("DLGRADE_DATASETS_MIRROR", http_server.url + "/")

    datasets.fetch("mnist", progress=False, registry=registry)

    assert datasets.is_installed("mnist")


def test_mirror_must_be_http(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLGRADE_DATASETS_MIRROR", "ftp.example.org/data")
    with pytest.raises(DatasetError, match="DLGRADE_DATASETS_MIRROR must be an http"):
        datasets.fetch("mnist", progress=False)


def test_cli_fetch_shows_progress_and_installs(data_root: Path, http_server: LocalServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _served_mnist(http_server)
    monkeypatch.setitem(DATASETS, "mnist", _registry(http_server)["mnist"])

    result = CliRunner().invoke(datasets_app, ["fetch", "mnist", "--mirror", http_server.url])

    assert result.exit_code == 0, result.output
    assert f"4 file(s) downloaded and verified in {data_root / 'mnist'}" in result.output
    assert datasets.is_installed("mnist")


def test_cli_fetch_reports_a_checksum_failure(data_root: Path, http_server: LocalServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _served_mnist(http_server)
    bad = _registry(http_server, corrupt=MNIST_NAMES["y_train"])["mnist"]
    monkeypatch.setitem(DATASETS, "mnist", bad)

    result = CliRunner().invoke(datasets_app, ["fetch", "mnist", "--no-progress",
                                               "--mirror", http_server.url])

    assert result.exit_code == 1
    assert "the download was deleted" in result.stderr
