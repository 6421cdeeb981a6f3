"""CIFAR-10: the official archive layout, and pickles that must never run code."""

from __future__ import annotations

import os
import pickle
import shlex
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import (
    cifar_arrays,
    py2_batch,
    py3_batch,
    write_cifar,
    write_small_cifar,
)

from graders import datasets
from graders.datasets.cifar import read_batch
from graders.datasets.errors import CorruptDataset


class _Touch:
    """A classic payload: unpickling it runs a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def _archive(root: Path) -> Path:
    return root / "cifar-10" / "cifar-10-python.tar.gz"


def _good_batches() -> dict[str, bytes]:
    out = {}
    for i in range(1, 6):
        data, labels = cifar_arrays(2, seed=i)
        out[f"data_batch_{i}"] = py2_batch(data, labels, b"training")
    data, labels = cifar_arrays(3, seed=0)
    out["test_batch"] = py2_batch(data, labels, b"testing")
    return out


@pytest.mark.parametrize("writer", ["py2", "py3"])
def test_load_matches_course_layout(data_root: Path, writer: str) -> None:
    expected = write_small_cifar(_archive(data_root), writer=writer)

    data = datasets.load("cifar-10")

    assert data.x_train.shape == (20, 32, 32, 3) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (7, 32, 32, 3)
    assert data.y_train.dtype == np.int64
    # The course's load_CIFAR_batch: reshape(N, 3, 32, 32).transpose(0, 2, 3, 1).
    course_x = expected["x_train"].reshape(20, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(data.x_train, course_x)
    np.testing.assert_array_equal(data.y_train, expected["y_train"])
    np.testing.assert_array_equal(data.x_test[3, 5, 7], expected["x_test"][3, [5 * 32 + 7,
                                  1024 + 5 * 32 + 7, 2048 + 5 * 32 + 7]])
    np.testing.assert_array_equal(data.y_test, expected["y_test"])


def test_payload_is_live_without_the_restricted_reader(tmp_path: Path) -> None:
    """Control: plain pickle would run the payload the next tests feed the loader."""
    marker = tmp_path / "control"
    pickle.loads(pickle.dumps(_Touch(marker)))
    assert marker.exists()


def test_malicious_batch_is_refused_without_running(data_root: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    batches = _good_batches()
    batches["data_batch_3"] = pickle.dumps(_Touch(marker), protocol=2)
    write_cifar(_archive(data_root), batches)

    with pytest.raises(CorruptDataset) as info:
        datasets.load("cifar-10")

    assert not marker.exists()
    assert "data_batch_3" in str(info.value)
    assert f"refused global {os.system.__module__}.system" in str(info.value)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_payload_inside_a_valid_batch_is_refused(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    data, labels = cifar_arrays(2, seed=1)
    batch = {b"data": data, b"labels": labels, b"filenames": [_Touch(marker)]}
    with pytest.raises(CorruptDataset, match="refused global"):
        read_batch(pickle.dumps(batch, protocol=protocol), "batch")
    assert not marker.exists()


def test_python2_style_global_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = (b"\x80\x02}(U\x04datacos\nsystem\nU" + bytes([len(f"touch {marker}")])
               + f"touch {marker}".encode() + b"\x85Ru.")
    with pytest.raises(CorruptDataset, match=r"refused global os\.system"):
        read_batch(payload, "batch")
    assert not marker.exists()


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    batch = {b"data": np.array([[1, "x"]], dtype=object), b"labels": [0]}
    with pytest.raises(CorruptDataset, match="not a plain numeric type"):
        read_batch(pickle.dumps(batch, protocol=4), "batch")


def test_array_subclasses_are_refused() -> None:
    data = np.ma.masked_array(np.zeros((1, 3072), np.uint8))
    with pytest.raises(CorruptDataset, match=r"refused global numpy\.ma\.core"):
        read_batch(pickle.dumps({b"data": data, b"labels": [0]}, protocol=4), "batch")


def test_batch_with_wrong_structure_is_refused() -> None:
    data, labels = cifar_arrays(2, seed=1)
    with pytest.raises(CorruptDataset, match=r"'data' must be a uint8 array \(N, 3072\)"):
        read_batch(py3_batch(data[:, :100], labels, b"x"), "batch")
    with pytest.raises(CorruptDataset, match="2 images but 1 labels"):
        read_batch(py3_batch(data, labels[:1], b"x"), "batch")
    with pytest.raises(CorruptDataset, match="expected a dict, found list"):
        read_batch(pickle.dumps([1, 2]), "batch")


def test_missing_batch_is_named(data_root: Path) -> None:
    batches = _good_batches()
    del batches["data_batch_4"]
    write_cifar(_archive(data_root), batches)
    with pytest.raises(CorruptDataset, match="missing cifar-10-batches-py/data_batch_4"):
        datasets.load("cifar-10")


def test_truncated_archive_is_refused(data_root: Path) -> None:
    path = write_cifar(_archive(data_root), _good_batches())
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(CorruptDataset, match="dlgrade datasets fetch cifar-10"):
        datasets.load("cifar-10")


def test_structured_dtype_state_is_refused() -> None:
    """numpy's dtype.__setstate__ would accept fields pointing past each element."""
    data, labels = cifar_arrays(2, seed=1)
    plain_state = b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    f8 = b"cnumpy\ndtype\nU\x02f8K\x00K\x01\x87R" + plain_state
    fields_state = (b"(K\x03U\x01|N(U\x01at}U\x01a(" + f8 + b"M\xe8\x03ts"
                    b"J\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    batch = py2_batch(data, labels, b"x")
    assert batch.count(plain_state) == 1
    with pytest.raises(CorruptDataset, match="not a plain numeric type"):
        read_batch(batch.replace(plain_state, fields_state), "batch")


def test_pixel_count_must_match_the_shape() -> None:
    data, labels = cifar_arrays(2, seed=1)
    batch = py2_batch(data, labels, b"x")
    pixels = b"T" + (6144).to_bytes(4, "little") + data.tobytes()
    shorter = batch.replace(pixels, b"T" + (6143).to_bytes(4, "little") + data.tobytes()[:-1])
    with pytest.raises(CorruptDataset, match="needs 6144 bytes, the batch holds 6143"):
        read_batch(shorter, "batch")
