"""The result channel: what crosses the sandbox wall must never execute or balloon."""

import pickle
import struct

import numpy as np
import pytest

from graders.harness import wire


def roundtrip(message):
    frame = wire.encode(message)
    (hlen,) = struct.unpack(">I", frame[:4])
    return wire.decode(frame[4:4 + hlen], frame[4 + hlen + 8:])


def test_arrays_keep_dtype_shape_and_values():
    x = np.arange(30, dtype=np.float32).reshape(2, 3, 5)
    got = roundtrip({"x": x, "b": np.array([True, False]), "i": np.int64(7)})
    assert got["x"].dtype == np.float32 and got["x"].shape == (2, 3, 5)
    np.testing.assert_array_equal(got["x"], x)
    assert got["b"].dtype == np.bool_ and got["i"] == 7


def test_tuples_lists_dicts_and_non_finite_floats_survive():
    got = roundtrip({"v": (1, [2.5, None], {"k": "s"}), "n": float("nan"), "i": float("-inf")})
    assert got["v"] == (1, [2.5, None], {"k": "s"})
    assert np.isnan(got["n"]) and got["i"] == float("-inf")


def test_object_arrays_cannot_be_sent():
    with pytest.raises(wire.WireError, match="dtype object"):
        wire.encode({"x": np.array([object()], dtype=object)})


def test_a_pickle_payload_is_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = pickle.dumps(Evil())
    with pytest.raises(wire.WireError):
        wire.decode(payload, b"")
    assert not marker.exists()


def test_forged_dtype_and_out_of_range_offsets_are_refused():
    header = b'{"__dict__": [["x", {"__nd__": ["|O", [1], 0]}]]}'
    with pytest.raises(wire.WireError, match="not allowed"):
        wire.decode(header, b"\0" * 8)
    header = b'{"__dict__": [["x", {"__nd__": ["<f8", [1000000], 0]}]]}'
    with pytest.raises(wire.WireError, match="outside"):
        wire.decode(header, b"\0" * 8)


def test_bare_json_objects_and_deep_nesting_are_refused():
    with pytest.raises(wire.WireError):
        wire.decode(b'{"a": 1, "b": 2}', b"")
    deep = b"[" * 100 + b"]" * 100
    with pytest.raises(wire.WireError, match="deeply"):
        wire.decode(b'{"__dict__": [["x", ' + deep + b"]]}", b"")


def test_receive_refuses_frames_over_the_limit_before_reading_them():
    import os

    r, w = os.pipe()
    os.write(w, struct.pack(">I", 10_000))
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.receive(r, max_bytes=100)
    os.close(r)
    os.close(w)
