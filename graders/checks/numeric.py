"""Values against the reference: the courses' ``rel_error``, shapes, finiteness.

Closeness rule, for every check here: compared in float64, entry by entry,
``|a-b| / max(1e-8, |a|+|b|) <= tol`` with the reference as the expected
value; shapes must be identical (``(1, 3)`` is never ``(3,)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from graders.checks._format import index_str, join, pair, shape_str, type_phrase
from graders.checks._validate import Invalid, real_array, trusted_array
from graders.checks.patterns import diagnose
from graders.results import CheckResult

REL_FLOOR = 1e-8


def rel_error_map(got: ArrayLike, expected: ArrayLike) -> NDArray[np.float64]:
    """Entry-wise ``|a-b| / max(1e-8, |a|+|b|)``; shapes must match exactly.

    ``got`` is widened to float64 only once its shape is the expected one, so a
    huge reply costs nothing here.
    """
    a = np.asarray(got)
    b = np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape} (never broadcast)")
    a = a.astype(np.float64)
    return np.abs(a - b) / np.maximum(REL_FLOOR, np.abs(a) + np.abs(b))


def rel_error(got: ArrayLike, expected: ArrayLike) -> float:
    """The courses' measure, max over entries; 0.0 for two empty arrays."""
    errors = rel_error_map(got, expected)
    return float(np.max(errors)) if errors.size else 0.0


def _entries(k: int, n: int, one: str = "differs", many: str = "differ") -> str:
    """``1 of 35 entries differs`` / ``12 of 35 entries differ``."""
    return f"{k} of {n} entries {one if k == 1 else many}"


def close(name: str, got: Any, expected: Any, *, tol: float = 1e-6, hint: str = "",
          hidden: bool = False, weight: float = 1.0, batch_size: int | None = None,
          reg_term: Any = None, ignore: ArrayLike | None = None) -> CheckResult:
    """``got`` equals the reference ``expected`` within ``tol`` (module rule).

    ``ignore`` masks entries where any answer is accepted (e.g. relu_grad at
    exactly 0). Non-finite expected entries must be matched exactly.
    ``batch_size`` and ``reg_term`` only sharpen the failure message.
    """
    kw: dict[str, Any] = {"hidden": hidden, "weight": weight}
    exp = trusted_array(name, expected)
    try:
        arr = real_array(got, exp.shape)
    except Invalid as exc:
        return CheckResult.failed(name, join(f"{name}: {exc}", hint), **kw)
    if arr.shape != exp.shape:
        msg = f"{name}: wrong shape — got {shape_str(arr.shape)}, expected {shape_str(exp.shape)}"
        return CheckResult.failed(name, join(msg, diagnose(arr, exp), hint), **kw)

    keep = np.ones(exp.shape, dtype=bool)
    if ignore is not None:
        mask = np.asarray(ignore, dtype=bool)
        if mask.shape != exp.shape:
            raise ValueError(f"{name}: ignore mask has shape {mask.shape}, expected {exp.shape}")
        keep = ~mask
    n = int(keep.sum())

    finite_exp = np.isfinite(exp)
    broken = keep & finite_exp & ~np.isfinite(arr)
    if broken.any():
        idx = np.unravel_index(int(np.argmax(broken)), exp.shape)
        g, e = pair(arr[idx], exp[idx])
        if exp.ndim == 0:
            msg = f"{name}: got {g}, expected {e}"
        else:
            count = _entries(int(broken.sum()), n, "is", "are")
            msg = (f"{name}: {count} NaN or inf where finite values are expected; "
                   f"first at {index_str(idx)}: got {g}, expected {e}")
        return CheckResult.failed(name, join(msg, hint), **kw)

    errors = np.zeros(exp.shape)
    both = keep & finite_exp
    errors[both] = rel_error_map(arr[both], exp[both])
    special = keep & ~finite_exp
    same = (arr == exp) | (np.isnan(arr) & np.isnan(exp))
    errors[special & ~same] = np.inf

    wrong = errors > tol
    worst_err = float(np.max(errors)) if errors.size else 0.0
    if not wrong.any():
        return CheckResult.passed(name, f"max rel_error {worst_err:.1e} (tolerance {tol:g}).", **kw)

    idx = np.unravel_index(int(np.argmax(errors)), exp.shape)
    g, e = pair(arr[idx], exp[idx])
    detail = f"got {g}, expected {e} (rel_error {worst_err:.1e})"
    if exp.ndim == 0:
        msg = f"{name}: {detail}"
    else:
        msg = f"{name}: {_entries(int(wrong.sum()), n)}; worst at {index_str(idx)}: {detail}"
    if ignore is None:
        diagnosis = diagnose(arr, exp, batch_size=batch_size, reg_term=reg_term)
    else:
        reg = np.asarray(reg_term)[keep] if reg_term is not None else None
        diagnosis = diagnose(arr[keep], exp[keep], batch_size=batch_size, reg_term=reg)
    return CheckResult.failed(name, join(msg, diagnosis, hint), **kw)


def shape(name: str, got: Any, expected_shape: Sequence[int | None], *,
          hidden: bool = False, weight: float = 1.0) -> CheckResult:
    """``got`` is an array of exactly ``expected_shape``; ``None`` matches any size."""
    kw: dict[str, Any] = {"hidden": hidden, "weight": weight}
    want = tuple(expected_shape)
    if not isinstance(got, np.ndarray | np.generic | int | float):
        msg = f"{name}: got {type_phrase(got)}, expected an array of shape {shape_str(want)}."
        return CheckResult.failed(name, msg, **kw)
    actual = np.shape(got)
    fits = len(actual) == len(want) and all(
        w is None or a == w for a, w in zip(actual, want, strict=True))
    if fits:
        return CheckResult.passed(name, **kw)
    return CheckResult.failed(
        name, f"{name}: wrong shape — got {shape_str(actual)}, expected {shape_str(want)}.", **kw)


def finite(name: str, got: Any, *, hidden: bool = False, weight: float = 1.0) -> CheckResult:
    """Every entry of ``got`` is a finite real number (no NaN, no inf)."""
    kw: dict[str, Any] = {"hidden": hidden, "weight": weight}
    try:
        arr = real_array(got)
    except Invalid as exc:
        return CheckResult.failed(name, f"{name}: {exc}.", **kw)
    bad = ~np.isfinite(arr)
    if not bad.any():
        return CheckResult.passed(name, **kw)
    if arr.ndim == 0:
        msg = f"{name}: got {arr.item()}, expected a finite number."
        return CheckResult.failed(name, msg, **kw)
    idx = np.unravel_index(int(np.argmax(bad)), arr.shape)
    count = _entries(int(bad.sum()), arr.size, "is", "are")
    msg = f"{name}: {count} NaN or inf; first at {index_str(idx)}: {arr[idx]}."
    return CheckResult.failed(name, msg, **kw)
