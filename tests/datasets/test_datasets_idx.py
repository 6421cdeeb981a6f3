"""MNIST and Fashion-MNIST: IDX files built from the format's specification."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import MNIST_NAMES, idx_bytes, write_gz, write_mnist

from graders import datasets
from graders.datasets.errors import CorruptDataset
from graders.datasets.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_load_returns_keras_layout(data_root: Path, name: str) -> None:
    expected = write_mnist(data_root / name, n_train=7, n_test=5)

    data = datasets.load(name)

    assert data.x_train.shape == (7, 28, 28) and data.x_train.dtype == np.uint8
    assert data.y_train.shape == (7,) and data.y_train.dtype == np.uint8
    assert data.x_test.shape == (5, 28, 28) and data.y_test.shape == (5,)
    for key, array in expected.items():
        np.testing.assert_array_equal(getattr(data, key), array)


def test_loaded_arrays_are_writable(data_root: Path) -> None:
    """Student code may normalise in place, as it can with Keras' arrays."""
    write_mnist(data_root / "mnist")
    data = datasets.load("mnist")
    data.x_train[0, 0, 0] = 1
    assert data.x_train.flags.writeable


def test_header_is_big_endian(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "x.gz", idx_bytes(np.zeros((300, 28, 28), np.uint8)))
    raw = gzip.decompress(path.read_bytes())
    assert raw[:8] == b"\x00\x00\x08\x03\x00\x00\x01\x2c"
    assert read_idx(path, magic=IMAGES_MAGIC).shape == (300, 28, 28)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_decodes_every_type_code(tmp_path: Path, dtype: type) -> None:
    array = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    path = write_gz(tmp_path / "a.gz", idx_bytes(array))
    loaded = read_idx(path)
    np.testing.assert_array_equal(loaded, array)
    assert loaded.dtype.isnative


def test_wrong_magic_number_is_named(data_root: Path) -> None:
    write_mnist(data_root / "mnist")
    labels = np.zeros(7, np.uint8)
    write_gz(data_root / "mnist" / MNIST_NAMES["x_train"], idx_bytes(labels))  # labels as images

    with pytest.raises(CorruptDataset) as info:
        datasets.load("mnist")

    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert "magic number 0x00000801, expected 0x00000803" in message
    assert "dlgrade datasets fetch mnist" in message


def test_non_idx_header_is_refused(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "x.gz", b"PK\x03\x04 not an idx file")
    with pytest.raises(CorruptDataset, match="magic number 0x504B0304"):
        read_idx(path, magic=LABELS_MAGIC)


def test_truncated_payload_reports_sizes(tmp_path: Path) -> None:
    payload = idx_bytes(np.ones((7, 28, 28), np.uint8))
    path = write_gz(tmp_path / "x.gz", payload[:-100])

    with pytest.raises(CorruptDataset) as info:
        read_idx(path, magic=IMAGES_MAGIC)

    assert "truncated" in str(info.value)
    assert "7 × 28 × 28 values (5488 bytes), the file holds 5388" in str(info.value)


def test_truncated_header_is_refused(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "x.gz", idx_bytes(np.ones((7, 28, 28), np.uint8))[:10])
    with pytest.raises(CorruptDataset, match="truncated inside the header"):
        read_idx(path, magic=IMAGES_MAGIC)


def test_truncated_gzip_stream_is_refused(tmp_path: Path) -> None:
    whole = gzip.compress(idx_bytes(np.arange(5000, dtype=np.uint8) % 7))
    path = tmp_path / "x.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptDataset, match="gzip stream is truncated"):
        read_idx(path, magic=LABELS_MAGIC)


def test_not_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)))  # IDX, but not compressed
    with pytest.raises(CorruptDataset, match="not a readable gzip file"):
        read_idx(path)


def test_trailing_bytes_are_refused(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "x.gz", idx_bytes(np.zeros(3, np.uint8)) + b"\x00\x00")
    with pytest.raises(CorruptDataset, match="2 unexpected bytes after the 3 values"):
        read_idx(path, magic=LABELS_MAGIC)


def test_image_and_label_counts_must_agree(data_root: Path) -> None:
    write_mnist(data_root / "mnist", n_train=7)
    write_gz(data_root / "mnist" / MNIST_NAMES["y_train"], idx_bytes(np.zeros(6, np.uint8)))
    with pytest.raises(CorruptDataset, match="7 images but 6 labels"):
        datasets.load("mnist")


def test_images_must_be_28_by_28(data_root: Path) -> None:
    write_mnist(data_root / "mnist", n_test=5)
    write_gz(data_root / "mnist" / MNIST_NAMES["x_test"],
             idx_bytes(np.zeros((5, 32, 32), np.uint8)))
    with pytest.raises(CorruptDataset, match="images are 32×32, expected 28×28"):
        datasets.load("mnist")


def test_labels_outside_0_to_9_are_refused(data_root: Path) -> None:
    write_mnist(data_root / "mnist", n_test=5)
    write_gz(data_root / "mnist" / MNIST_NAMES["y_test"],
             idx_bytes(np.array([1, 2, 12, 3, 4], np.uint8)))
    with pytest.raises(CorruptDataset, match="found 12"):
        datasets.load("mnist")
