"""Pieces every derived family shares: naming results, reading tuples, gradient checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..checks import check_gradient, close, unchanged
from ..checks._validate import Invalid, real_array
from ..engine.errors import WrongValue
from ..results import CheckResult, stable_key


def first_failure(name: str, results: Iterable[CheckResult], *,
                  supporting: bool = False) -> CheckResult:
    """Several verdicts as one check: the first that failed, else a pass under ``name``."""
    for r in results:
        if not r.ok:  # keyed by the name, whichever part failed (statistics group by key)
            return replace(r, name=name, supporting=supporting, key=stable_key(name))
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


def compare_all(label: str, got: Mapping[str, Any], want: Mapping[str, Any], *,
                hints: Mapping[str, str] | None = None, **kw: Any) -> list[CheckResult]:
    hints = hints or {}
    return [close(f"{label} → {k}", got.get(k), want[k], hint=hints.get(k, ""), **kw)
            for k in want]


def same_as(name: str, got: Mapping[str, Any], want: Mapping[str, Any], **kw: Any
            ) -> CheckResult:
    """One check that every named value matches the reference (``hints`` by name: the
    course's words for a wrong value, said in the message)."""
    return first_failure(name, compare_all(name, got, want, **kw))


def as_expected(name: str, first: Mapping[str, Any], want: Mapping[str, Any]
                ) -> dict[str, np.ndarray] | CheckResult:
    """The student's first reply, to be the expected value of a later call (``twice``).

    Read as the reference's value ``want`` allows before anything widens it: a reply of
    another shape, a huge one or one that is no array gives a failed check, named,
    instead of costing the grader memory or raising inside it (a grader fault). Call it
    right after the reply came, so the raw reply need not be kept.
    """
    expected = {}
    for key, reference in want.items():
        shape = np.shape(reference)
        try:
            value = real_array(first.get(key), shape)
        except Invalid as exc:
            return CheckResult.failed(name, f"{name}: not compared, the first {key}: {exc}.",
                                      supporting=True)
        if value.shape != shape:
            return CheckResult.failed(name, (
                f"{name}: not compared, the first {key} has shape {value.shape}, expected "
                f"{shape}."), supporting=True)
        expected[key] = value
    return expected


def twice(name: str, again: Mapping[str, Any],
          first: Mapping[str, np.ndarray] | CheckResult) -> CheckResult:
    """A second call with the same inputs answers ``first`` again (a supporting check);
    ``first`` comes from ``as_expected``."""
    if isinstance(first, CheckResult):
        return replace(first, name=name, key=stable_key(name))
    return first_failure(name, [same_as(name, again, first, tol=1e-12)], supporting=True)


def untouched(name: str, pairs: Iterable[tuple[str, Any, Any]]) -> CheckResult:
    """Inputs (and caches) read back after the call equal what was sent; the message names
    the call (``relu(x) modified its input x in place``), the part of ``name`` before
    " leave"."""
    call = name.split(" leave", 1)[0]
    results = (unchanged(call, before, after, what=what) for what, before, after in pairs)
    return first_failure(name, results, supporting=True)


def unless_mutated(mutated: CheckResult, value: CheckResult) -> CheckResult:
    """A value computed by code that wrote into its inputs does not count: the value check
    fails with the mutation (the contracts forbid it; the caller's array is corrupted)."""
    if mutated.ok:
        return value
    return replace(mutated, name=value.name, key=value.key, supporting=False)


def gradient(name: str, scalar: Callable[[dict[str, np.ndarray]], Any],
             at: Mapping[str, np.ndarray], analytic: Mapping[str, Any],
             rng: np.random.Generator, *, supporting: bool, tol: float = 1e-5) -> CheckResult:
    """``analytic`` against finite differences of ``scalar`` at ``at``, sampled per block."""
    results = check_gradient(name, scalar, dict(at), dict(analytic), rng=rng,
                             coords_per_param=4, directions=2, tol=tol)
    return first_failure(name, results, supporting=supporting)


def weighted_sum(value: Any, dout: np.ndarray) -> float:
    """``sum(value * dout)``: the scalar whose gradient a backward at ``dout`` returns."""
    try:  # the student's forward output: bounded by dout's shape before it is widened
        arr = real_array(value, dout.shape)
    except Invalid as exc:
        raise WrongValue(f"the forward output: {exc}.") from None
    if arr.shape != dout.shape:
        raise WrongValue(f"the forward output has shape {arr.shape}, expected {dout.shape}.")
    return float(np.sum(arr * dout))


def copies(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: np.array(v, copy=True) for k, v in values.items()}
