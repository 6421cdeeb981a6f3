"""Small files in the official formats, written from the formats' specifications.

The real data sets cannot be downloaded on a test machine, so tests build
tiny look-alikes: gzipped IDX files (LeCun's MNIST page) and a
``cifar-10-python.tar.gz`` whose batches are pickled dicts, either by this
Python or byte for byte as the original Python 2 files were written.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
                  np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
MNIST_NAMES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


@dataclass
class LocalServer:
    """The ``http_server`` fixture: base URL, served directory, request paths seen."""

    url: str
    root: Path
    requests: list[str] = field(default_factory=list)


def idx_bytes(array: np.ndarray, *, magic: int | None = None) -> bytes:
    """Magic 0x0000TTDD, DD big-endian uint32 sizes, then big-endian values."""
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    code = IDX_TYPE_CODES[dtype]
    magic = (code << 8) | array.ndim if magic is None else magic
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()


def write_gz(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload))
    return path


def write_mnist(folder: Path, *, n_train: int = 7, n_test: int = 5,
                seed: int = 0) -> dict[str, np.ndarray]:
    """An MNIST-like set with distinct split sizes, so a swapped file shows."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    for key, array in arrays.items():
        write_gz(folder / MNIST_NAMES[key], idx_bytes(array))
    return arrays


# Python 2 pickle protocol 2, the way cPickle wrote the official CIFAR-10
# batches: str values as SHORT_BINSTRING/BINSTRING, numpy arrays through
# numpy.core.multiarray._reconstruct with the raw pixels in one BINSTRING.

def _py2_str(value: bytes) -> bytes:
    if len(value) < 256:
        return b"U" + bytes([len(value)]) + value
    return b"T" + struct.pack("<I", len(value)) + value


def _py2_int(value: int) -> bytes:
    if 0 <= value < 256:
        return b"K" + bytes([value])
    if 0 <= value < 65536:
        return b"M" + struct.pack("<H", value)
    return b"J" + struct.pack("<i", value)


def _py2_global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _py2_array(array: np.ndarray) -> bytes:
    assert array.dtype == np.uint8
    shape = b"(" + b"".join(_py2_int(n) for n in array.shape) + b"t"
    dtype = (_py2_global("numpy", "dtype") + _py2_str(b"u1") + _py2_int(0) + _py2_int(1)
             + b"\x87R" + b"(" + _py2_int(3) + _py2_str(b"|") + b"NNN"
             + b"J\xff\xff\xff\xffJ\xff\xff\xff\xff" + _py2_int(0) + b"tb")
    return (_py2_global("numpy.core.multiarray", "_reconstruct")
            + _py2_global("numpy", "ndarray") + _py2_int(0) + b"\x85" + _py2_str(b"b")
            + b"\x87R" + b"(" + _py2_int(1) + shape + dtype + b"\x89"
            + _py2_str(array.tobytes()) + b"tb")


def py2_batch(data: np.ndarray, labels: list[int], batch_label: bytes) -> bytes:
    """A batch as the official files hold it (Python 2 cPickle, protocol 2)."""
    names = [b"image_%d.png" % i for i in range(len(labels))]
    items = [
        (b"batch_label", _py2_str(batch_label)),
        (b"labels", b"](" + b"".join(_py2_int(y) for y in labels) + b"e"),
        (b"data", _py2_array(data)),
        (b"filenames", b"](" + b"".join(_py2_str(n) for n in names) + b"e"),
    ]
    body = b"".join(_py2_str(key) + value for key, value in items)
    return b"\x80\x02}(" + body + b"u."


def py3_batch(data: np.ndarray, labels: list[int], batch_label: bytes) -> bytes:
    """A batch pickled by this Python from real numpy arrays, as a re-packer would."""
    batch = {b"batch_label": batch_label, b"labels": labels, b"data": data,
             b"filenames": [b"image_%d.png" % i for i in range(len(labels))]}
    return pickle.dumps(batch, protocol=4)


def cifar_arrays(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
            [int(y) for y in rng.integers(0, 10, size=n)])


def write_cifar(path: Path, batches: dict[str, bytes], *, extra: bool = True) -> Path:
    """``cifar-10-python.tar.gz`` holding ``cifar-10-batches-py/<name>`` for each batch."""
    members = dict(batches)
    if extra:
        members.setdefault("batches.meta", pickle.dumps({b"num_cases_per_batch": 10000}, 2))
        members.setdefault("readme.html", b"<html></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, payload in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return path


def write_small_cifar(path: Path, *, writer: str = "py2") -> dict[str, np.ndarray]:
    """Five training batches of 2, 3, 4, 5, 6 images and a test batch of 7."""
    make = py2_batch if writer == "py2" else py3_batch
    batches: dict[str, bytes] = {}
    train_x, train_y = [], []
    for i, n in enumerate((2, 3, 4, 5, 6), start=1):
        data, labels = cifar_arrays(n, seed=i)
        batches[f"data_batch_{i}"] = make(data, labels, b"training batch %d of 5" % i)
        train_x.append(data)
        train_y.extend(labels)
    test_data, test_labels = cifar_arrays(7, seed=99)
    batches["test_batch"] = make(test_data, test_labels, b"testing batch 1 of 1")
    write_cifar(path, batches)
    return {"x_train": np.concatenate(train_x), "y_train": np.array(train_y),
            "x_test": test_data, "y_test": np.array(test_labels)}
