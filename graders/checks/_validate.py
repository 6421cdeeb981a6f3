"""Turning values from the student's code into float64 arrays, or a reason why not.

Checks compare in float64; everything they accept passes through here first
so a ``None``, a list, an object array or complex numbers become a clear
message instead of a numpy broadcast or a TypeError inside the grader.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from graders.checks._format import shape_str, type_phrase
from graders.errors import SpecError

_REAL_KINDS = "biuf"  # bool, signed, unsigned, float; bool counts as 0/1


class Invalid(Exception):
    """The student's value is not a real number array; ``str`` is the reason."""


def expect_phrase(shape: Sequence[int | None] | None) -> str:
    """What a check wanted, for "got X, expected Y"."""
    if shape is None:
        return "a numpy array"
    if len(shape) == 0:
        return "a number"
    return f"an array of shape {shape_str(shape)}"


# The most entries a student's value may have when no expected shape says more: 32 MB as
# float64, far above any value a spec reads without a shape (a test set's labels) and far
# below what a reply within the sandbox's 256 MB message limit would widen to (a 256 MB
# bool array is 2 GB as float64).
MAX_ENTRIES = 1 << 22


def real_array(value: Any,
               expected_shape: Sequence[int | None] | None = None) -> NDArray[np.float64]:
    """``value`` as a float64 array (a copy), or raise :class:`Invalid`.

    Accepts numpy arrays and scalars and Python numbers (booleans as 0/1);
    rejects lists on purpose, so a check never guesses at nested structure.
    The size is bounded before the copy is made: by ``expected_shape`` when it
    is fully known (a wrong shape still gets its own message from the check),
    by :data:`MAX_ENTRIES` otherwise.
    """
    want = expect_phrase(expected_shape)
    if expected_shape is None or any(d is None for d in expected_shape):
        return _as_float64(value, want, MAX_ENTRIES, f"{want} of at most {MAX_ENTRIES:,} entries")
    expected = math.prod(d for d in expected_shape if d is not None)
    # Room for near misses, so a wrong shape still gets the check's precise message.
    return _as_float64(value, want, 4 * max(expected, 1) + 4096, want)


def _as_float64(value: Any, want: str, most: int | None, want_size: str
                ) -> NDArray[np.float64]:
    if not isinstance(value, np.ndarray | np.generic | int | float):
        raise Invalid(f"got {type_phrase(value)}, expected {want}")
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind == "c":
        raise Invalid(f"got complex values (dtype {arr.dtype}), expected real numbers")
    if kind == "O":
        raise Invalid(f"got an array of dtype object (ragged or mixed contents), expected {want}")
    if kind not in _REAL_KINDS:
        raise Invalid(f"got an array of dtype {arr.dtype}, expected real numbers")
    # Refused before the float64 copy: a 250 MB bool array would become 2 GB here, in
    # the trusted process, outside every limit the sandbox has.
    if most is not None and arr.size > most:
        raise Invalid(f"got an array of shape {shape_str(arr.shape)}, expected {want_size}")
    return arr.astype(np.float64)


def trusted_array(name: str, value: Any) -> NDArray[np.float64]:
    """The grader's own value as float64; a bad one is the spec's fault, not the student's."""
    try:
        return _as_float64(value, "a numpy array", None, "")  # as large as the spec made it
    except Invalid as exc:
        raise SpecError(f"{name}: the expected value is not a real array ({exc})") from exc
