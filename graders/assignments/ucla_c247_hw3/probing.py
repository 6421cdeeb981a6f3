"""How the ucla-c247-hw3 spec reaches the student's files and words its verdicts (trusted side).

The student's code is reached by module (``nndl.fc_net``) through the
sandbox-side ``provided/probes.py``, since two files define ``TwoLayerNet``;
errors are relabelled with the student's call (``affine_forward(x, w, b)``)
instead of the probe's name. The rest turns values into ``CheckResult``s
with the feedback this homework needs: parameter blocks judged together,
notes that point at another problem's code, the handout's loss near misses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from graders.checks import close, unchanged
from graders.engine.errors import StudentRaised, WrongValue
from graders.engine.proxy import Remote, Student, as_number
from graders.results import CheckResult

Checks = Iterator[CheckResult]


def relabel(exc: StudentRaised, label: str) -> StudentRaised:
    """The same failure, named by the student's call rather than by the grader's probe."""
    return StudentRaised(label, exc.kind, raw_message(exc), exc.where)


@contextmanager
def labelled(label: str) -> Iterator[None]:
    """Inside, a failure of the student's code is reported under ``label``."""
    try:
        yield
    except StudentRaised as exc:
        raise relabel(exc, label) from None


class Files:
    """The student's graded files as loaded in the sandbox, reached by module name."""

    def __init__(self, student: Student) -> None:
        self.student = student
        found = student.provided("probes:inventory")
        if not isinstance(found, dict):
            raise WrongValue("The submission's nndl package could not be inspected.")
        self.found: dict[str, list[str]] = {k: list(v) for k, v in found.items()
                                            if isinstance(v, list)}

    def missing(self, stem: str, names: Sequence[str] = ()) -> CheckResult | None:
        """A failed check naming the file or the names that are absent, or None."""
        path = f"nndl/{stem}.py"
        if stem not in self.found:
            have = ", ".join(f"nndl/{s}.py" for s in self.found) or "none of them"
            return CheckResult.failed(path, (
                f"Not found: {path} is not in the submission (zip the nndl folder, or upload "
                f"{stem}.py itself); of the three graded files it has {have}."))
        absent = [n for n in names if n not in self.found[stem]]
        if absent:
            return CheckResult.failed(path, f"Not found: {' and '.join(absent)} in {path}.")
        return None

    def call(self, stem: str, name: str, *args: Any, label: str) -> tuple[Any, list[Any]]:
        """``nndl.<stem>.<name>(*args)`` and the arguments as they are after the call."""
        with labelled(label):
            out = self.student.provided("probes:call", f"nndl.{stem}", name, *args)
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], list)):
            raise WrongValue(f"{label}: the call could not be observed.")
        return out[0], out[1]

    def new(self, stem: str, cls: str, *args: Any, label: str, seed: int | None = None,
            **kwargs: Any) -> Remote:
        """An instance of ``nndl.<stem>.<cls>``, built after ``np.random.seed(seed)``."""
        with labelled(label):
            obj = self.student.provided("probes:build", f"nndl.{stem}", cls, *args, seed=seed,
                                        **kwargs)
        if not isinstance(obj, Remote):
            raise WrongValue(f"{label} did not create an object (got {type(obj).__name__}).")
        return obj

    def attr(self, stem: str, name: str) -> Any:
        """A module-level value of one file, as plain data (``HYPERPARAMS``)."""
        with labelled(f"{name} in nndl/{stem}.py"):
            return self.student.provided("probes:module_attr", f"nndl.{stem}", name)


def pair(label: str, value: Any, what: str = "(out, cache)") -> tuple[Any, Any]:
    """The two values the handout's functions return, or a message saying what came back."""
    if isinstance(value, tuple | list) and len(value) == 2:
        return value[0], value[1]
    kind = f"{len(value)} values" if isinstance(value, tuple | list) else type(value).__name__
    raise WrongValue(f"{label} should return {what}; got {kind}.")


def has_remote(value: Any) -> bool:
    """Whether a cache holds objects that stayed in the sandbox (they cannot be compared)."""
    if isinstance(value, Remote):
        return True
    if isinstance(value, dict):
        return any(has_remote(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_remote(v) for v in value)
    return False


def first_change(label: str, pairs: Iterable[tuple[str, Any, Any]]) -> CheckResult:
    """The first of (what, before, after) that changed, as a failure; else a pass."""
    pairs = list(pairs)
    for what, before, after in pairs:
        result = unchanged(label, before, after, what=what)
        if not result.ok:
            return result
    names = ", ".join(what.removeprefix("its input ") for what, _, _ in pairs)
    return CheckResult.passed(label, f"left {names} unchanged.", supporting=True)


def all_blocks(label: str, results: Iterable[CheckResult], *,
               agree: dict[str, bool] | None = None, blame: str = "") -> CheckResult:
    """One verdict for several parameter blocks: the first failure, or a pass.

    ``agree`` says which blocks equal the reference; a numerical disagreement in
    such a block is the loss's fault (``blame`` says where that is graded) and
    passes with a warning.
    """
    results = list(results)
    warnings = []
    for r in results:
        if r.ok:
            continue
        if agree and agree.get(block(r.name)):
            warnings.append(r.message)
            continue
        return CheckResult.failed(label, r.message)
    if warnings:
        return CheckResult.passed(label, (
            f"Warning: {warnings[0]} Your gradients equal the reference's, so it is the loss "
            f"value that is off{blame}."))
    errors = [float(m) for r in results for m in re.findall(r"max rel_error (\S+) ", r.message)]
    worst = f"max rel_error {max(errors):.1e} " if errors else ""
    return CheckResult.passed(label, f"{worst}over {', '.join(block(r.name) for r in results)}.")


def block(name: str) -> str:
    """``grads['W1']`` → ``W1``: the parameter block a check result is about."""
    return name[name.rfind("[") + 2: -2] if name.endswith("']") else name


def noted(checks: Iterable[CheckResult], note: str) -> Checks:
    """Add ``note`` to every failure, raised ones too: the cause may lie in another problem."""
    try:
        for check in checks:
            if note and check.status in ("failed", "error"):
                check = replace(check, message=f"{check.message} {note}")
            yield check
    except StudentRaised as exc:
        if not note:
            raise
        raise StudentRaised(exc.label, exc.kind, f"{raw_message(exc)} {note}", exc.where) from None
    except WrongValue as exc:
        if not note:
            raise
        raise WrongValue(f"{exc} {note}") from None


def raw_message(exc: StudentRaised) -> str:
    """The exception's own message, without the label, kind and location around it."""
    rest = str(exc)[len(f"{exc.label} raised {exc.kind}"):]
    tail = f" ({exc.where})" if exc.where else ""
    return (rest[: -len(tail)] if tail and rest.endswith(tail) else rest).removeprefix(": ")


def abs_close(label: str, got: Any, expected: float, tol: float, hint: str = "",
              source: str = "the handout's") -> CheckResult:
    """A number against the handout's printed value, within an absolute ``tol``."""
    value = as_number(label, got)
    if abs(value - expected) <= tol:
        return CheckResult.passed(label, f"{value!r} ({source} {expected!r}, tolerance {tol:g}).")
    return CheckResult.failed(label, f"{label}: got {value:.10g}, expected {expected!r} "
                                     f"(difference {abs(value - expected):.2e}, tolerance "
                                     f"{tol:g}).{' ' + hint if hint else ''}")


def loss_hint(got: Any, data_loss: float, weights: Sequence[np.ndarray],
              biases: Sequence[np.ndarray], reg: float, n: int) -> str:
    """Name the loss a student computed when it is one of the classic near misses."""
    if isinstance(got, np.ndarray) and got.size != 1:  # no hint, and no float64 copy of it
        return ""
    try:
        value = float(np.asarray(got, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        return ""
    sq_w = sum(float(np.sum(w * w)) for w in weights)
    sq_b = sum(float(np.sum(b * b)) for b in biases)
    variants = [
        (data_loss, "It equals the data loss alone: the regularisation term is missing."),
        (data_loss + reg * sq_w, "It equals data loss + reg·Σ‖W‖²: the regularisation term "
                                 "is 0.5·reg·Σ‖W‖²."),
        (data_loss * n + 0.5 * reg * sq_w, "The data loss is summed over the batch; the "
                                           "handout averages it."),
        (data_loss + 0.5 * reg * (sq_w + sq_b), "The biases are regularised too; only the "
                                                "weights should be."),
    ]
    for variant, hint in variants:
        if reg == 0 and "regularis" in hint:
            continue
        if abs(value - variant) <= 1e-8 * max(1.0, abs(variant)):
            return hint
    return ""


def min_abs(arrays: Iterable[np.ndarray]) -> float:
    """How close the nearest entry comes to 0 (a ReLU kink)."""
    return min(float(np.min(np.abs(a))) for a in arrays)


def same(got: Any, expected: np.ndarray) -> bool:
    """Equal to the reference by ``close``'s rule, for quick probes that only need yes or no."""
    return close("", got, expected).ok
