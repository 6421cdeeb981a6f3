"""Recognising the classic ways a deep-learning value goes wrong.

"12 entries differ" tells a student that something is wrong; "off by a factor
of 8, the batch size" tells them what. Each pattern is tested against the
reference with a loose, scale-aware tolerance (``max|a-b| <= 1e-4 * max(|a|, |b|)``)
so float32 rounding in the student's code does not hide it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from graders.checks._format import num, shape_str

PATTERN_TOL = 1e-4


def _f64(value: Any, most: int | None = None) -> NDArray[np.float64] | None:
    """``value`` as finite float64, or None; one of more than ``most`` entries is not widened."""
    try:
        arr = np.asarray(value)
        if most is not None and arr.size > most:
            return None
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        return None
    return arr if np.all(np.isfinite(arr)) else None


def matches(a: NDArray[np.float64], b: NDArray[np.float64], tol: float = PATTERN_TOL) -> bool:
    """Equal up to ``tol`` relative to the larger of the two arrays' magnitudes."""
    if a.shape != b.shape:
        return False
    if a.size == 0:
        return True
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    if scale == 0.0:
        return True
    return float(np.max(np.abs(a - b))) <= tol * scale


def _near_int(x: float) -> int | None:
    n = round(x)
    return n if n >= 2 and abs(x - n) <= 1e-3 * n else None


def _factor_phrase(c: float, batch_size: int | None) -> str:
    """Name a constant factor, as an integer or its inverse when it is one."""
    big = _near_int(abs(c))
    small = _near_int(1.0 / abs(c)) if c != 0 else None
    sign = "" if c > 0 else " and the sign is flipped"
    if big is not None or small is not None:
        n = big if big is not None else small
        direction = "too large" if big is not None else "too small"
        if batch_size is not None and n == batch_size:
            return (f"off by a factor of {n}, the batch size ({n} times {direction}{sign}): "
                    "a missing or extra mean over the batch?")
        return f"off by a constant factor of {n} ({n} times {direction}{sign})"
    return f"off by a constant factor: got ≈ {num(c)} × expected"


def _shape_diagnosis(g: NDArray[np.float64], e: NDArray[np.float64]) -> str:
    """Right numbers, wrong arrangement: transposed, an extra axis, not summed."""
    if g.size == e.size and g.size > 0:
        if g.ndim == 2 and e.ndim == 2 and g.shape == e.shape[::-1] and matches(g.T, e):
            return "it matches the transpose of the expected value"
        if matches(g.reshape(e.shape), e):
            if [d for d in g.shape if d != 1] == [d for d in e.shape if d != 1]:
                if g.ndim > e.ndim:
                    return ("the values are right but there is an extra axis of length 1 "
                            "(keepdims=True, or a row where a vector is expected?)")
                return "the values are right but an axis of length 1 is missing"
            return f"the values are right but must be reshaped to {shape_str(e.shape)}"
    if g.ndim == e.ndim + 1 and g.shape[1:] == e.shape and g.shape[0] > 0:
        if matches(g.sum(axis=0), e):
            return "its sum over axis 0 is the expected value: a missing sum over the batch?"
        if matches(g.mean(axis=0), e):
            return "its mean over axis 0 is the expected value: a missing mean over the batch?"
    return ""


def _reg_diagnosis(g: NDArray[np.float64], e: NDArray[np.float64],
                   r: NDArray[np.float64], label: str) -> str:
    if not np.any(r):
        return ""
    if matches(e - g, r):
        return f"differs by exactly {label}: the regularisation gradient is missing"
    if matches(g - e, r):
        return f"differs by exactly {label}: the regularisation gradient is counted twice"
    if matches(e - g, 0.5 * r):
        return (f"differs by exactly 0.5·{label}: half the regularisation gradient is missing "
                f"(the derivative of 0.5·reg·‖W‖² is {label})")
    return ""


def diagnose(got: Any, expected: Any, *, batch_size: int | None = None,
             reg_term: Any = None, reg_label: str = "reg·W") -> str:
    """A short phrase naming a recognised mistake in ``got``, or ``""``.

    ``expected`` is the reference. ``batch_size`` lets a factor of N be named
    as a batch mean; ``reg_term`` is the regularisation gradient (e.g.
    ``reg * W``) so a missing or doubled one can be named (``reg_label`` is
    how the message writes it). Non-finite inputs are not diagnosed.
    """
    e = _f64(expected)
    # Bounded as close() bounds it: room for near misses, not for a reply of any size.
    g = _f64(got, 4 * max(e.size, 1) + 4096) if e is not None else None
    if g is None or e is None:
        return ""
    if g.shape != e.shape:
        return _shape_diagnosis(g, e)
    if g.size == 0 or np.array_equal(g, e):
        return ""
    if not np.any(e):
        return "every expected entry is 0 here"
    if not np.any(g):
        return "every entry is 0: is the value computed (and stored) at all?"
    if g.size < 2:
        return ""  # any two numbers differ by "a constant factor"
    if matches(g, -e):
        return "the sign is flipped everywhere"
    r = _f64(reg_term) if reg_term is not None else None
    if r is not None and r.shape == e.shape:
        found = _reg_diagnosis(g, e, r, reg_label)
        if found:
            return found
    c = float(np.vdot(g, e) / np.vdot(e, e))
    if abs(c - 1.0) > 1e-3 and matches(g, c * e):
        return _factor_phrase(c, batch_size)
    if g.ndim == 2 and g.shape[0] == g.shape[1] and matches(g.T, e) and not matches(e.T, e):
        return "it matches the transpose of the expected value"
    worst = float(np.max(np.abs(g - e))) / float(np.max(np.abs(e)))
    if worst < 1e-3:
        digits = max(1, int(-np.log10(max(worst, 1e-17))))
        return (f"it agrees to only about {digits} significant digits: "
                "float32 arithmetic, or an approximation?")
    return ""
