"""A training problem: the student's code trains, the grader predicts and scores.

The student's ``train(x_train, y_train, **options)`` returns its parameters
(a dict of arrays). The held-out images and labels never enter the sandbox:
the reference's ``predict(params, x)`` labels them on the trusted side, and
the accuracy earns points on a ramp. Printing an accuracy, or hard-coding
labels, cannot pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..checks import ramp
from ..checks._validate import Invalid, real_array
from ..engine.errors import WrongValue
from ..engine.proxy import Remote, Student
from ..results import CheckResult
from ..spec import Context

Checks = Iterator[CheckResult]
Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def params_of(label: str, value: Any) -> dict[str, np.ndarray]:
    """The returned parameters as float64 arrays, each bounded before it is widened."""
    if not isinstance(value, dict) or not value:
        kind = value.type_name if isinstance(value, Remote) else type(value).__name__
        raise WrongValue(f"{label} should return its trained parameters, a dict of arrays; "
                         f"got {kind}.")
    out = {}
    for key, array in value.items():
        try:
            out[str(key)] = real_array(array)
        except Invalid as exc:
            raise WrongValue(f"{label}: params[{key!r}]: {exc}.") from None
    return out


def training_checks(name: str, data: Callable[[np.random.Generator], Split],
                    predict: Callable[[dict[str, np.ndarray], np.ndarray], Any], *,
                    zero_at: float, full_at: float, options: Mapping[str, Any]
                    ) -> Callable[[Student, Context], Checks]:
    shown = ", ".join(f"{k}={v!r}" for k, v in options.items())
    call = f"{name}(x_train, y_train{', ' + shown if shown else ''})"

    def problem(student: Student, ctx: Context) -> Checks:
        x_train, y_train, x_test, y_test = data(ctx.rng)
        params = params_of(call, student.call(name, x_train, y_train, **options))
        try:
            with np.errstate(all="ignore"):
                labels = np.asarray(predict(params, x_test))
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            raise WrongValue(f"{call}: the returned parameters do not fit the course's "
                             f"predict ({type(exc).__name__}: {exc}); have: "
                             + ", ".join(f"{k} {v.shape}" for k, v in params.items())) from None
        if labels.shape != y_test.shape:
            raise WrongValue(f"{call}: the returned parameters give {labels.shape} labels for "
                             f"{y_test.shape} test rows; check the shapes.")
        accuracy = float(np.mean(labels == y_test))
        yield ramp("test accuracy", accuracy, zero_at=zero_at, full_at=full_at, detail=(
            f"{call} trained in the sandbox on {len(y_train)} rows; the grader labelled "
            f"{len(y_test)} held-out rows with the reference's predict."))

    return problem
