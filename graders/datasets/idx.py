"""A reader for gzipped IDX files, the format of MNIST and Fashion-MNIST.

IDX (LeCun's MNIST page): a 4-byte magic number ``0x0000TTDD`` (TT the type
of each value, DD the number of dimensions), then DD big-endian uint32
dimension sizes, then the values in C order, big-endian. Every size is
checked against the header so that a truncated or padded file is an error
that says so, never a silently short or shifted array.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from graders.datasets.errors import CorruptDataset

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions: (count, rows, columns)
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension: (count,)

_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def describe_magic(magic: int) -> str:
    """Say what a magic number declares, for error messages."""
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    dtype = _TYPES.get(code)
    kind = dtype.name if dtype is not None else f"unknown type 0x{code:02X}"
    return f"{kind}, {ndim} dimension{'s' if ndim != 1 else ''}"


def read_idx(path: Path, *, magic: int | None = None) -> NDArray[np.generic]:
    """Read one ``.gz`` IDX file into a writable native-endian array.

    ``magic`` is the number the caller expects; anything else is refused,
    so a labels file passed as images (or a non-IDX file) fails here.
    """
    try:
        with gzip.open(path, "rb") as stream:
            raw = bytearray(stream.read())
    except EOFError as exc:
        raise CorruptDataset(f"{path}: the gzip stream is truncated ({exc}).") from exc
    except (OSError, zlib.error) as exc:
        raise CorruptDataset(f"{path}: not a readable gzip file ({exc}).") from exc

    if len(raw) < 4:
        raise CorruptDataset(f"{path}: truncated: {len(raw)} bytes, shorter than the "
                             "4-byte magic number.")
    found = int.from_bytes(raw[:4], "big")
    if magic is not None and found != magic:
        raise CorruptDataset(f"{path}: magic number 0x{found:08X}, expected 0x{magic:08X} "
                             f"({describe_magic(magic)}).")
    code, ndim = raw[2], raw[3]
    if raw[0] or raw[1] or code not in _TYPES or ndim == 0:
        raise CorruptDataset(f"{path}: magic number 0x{found:08X} is not an IDX header.")

    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDataset(f"{path}: truncated inside the header: {len(raw)} bytes, "
                             f"the {ndim} dimension sizes need {header}.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _TYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    present = len(raw) - header
    dims = " × ".join(str(n) for n in shape)
    if present < expected:
        raise CorruptDataset(f"{path}: truncated: the header declares {dims} values "
                             f"({expected} bytes), the file holds {present}.")
    if present > expected:
        raise CorruptDataset(f"{path}: {present - expected} unexpected bytes after the "
                             f"{dims} values the header declares.")

    values = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header)
    return values.reshape(shape).astype(dtype.newbyteorder("="), copy=False)
