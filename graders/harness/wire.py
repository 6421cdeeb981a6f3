"""The only format that crosses the sandbox wall: JSON plus raw array bytes.

A frame is ``u32 header length | header JSON | u64 blob length | blob``. The
header is a JSON tree in which arrays appear as ``{"__nd__": [dtype, shape,
offset]}`` pointing into the blob, back to back in the order the tree lists
them. Nothing in it can execute code when read: there is no pickle, no zip and
no dtype outside a short numeric allow-list. The reader of a frame checks its
length against the limit before reading it, and decoding it allocates no more
than the frame's length: each blob byte is one array's, once.

This module is imported by both sides, so it depends on nothing but the
standard library and numpy.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

ALLOWED_DTYPES = frozenset(
    np.dtype(t).str for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
        np.uint32, np.uint64, np.float16, np.float32, np.float64,
    )
)
MAX_DEPTH = 32
# Bounds on one header whatever the caller's size limit: the trusted side's 1 MB header
# holds at most ~500,000 values, and every array reference takes ~25 bytes of it.
MAX_NODES = 1 << 20
MAX_ARRAYS = 1 << 16
# The harness writes this byte before any student code runs. Once the trusted side has
# read it, a death is the submission's: its exit status or stderr cannot pass for a
# failure of bubblewrap or the launcher (which would be retried, not charged).
HELLO = b"\x06"


class WireError(Exception):
    """A frame that does not follow the format; the sender is not trusted."""


@dataclass(frozen=True)
class Tag:
    """A value with a meaning agreed by both sides: a handle, a generator seed."""

    name: str
    value: Any


def _encode(value: Any, blobs: list[bytes], offset: list[int], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply to send")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Tag):
        return {f"__{value.name}__": _encode(value.value, blobs, offset, depth + 1)}
    if isinstance(value, int):
        return value if abs(value) < 2**63 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        return _encode(value.item(), blobs, offset, depth)
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        if arr.dtype.str not in ALLOWED_DTYPES:
            arr = arr.astype(np.float64) if arr.dtype.kind in "fc" else arr
        if arr.dtype.str not in ALLOWED_DTYPES:
            raise WireError(f"cannot send an array of dtype {value.dtype}")
        data = arr.tobytes()
        ref = {"__nd__": [arr.dtype.str, list(arr.shape), offset[0]]}
        blobs.append(data)
        offset[0] += len(data)
        return ref
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, blobs, offset, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_encode(v, blobs, offset, depth + 1) for v in value]
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, str | int):
                raise WireError(f"cannot send a dict key of type {type(k).__name__}")
            items.append([k, _encode(v, blobs, offset, depth + 1)])
        return {"__dict__": items}
    raise WireError(f"cannot send a value of type {type(value).__name__}")


def encode(message: dict[str, Any]) -> bytes:
    blobs: list[bytes] = []
    header = json.dumps(_encode(message, blobs, [0]), separators=(",", ":")).encode()
    blob = b"".join(blobs)
    return struct.pack(">I", len(header)) + header + struct.pack(">Q", len(blob)) + blob


class _Reader:
    """One pass over a header, handing out the blob's bytes strictly in order.

    The honest encoder lays arrays out back to back in the order it meets them,
    which is the order this walk meets them too. Requiring exactly that layout
    means every byte of the blob becomes at most one array: thousands of
    references to one 8 MB region cannot decode to gigabytes.
    """

    def __init__(self, blob: bytes | bytearray, max_nodes: int, max_arrays: int) -> None:
        self.blob = memoryview(blob)
        self.cursor = 0
        self.nodes = max_nodes
        self.arrays = max_arrays

    def node(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("message nested too deeply")
        self.nodes -= 1
        if self.nodes < 0:
            raise WireError("message has too many values")
        if isinstance(node, list):
            return [self.node(v, depth + 1) for v in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            raise WireError("malformed message: bare JSON object")
        (key, val), = node.items()
        if key == "__nd__":
            return self.array(val)
        if key == "__tuple__" and isinstance(val, list):
            return tuple(self.node(v, depth + 1) for v in val)
        if key == "__float__" and val in ("nan", "inf", "-inf"):
            return float(val)
        if key == "__dict__" and isinstance(val, list):
            out = {}
            for item in val:
                if not (isinstance(item, list) and len(item) == 2
                        and isinstance(item[0], str | int)):
                    raise WireError("malformed dict entry")
                out[item[0]] = self.node(item[1], depth + 1)
            return out
        if key.startswith("__") and key.endswith("__") and len(key) > 4:
            return Tag(key[2:-2], self.node(val, depth + 1))
        raise WireError(f"malformed message: unknown tag {key!r}")

    def array(self, spec: Any) -> np.ndarray:
        self.arrays -= 1
        if self.arrays < 0:
            raise WireError("message has too many arrays")
        if not (isinstance(spec, list) and len(spec) == 3):
            raise WireError("malformed array reference")
        dtype_str, shape, offset = spec
        if not (isinstance(dtype_str, str) and dtype_str in ALLOWED_DTYPES):
            raise WireError(f"array dtype {str(dtype_str)[:20]!r} is not allowed")
        if not (isinstance(shape, list) and len(shape) <= 32
                and all(type(d) is int and d >= 0 for d in shape)):
            raise WireError(f"malformed array shape {str(shape)[:80]}")
        if type(offset) is not int:
            raise WireError("malformed array reference")
        dtype = np.dtype(dtype_str)
        nbytes = math.prod(shape) * dtype.itemsize
        if offset != self.cursor:
            raise WireError(f"array data at byte {offset} where byte {self.cursor} comes next "
                            "; regions must follow each other, once each")
        if nbytes > len(self.blob) - offset:
            raise WireError("array data lies outside the message")
        self.cursor += nbytes
        data = np.frombuffer(self.blob[offset:offset + nbytes], dtype=dtype)
        try:
            return data.reshape(shape).copy()
        except ValueError:  # an empty array with absurd dimensions
            raise WireError(f"malformed array shape {str(shape)[:80]}") from None


def _parse_int(text: str) -> int:
    # The encoder sends no int outside 64 bits; refusing longer digit strings early also
    # spares int() its quadratic work.
    value = int(text) if len(text) <= 20 else 1 << 64
    if not -(1 << 63) <= value < 1 << 63:
        raise WireError(f"integer {text[:24]}... out of range")
    return value


def _parse_float(text: str) -> float:
    if len(text) > 32:  # repr() of a float never needs more
        raise WireError(f"number {text[:24]}... too long")
    return float(text)


def _no_constant(text: str) -> Any:
    raise WireError(f"bare {text} in the header (non-finite floats travel tagged)")


def decode(header: bytes | bytearray, blob: bytes | bytearray, *,
           max_nodes: int = MAX_NODES, max_arrays: int = MAX_ARRAYS) -> dict[str, Any]:
    """The message in one frame; every array is a copy of its own bytes of ``blob``.

    The arrays together take exactly ``len(blob)`` bytes, so bounding the
    frame bounds what decoding it can allocate.
    """
    try:
        tree = json.loads(header, parse_int=_parse_int, parse_float=_parse_float,
                          parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"header is not JSON: {str(exc)[:200]}") from None
    reader = _Reader(blob, max_nodes, max_arrays)
    message = reader.node(tree)
    if not isinstance(message, dict):
        raise WireError("a message must be a dict")
    if reader.cursor != len(blob):
        raise WireError(f"{len(blob) - reader.cursor} bytes of array data belong to no array")
    return message


def read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def send(fd: int, message: dict[str, Any]) -> None:
    write_all(fd, encode(message))


def receive(fd: int, max_bytes: int = 1 << 30) -> dict[str, Any]:
    """Blocking read of one frame, refusing any length over ``max_bytes``.

    The harness reads the trusted side's requests with this (datasets included,
    hence the large default); the trusted side reads replies in
    ``graders.sandbox.process`` under the sandbox's own, smaller limits.
    """
    (hlen,) = struct.unpack(">I", read_exact(fd, 4))
    if hlen > max_bytes:
        raise WireError(f"header of {hlen} bytes exceeds the limit of {max_bytes}")
    header = read_exact(fd, hlen)
    (blen,) = struct.unpack(">Q", read_exact(fd, 8))
    if hlen + blen > max_bytes:
        raise WireError(f"message of {hlen + blen} bytes exceeds the limit of {max_bytes}")
    return decode(header, read_exact(fd, blen))
