"""From an instructor's declaration to a registered problem with its derived checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from .functions import function_checks, loss_checks, strengths
from .inputs import Arg, as_arg
from .layers import layer_checks, module_checks
from .pairs import BACKWARD_CHECKS, FORWARD_CHECKS, pair_checks
from .steps import step_checks
from .training import training_checks

if TYPE_CHECKING:
    from ..spec import Assignment

# How many checks each family yields: a problem that stops half-way earns no points for
# the checks it never reached.
# Checks a declaration adds by hand: a generator like a problem's, and how many it yields.
Extra = tuple[Callable[..., Any], int]
FUNCTION_CHECKS, LOSS_CHECKS, LAYER_CHECKS, MODULE_CHECKS, STEP_CHECKS = 4, 6, 9, 10, 3


def _reference(assignment: Assignment, dotted: str) -> Any:
    if assignment.reference is None:
        raise SpecError(f"{assignment.slug}: {dotted} is declared, but the Assignment has no "
                        "reference= to take its expected values from")
    target: Any = assignment.reference
    for part in dotted.split("."):
        if not hasattr(target, part):
            raise SpecError(f"{assignment.slug}: the reference has no {dotted!r}")
        target = getattr(target, part)
    return target


def _args(raw: Mapping[str, Arg | tuple[str | int, ...] | str]) -> dict[str, Arg]:
    return {name: as_arg(value, name) for name, value in raw.items()}


def _register(assignment: Assignment, problem_id: str, points: float, needs: Sequence[str],
              checks: int, func: Callable[..., Any], description: str,
              extra: Extra | None = None) -> None:
    if extra is not None:
        func, checks = _with_extra(func, extra), checks + extra[1]
    assignment.problem(problem_id, points=points, needs=list(needs), checks=checks)(func)
    assignment.get(problem_id).description = description


def _with_extra(derived: Callable[..., Any], extra: Extra) -> Callable[..., Any]:
    """The hand-written checks a declaration adds (``extra=(generator, how many checks)``),
    before the derived ones: what only this problem's contract says, such as an
    initialisation or the value at a kink."""
    own = extra[0]

    def problem(student: Any, ctx: Any) -> Any:
        yield from own(student, ctx)
        yield from derived(student, ctx)

    problem.__doc__ = own.__doc__
    return problem


def function(assignment: Assignment, name: str, *, points: float, tol: float, batch: str,
             args: Mapping[str, Any], extra: Extra | None = None, hint: str = "") -> None:
    ref = _reference(assignment, name)
    func = function_checks(name, _args(args), ref, batch=batch, tol=tol, hint=hint)
    _register(assignment, name, points, [name], FUNCTION_CHECKS, func,
              f"{name}: values at two batch sizes; inputs unchanged; repeatable.", extra)


def loss(assignment: Assignment, name: str, *, points: float, tol: float, batch: str,
         args: Mapping[str, Any], regularisation: str = "reg") -> None:
    ref = _reference(assignment, name)
    declared = _args(args)
    off = strengths(declared, regularisation)
    func = loss_checks(name, declared, ref, batch=batch, tol=tol,
                       regularisation=regularisation)
    _register(assignment, name, points, [name], LOSS_CHECKS + (2 if off else 0), func,
              f"{name}: loss and gradient, at two batch sizes, against finite differences"
              + (f"; again with {', '.join(off)} at 0." if off else "."))


def layer(assignment: Assignment, name: str, *, points: float | tuple[float, float],
          grads: str, tol: float, batch: str, args: Mapping[str, Any], via: Any = None,
          cache: Callable[..., Any] | None = None, hints: Mapping[str, str] | None = None,
          warn_dout: bool = False, extra: Extra | None = None) -> None:
    fwd, bwd = f"{name}_forward", f"{name}_backward"
    names = [g.strip() for g in grads.split(",")]
    if isinstance(points, tuple):
        _pair(assignment, name, points, names, tol=tol, batch=batch, args=args, via=via,
              cache=cache, hints=hints or {}, warn_dout=warn_dout, extra=extra)
        return
    if via is not None or cache is not None or hints or warn_dout or extra is not None:
        raise SpecError(f"{assignment.slug}: {name}: via=, cache=, hints=, warn_dout= and "
                        "extra= are for a pair graded as two problems (points=(fwd, bwd))")
    func = layer_checks(name, _args(args), names,
                        _reference(assignment, fwd), _reference(assignment, bwd),
                        batch=batch, tol=tol)
    _register(assignment, name, points, [fwd, bwd], LAYER_CHECKS, func,
              f"{fwd}/{bwd}: values, gradients, upstream, caches and state over calls.")


def _pair(assignment: Assignment, name: str, points: tuple[float, float], grads: list[str],
          *, tol: float, batch: str, args: Mapping[str, Any], via: Any,
          cache: Callable[..., Any] | None, hints: Mapping[str, str], warn_dout: bool,
          extra: Extra | None) -> None:
    """Two problems, ``<name>_forward`` and ``<name>_backward`` (graders/derive/pairs.py);
    ``extra`` goes with the forward's."""
    fwd, bwd = f"{name}_forward", f"{name}_backward"
    if cache is None:
        raise SpecError(f"{assignment.slug}: {name}: a pair graded as two problems needs "
                        "cache=, the handout's cache from the inputs, for a forward that raises")
    forward, backward = pair_checks(
        name, _args(args), grads, _reference(assignment, fwd), _reference(assignment, bwd),
        batch=batch, tol=tol, via=via, cache=cache, hints=hints, warn_dout=warn_dout)
    short_f, short_b = fwd.rsplit(".", 1)[-1], bwd.rsplit(".", 1)[-1]
    needs = ([short_f], [short_f, short_b]) if via is None else ((), ())
    _register(assignment, fwd, points[0], needs[0], FORWARD_CHECKS, forward,
              f"{short_f}: values at two batch sizes; inputs unchanged.", extra)
    _register(assignment, bwd, points[1], needs[1], BACKWARD_CHECKS, backward,
              f"{short_b}: values at two batch sizes and on an earlier cache, finite "
              f"differences of the reference {short_f}, dout used, repeatable, dout and the "
              "cache unchanged.")


def module(assignment: Assignment, cls: str, *, points: float, init: Sequence[str | int],
           forward: Mapping[str, Any], params: Mapping[str, Any], grads: Mapping[str, str],
           backward: str, step: str | None, tol: float, batch: str,
           extra: Extra | None = None, hints: Mapping[str, str] | None = None) -> None:
    names = [a.strip() for a in backward.split(",")]
    func = module_checks(cls, init, _args(forward), _args(params), grads, names,
                         _reference(assignment, cls), step=step, batch=batch, tol=tol,
                         hints=hints)
    _register(assignment, cls, points, [cls], MODULE_CHECKS + (2 if step else 0), func,
              f"{cls}: forward, backward, parameter gradients, state over calls"
              + (f", two {step}s." if step else "."), extra)


def step(assignment: Assignment, name: str, *, points: float, config: Mapping[str, float],
         tol: float, args: Mapping[str, Any]) -> None:
    func = step_checks(name, _args(args), config, _reference(assignment, name), tol=tol)
    _register(assignment, name, points, [name], STEP_CHECKS, func,
              f"{name}: {STEP_CHECKS} steps in a row, the config carried between them.")


def training(assignment: Assignment, name: str, *, points: float, data: Any, predict: str,
             threshold: tuple[float, float], timeout_s: float, options: Mapping[str, Any]
             ) -> None:
    zero_at, full_at = threshold
    func = training_checks(name, data, _reference(assignment, predict), zero_at=zero_at,
                           full_at=full_at, options=options)
    assignment.problem(name, points=points, needs=[name], checks=1, training=True,
                       timeout_s=timeout_s)(func)
    assignment.get(name).description = (
        f"{name}: trained in the sandbox, test accuracy from {zero_at:g} (0 points) to "
        f"{full_at:g} (all), predicted by the grader.")
