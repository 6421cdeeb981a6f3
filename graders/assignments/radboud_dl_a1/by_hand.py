"""radboud-dl-a1's problems that no declarative helper fits, written by hand.

``optimize_f`` runs gradient descent on the handout's ``f`` (scalars and histories,
not arrays); ``train_digits`` trains the student's layers with the handout's loop and
scores the held-out half here. The other two are the parts of declared problems
that only this contract says: ``relu_grad`` at exactly 0, and ``Linear``'s
initialisation (W random of shape (n_in, n_out), b zero).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

import reference.radboud_dl_a1 as ref
from graders.checks import close, ramp, shape
from graders.engine.errors import WrongValue
from graders.engine.proxy import Student, as_array, as_number
from graders.results import CheckResult
from graders.spec import Context

Checks = Iterator[CheckResult]


# -- gradient descent ---------------------------------------------------------------

def _optimize(student: Student, x: float, y: float, step: float, steps: int,
              decay: float | None) -> tuple[Any, ...]:
    args = (x, y, step, steps) if decay is None else (x, y, step, steps, decay)
    out = student.call("optimize_f", *args)
    if not (isinstance(out, tuple | list) and len(out) == 5):
        kind = f"{len(out)} values" if isinstance(out, tuple | list) else type(out).__name__
        raise WrongValue(f"optimize_f should return (x, y, f(x, y), x_hist, y_hist); got {kind}.")
    return tuple(out)


def _compare_run(label: str, got: tuple[Any, ...], want: tuple[Any, ...], hint: str
                 ) -> CheckResult:
    names = ("x", "y", "f(x, y)", "x_hist", "y_hist")
    for name, g, w in zip(names, got, want, strict=True):
        extra = " The histories start with the initial point." if name.endswith("hist") else ""
        result = close(f"{label} → {name}", _listify(g), np.asarray(w, dtype=np.float64),
                       hint=hint + extra)
        if not result.ok:
            return CheckResult.failed(label, result.message)
    return CheckResult.passed(label)


def optimize_f(student: Student, ctx: Context) -> Checks:
    """Plain gradient descent on the handout's f, with and without step-size decay."""
    # From a random start, so the answer cannot be copied from the handout; f is read at
    # the point reached, since the code's own report of f is no evidence.
    x0, y0 = (round(float(v), 3) for v in ctx.rng.uniform(-2.5, 2.5, size=2))
    one = f"optimize_f({x0:g}, {y0:g}, 0.1, 1): one step"
    x1, y1, *_ = _optimize(student, x0, y0, 0.1, 1, None)
    x1, y1 = (as_number(f"{one}: {name}", v) for name, v in zip("xy", (x1, y1), strict=True))
    f0, f1 = ref.f(x0, y0), ref.f(x1, y1)
    moved = x1 != x0 and abs(x1 - x0) < 1 and f1 < f0
    key = "optimize_f: one step"  # the name shows this run's start point
    yield (CheckResult.passed(one, key=key) if moved else CheckResult.failed(one, (
        f"{one} should change x by less than 1 and lower f (f({x0:g}, {y0:g}) = {f0:.4f}); "
        f"got x = {x1:.4f}, y = {y1:.4f}, where f = {f1:.4f}."), key=key))

    for with_decay in (False, True):
        label = "optimize_f with decay" if with_decay else "optimize_f without decay"
        verdict = CheckResult.passed(label)
        for _ in range(2):
            x0, y0 = (float(v) for v in ctx.rng.uniform(-2.5, 2.5, size=2))
            step = float(ctx.rng.choice([0.01, 0.03, 0.05]))
            steps = int(ctx.rng.integers(5, 30))
            decay = float(ctx.rng.uniform(0.8, 0.97)) if with_decay else None
            want = ref.optimize_f(x0, y0, step, steps, decay if decay is not None else 1.0)
            got = _optimize(student, x0, y0, step, steps, decay)
            call = (f"optimize_f({x0:.3f}, {y0:.3f}, {step:g}, {steps}"
                    + (f", decay={decay:.3f})" if decay is not None else ")"))
            hint = ""
            if with_decay:
                plain = ref.optimize_f(x0, y0, step, steps, 1.0)
                if close("", got[0], plain[0]).ok and steps > 1:
                    hint = "The result matches gradient descent without decay: is decay ignored?"
            verdict = _compare_run(call, got, want, hint)
            if not verdict.ok:
                verdict = CheckResult.failed(label, verdict.message)
                break
        yield verdict if not verdict.ok else CheckResult.passed(label)


def _listify(value: Any) -> Any:
    if isinstance(value, list | tuple):
        try:
            arr = np.asarray(value)  # in its own dtype: close() bounds its size, then widens
        except (TypeError, ValueError):
            return value
        return arr if arr.dtype.kind in "biuf" else value
    return value


# -- parts of declared problems ------------------------------------------------------

def relu_grad_at_zero(student: Student, ctx: Context) -> Checks:
    """At exactly 0 either 0 or 1 is a sensible choice; nothing else is."""
    at_zero = np.zeros(ctx.shape(1))
    got = as_array("relu_grad(0)", student.call("relu_grad", at_zero),
                   expected_shape=at_zero.shape)
    ok = got.shape == at_zero.shape and bool(np.all((got == 0) | (got == 1)))
    # A property, not a value against the reference: it earns points only beside a value
    # of relu_grad that matches (a constant 1 is right at 0 and wrong elsewhere).
    yield (CheckResult.passed("relu_grad(0)", supporting=True) if ok else CheckResult.failed(
        "relu_grad(0)", f"relu_grad(0) should be 0 or 1 for every entry of shape "
        f"{at_zero.shape}; got {np.unique(got)[:5]} with shape {got.shape}.", supporting=True))


# A tenth of the problem beside the 12 derived checks, as in the hand-written spec: a
# constant initialisation loses as much, and code right only there earns no more.
INIT_WEIGHT = 12 / 9


def linear_init(student: Student, ctx: Context) -> Checks:
    """``Linear(n_in, n_out, rng=...)``: W random of shape (n_in, n_out), b zero."""
    n_in, n_out = ctx.shape(2, low=3, high=13)
    layer = student.new("Linear", n_in, n_out, rng=student.rng(ctx.child_seed()))
    W0, b0 = layer.get("W"), layer.get("b")
    first = shape("Linear.W", W0, (n_in, n_out))
    if first.ok:
        first = close("Linear.b (starts at zero)", b0, np.zeros(n_out))
    if first.ok and np.std(as_array("Linear.W", W0, expected_shape=(n_in, n_out))) == 0:
        first = CheckResult.failed("Linear(n_in, n_out)", "Linear.W should start random, not "
                                   "constant: with a constant W every unit learns the same.")
    verdict = first if not first.ok else CheckResult.passed(
        f"Linear({n_in}, {n_out}): W of shape ({n_in}, {n_out}) random, b zero")
    yield replace(verdict, weight=INIT_WEIGHT, key="Linear(n_in, n_out)")


# -- training ---------------------------------------------------------------------------

DEFAULT_HYPERPARAMS = {"epochs": 50, "learning_rate": 0.001, "mb_size": 10}
MAX_EPOCHS = 200


def hyperparams(student: Student, ctx: Context) -> tuple[dict[str, Any], str]:
    """The student's HYPERPARAMS, validated; the handout's defaults when absent."""
    if not student.has("HYPERPARAMS"):
        return dict(DEFAULT_HYPERPARAMS), "handout defaults"
    raw = student.get("HYPERPARAMS")
    if not isinstance(raw, dict):
        raise WrongValue(f"HYPERPARAMS should be a dict like {DEFAULT_HYPERPARAMS}; got "
                    f"{type(raw).__name__}.")
    hp = dict(DEFAULT_HYPERPARAMS)
    for key, value in raw.items():
        if key not in hp:
            raise WrongValue(f"HYPERPARAMS has an unknown key {key!r}; allowed: "
                        + ", ".join(hp) + ".")
        if key in ("epochs", "mb_size"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise WrongValue(f"HYPERPARAMS[{key!r}] should be a positive integer; "
                                 f"got {value!r}.")
        elif isinstance(value, bool) or not isinstance(value, int | float) or not (
                0 < value <= 10):
            raise WrongValue(f"HYPERPARAMS['learning_rate'] should be a number in (0, 10]; "
                        f"got {value!r}.")
        hp[key] = value
    note = "your HYPERPARAMS"
    if hp["epochs"] > MAX_EPOCHS:
        hp["epochs"] = MAX_EPOCHS
        note += f" (epochs capped at {MAX_EPOCHS})"
    if hp["mb_size"] > 898:
        raise WrongValue("HYPERPARAMS['mb_size'] is larger than the 898 training images.")
    return hp, note


def _trained_forward(params: Any, x: np.ndarray) -> np.ndarray:
    """The reference forward pass of the trained net: Linear, ReLU, Linear, Sigmoid.

    W may come back in either layout, (n_in, n_out) as the handout has it or
    its transpose: a wrong layout costs the Linear problem, not this one.
    """
    if not isinstance(params, dict):
        raise WrongValue(f"the trained net's parameters came back as {type(params).__name__}.")
    layers = []
    for k, (n_in, n_out) in (("1", (64, 32)), ("2", (32, 1))):
        W = as_array(f"trained Linear({n_in}, {n_out}).W", params.get("W" + k),
                     expected_shape=(n_in, n_out))  # either layout has this size
        b = as_array(f"trained Linear({n_in}, {n_out}).b", params.get("b" + k),
                     expected_shape=(n_out,))
        if W.shape == (n_out, n_in) and n_in != n_out:
            W = W.T
        if W.shape != (n_in, n_out) or b.size != n_out:
            raise WrongValue(f"the trained Linear({n_in}, {n_out}) has W of shape {W.shape} and b "
                        f"of shape {b.shape}; expected ({n_in}, {n_out}) and ({n_out},).")
        layers.append((W, b.reshape(n_out)))
    (W1, b1), (W2, b2) = layers
    return ref.sigmoid(ref.relu(x @ W1 + b1) @ W2 + b2).reshape(-1)


def train_digits(student: Student, ctx: Context) -> Checks:
    """The student's layers, trained by the handout's loop on digits 0–4 versus 5–9.

    Only the training half enters the sandbox; the trained parameters come
    back and the test half is scored here with the reference forward pass.
    """
    from .data import digits_task

    task = digits_task()
    hp, note = hyperparams(student, ctx)
    params = student.provided("digits:train_digits", student.namespace, task.x_train,
                              task.y_train, epochs=int(hp["epochs"]),
                              learning_rate=float(hp["learning_rate"]),
                              mb_size=int(hp["mb_size"]))
    with np.errstate(all="ignore"):
        probs = _trained_forward(params, task.x_test)
    if not np.all(np.isfinite(probs)):
        yield CheckResult.failed("test accuracy", "The trained net's outputs contain NaN or "
                                 "inf: training diverged. Check the gradients (and "
                                 "HYPERPARAMS['learning_rate']).")
        return
    accuracy = float(np.mean((probs > 0.5) == (task.y_test > 0.5)))
    yield ramp("test accuracy", accuracy, zero_at=0.50, full_at=0.95, detail=(
        f"Trained {hp['epochs']} epochs, learning rate {hp['learning_rate']:g}, minibatch "
        f"{hp['mb_size']} ({note})."))
