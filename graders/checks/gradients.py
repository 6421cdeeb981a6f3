"""Analytic gradients against finite differences, at a cost independent of size.

A full coordinate-wise check needs two evaluations of ``f`` per parameter:
307,200 for CIFAR-10's 3072x50 first layer, each crossing into the sandbox.
:func:`check_gradient` instead, per parameter block, takes central
differences on a few random coordinates (catches wrong values) and a few
random directional derivatives ``(f(x+hv) - f(x-hv)) / 2h`` vs ``<grad, v>``
(catch wrong entries that were not sampled), all in float64.

Agreement rule: an analytic value ``a`` and a numerical value ``n`` agree when
``|a-n| / max(1e-8, |a|+|n|) <= tol`` (the courses' rel_error, per parameter
block), or when ``|a-n|`` is below the rounding noise of the finite
difference itself, ``32 · eps · (|f(x+h)| + |f(x-h)|) / 2h``: no numerical
gradient can resolve finer than that, and a correct student must not fail on it.
A disagreement is confirmed at ``h/10`` (and ``h/100``) before it counts, so
a difference straddling a ReLU kink is set aside rather than blamed on the
student; cost: ``2`` evaluations per point, up to ``6`` where they disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from graders.checks._format import index_str, join, pair, shape_str, type_phrase
from graders.checks._validate import Invalid, real_array, trusted_array
from graders.checks.patterns import diagnose, matches
from graders.results import CheckResult

Array = NDArray[np.float64]
ArrayFn = Callable[[Array], Any]
ParamsFn = Callable[[dict[str, Array]], Any]

NOISE_ULPS = 32.0
_EPS = float(np.finfo(np.float64).eps)


class BadValue(ValueError):
    """The function being differentiated returned something that is not one finite number."""


def as_scalar(value: Any, who: str = "the function") -> float:
    """A loss value as a float, accepting size-1 arrays; :class:`BadValue` otherwise."""
    try:
        arr = real_array(value, ())
    except Invalid as exc:
        raise BadValue(f"{who} returned{str(exc).removeprefix('got')}") from exc
    if arr.size != 1:
        raise BadValue(f"{who} returned an array of shape {shape_str(arr.shape)}, "
                       "expected a single number")
    out = float(arr.reshape(()))
    if not np.isfinite(out):
        raise BadValue(f"{who} returned {out}, expected a finite number")
    return out


def _central(f: ArrayFn, x: Array, step: Array, h: float) -> tuple[float, float]:
    """Central difference of ``f`` at ``x`` along ``step``, and its rounding noise."""
    fp = as_scalar(f(x + h * step))
    fm = as_scalar(f(x - h * step))
    return (fp - fm) / (2 * h), NOISE_ULPS * _EPS * (abs(fp) + abs(fm)) / (2 * h)


def numerical_gradient(f: ArrayFn, x: ArrayLike, h: float = 1e-5) -> Array:
    """Full coordinate-wise central differences: 2 evaluations per entry.

    For small arrays and as the baseline the sampled check is measured
    against. To stay linear in the size, ``f`` receives one working array
    that is perturbed in place between calls: it must not keep or modify it.
    """
    work = np.array(x, dtype=np.float64)
    flat = work.reshape(-1)
    grad = np.zeros_like(work)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = as_scalar(f(work))
        flat[i] = old - h
        fm = as_scalar(f(work))
        flat[i] = old
        grad.flat[i] = (fp - fm) / (2 * h)
    return grad


def _sample(f: ArrayFn, x: Array, coords: NDArray[np.intp], h: float) -> tuple[Array, Array]:
    values, noise = np.zeros(len(coords)), np.zeros(len(coords))
    for j, i in enumerate(coords):
        step = np.zeros_like(x)
        step.flat[int(i)] = 1.0
        values[j], noise[j] = _central(f, x, step, h)
    return values, noise


def numerical_gradient_sample(f: ArrayFn, x: ArrayLike, coords: Sequence[int] | NDArray[np.intp],
                              h: float = 1e-5) -> Array:
    """Central differences at the given flat indices only: 2 evaluations each.

    ``f`` gets a fresh float64 array each call. Use ``np.ravel_multi_index``
    to turn ``(i, j)`` positions into flat indices.
    """
    values, _ = _sample(f, np.array(x, dtype=np.float64), np.asarray(coords, dtype=np.intp), h)
    return values


def directional_derivative(f: ArrayFn, x: ArrayLike, v: ArrayLike, h: float = 1e-5) -> float:
    """``(f(x + h v) - f(x - h v)) / 2h``: 2 evaluations, whatever the size of ``x``."""
    x64 = np.array(x, dtype=np.float64)
    v64 = np.asarray(v, dtype=np.float64)
    if v64.shape != x64.shape:
        raise ValueError(f"direction has shape {v64.shape}, expected {x64.shape}")
    return _central(f, x64, v64, h)[0]


def sample_coords(rng: np.random.Generator, shape: Sequence[int], k: int) -> NDArray[np.intp]:
    """Up to ``k`` distinct flat indices into an array of ``shape``, sorted."""
    size = int(np.prod(shape, dtype=np.int64))
    if size <= k:
        return np.arange(size, dtype=np.intp)
    return np.sort(rng.choice(size, size=k, replace=False)).astype(np.intp)


def away_from_kinks(x: ArrayLike, margin: float) -> Array:
    """Entries with ``|x| < margin`` pushed to ``sign(x) * (|x| + margin)`` (0 goes up).

    Finite differences across ReLU's kink at 0 are wrong by up to half the
    slope; keeping every pre-activation at least ``margin`` (> h) from 0
    keeps a correct layer from failing, and keeps entries distinct.
    """
    a = np.array(x, dtype=np.float64)
    small = np.abs(a) < margin
    a[small] = np.where(a[small] < 0, a[small] - margin, a[small] + margin)
    return a


def upstream_scalar(forward: Callable[..., Any], dout: ArrayLike) -> Callable[..., float]:
    """``sum(forward(...) * dout)``: the scalar whose gradient a backward(dout) returns.

    A forward output whose shape differs from ``dout`` raises :class:`BadValue`
    instead of broadcasting.
    """
    d = np.asarray(dout, dtype=np.float64)

    def scalar(*args: Any, **kwargs: Any) -> float:
        try:
            out = real_array(forward(*args, **kwargs), d.shape)
        except Invalid as exc:
            msg = f"the forward pass returned{str(exc).removeprefix('got')}"
            raise BadValue(msg) from exc
        if out.shape != d.shape:
            raise BadValue(f"the forward pass returned shape {shape_str(out.shape)}, "
                           f"expected {shape_str(d.shape)} (the shape of dout)")
        return float(np.sum(out * d))

    return scalar


class GradientResults(list[CheckResult]):
    """One result per parameter block, plus how many times ``f`` was evaluated."""

    def __init__(self, results: Iterable[CheckResult], evaluations: int) -> None:
        super().__init__(results)
        self.evaluations = evaluations


class _Counted:
    """Counts calls, because each one may cross the sandbox boundary."""

    def __init__(self, f: ParamsFn) -> None:
        self.f = f
        self.calls = 0

    def __call__(self, params: dict[str, Array]) -> Any:
        self.calls += 1
        return self.f(params)


def _agree(a: float, n: float, noise: float, tol: float) -> bool:
    """The module's agreement rule for one pair of values."""
    return abs(a - n) <= noise or abs(a - n) / max(1e-8, abs(a) + abs(n)) <= tol


@dataclass
class _Probe:
    """One numerical-vs-analytic comparison, at a coordinate or along a direction."""

    analytic: float
    numerical: float
    verdict: Literal["ok", "wrong", "kink"]
    index: tuple[int, ...] | None = None  # None: a random direction

    @property
    def rel_error(self) -> float:
        return abs(self.analytic - self.numerical) / max(
            1e-8, abs(self.analytic) + abs(self.numerical))


def _probe(f: ArrayFn, x: Array, step: Array, analytic: float, h: float, tol: float,
           index: tuple[int, ...] | None = None) -> _Probe:
    """Compare at step ``h``; on disagreement, rule out a kink before blaming the student.

    A central difference straddling a ReLU kink is wrong by up to half the
    slope change. If the estimates at ``h`` and ``h/10`` agree, ``f`` is smooth
    there and the disagreement is real (2 extra evaluations); otherwise the
    ``h/10`` estimate is used when ``h/100`` confirms it, and the point is set
    aside as a kink when even that fails (2 more).
    """
    n0, z0 = _central(f, x, step, h)
    if _agree(analytic, n0, z0, tol):
        return _Probe(analytic, n0, "ok", index)
    n1, z1 = _central(f, x, step, h / 10)
    if _agree(n0, n1, z0 + z1, tol):
        return _Probe(analytic, n0, "wrong", index)
    n2, z2 = _central(f, x, step, h / 100)
    if not _agree(n1, n2, z1 + z2, tol):
        return _Probe(analytic, n1, "kink", index)
    return _Probe(analytic, n1, "ok" if _agree(analytic, n1, z1, tol) else "wrong", index)


def _transpose_note(fk: ArrayFn, p: Array, g: Array, rng: np.random.Generator,
                    coords_per_param: int, h: float) -> str:
    """For a gradient of shape (m, n) where (n, m) is expected: is it simply transposed?"""
    if not (g.ndim == 2 and g.shape == p.shape[::-1]):
        return ""
    coords = sample_coords(rng, p.shape, coords_per_param)
    num, _ = _sample(fk, p, coords, h)
    if num.any() and matches(g.T.reshape(-1)[coords], num):
        return (f"it matches the transpose of the numerical gradient "
                f"at {len(coords)} sampled entries")
    return ""


def _check_block(label: str, key: str, f: _Counted, base: dict[str, Array], analytic: Any, *,
                 rng: np.random.Generator, coords_per_param: int, directions: int,
                 tol: float, h: float, batch_size: int | None, kw: dict[str, Any]) -> CheckResult:
    p = base[key]

    def fk(xk: Array) -> Any:
        return f({k: (xk if k == key else v.copy()) for k, v in base.items()})

    try:
        g = real_array(analytic, p.shape)
    except Invalid as exc:
        return CheckResult.failed(label, f"{label}: {exc}.", **kw)
    if g.shape != p.shape:
        msg = f"{label}: wrong shape — got {shape_str(g.shape)}, expected {shape_str(p.shape)}"
        note = _transpose_note(fk, p, g, rng, coords_per_param, h)
        return CheckResult.failed(label, f"{msg}; {note}." if note else f"{msg}.", **kw)
    if not np.all(np.isfinite(g)):
        idx = np.unravel_index(int(np.argmax(~np.isfinite(g))), g.shape)
        return CheckResult.failed(label, f"{label}: NaN or inf at {index_str(idx)}.", **kw)
    if p.size == 0:
        return CheckResult.passed(label, "empty parameter: nothing to check.", **kw)

    probes: list[_Probe] = []
    coords = sample_coords(rng, p.shape, coords_per_param)
    for i in coords:
        step = np.zeros_like(p)
        step.flat[int(i)] = 1.0
        idx = tuple(int(j) for j in np.unravel_index(int(i), p.shape))
        probes.append(_probe(fk, p, step, float(g.flat[int(i)]), h, tol, idx))
    n_dirs = 0 if len(coords) == p.size else directions
    for _ in range(n_dirs):
        v = rng.standard_normal(p.shape)
        v /= np.linalg.norm(v)
        probes.append(_probe(fk, p, v, float(np.vdot(g, v)), h, tol))

    kinks = sum(pr.verdict == "kink" for pr in probes)
    wrong = [pr for pr in probes if pr.verdict == "wrong"]
    if 2 * kinks > len(probes):
        return CheckResult.failed(label, join(
            f"{label}: the numerical gradient is unstable at {kinks} of {len(probes)} points",
            "is the loss computed in float32, or not a smooth function of the parameters?"), **kw)
    where = (f"all {p.size} entries" if len(coords) == p.size > 1 else
             "its single entry" if p.size == 1 else
             f"{len(coords)} sampled entries and {n_dirs} random directions")
    if not wrong:
        worst = max((pr.rel_error for pr in probes if pr.rel_error <= tol), default=0.0)
        skipped = f"; {kinks} next to a kink set aside" if kinks else ""
        return CheckResult.passed(
            label, f"max rel_error {worst:.1e} over {where} (tolerance {tol:g}{skipped}).", **kw)

    at_coords = [pr for pr in wrong if pr.index is not None]
    if at_coords:
        worst_probe = max(at_coords, key=lambda pr: pr.rel_error)
        a, n = pair(worst_probe.analytic, worst_probe.numerical)
        at = f" at {index_str(worst_probe.index)}" if worst_probe.index else ""
        msg = (f"{label}: analytic and numerical gradients differ{at}: analytic {a}, numerical {n} "
               f"(rel_error {worst_probe.rel_error:.1e}, tolerance {tol:g}; "
               f"{len(at_coords)} of {len(coords)} sampled entries differ)")
        decided = [pr for pr in probes if pr.verdict != "kink"]
        diagnosis = diagnose(np.array([pr.analytic for pr in decided]),
                             np.array([pr.numerical for pr in decided]), batch_size=batch_size)
        return CheckResult.failed(label, join(msg, diagnosis), **kw)
    worst_probe = max(wrong, key=lambda pr: pr.rel_error)
    a, n = pair(worst_probe.analytic, worst_probe.numerical)
    msg = (f"{label}: the analytic gradient disagrees with the numerical derivative along "
           f"a random direction: analytic {a}, numerical {n} (rel_error "
           f"{worst_probe.rel_error:.1e}, tolerance {tol:g}); the {len(coords)} sampled "
           "entries agree, so others are wrong")
    return CheckResult.failed(label, join(msg), **kw)


def check_gradient(name: str, f: ParamsFn, params: Mapping[str, ArrayLike], analytic: Any, *,
                   rng: np.random.Generator, coords_per_param: int = 8, directions: int = 3,
                   tol: float = 1e-5, h: float = 1e-5, batch_size: int | None = None,
                   hidden: bool = False, weight: float = 1.0) -> GradientResults:
    """Check ``analytic[k]`` against ``f``'s numerical gradient, block by block.

    ``f`` takes a dict of float64 arrays (fresh copies, params cast to float64
    even if given as float32) and returns the scalar being differentiated.
    One result per key of ``params``, named ``name['key']``, so a wrong bias
    cannot hide behind a large, correct weight gradient. Evaluations per
    block: 2 per point, points = min(size, coords_per_param) + directions
    (directions are skipped when every entry is sampled), up to 6 for a point
    that disagrees (module docstring); the total is ``.evaluations``.
    """
    kw: dict[str, Any] = {"hidden": hidden, "weight": weight}
    base = {k: trusted_array(f"{name}[{k!r}]", v) for k, v in params.items()}
    counted = _Counted(f)
    results = []
    for key in base:
        label = f"{name}[{key!r}]"
        if not isinstance(analytic, Mapping):
            msg = f"{label}: got {type_phrase(analytic)}, expected a dict of gradients."
            results.append(CheckResult.failed(label, msg, **kw))
            continue
        if key not in analytic:
            have = ", ".join(repr(k) for k in analytic) or "no keys"
            msg = f"{label}: missing; the gradients have {have}."
            results.append(CheckResult.failed(label, msg, **kw))
            continue
        try:
            results.append(_check_block(
                label, key, counted, base, analytic[key], rng=rng,
                coords_per_param=coords_per_param, directions=directions, tol=tol, h=h,
                batch_size=batch_size, kw=kw))
        except BadValue as exc:
            msg = f"{label}: cannot check the gradient numerically: {exc}."
            results.append(CheckResult.failed(label, msg, **kw))
    return GradientResults(results, counted.calls)
