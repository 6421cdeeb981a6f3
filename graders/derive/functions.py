"""Pure functions and losses: ``relu(x)``, ``softmax_loss(x, y) -> (loss, dx)``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..engine.proxy import Student
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
)
from .inputs import Arg, draw, draw_dims, symbols

Checks = Iterator[CheckResult]


def _signature(name: str, args: Mapping[str, Arg]) -> str:
    return f"{name}({', '.join(args)})"


def _call(student: Student, name: str, values: Mapping[str, Any]) -> tuple[Any, list[Any]]:
    return student.call_watching_args(name, *values.values())


def _sent(args: Mapping[str, Arg], values: Mapping[str, Any], after: list[Any]
          ) -> Iterator[tuple[str, Any, Any]]:
    """(what, as sent, as read back after the call) for each input."""
    return ((f"its input {a}", values[a], v) for a, v in zip(args, after, strict=True))


def function_checks(name: str, args: Mapping[str, Arg], reference: Callable[..., Any], *,
                    batch: str, tol: float, hint: str = ""
                    ) -> Callable[[Student, Context], Checks]:
    """Values at two sizes, inputs left alone, the same answer twice. A value computed
    by code that writes into its inputs fails too (``unless_mutated``)."""
    call = _signature(name, args)
    unchanged = f"{call} leaves its inputs unchanged"

    def problem(student: Student, ctx: Context) -> Checks:
        dims = draw_dims(symbols(args), ctx.rng)
        x = draw(args, dims, ctx.rng)
        got, after = _call(student, name, x)
        want = reference(**copies(x))
        mutated = untouched(unchanged, _sent(args, x, after))
        yield unless_mutated(mutated, same_as(call, {"value": got}, {"value": want}, tol=tol,
                                              hints={"value": hint}))
        first = as_expected(f"{call} called twice", {"value": got}, {"value": want})
        del got, after  # a huge reply is not kept while the next calls run
        other = draw_dims(symbols(args), ctx.rng, keep={k: v for k, v in dims.items()
                                                         if k != batch})
        x2 = draw(args, other, ctx.rng)
        got2, after2 = _call(student, name, x2)
        second = unless_mutated(
            untouched(unchanged, _sent(args, x2, after2)),
            same_as(f"{call} at a second batch size", {"value": got2},
                    {"value": reference(**copies(x2))}, tol=tol, hints={"value": hint}))
        del got2, after2
        yield second
        yield mutated
        again, _ = _call(student, name, x)
        yield twice(f"{call} called twice", {"value": again}, first)

    return problem


def strengths(args: Mapping[str, Arg], regularisation: str) -> list[str]:
    """The regularisation strength, when the loss takes one given as a number (``reg=0.5``).

    Only the argument so named: another number (an SVM's ``delta=1.0``) is passed as it
    is and never set to 0."""
    spec = args.get(regularisation)
    return [regularisation] if spec is not None and spec.dist == "constant" else []


def loss_checks(name: str, args: Mapping[str, Arg], reference: Callable[..., Any], *,
                batch: str, tol: float, regularisation: str = "reg"
                ) -> Callable[[Student, Context], Checks]:
    """``(loss, dx)`` against the reference, at two batch sizes, and against finite
    differences of the reference loss and of the student's own loss.

    With a regularisation strength (``reg=0.5``) all of that runs at that strength, and
    loss and gradient are checked once more with it at 0: the data term and the
    regulariser earn their marks apart (a forgotten or doubled regulariser fails only
    the checks that have one)."""
    call = _signature(name, args)
    first = next(iter(args))  # the scores: what dx is the gradient of
    returns = ("loss", f"d{first}")
    off = strengths(args, regularisation)

    def problem(student: Student, ctx: Context) -> Checks:
        dims = draw_dims(symbols(args), ctx.rng)
        x = draw(args, dims, ctx.rng)
        got_raw, after = _call(student, name, x)
        got = unpack(call, got_raw, returns)
        want = dict(zip(returns, reference(**copies(x)), strict=True))
        mutated = untouched(f"{call} leaves its inputs unchanged",
                            _sent(args, x, after))
        yield unless_mutated(mutated, same_as(f"{call} → loss", {"loss": got["loss"]},
                                              {"loss": want["loss"]}, tol=tol))
        yield same_as(f"{call} → {returns[1]}", {returns[1]: got[returns[1]]},
                      {returns[1]: want[returns[1]]}, tol=tol)
        other = draw_dims(symbols(args), ctx.rng, keep={k: v for k, v in dims.items()
                                                         if k != batch})
        x2 = draw(args, other, ctx.rng)
        got2 = unpack(call, _call(student, name, x2)[0], returns)
        want2 = dict(zip(returns, reference(**copies(x2)), strict=True))
        yield same_as(f"{call} at a second batch size", got2, want2, tol=tol)

        def ref_loss(p: dict[str, Any]) -> Any:
            return reference(**{**copies(x), **p})[0]

        def own_loss(p: dict[str, Any]) -> Any:
            return unpack(call, student.call(name, *{**x, **p}.values()), returns)["loss"]

        at = {first: x[first]}
        yield gradient(f"{call} → {returns[1]} against finite differences of the reference "
                       "loss", ref_loss, at, {first: got[returns[1]]}, ctx.rng,
                       supporting=False)
        yield gradient(f"{call} → {returns[1]} against finite differences of your loss",
                       own_loss, at, {first: got[returns[1]]}, ctx.rng, supporting=True)
        yield mutated
        if off:
            plain = {**x, **dict.fromkeys(off, 0.0)}
            got0 = unpack(call, _call(student, name, plain)[0], returns)
            want0 = dict(zip(returns, reference(**copies(plain)), strict=True))
            without = f"{call} without regularisation ({', '.join(f'{a}=0' for a in off)})"
            for key in returns:
                yield same_as(f"{without} → {key}", {key: got0[key]}, {key: want0[key]},
                              tol=tol)

    return problem
