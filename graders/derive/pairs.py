"""A CS231n pair graded as two problems, the forward's and the backward's.

Some courses give ``affine_forward`` and ``affine_backward`` points of their
own (ucla-c247-hw3: ``layers.affine_forward`` 1, ``layers.affine_backward``
2). Then one bug must cost one problem: the backward is checked against
finite differences of the *reference* forward only, and when the student's
forward raises, the backward runs on the cache the handout's skeleton builds
(``cache(*inputs)``), so a crashing forward costs only its own problem.

The forward's checks: values at two batch sizes (a value computed by writing
into an input does not count) and inputs unchanged. The backward's: values
at two batch sizes, with the cache of an earlier forward, finite differences
of the reference forward, ``dout`` really used, the same answer twice,
``dout`` (a warning, or a failure) and the cache unchanged.

``via(student)`` reaches the student's code when it is not found by name
alone (a package of several files): it has ``missing(names)``, a failed
check or None, and ``call(name, args, label)``, the value and the arguments
as they are after the call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ..checks import numbers_in, unchanged
from ..checks._validate import MAX_ENTRIES
from ..engine.errors import StudentRaised, WrongValue
from ..engine.proxy import Remote, Student
from ..results import CheckResult
from ..spec import Context
from .common import (
    as_expected,
    copies,
    gradient,
    same_as,
    twice,
    unless_mutated,
    unpack,
    untouched,
    weighted_sum,
)
from .inputs import Arg, draw, draw_dims, symbols
from .layers import _uses_upstream, concrete_out

Checks = Iterator[CheckResult]
FORWARD_CHECKS, BACKWARD_CHECKS = 3, 8
# The most numbers the grader takes from a student's cache: it travels back to their
# backward with every call and is compared for changes after it. A CS231n cache holds the
# inputs and a few intermediates, far fewer; a forged one (a 250 MB bool array) stops here.
MAX_CACHE_ENTRIES = MAX_ENTRIES


class Via(Protocol):
    def missing(self, names: Sequence[str]) -> CheckResult | None: ...

    def call(self, name: str, args: Sequence[Any], label: str) -> tuple[Any, list[Any]]: ...


class ByName:
    """The default: the student's function found by its (last) name."""

    def __init__(self, student: Student) -> None:
        self.student = student

    def missing(self, names: Sequence[str]) -> CheckResult | None:
        return None  # the problem's needs= already said it

    def call(self, name: str, args: Sequence[Any], label: str) -> tuple[Any, list[Any]]:
        return self.student.call_watching_args(name.rsplit(".", 1)[-1], *args)


def _holds_remote(value: Any) -> bool:
    if isinstance(value, Remote):
        return True
    if isinstance(value, dict):
        return any(_holds_remote(v) for v in value.values())
    if isinstance(value, tuple | list):
        return any(_holds_remote(v) for v in value)
    return False


def pair_checks(name: str, args: Mapping[str, Arg], grads: Sequence[str],
                forward: Callable[..., Any], backward: Callable[..., Any], *,
                batch: str, tol: float, via: Callable[[Student], Via] | None,
                cache: Callable[..., Any], hints: Mapping[str, str], warn_dout: bool
                ) -> tuple[Callable[[Student, Context], Checks],
                           Callable[[Student, Context], Checks]]:
    fwd, bwd = f"{name}_forward", f"{name}_backward"
    short_f, short_b = fwd.rsplit(".", 1)[-1], bwd.rsplit(".", 1)[-1]
    sig = f"{short_f}({', '.join(args)})"
    wrt = [a for a, spec in args.items() if spec.differentiable]
    if len(grads) != len(wrt):
        from ..errors import SpecError
        raise SpecError(f"{bwd}: {len(grads)} gradients declared ({', '.join(grads)}) for "
                        f"{len(wrt)} differentiable inputs ({', '.join(wrt)})")
    by_input = dict(zip(wrt, grads, strict=True))
    reach = via or ByName
    out_hint = {"out": hints["out"]} if "out" in hints else {}

    def second(dims: Mapping[str, int], ctx: Context) -> dict[str, int]:
        return draw_dims(symbols(args), ctx.rng, keep={k: v for k, v in dims.items()
                                                        if k != batch})

    def forward_problem(student: Student, ctx: Context) -> Checks:
        on = reach(student)
        if absent := on.missing([short_f]):
            yield absent
            return

        def run(x: Mapping[str, Any], label: str) -> tuple[CheckResult, CheckResult]:
            value, after = on.call(fwd, list(x.values()), sig)
            out = unpack(sig, value, ("out", "cache"))["out"]
            mutated = untouched(f"{sig} leaves its inputs unchanged", (
                (f"its input {a}", x[a], v) for a, v in zip(args, after, strict=True)))
            return unless_mutated(mutated, same_as(label, {"out": out}, {
                "out": forward(**copies(x))[0]}, tol=tol, hints=out_hint)), mutated

        dims = draw_dims(symbols(args), ctx.rng)
        value, mutated = run(draw(args, dims, ctx.rng), sig)
        yield value
        yield run(draw(args, second(dims, ctx), ctx.rng), f"{sig} at a second batch size")[0]
        yield mutated

    def student_cache(on: Via, x: Mapping[str, Any]) -> Any:
        """The student's own cache, as the course's notebook passes it on; the handout's
        when their forward raises or returns no pair."""
        try:
            value, _ = on.call(fwd, list(x.values()), sig)
            theirs = unpack(sig, value, ("out", "cache"))["cache"]
        except (StudentRaised, WrongValue):
            return cache(*copies(x).values())
        if (size := numbers_in(theirs)) > MAX_CACHE_ENTRIES:
            raise WrongValue(f"{sig} returned a cache of {size:,} numbers; the grader passes "
                             f"at most {MAX_CACHE_ENTRIES:,} on to {short_b}.")
        return theirs

    def backward_problem(student: Student, ctx: Context) -> Checks:
        on = reach(student)
        if absent := on.missing([short_f, short_b]):
            yield absent
            return
        label = f"{short_b}(dout, cache)"

        def call(dout: np.ndarray, theirs: Any) -> tuple[dict[str, Any], list[Any]]:
            value, after = on.call(bwd, [dout, theirs], label)
            return unpack(label, value, grads), after

        def reference(x: Mapping[str, Any], dout: np.ndarray) -> dict[str, Any]:
            _, ref_cache = forward(**copies(x))
            return unpack(bwd, backward(np.array(dout), ref_cache), grads)

        dims = draw_dims(symbols(args), ctx.rng)
        x = draw(args, dims, ctx.rng)
        out_shape = np.shape(forward(**copies(x))[0])
        theirs = student_cache(on, x)
        dout = ctx.rng.normal(size=out_shape)
        got, after = call(dout, theirs)
        # Compared now, so what came back is not held through the calls below.
        kept = (unchanged(label, dout, after[0], what="dout", warn_only=warn_dout),
                CheckResult.passed(label, "the cache is not plain data; not compared.",
                                   supporting=True) if _holds_remote(theirs)
                else unchanged(label, theirs, after[1], what="its cache"))
        del after
        want = reference(x, dout)
        yield same_as(label, got, want, tol=tol, hints=hints, batch_size=dims[batch])
        first = as_expected(f"{short_b} called twice", got, want)

        other = second(dims, ctx)
        x2 = draw(args, other, ctx.rng)
        dout2 = ctx.rng.normal(size=concrete_out(np.zeros(out_shape), dims, other, batch))
        yield same_as(f"{short_b} at a second batch size", call(dout2, student_cache(on, x2))[0],
                      reference(x2, dout2), tol=tol, hints=hints, batch_size=other[batch])
        # The cache of the first forward, used after another forward of the same sizes ran.
        student_cache(on, draw(args, dims, ctx.rng))
        yield same_as(f"{short_b} with the cache of an earlier {short_f}",
                      call(dout, theirs)[0], want, tol=tol, hints=hints)

        yield gradient(f"{short_b} against finite differences of the reference {short_f}",
                       lambda p: weighted_sum(forward(**{**copies(x), **p})[0], dout),
                       {a: x[a] for a in wrt}, {a: got.get(by_input[a]) for a in wrt},
                       ctx.rng, supporting=False)
        yield _uses_upstream(f"{short_b} uses dout", got, call(-2.0 * dout, theirs)[0],
                             call(np.zeros_like(dout), theirs)[0], want)
        yield twice(f"{short_b} called twice", call(dout, theirs)[0], first)
        yield from kept

    return forward_problem, backward_problem
