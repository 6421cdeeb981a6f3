"""What an instructor writes against: an assignment, its problems, and their points.

A problem is a generator that receives the student's code (a proxy: every
call crosses the sandbox and returns plain data) and a context with the run's
random generator, and yields one ``CheckResult`` per property checked::

    a1 = Assignment("radboud-dl-a1", "Radboud NWI-IMC070 assignment 1", ...)

    @a1.problem("sigmoid", points=1, needs=["sigmoid"])
    def sigmoid(student, ctx):
        x = ctx.rng.uniform(-30, 30, size=ctx.shape(2))
        yield close("sigmoid(x)", student.call("sigmoid", x), ref.sigmoid(x))

Points sit next to the problem; they are split across its checks by their
weights (equal by default). A problem that stops half-way (the student's code
raised or hit a limit) counts the checks it never reached as not passed: give
``checks=`` to say how many a complete run yields.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .results import CheckResult
from .sandbox.limits import Limits
from .sandbox.runtime import Replacements

if TYPE_CHECKING:
    from .engine.proxy import Student

ProblemFn = Callable[["Student", "Context"], Iterator[CheckResult]]


@dataclass
class Context:
    """Per-problem inputs that the student's code never sees unless they are sent to it."""

    seed: int
    problem_id: str
    rng: np.random.Generator
    data: dict[str, Any] = field(default_factory=dict)
    # The submission's non-code files by path (``hyperparams.json``): trusted-side data that
    # a spec reads and validates itself; they are never sent into the sandbox.
    files: Mapping[str, bytes] = field(default_factory=dict)

    def child_seed(self) -> int:
        return int(self.rng.integers(0, 2**31 - 1))

    def shape(self, ndim: int, low: int = 2, high: int = 13) -> tuple[int, ...]:
        """Distinct sizes per dimension (primes), so a transpose cannot pass by accident."""
        from .checks import distinct_shape

        return distinct_shape(self.rng, ndim, low, high)


def problem_rng(seed: int, problem_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(problem_id.encode())])


@dataclass
class ProblemSpec:
    id: str
    points: float
    func: ProblemFn | None = None
    needs: tuple[str, ...] = ()
    manual: bool = False
    training: bool = False
    hidden: bool = False
    timeout_s: float = 20.0
    checks: int | None = None
    dataset: str | None = None
    description: str = ""


# A bundle's problem ids go into the pages' URLs (a form's action): no '/', no '..'.
PROBLEM_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


@dataclass
class Assignment:
    """One course assignment: its problems, the course's provided code, how to load it."""

    slug: str
    title: str
    provided_dir: Path | None = None
    # Name in the student's namespace -> "module:attribute" of the course's copy.
    overrides: dict[str, str] = field(default_factory=dict)
    # Entry points that loading must never run (training loops, plots, downloads).
    skip_calls: tuple[str, ...] = ()
    statement_timeout_s: float = 5.0
    load_timeout_s: float = 60.0
    limits: Limits = field(default_factory=Limits)
    # Modules of provided_dir imported before the submission loads (training loops etc.).
    provided_modules: tuple[str, ...] = ()
    # Libraries a pooled sandbox imports before the submission arrives (e.g. "torch").
    warm_imports: tuple[str, ...] = ()
    # Arrays injected into every namespace before loading (data a course hands out).
    preset: Callable[[], dict[str, Any]] | None = None
    # The course's own copies of files students receive (``nndl/layer_utils.py``): they
    # replace any file of the same path in the submission, and are added when missing.
    provided_files: Callable[[], dict[str, str]] | None = None
    # Where the course's files belong (``nndl/fc_net.py``). An uploaded code file that ends
    # with ``/`` + one of these paths, or has its base name at the top level, is loaded under
    # that path, so imports between the course's files (``from .layers import *``) work
    # however the student uploaded them: a zip of the folder, a parent folder, loose files.
    layout: tuple[str, ...] = ()
    # The code files the problems read. An upload holding none of them can earn nothing, so
    # the service refuses it at upload time, before it uses an attempt.
    graded_files: tuple[str, ...] = ()
    # Installed files the sandbox must see replaced: (host file, path inside) pairs, such as
    # scikit-learn's bundled digits cut down to the training half a problem hands out.
    replacements: Callable[[], Replacements] | None = None
    # The secret solution (a module), for problems declared with the helpers below: it has
    # the student's API and gives every expected value, on the trusted side only.
    reference: Any = None
    # Variants the contract leaves to the student, for ``dlgrade assignment check``:
    # (problem id, text of the changed line, why), e.g. ``("relu_grad", ">= 0", "either
    # value at exactly 0 is accepted")``. A surviving mutant that matches is listed as such.
    accepted_variants: tuple[tuple[str, str, str], ...] = ()
    problems: list[ProblemSpec] = field(default_factory=list)

    def sandbox_replacements(self) -> Replacements:
        return self.replacements() if self.replacements is not None else ()

    def problem(self, problem_id: str, *, points: float, needs: tuple[str, ...] | list[str] = (),
                training: bool = False, hidden: bool = False, timeout_s: float = 20.0,
                checks: int | None = None, dataset: str | None = None
                ) -> Callable[[ProblemFn], ProblemFn]:
        def register(func: ProblemFn) -> ProblemFn:
            self._add(ProblemSpec(problem_id, float(points), func, tuple(needs), False, training,
                                  hidden, timeout_s, checks, dataset,
                                  (func.__doc__ or "").strip()))
            return func
        return register

    # -- declared problems: the checks are derived (graders/derive) ------------------------

    def function(self, name: str, *, points: float, tol: float = 1e-6, batch: str = "N",
                 extra: tuple[ProblemFn, int] | None = None, hint: str = "",
                 **args: Any) -> None:
        """A pure function, ``relu(x)``: ``hw.function("relu", points=1, x=("N", "D"))``.

        ``extra=(generator, n)`` adds ``n`` hand-written checks (a problem generator's)
        for what only this problem's contract says, such as the value at a kink;
        ``hint`` is the course's words for a wrong value, said in the message."""
        from .derive import declare
        declare.function(self, name, points=points, tol=tol, batch=batch, args=args,
                         extra=extra, hint=hint)

    def loss(self, name: str, *, points: float, tol: float = 1e-6, batch: str = "N",
             regularisation: str = "reg", **args: Any) -> None:
        """``loss, dx = softmax_loss(x, y)``: ``hw.loss("softmax_loss", points=2,
        x=("N", "C"), y=labels("C"))``; dx is the gradient for the first argument.

        An argument given as a number is passed as it is (``delta=1.0``); the one named
        by ``regularisation`` (``reg=0.5``) is the regularisation strength: the checks
        run with it, and loss and gradient once more with it at 0."""
        from .derive import declare
        declare.loss(self, name, points=points, tol=tol, batch=batch, args=args,
                     regularisation=regularisation)

    def layer(self, name: str, *, points: float | tuple[float, float], grads: str,
              tol: float = 1e-6, batch: str = "N", via: Any = None,
              cache: Callable[..., Any] | None = None, hints: dict[str, str] | None = None,
              warn_dout: bool = False, extra: tuple[ProblemFn, int] | None = None,
              **args: Any) -> None:
        """CS231n's pair ``out, cache = affine_forward(x, w, b)``, ``dx, dw, db =
        affine_backward(dout, cache)``: ``hw.layer("affine", points=3, grads="dx, dw, db",
        x=("N", "D"), w=("D", "M"), b=("M",))``.

        ``points=(forward, backward)`` grades the pair as two problems,
        ``<name>_forward`` and ``<name>_backward`` (``name`` may be dotted,
        ``"layers.affine"``, for a reference module's file); then ``cache(*inputs)``
        is the handout's cache the backward uses when the student's forward raises,
        ``via(student)`` reaches code not found by name alone, ``hints`` are the
        course's words per returned value (``"out"``, ``"dx"``...), ``warn_dout``
        makes a write into ``dout`` a warning, and ``extra`` goes with the forward."""
        from .derive import declare
        declare.layer(self, name, points=points, grads=grads, tol=tol, batch=batch, args=args,
                      via=via, cache=cache, hints=hints, warn_dout=warn_dout, extra=extra)

    def module(self, cls: str, *, points: float, init: tuple[str | int, ...] = (),
               forward: dict[str, Any], params: dict[str, Any] | None = None,
               grads: dict[str, str] | None = None, backward: str = "dy",
               step: str | None = None, tol: float = 1e-6, batch: str = "N",
               extra: tuple[ProblemFn, int] | None = None,
               hints: dict[str, str] | None = None) -> None:
        """A layer class: ``Linear(D, M)``, ``forward(x)``, ``backward(dy)`` returning dx and
        leaving ``dW``, ``db`` on the layer, optionally ``step(lr)``; ``extra`` as for
        ``function`` (an initialisation the contract prescribes, say); ``hints`` the
        course's words per value (``"out"``, ``"dx"``, a gradient, a stepped parameter)."""
        from .derive import declare
        declare.module(self, cls, points=points, init=init, forward=forward,
                       params=params or {}, grads=grads or {}, backward=backward, step=step,
                       tol=tol, batch=batch, extra=extra, hints=hints)

    def step(self, name: str, *, points: float, config: dict[str, float], tol: float = 1e-6,
             **args: Any) -> None:
        """``next_w, config = sgd_momentum(w, dw, config)``, three steps in a row."""
        from .derive import declare
        declare.step(self, name, points=points, config=config, tol=tol, args=args)

    def training(self, name: str, *, points: float, data: Callable[..., Any], predict: str,
                 threshold: tuple[float, float], timeout_s: float = 60.0,
                 **options: Any) -> None:
        """``params = train(x_train, y_train, **options)`` in the sandbox; the reference's
        ``predict(params, x_test)`` labels held-out rows ``data(rng)`` keeps here, and the
        accuracy earns points from ``threshold[0]`` (none) to ``threshold[1]`` (all)."""
        from .derive import declare
        declare.training(self, name, points=points, data=data, predict=predict,
                         threshold=threshold, timeout_s=timeout_s, options=options)

    def manual(self, problem_id: str, *, points: float, description: str = "") -> None:
        self._add(ProblemSpec(problem_id, float(points), manual=True, description=description))

    def _add(self, spec: ProblemSpec) -> None:
        from .errors import SpecError
        if not PROBLEM_ID.fullmatch(spec.id) or ".." in spec.id:
            raise SpecError(
                f"{self.slug}: problem id {spec.id!r}: use at most 64 letters, digits, '_', "
                "'-' and single '.'; ids name the service's URLs and gradebook columns")
        if any(p.id == spec.id for p in self.problems):
            raise SpecError(f"{self.slug}: problem id {spec.id!r} declared twice")
        self.problems.append(spec)

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.problems if not p.manual)

    def get(self, problem_id: str) -> ProblemSpec:
        for p in self.problems:
            if p.id == problem_id:
                return p
        from .errors import SpecError
        raise SpecError(f"{self.slug} has no problem {problem_id!r}; it has "
                        + ", ".join(p.id for p in self.problems))
