"""Layers with a forward and a backward, in the two shapes courses hand out.

``layer_checks``: CS231n's function pairs, ``out, cache = affine_forward(x, w, b)``
and ``dx, dw, db = affine_backward(dout, cache)``.

``module_checks``: classes, ``layer = Linear(D, M)``, ``y = layer.forward(x)``,
``dx = layer.backward(dy)`` with the parameter gradients left on the layer
(``layer.dW``), and optionally ``layer.step(lr)``. The reference is a class
with the same API, run on the trusted side beside the student's.

Besides values against the reference, both derive the checks that catch
state bugs: a backward given an earlier forward's cache (or, for classes,
after a second forward, and interleaved on two instances), a backward called
twice, and a second optimiser step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

from ..checks import scales_with_upstream, zero_upstream
from ..engine.proxy import Remote, Student
from ..results import CheckResult
from ..spec import Context
from .common import (
    as_expected,
    copies,
    first_failure,
    gradient,
    same_as,
    twice,
    unless_mutated,
    unpack,
    untouched,
    weighted_sum,
)
from .inputs import Arg, draw, draw_dims, symbols

Checks = Iterator[CheckResult]


def _upstream(shape: tuple[int, ...], ctx: Context) -> np.ndarray:
    return ctx.rng.normal(size=shape)


def _uses_upstream(name: str, at_dy: Mapping[str, Any], at_scaled: Mapping[str, Any],
                   at_zero: Mapping[str, Any], want: Mapping[str, Any]) -> CheckResult:
    """Every gradient scales with the upstream one and is 0 at 0; replies are read no
    larger than the reference's gradients allow."""
    shapes = {k: np.shape(v) for k, v in want.items()}
    scaled = scales_with_upstream(name, dict(at_dy), dict(at_scaled), -2.0, shapes=shapes)
    return scaled if not scaled.ok else zero_upstream(name, dict(at_zero), shapes=shapes)


# -- CS231n function pairs ---------------------------------------------------------------

def layer_checks(name: str, args: Mapping[str, Arg], grads: Sequence[str],
                 forward: Callable[..., Any], backward: Callable[..., Any], *,
                 batch: str, tol: float) -> Callable[[Student, Context], Checks]:
    fwd, bwd = f"{name}_forward", f"{name}_backward"
    wrt = [a for a, spec in args.items() if spec.differentiable]
    if len(grads) != len(wrt):
        from ..errors import SpecError
        raise SpecError(f"{bwd}: {len(grads)} gradients declared ({', '.join(grads)}) for "
                        f"{len(wrt)} differentiable inputs ({', '.join(wrt)})")
    by_input = dict(zip(wrt, grads, strict=True))

    def student_forward(student: Student, x: Mapping[str, Any]) -> tuple[Any, Any]:
        out = unpack(f"{fwd}(...)", student.call(fwd, *x.values()), ("out", "cache"))
        return out["out"], out["cache"]

    def student_backward(student: Student, dout: np.ndarray, cache: Any) -> dict[str, Any]:
        return unpack(f"{bwd}(dout, cache)", student.call(bwd, dout, cache), grads)

    def reference(x: Mapping[str, Any], dout: np.ndarray) -> tuple[Any, dict[str, Any]]:
        out, cache = forward(**copies(x))
        return out, unpack(bwd, backward(np.array(dout), cache), grads)

    def problem(student: Student, ctx: Context) -> Checks:
        dims = draw_dims(symbols(args), ctx.rng)
        x = draw(args, dims, ctx.rng)
        (out, cache), after = _watched(student, fwd, x)
        out_ref = forward(**copies(x))[0]
        yield same_as(f"{fwd}({', '.join(args)})", {"out": out}, {"out": out_ref}, tol=tol)

        dout = _upstream(np.shape(out_ref), ctx)
        got, after_b = student.call_watching_args(bwd, dout, cache)
        got = unpack(f"{bwd}(dout, cache)", got, grads)
        _, want = reference(x, dout)
        yield same_as(f"{bwd}(dout, cache)", got, want, tol=tol)

        other = draw_dims(symbols(args), ctx.rng, keep={k: v for k, v in dims.items()
                                                         if k != batch})
        x2 = draw(args, other, ctx.rng)
        out2, cache2 = student_forward(student, x2)
        dout2 = _upstream(concrete_out(out_ref, dims, other, batch), ctx)
        want_out2, want2 = reference(x2, dout2)
        yield first_failure(f"{fwd} and {bwd} at a second batch size", [
            same_as(f"{fwd} at a second batch size", {"out": out2}, {"out": want_out2},
                    tol=tol),
            same_as(f"{bwd} at a second batch size", student_backward(student, dout2, cache2),
                    want2, tol=tol)])
        # The cache of the first forward, used after another forward of the same sizes ran:
        # global state, or a cache that aliases a buffer reused between calls, gives the
        # other's answer.
        student_forward(student, draw(args, dims, ctx.rng))
        yield same_as(f"{bwd} with the cache of an earlier {fwd}",
                      student_backward(student, dout, cache), want, tol=tol)

        at = {a: x[a] for a in wrt}
        analytic = {a: got[by_input[a]] for a in wrt}
        yield gradient(f"{bwd} against finite differences of the reference forward",
                       lambda p: weighted_sum(forward(**{**copies(x), **p})[0], dout),
                       at, analytic, ctx.rng, supporting=False)
        yield gradient(f"{bwd} against finite differences of your {fwd}",
                       lambda p: weighted_sum(student_forward(student, {**x, **p})[0], dout),
                       at, analytic, ctx.rng, supporting=True)
        yield _uses_upstream(f"{bwd} uses dout", got,
                             student_backward(student, -2.0 * dout, cache),
                             student_backward(student, np.zeros_like(dout), cache), want)
        again = student_backward(student, dout, cache)
        yield twice(f"{bwd} called twice", again, as_expected(f"{bwd} called twice", got, want))
        yield untouched(f"{fwd} and {bwd} leave their inputs unchanged", [
            *((f"its input {a}", x[a], v) for a, v in zip(args, after, strict=True)),
            ("its input dout", dout, after_b[0]), ("the cache", cache, after_b[1])])

    return problem


def _watched(student: Student, name: str, x: Mapping[str, Any]) -> tuple[tuple[Any, Any],
                                                                         list[Any]]:
    value, after = student.call_watching_args(name, *x.values())
    out = unpack(f"{name}(...)", value, ("out", "cache"))
    return (out["out"], out["cache"]), after


def concrete_out(out_ref: Any, dims: Mapping[str, int], other: Mapping[str, int],
                 batch: str) -> tuple[int, ...]:
    """The output shape at the second batch size: the batch axis is the one that changed."""
    shape = list(np.shape(out_ref))
    if shape and batch in dims and shape[0] == dims[batch]:
        shape[0] = other[batch]
    return tuple(shape)


# -- classes --------------------------------------------------------------------------

def takes_forward_input(backward: Sequence[str], forward_args: Mapping[str, Any]) -> bool:
    """``backward(x, dy)``: it is given an input of forward, so one more check applies."""
    return any(a in forward_args for a in backward)


def module_checks(cls: str, init: Sequence[str | int], forward_args: Mapping[str, Arg],
                  params: Mapping[str, Arg], grads: Mapping[str, str],
                  backward: Sequence[str], reference: type, *, step: str | None,
                  batch: str, tol: float, hints: Mapping[str, str] | None = None
                  ) -> Callable[[Student, Context], Checks]:
    value = partial(same_as, hints=hints or {})  # the course's words for a wrong value
    upstream = [a for a in backward if a not in forward_args]
    if len(upstream) != 1:
        from ..errors import SpecError
        raise SpecError(f"{cls}.backward({', '.join(backward)}): name exactly one argument "
                        f"that is not an input of forward ({', '.join(forward_args)})")
    dy_name = upstream[0]
    inputs = [a for a, spec in forward_args.items() if spec.differentiable]
    if len(inputs) != 1:
        from ..errors import SpecError
        raise SpecError(f"{cls}.forward: one differentiable input is supported (its gradient "
                        f"is what backward returns); got {', '.join(inputs) or 'none'}")
    wrt = inputs[0]
    takes_input = takes_forward_input(backward, forward_args)
    fwd, bwd = f"{cls}.forward", f"{cls}.backward"
    all_symbols = symbols({**forward_args, **params})

    class Pair:
        """The student's layer in the sandbox and the reference's beside it, same params."""

        def __init__(self, student: Student, ctx: Context, dims: Mapping[str, int]) -> None:
            sizes = [dims[d] if isinstance(d, str) else d for d in init]
            self.remote: Remote = student.new(cls, *sizes)
            self.backward_after: list[Any] = []  # backward's arguments, read back after it
            self.local = reference(*sizes)
            for name, value in draw(params, dims, ctx.rng).items():
                self.remote.set(name, value)
                setattr(self.local, name, value.copy())

        def forward(self, x: Mapping[str, Any]) -> tuple[Any, Any, list[Any]]:
            got, after = self.remote.call_watching_args("forward", *x.values())
            return got, self.local.forward(*copies(x).values()), after

        def backward(self, x: Mapping[str, Any], dy: np.ndarray,
                     local: bool = True) -> tuple[dict[str, Any], dict[str, Any] | None]:
            args = [dy if a == dy_name else x[a] for a in backward]
            dx, self.backward_after = self.remote.call_watching_args("backward", *args)
            got = {"dx": dx, **{g: self.remote.get(g) for g in grads.values()}}
            if not local:
                return got, None
            ref_dx = self.local.backward(*[np.array(a, copy=True) for a in args])
            return got, {"dx": ref_dx, **{g: getattr(self.local, g) for g in grads.values()}}

    def problem(student: Student, ctx: Context) -> Checks:
        dims = draw_dims(all_symbols, ctx.rng)
        layer = Pair(student, ctx, dims)
        x = draw(forward_args, dims, ctx.rng)
        out, out_ref, after = layer.forward(x)
        call = f"{fwd}({', '.join(forward_args)})"
        unchanged = f"{fwd} leaves its inputs unchanged"

        def mutated(x: Mapping[str, Any], after: Sequence[Any]) -> CheckResult:
            return untouched(unchanged, ((f"its input {k}", x[k], v) for k, v in
                                         zip(forward_args, after, strict=True)))

        # A forward that writes into its input corrupts the caller's array: its values
        # do not count (``unless_mutated``).
        yield unless_mutated(mutated(x, after),
                             value(call, {"out": out}, {"out": out_ref}, tol=tol))
        dy = _upstream(np.shape(out_ref), ctx)
        got, want = layer.backward(x, dy)
        after_b = layer.backward_after
        assert want is not None
        yield value(f"{bwd}({', '.join(backward)})", got, want, tol=tol)

        # State: the backward after two forwards belongs to the last one (or to the input
        # it is given); two instances interleaved must not share anything. Same sizes, so a
        # stale input gives wrong values rather than a crash.
        layer.forward(x)
        x3 = draw(forward_args, dims, ctx.rng)
        out3, out3_ref, _ = layer.forward(x3)
        got3, want3 = layer.backward(x3, dy)
        assert want3 is not None
        after_second = [value(f"{bwd} after a second {fwd}", {"out": out3, **got3},
                              {"out": out3_ref, **want3}, tol=tol)]
        if takes_input:
            # Given its input, backward must use it, not the one the last forward kept:
            # forward(x), forward(x3), backward(x, dy) is x's gradient. Part of the same
            # check (a stale input either way), so the other checks keep their weight.
            layer.forward(x)
            layer.forward(x3)
            got4, want4 = layer.backward(x, dy)
            after_second.append(value(
                f"{bwd}({', '.join(backward)}) with the input of an earlier {fwd}",
                got4, want4 or {}, tol=tol))
        yield first_failure(f"{bwd} after a second {fwd}", after_second)
        # Same sizes for both, so shared state gives wrong values rather than a crash; the
        # forward outputs of both count, as state a forward keeps may spoil either.
        a, b = Pair(student, ctx, dims), Pair(student, ctx, dims)
        out_a, out_a_ref, _ = a.forward(x)
        out_b, out_b_ref, _ = b.forward(draw(forward_args, dims, ctx.rng))
        got_a, want_a = a.backward(x, dy)
        yield value(f"{bwd} on two {cls} layers used in turn",
                      {"out of the first": out_a, "out of the second": out_b, **got_a},
                      {"out of the first": out_a_ref, "out of the second": out_b_ref,
                       **(want_a or {})}, tol=tol)

        # Last of the value checks: a stale input of another batch size raises here, after
        # the state checks above have named the bug.
        other = draw_dims(all_symbols, ctx.rng, keep={k: v for k, v in dims.items()
                                                       if k != batch})
        x2 = draw(forward_args, other, ctx.rng)
        out2, out2_ref, after2 = layer.forward(x2)
        dy2 = _upstream(np.shape(out2_ref), ctx)
        got2, want2 = layer.backward(x2, dy2)
        yield first_failure(f"{fwd} and {bwd} at a second batch size", [
            unless_mutated(mutated(x2, after2), value(
                f"{fwd} at a second batch size", {"out": out2}, {"out": out2_ref}, tol=tol)),
            value(f"{bwd} at a second batch size", got2, want2 or {}, tol=tol)])

        p0 = {p: np.asarray(getattr(layer.local, p), dtype=np.float64).copy() for p in params}
        analytic = {wrt: got["dx"], **{p: got[grads[p]] for p in params}}

        def ref_scalar(v: dict[str, np.ndarray]) -> float:
            probe = reference(*[dims[d] if isinstance(d, str) else d for d in init])
            for p in params:
                setattr(probe, p, v[p])
            return weighted_sum(probe.forward(*[v.get(k, x[k]) for k in forward_args]), dy)

        def own_scalar(v: dict[str, np.ndarray]) -> float:
            for p in params:
                layer.remote.set(p, v[p])
            return weighted_sum(layer.remote.call("forward", *[v.get(k, x[k])
                                                               for k in forward_args]), dy)

        at = {wrt: x[wrt], **p0}
        yield gradient(f"{bwd} against finite differences of the reference forward",
                       ref_scalar, at, analytic, ctx.rng, supporting=False)
        yield gradient(f"{bwd} against finite differences of your {fwd}",
                       own_scalar, at, analytic, ctx.rng, supporting=True)
        for p in params:  # put the layer back as it was for the checks that follow
            layer.remote.set(p, p0[p])
        layer.forward(x)

        again, _ = layer.backward(x, dy, local=False)
        scaled, _ = layer.backward(x, -2.0 * dy, local=False)
        zero, _ = layer.backward(x, np.zeros_like(dy), local=False)
        yield twice(f"{bwd} called twice", again, as_expected(f"{bwd} called twice", got, want))
        yield _uses_upstream(f"{bwd} uses {dy_name}", got, scaled, zero, want)
        sent = [dy if a == dy_name else x[a] for a in backward]
        yield first_failure(f"{fwd} and {bwd} leave their inputs unchanged", [
            mutated(x, after),
            untouched(f"{bwd} leaves its inputs unchanged", (
                (f"its input {a}", v, w) for a, v, w in zip(backward, sent, after_b,
                                                             strict=True)))],
            supporting=True)
        if step is not None:
            yield from _steps(cls, layer, x, dy, ctx, step, params, hints or {})

    return problem


def _steps(cls: str, layer: Any, x: Mapping[str, Any], dy: np.ndarray, ctx: Context,
           step: str, params: Mapping[str, Arg], hints: Mapping[str, str]) -> Checks:
    """Two optimiser steps with a forward and backward between: the second step must use the
    new gradients (and any state, such as momentum, carried from the first)."""
    results = []
    for n in (1, 2):
        layer.forward(x)
        layer.backward(x, dy)
        lr = float(ctx.rng.uniform(0.05, 0.5))
        layer.remote.call(step, lr)
        getattr(layer.local, step)(lr)
        got = {p: layer.remote.get(p) for p in params}
        want = {p: getattr(layer.local, p) for p in params}
        label = f"{cls}.{step}(lr), step {n}"
        results.append(same_as(label, got, want, tol=1e-6, hints=hints))
        dy = -0.5 * dy + ctx.rng.normal(size=dy.shape)
    yield results[0]
    yield results[1] if results[0].ok else CheckResult.failed(
        results[1].name, f"{results[1].name}: not checked, since the first step was wrong.")
