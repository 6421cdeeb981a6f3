"""CIFAR-10 from the official ``cifar-10-python.tar.gz``, without trusting pickle.

The archive's batches are pickled dicts (``b"data"``: uint8 array (10000,
3072), ``b"labels"``: list of ints, plus ``b"batch_label"`` and
``b"filenames"``). A plain ``pickle.load`` would run any callable a tampered
file names, so batches go through ``_BatchUnpickler``: it resolves the
three globals a pickled numpy array names to inert records and refuses every
other global before anything is called. This module then builds each array
itself once its dtype (plain numeric only), shape and byte count check out;
numpy's own ``__setstate__`` never sees the file's data. The archive is read
in place, never extracted.
"""

from __future__ import annotations

import io
import math
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from graders.datasets.errors import CorruptDataset

ARCHIVE = "cifar-10-python.tar.gz"
_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
_MAX_BATCH_BYTES = 64 * 2**20  # a real batch is about 31 MB
_PLAIN_DTYPES = frozenset({"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"})


class _NdarrayToken:
    """Stands for ``numpy.ndarray``: only compared, never called, holds nothing."""

    __slots__ = ()


_NDARRAY = _NdarrayToken()


class _DtypeRecord:
    """What a pickled ``numpy.dtype(spec, align, copy)`` and its state said."""

    __slots__ = ("spec", "state")

    def __init__(self, spec: object, align: object = False, copy: object = True) -> None:
        self.spec = spec
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state


class _ArrayRecord:
    """What a pickled ``_reconstruct(ndarray, ...)`` and its BUILD state said."""

    __slots__ = ("state",)

    def __init__(self, subtype: object, shape: object, dtype_code: object) -> None:
        if subtype is not _NDARRAY:
            raise pickle.UnpicklingError("array reconstruction with a subtype other than ndarray")
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state


# Pickled numpy arrays name exactly these globals. They resolve to inert
# records, so no numpy code runs on what the file says until _to_array has
# checked it (numpy's own __setstate__ accepts dtype states that are unsafe).
_ALLOWED: dict[tuple[str, str], object] = {
    # Python 2 pickles (the official files) name numpy.core; numpy 2 names numpy._core.
    ("numpy.core.multiarray", "_reconstruct"): _ArrayRecord,
    ("numpy._core.multiarray", "_reconstruct"): _ArrayRecord,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DtypeRecord,
}


class _BatchUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals in ``_ALLOWED``."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused global {module}.{name}: a CIFAR-10 batch holds only numpy "
                "arrays, lists, strings and integers") from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refused a persistent id")


def _text(value: object) -> object:
    return value.decode("latin1") if isinstance(value, bytes) else value


def _to_dtype(record: object) -> np.dtype:
    """A plain numeric dtype from a record; structured, object or odd states are refused."""
    spec = _text(getattr(record, "spec", None))
    if not isinstance(record, _DtypeRecord) or spec not in _PLAIN_DTYPES:
        raise ValueError(f"dtype {spec!r} is not a plain numeric type")
    state = record.state
    # (version, byte order, subarray, names, fields, item size, alignment, flags)
    if not isinstance(state, tuple) or len(state) != 8 or state[0] not in (3, 4) \
            or _text(state[1]) not in ("|", "<", ">", "=") or state[2:5] != (None,) * 3:
        raise ValueError(f"dtype {spec} has a state that is not a plain numeric type")
    order = _text(state[1])
    dtype = np.dtype(str(spec))
    return dtype.newbyteorder(order) if order in ("<", ">") else dtype


def _to_array(record: object) -> NDArray[Any]:
    """Build the array a record describes, after checking every part of its state."""
    state = getattr(record, "state", None)
    if not isinstance(record, _ArrayRecord) or not isinstance(state, tuple) or len(state) != 5:
        raise ValueError("not a pickled numpy array")
    version, shape, dtype_record, fortran, raw = state
    dtype = _to_dtype(dtype_record)
    if version != 1 or not isinstance(fortran, bool) or not isinstance(raw, bytes) \
            or not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError("malformed numpy array state")
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise ValueError(f"array of shape {shape} needs {math.prod(shape) * dtype.itemsize} "
                         f"bytes, the batch holds {len(raw)}")
    values = np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return values.astype(dtype.newbyteorder("="))


def read_batch(data: bytes, where: str) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Decode one pickled batch into images (N, 32, 32, 3) uint8 and labels (N,).

    The layout is the course's ``load_CIFAR_batch``: rows of 3072 bytes are
    1024 red, 1024 green, 1024 blue values, hence the transpose.
    """
    try:
        batch = _BatchUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as exc:  # any failure inside pickle is the file's fault
        raise CorruptDataset(f"{where}: unreadable batch: {exc}") from exc
    if not isinstance(batch, dict):
        raise CorruptDataset(f"{where}: expected a dict, found {type(batch).__name__}.")
    fields = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}

    labels = fields.get("labels")
    try:
        images = _to_array(fields.get("data"))
    except ValueError as exc:
        raise CorruptDataset(f"{where}: 'data': {exc}.") from exc
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3072:
        raise CorruptDataset(f"{where}: 'data' must be a uint8 array (N, 3072), found "
                             f"{images.dtype} {images.shape}.")
    if not isinstance(labels, list) or not all(type(y) is int for y in labels):
        raise CorruptDataset(f"{where}: 'labels' must be a list of integers.")
    if len(labels) != len(images):
        raise CorruptDataset(f"{where}: {len(images)} images but {len(labels)} labels.")
    y = np.array(labels, dtype=np.int64)
    if y.size and (y.min() < 0 or y.max() > 9):
        raise CorruptDataset(f"{where}: labels must lie in 0-9, found {y.min()}..{y.max()}.")
    x = images.reshape(len(images), 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x), y


def read_archive(path: Path) -> tuple[NDArray[np.uint8], NDArray[np.int64],
                                      NDArray[np.uint8], NDArray[np.int64]]:
    """Read ``Xtr, Ytr, Xte, Yte`` from the archive, as the course's ``load_CIFAR10``.

    Images stay uint8: the course's loader casts to float64, which each
    assignment does itself when it prepares data (8x the memory otherwise).
    """
    wanted = {f"{_FOLDER}/{b}" for b in (*TRAIN_BATCHES, TEST_BATCH)}
    found: dict[str, tuple[NDArray[np.uint8], NDArray[np.int64]]] = {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:  # one pass: the gzip stream is sequential
                if member.name not in wanted or member.name in found:
                    continue
                where = f"{path}:{member.name}"
                if not member.isfile() or member.size > _MAX_BATCH_BYTES:
                    raise CorruptDataset(f"{where}: not a regular file of at most "
                                         f"{_MAX_BATCH_BYTES} bytes.")
                stream = archive.extractfile(member)
                assert stream is not None  # regular files always have one
                found[member.name] = read_batch(stream.read(), where)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise CorruptDataset(f"{path}: unreadable archive ({exc}).") from exc

    missing = sorted(wanted - found.keys())
    if missing:
        raise CorruptDataset(f"{path}: missing {', '.join(missing)}.")
    train = [found[f"{_FOLDER}/{b}"] for b in TRAIN_BATCHES]
    x_test, y_test = found[f"{_FOLDER}/{TEST_BATCH}"]
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]),
            x_test, y_test)
