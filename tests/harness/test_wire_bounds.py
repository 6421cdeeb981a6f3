"""A forged reply frame costs the trusted side no more memory than the frame itself.

Student code runs beside the harness and can write its own frames, so every
header here is hostile: references that repeat or overlap one region of the
blob, absurd numbers, too many values. Decoding must refuse them with a
``WireError`` (which the trusted side turns into a failed job), never with
another exception and never by allocating gigabytes first.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from graders.harness import wire

REPO = Path(__file__).resolve().parents[2]
MiB = 1 << 20


def frame_parts(message: dict[str, Any]) -> tuple[bytes, bytes]:
    frame = wire.encode(message)
    hlen = int.from_bytes(frame[:4], "big")
    return frame[4:4 + hlen], frame[4 + hlen + 8:]


def header_of(value: Any) -> bytes:
    return json.dumps({"__dict__": [["ok", True], ["value", value]]}).encode()


def ref(dtype: str, shape: list[int], offset: int) -> dict[str, Any]:
    return {"__nd__": [dtype, shape, offset]}


def decode_traced(header: bytes, blob: bytes) -> tuple[dict[str, Any] | None, int]:
    """The decoded message (``None`` if refused) and the peak bytes decoding allocated."""
    tracemalloc.start()
    try:
        try:
            message = wire.decode(header, blob)
        except wire.WireError:
            message = None
        return message, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- the reply bomb -------------------------------------------------------------------

def test_repeated_references_to_one_region_are_refused_before_copying_them():
    blob = bytes(8 * MiB)
    header = header_of([ref("<f8", [MiB], 0)] * 200)

    message, peak = decode_traced(header, blob)

    assert message is None
    assert peak < 2 * len(blob), f"decoding took {peak / MiB:.0f} MB"  # 1.6 GB before


def test_the_bomb_that_killed_a_worker_fails_cleanly_under_a_memory_limit():
    """2,000 references to one 8 MB region (16 GB decoded), with 192 MB of address space
    to spare: the decoder must say no rather than run out."""
    script = textwrap.dedent("""
        import json, resource
        from graders.harness import wire

        with open("/proc/self/status") as fh:
            vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
        blob = bytes(8 << 20)
        header = json.dumps({"__dict__": [["value", [{"__nd__": ["<f8", [1 << 20], 0]}] * 2000]]})
        resource.setrlimit(resource.RLIMIT_AS, (vm + (192 << 20), resource.RLIM_INFINITY))
        try:
            wire.decode(header.encode(), blob)
        except wire.WireError as exc:
            print("refused:", exc)
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                         text=True, timeout=120)

    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("refused: "), out.stdout


@pytest.mark.parametrize(("refs", "blob_size", "says"), [
    ([ref("<f8", [2], 0), ref("<f8", [2], 8)], 24, "byte 8 where byte 16"),   # overlap
    ([ref("|u1", [4], 4), ref("|u1", [4], 0)], 8, "byte 4 where byte 0"),     # out of order
    ([ref("|u1", [4], 0), ref("|u1", [4], 6)], 10, "byte 6 where byte 4"),    # a gap
    ([ref("|u1", [4], 0)], 1000, "996 bytes of array data belong to no array"),
])
def test_overlapping_gapped_or_unreferenced_regions_are_refused(refs, blob_size, says):
    with pytest.raises(wire.WireError, match=says):
        wire.decode(header_of(refs), bytes(blob_size))


def test_an_honest_frame_of_many_arrays_decodes_to_exactly_its_blob():
    arrays = [np.arange(n).astype(d) for n in (0, 1, 7, 1000)
              for d in (np.bool_, np.int8, np.float16, np.float64)]
    header, blob = frame_parts({"ok": True, "value": (arrays, {"empty": np.zeros((0, 5))})})

    got = wire.decode(header, blob)

    decoded = [*got["value"][0], got["value"][1]["empty"]]
    assert sum(a.nbytes for a in decoded) == len(blob)
    for want, have in zip(arrays, got["value"][0], strict=True):
        assert have.dtype == want.dtype
        np.testing.assert_array_equal(have, want)


# -- hostile headers ------------------------------------------------------------------

HOSTILE = {
    "nesting past the recursion limit": (b"[" * MiB, "not JSON"),
    "nesting past the depth limit": (header_of(json.loads("[" * 40 + "0" + "]" * 40)),
                                     "nested too deeply"),
    "a 1 MB integer": (b'{"__dict__": [["n", ' + b"7" * MiB + b"]]}", "out of range"),
    "an integer past 64 bits": (header_of(2**64), "out of range"),
    "an integer below 64 bits": (header_of(-(2**63) - 1), "out of range"),
    "a 1 MB float": (b'{"__dict__": [["n", 1.' + b"5" * MiB + b"]]}", "too long"),
    "a bare NaN": (b'{"__dict__": [["n", NaN]]}', "bare NaN"),
    "a bare -Infinity": (b'{"__dict__": [["n", -Infinity]]}', "bare -Infinity"),
    "an unhashable dtype": (header_of(ref(["<f8"], [1], 0)), "not allowed"),  # TypeError before
    "a boolean dimension": (header_of(ref("<f8", [True], 0)), "shape"),
    "an empty array too big to exist": (header_of(ref("<f8", [0, 2**62, 2**62], 0)), "shape"),
    "a float offset": (header_of(ref("<f8", [1], 0.0)), "malformed array reference"),
    "bytes that are not text": (b"\xff\xfe\x00garbage", "not JSON"),
}


@pytest.mark.parametrize(("header", "says"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_headers_are_refused_with_a_wire_error(header, says):
    with pytest.raises(wire.WireError, match=says):
        wire.decode(header, bytes(8))


def test_too_many_values_or_arrays_are_refused():
    many = b'{"__dict__": [["v", [' + b"0," * wire.MAX_NODES + b"0]]]}"
    with pytest.raises(wire.WireError, match="too many values"):
        wire.decode(many, b"")
    empties = header_of([ref("|b1", [0], 0)] * (wire.MAX_ARRAYS + 1))
    with pytest.raises(wire.WireError, match="too many arrays"):
        wire.decode(empties, b"")


# -- fuzzing --------------------------------------------------------------------------

_DTYPES = st.sampled_from([*sorted(wire.ALLOWED_DTYPES), "|O", "<c16", "V8", ""])
_JUNK = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=4),
                  st.lists(st.integers(), max_size=2))
_DIM = st.one_of(st.integers(0, 64), st.integers(-(2**63), 2**63 - 1))


@st.composite
def _forged_frames(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A frame the way an attacker would write one: honest-looking, with lies in it."""
    size = draw(st.integers(0, 256 * 1024))
    whole = ref("|u1", [size], 0)
    ref_to_anywhere = st.builds(
        ref, st.one_of(_DTYPES, _JUNK), st.one_of(st.lists(_DIM, max_size=4), _JUNK),
        st.one_of(st.integers(-8, size + 8), st.sampled_from([0, size // 2, size]), _JUNK))
    leaves = st.one_of(_JUNK, st.integers(-(2**70), 2**70), ref_to_anywhere, st.just(whole),
                       st.integers(1, 300).map(lambda n: [whole] * n))
    tree = st.recursive(leaves, lambda kids: st.one_of(
        st.lists(kids, max_size=5),
        st.lists(kids, max_size=5).map(lambda v: {"__tuple__": v}),
        st.lists(st.tuples(st.text(max_size=3), kids), max_size=4).map(
            lambda items: {"__dict__": [list(i) for i in items]}),
        kids.map(lambda v: {"__handle__": v}),
        st.dictionaries(st.text(max_size=3), kids, max_size=3),
    ), max_leaves=40)
    return header_of(draw(tree)), bytes(size)


_RAW_HEADERS = st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode))


def _assert_bounded(header: bytes, blob: bytes) -> None:
    """Refused cleanly, or decoded into arrays that together are at most the blob.

    (Less when a dict repeats a key: the later value replaces an earlier array.)
    """
    message, peak = decode_traced(header, blob)
    # Python objects for the header's values take a few dozen times its length at
    # worst; the arrays, one copy of the blob. Repeated regions would be many copies.
    assert peak <= len(blob) + 100 * len(header) + MiB, (
        f"decoding a {len(header)} B header and {len(blob)} B blob took {peak} B")
    if message is not None:
        total = 0
        stack: list[Any] = [message]
        while stack:
            node = stack.pop()
            if isinstance(node, np.ndarray):
                total += node.nbytes
            elif isinstance(node, dict):
                stack.extend(node.values())
            elif isinstance(node, list | tuple):
                stack.extend(node)
            elif isinstance(node, wire.Tag):
                stack.append(node.value)
        assert total <= len(blob)


def _fuzz(examples: int, derandomize: bool = True) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_fuzz(150)
@given(frame=st.one_of(_forged_frames(), st.tuples(_RAW_HEADERS, st.binary(max_size=64))))
@example(frame=(header_of([ref("|u1", [65536], 0)] * 300), bytes(65536)))
def test_decoding_a_forged_frame_takes_no_more_memory_than_the_frame(frame):
    _assert_bounded(*frame)


@pytest.mark.slow
@_fuzz(5000, derandomize=False)
@given(frame=st.one_of(_forged_frames(), st.tuples(_RAW_HEADERS, st.binary(max_size=64))))
def test_decoding_a_forged_frame_takes_no_more_memory_than_the_frame_long_run(frame):
    _assert_bounded(*frame)
