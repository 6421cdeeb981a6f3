"""Does a backward pass really use its upstream gradient, and leave its inputs alone?

A backward that ignores ``dy`` (or uses ``|dy|``) can still match the
reference for one lucky ``dy``; these checks compare the student's own
outputs with each other. Gradients are passed as dicts such as
``{"dx": ..., "dW": ..., "db": ...}``; ``shapes`` gives each one's expected
shape (``{"dx": x.shape, ...}``), which bounds what is read before it is
converted (without it, ``MAX_ENTRIES`` does).

Closeness rule for the relations here (scaling, additivity, repeatability):
per gradient, ``max|a-b| / max(1e-8, scale) <= tol`` where ``scale`` is the
sum of the largest magnitudes involved, so rounding in entries that cancel
to ~0 is not mistaken for a bug.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from graders.checks._format import index_str, join, num, pair, shape_str
from graders.checks._validate import Invalid, real_array
from graders.checks.patterns import matches
from graders.results import CheckResult

Array = NDArray[np.float64]
Grads = Mapping[str, Any]
Shapes = Mapping[str, Sequence[int]] | None


class _Fail(Exception):
    """A gradient could not be read; ``str`` is the student-facing message."""


def _read(name: str, key: str, grads: Any, when: str, shapes: Shapes) -> Array:
    if not isinstance(grads, Mapping):
        raise _Fail(f"{name}: expected a dict of gradients {when}, got {type(grads).__name__}")
    if key not in grads:
        raise _Fail(f"{name}: no {key} {when}")
    try:
        return real_array(grads[key], shapes.get(key) if shapes is not None else None)
    except Invalid as exc:
        raise _Fail(f"{name}: {key} {when}: {exc}") from exc


def _same_shape(name: str, key: str, a: Array, b: Array) -> None:
    if a.shape != b.shape:
        raise _Fail(f"{name}: {key} changed shape between calls, "
                    f"{shape_str(a.shape)} then {shape_str(b.shape)}")


def _peak(*arrays: Array) -> float:
    return sum(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)


def _relation_error(got: Array, want: Array, *scale: Array) -> tuple[float, tuple[int, ...]]:
    """Block error (module rule) and where ``got`` is furthest from ``want``."""
    if got.size == 0:
        return 0.0, ()
    diff = np.abs(got - want)
    if not np.all(np.isfinite(diff)):
        diff = np.where(np.isfinite(diff), diff, np.inf)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), got.shape))
    return float(diff[idx]) / max(1e-8, _peak(*scale)), idx


def _factor(got: Array, base: Array) -> float | None:
    denom = float(np.vdot(base, base))
    return float(np.vdot(got, base)) / denom if denom > 0 else None


def scales_with_upstream(name: str, grads_at_dy: Grads, grads_at_c_dy: Grads, c: float, *,
                         shapes: Shapes = None, tol: float = 1e-6, hidden: bool = False,
                         weight: float = 1.0) -> CheckResult:
    """Backward at ``c·dy`` returns ``c`` times every gradient at ``dy``.

    ``c = -2`` is a good choice: exact in floating point, and it also catches
    code that uses ``|dy|`` or ``sign(dy)``.
    """
    kw: dict[str, Any] = {"hidden": hidden, "weight": weight, "supporting": True}
    try:
        for key in grads_at_dy:
            g = _read(name, key, grads_at_dy, "for dy", shapes)
            gc = _read(name, key, grads_at_c_dy, f"for {num(c)}·dy", shapes)
            _same_shape(name, key, g, gc)
            err, _ = _relation_error(gc, c * g, gc, c * g)
            if err <= tol:
                continue
            k = _factor(gc, g)
            if k is None:
                seen = f"but it is 0 for dy and not for {num(c)}·dy"
            elif abs(k - 1) < 1e-6:
                seen = "but it did not change: is dy used?"
            else:
                seen = f"but it changed by a factor of {num(k)}"
            msg = f"{name}: scaling dy by {num(c)} should scale {key} by {num(c)}, {seen}"
            return CheckResult.failed(name, join(msg), **kw)
    except _Fail as exc:
        return CheckResult.failed(name, f"{exc}.", **kw)
    return CheckResult.passed(name, **kw)


def zero_upstream(name: str, grads_at_zero: Grads, *, shapes: Shapes = None,
                  hidden: bool = False, weight: float = 1.0) -> CheckResult:
    """With ``dy = 0`` every gradient is exactly 0: nothing may come from elsewhere."""
    kw: dict[str, Any] = {"hidden": hidden, "weight": weight, "supporting": True}
    try:
        for key in grads_at_zero:
            g = _read(name, key, grads_at_zero, "for dy = 0", shapes)
            if g.size and not np.all(g == 0):
                peak = float(np.nanmax(np.abs(g))) if np.any(np.isfinite(g)) else float("nan")
                return CheckResult.failed(
                    name, f"{name}: with dy = 0, {key} should be exactly 0 but reaches "
                          f"{num(peak)} in absolute value: part of it does not come from dy.",
                    **kw)
    except _Fail as exc:
        return CheckResult.failed(name, f"{exc}.", **kw)
    return CheckResult.passed(name, **kw)


def linear_in_upstream(name: str, g1: Grads, g2: Grads, g12: Grads, *, shapes: Shapes = None,
                       tol: float = 1e-6, hidden: bool = False,
                       weight: float = 1.0) -> CheckResult:
    """Backward at ``dy1 + dy2`` equals backward at ``dy1`` plus backward at ``dy2``."""
    kw: dict[str, Any] = {"hidden": hidden, "weight": weight, "supporting": True}
    try:
        for key in g1:
            a = _read(name, key, g1, "for dy1", shapes)
            b = _read(name, key, g2, "for dy2", shapes)
            ab = _read(name, key, g12, "for dy1 + dy2", shapes)
            _same_shape(name, key, a, b)
            _same_shape(name, key, a, ab)
            err, idx = _relation_error(ab, a + b, a, b, ab)
            if err > tol:
                got, want = pair(ab[idx], (a + b)[idx])
                where = f" at {index_str(idx)}" if idx else ""
                return CheckResult.failed(
                    name, f"{name}: {key} is not linear in dy: for dy1 + dy2 it is {got}{where}, "
                          f"but the sum of the two separate results is {want}.", **kw)
    except _Fail as exc:
        return CheckResult.failed(name, f"{exc}.", **kw)
    return CheckResult.passed(name, **kw)


def repeatable(name: str, first: Grads, second: Grads, *, shapes: Shapes = None,
               tol: float = 1e-10, hidden: bool = False, weight: float = 1.0) -> CheckResult:
    """Two backward calls on the same inputs return the same gradients.

    The classic failure is accumulating into a stored gradient (``self.dW +=``).
    """
    kw: dict[str, Any] = {"hidden": hidden, "weight": weight, "supporting": True}
    try:
        for key in first:
            a = _read(name, key, first, "on the first call", shapes)
            b = _read(name, key, second, "on the second call", shapes)
            _same_shape(name, key, a, b)
            err, idx = _relation_error(b, a, a, b)
            if err <= tol:
                continue
            k = _factor(b, a)
            if k is not None and abs(k - 2) < 1e-6 and matches(b, 2 * a):
                msg = (f"{name}: {key} doubled on the second call with the same inputs: "
                       "accumulating into a stored gradient (+=) without resetting it?")
            else:
                got, was = pair(b[idx], a[idx])
                where = f" at {index_str(idx)}" if idx else ""
                msg = (f"{name}: {key} changed between two calls with the same inputs{where}: "
                       f"{was} then {got}.")
            return CheckResult.failed(name, msg, **kw)
    except _Fail as exc:
        return CheckResult.failed(name, f"{exc}.", **kw)
    return CheckResult.passed(name, **kw)


def _leaves(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Walk dicts, lists and tuples (a CS231n cache is a tuple) down to their leaves."""
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _leaves(v, f"{path}[{k!r}]")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, obj


def numbers_in(obj: Any) -> int:
    """How many numbers a nested value holds (a cache): array entries, one per other leaf."""
    return sum(leaf.size if isinstance(leaf, np.ndarray | np.generic) else 1
               for _, leaf in _leaves(obj))


# Entries compared at a time: the temporaries of a comparison stay a few MB whatever the
# size of the array (a 250 MB bool cache widened whole to float64 took 2 GB, twice).
_BLOCK = 1 << 18


def _differences(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """How many entries of two same-shape numeric arrays differ (NaN equals NaN), and the
    flat index of the first; compared a block at a time in the pair's common type."""
    common = np.result_type(a, b)
    nan = common.kind == "f"
    count, first = 0, -1
    for start in range(0, a.size, _BLOCK):
        x = a.flat[start:start + _BLOCK].astype(common, copy=False)
        y = b.flat[start:start + _BLOCK].astype(common, copy=False)
        differ = x != y
        if nan:
            differ &= ~(np.isnan(x) & np.isnan(y))
        found = int(np.count_nonzero(differ))
        if found and first < 0:
            first = start + int(np.argmax(differ))
        count += found
    return count, first


def _leaf_change(before: Any, after: Any) -> str:
    """How a leaf changed, or ``""`` if it did not; arrays are compared without widening."""
    if isinstance(before, np.ndarray | np.generic) or isinstance(after, np.ndarray | np.generic):
        a, b = np.asarray(before), np.asarray(after)
        if a.shape != b.shape:
            return f"its shape went from {shape_str(a.shape)} to {shape_str(b.shape)}"
        numeric = a.dtype.kind in "biuf" and b.dtype.kind in "biuf"
        if numeric:
            count, first = _differences(a, b)
        else:
            differ = np.asarray(a != b, dtype=bool).reshape(a.shape)
            count, first = int(differ.sum()), int(np.argmax(differ))
        if not count:
            return ""
        if a.ndim == 0:
            return f"it was {a[()]!r} and is now {b[()]!r}"
        idx = np.unravel_index(first, a.shape)
        was, now = pair(a[idx], b[idx]) if numeric else (repr(a[idx]), repr(b[idx]))
        return (f"{count} of {a.size} entries changed, first at {index_str(idx)}: "
                f"was {was}, now {now}")
    try:
        same = bool(before == after)
    except Exception:
        same = before is after
    return "" if same else f"it was {before!r} and is now {after!r}"


def _change(before: Any, after: Any) -> str:
    left, right = list(_leaves(before)), list(_leaves(after))
    if [p for p, _ in left] != [p for p, _ in right]:
        return "its structure changed"
    for (path, b), (_, a) in zip(left, right, strict=True):
        found = _leaf_change(b, a)
        if found:
            return f"at {path}: {found}" if path else found
    return ""


def unchanged(name: str, before: Any, after: Any, *, what: str = "its input x",
              warn_only: bool = False, hidden: bool = False, weight: float = 1.0) -> CheckResult:
    """``after`` (read back after the call) equals ``before`` (a copy taken before it).

    Works on arrays and on dicts, lists and tuples of them (caches). With
    ``warn_only`` a change passes with a warning, as the contracts require
    for a backward pass that writes into ``dout``.
    """
    kw: dict[str, Any] = {"hidden": hidden, "weight": weight, "supporting": True}
    change = _change(before, after)
    if not change:
        return CheckResult.passed(name, **kw)
    msg = f"{name} modified {what} in place ({change})"
    if warn_only:
        return CheckResult.passed(name, join(
            f"Warning: {msg}",
            "No points are lost, because the grader does not reuse it, but code that "
            "reuses it after this call would get wrong results"), **kw)
    return CheckResult.failed(name, join(msg), **kw)
