"""Pieces every derived family shares: naming results, reading tuples, gradient checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..checks import check_gradient, close, unchanged
from ..engine.errors import WrongValue
from ..results import CheckResult


def first_failure(name: str, results: Iterable[CheckResult], *,
                  supporting: bool = False) -> CheckResult:
    """Several verdicts as one check: the first that failed, else a pass under ``name``."""
    for r in results:
        if not r.ok:
            return replace(r, name=name, supporting=supporting)
    return CheckResult.passed(name, supporting=supporting)


def unpack(label: str, value: Any, names: Sequence[str]) -> dict[str, Any]:
    """A returned tuple by its declared names; one name means the bare value."""
    if len(names) == 1:
        return {names[0]: value}
    if not isinstance(value, tuple | list) or len(value) != len(names):
        got = f"{len(value)} values" if isinstance(value, tuple | list) else \
            type(value).__name__
        raise WrongValue(f"{label} should return {len(names)} values ({', '.join(names)}); "
                         f"got {got}.")
    return dict(zip(names, value, strict=True))


def compare_all(label: str, got: Mapping[str, Any], want: Mapping[str, Any],
                **kw: Any) -> list[CheckResult]:
    return [close(f"{label} → {k}", got.get(k), want[k], **kw) for k in want]


def same_as(name: str, got: Mapping[str, Any], want: Mapping[str, Any], **kw: Any
            ) -> CheckResult:
    """One check that every named value matches the reference."""
    return first_failure(name, compare_all(name, got, want, **kw))


def twice(name: str, again: Mapping[str, Any], first: Mapping[str, Any]) -> CheckResult:
    """A second call with the same inputs answers the same (a supporting check)."""
    return first_failure(name, [same_as(name, again, first, tol=1e-12)], supporting=True)


def untouched(name: str, pairs: Iterable[tuple[str, Any, Any]]) -> CheckResult:
    """Inputs (and caches) read back after the call equal what was sent."""
    results = (unchanged(name, before, after, what=what) for what, before, after in pairs)
    return first_failure(name, results, supporting=True)


def gradient(name: str, scalar: Callable[[dict[str, np.ndarray]], Any],
             at: Mapping[str, np.ndarray], analytic: Mapping[str, Any],
             rng: np.random.Generator, *, supporting: bool, tol: float = 1e-5) -> CheckResult:
    """``analytic`` against finite differences of ``scalar`` at ``at``, sampled per block."""
    results = check_gradient(name, scalar, dict(at), dict(analytic), rng=rng,
                             coords_per_param=4, directions=2, tol=tol)
    return first_failure(name, results, supporting=supporting)


def weighted_sum(value: Any, dout: np.ndarray) -> float:
    """``sum(value * dout)``: the scalar whose gradient a backward at ``dout`` returns."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != dout.shape:
        raise WrongValue(f"the forward output has shape {arr.shape}, expected {dout.shape}.")
    return float(np.sum(arr * dout))


def copies(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: np.array(v, copy=True) for k, v in values.items()}
