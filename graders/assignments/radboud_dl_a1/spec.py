"""radboud-dl-a1: Radboud NWI-IMC070 (2023), assignment 1 — numpy backprop from scratch.

Contract: ``shared/assignments/radboud-dl-a1.md``. Inputs are drawn fresh for
every run from the run's seed, with distinct sizes per dimension; expected
values come from ``reference.radboud_dl_a1`` on the trusted side only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import reference.radboud_dl_a1 as ref
from graders.checks import (
    away_from_kinks,
    close,
    ramp,
    repeatable,
    scales_with_upstream,
    shape,
    unchanged,
    zero_upstream,
)
from graders.engine.errors import WrongValue
from graders.engine.proxy import Student, as_array, as_number
from graders.results import CheckResult
from graders.sandbox.limits import Limits
from graders.spec import Assignment, Context

from .data import sandbox_digits

PROVIDED = Path(__file__).with_name("provided")

assignment = Assignment(
    slug="radboud-dl-a1",
    title="Radboud NWI-IMC070 (2023) assignment 1: gradient descent and backprop in numpy",
    provided_dir=PROVIDED,
    overrides={"f": "handout:f", "grad_x_f": "handout:grad_x_f",
               "grad_y_f": "handout:grad_y_f", "Net": "handout:Net"},
    skip_calls=("fit", "train", "train_digits", "show", "savefig", "check_grad_all"),
    provided_modules=("digits",),
    replacements=sandbox_digits,  # the test half of the digits never enters a sandbox
    limits=Limits(wall_s=300, cpu_s=300),
    accepted_variants=(("relu_grad", ">= 0", "the handout leaves relu_grad at exactly 0 to the "
                        "student: 0 and 1 are both accepted"),),
    # No warm_imports: matplotlib, scipy and scikit-learn cost 1.7 s of CPU per pooled
    # sandbox, wasted on every .py that does not import them; under a deadline burst that
    # cut throughput from ~420 to ~80 gradings a minute (docs/performance.md).
)
problem = assignment.problem
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


@problem("optimize_f", points=2, needs=["optimize_f"], checks=3)
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


# -- activation functions and the loss ----------------------------------------------

def _pure(student: Student, label: str, name: str, args: tuple[np.ndarray, ...],
          arg_names: str = "x") -> tuple[Any, CheckResult | None]:
    """Call, and report an input the function wrote into (the contract forbids it)."""
    got, after = student.call_watching_args(name, *args)
    for arg, before, now in zip(arg_names.split(", "), args, after, strict=False):
        mutated = unchanged(label, before, now, what=f"its input {arg}")
        if not mutated.ok:
            return got, mutated
    return got, None

@problem("sigmoid", points=1, needs=["sigmoid"], checks=2)
def sigmoid(student: Student, ctx: Context) -> Checks:
    """Elementwise on any shape, equal to the true sigmoid on [-30, 30]."""
    for ndim in (1, 3):
        x = ctx.rng.uniform(-30, 30, size=ctx.shape(ndim))
        label = f"sigmoid(x) for x of shape {x.shape}"
        got, mutated = _pure(student, label, "sigmoid", (x,))
        yield mutated or close(label, got, ref.sigmoid(x))


@problem("sigmoid_grad", points=2, needs=["sigmoid_grad"], checks=2)
def sigmoid_grad(student: Student, ctx: Context) -> Checks:
    """The derivative of the true sigmoid (a wrong ``sigmoid`` costs only that problem)."""
    x = ctx.rng.uniform(-8, 8, size=ctx.shape(2))
    got, mutated = _pure(student, "sigmoid_grad(x)", "sigmoid_grad", (x,))
    h = 1e-6
    numeric = (ref.sigmoid(x + h) - ref.sigmoid(x - h)) / (2 * h)
    yield mutated or close("sigmoid_grad(x) against central differences of sigmoid", got,
                           numeric, tol=1e-5)
    yield close("sigmoid_grad(x)", got, ref.sigmoid_grad(x),
                hint="The derivative is s(x)·(1 − s(x)) with s the sigmoid of x itself.")


@problem("relu", points=1, needs=["relu"], checks=1)
def relu(student: Student, ctx: Context) -> Checks:
    """Elementwise max(0, x)."""
    x = ctx.rng.normal(size=ctx.shape(2))
    x.flat[:: 3] = 0.0
    got, mutated = _pure(student, "relu(x)", "relu", (x,))
    yield mutated or close("relu(x)", got, ref.relu(x))


@problem("relu_grad", points=2, needs=["relu_grad"], checks=2)
def relu_grad(student: Student, ctx: Context) -> Checks:
    """0 below zero, 1 above; at exactly 0 either is a sensible choice."""
    x = ctx.rng.normal(size=ctx.shape(2))
    x = away_from_kinks(x, 0.05)
    got, mutated = _pure(student, "relu_grad(x)", "relu_grad", (x,))
    yield mutated or close("relu_grad(x) for x away from 0", got, ref.relu_grad(x))
    at_zero = np.zeros(ctx.shape(1))
    got = as_array("relu_grad(0)", student.call("relu_grad", at_zero),
                   expected_shape=at_zero.shape)
    ok = got.shape == at_zero.shape and bool(np.all((got == 0) | (got == 1)))
    yield (CheckResult.passed("relu_grad(0)") if ok else CheckResult.failed(
        "relu_grad(0)", f"relu_grad(0) should be 0 or 1 for every entry of shape "
        f"{at_zero.shape}; got {np.unique(got)[:5]} with shape {got.shape}."))


def _bce_inputs(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    shape = ctx.shape(2)
    y = (ctx.rng.random(shape) < 0.5).astype(np.float64)
    y_hat = ctx.rng.uniform(0.02, 0.98, size=shape)
    return y, y_hat


@problem("bce_loss", points=1, needs=["bce_loss"], checks=1)
def bce_loss(student: Student, ctx: Context) -> Checks:
    """Elementwise binary cross-entropy, no reduction."""
    y, y_hat = _bce_inputs(ctx)
    got, mutated = _pure(student, "bce_loss(y, y_hat)", "bce_loss", (y, y_hat), "y, y_hat")
    yield mutated or close("bce_loss(y, y_hat)", got, ref.bce_loss(y, y_hat),
                           hint="The handout asks for the elementwise loss, without a mean "
                                "or sum.")


@problem("bce_loss_grad", points=2, needs=["bce_loss_grad"], checks=2)
def bce_loss_grad(student: Student, ctx: Context) -> Checks:
    """The derivative with respect to y_hat, elementwise."""
    y, y_hat = _bce_inputs(ctx)
    got, mutated = _pure(student, "bce_loss_grad(y, y_hat)", "bce_loss_grad", (y, y_hat),
                         "y, y_hat")
    h = 1e-7
    numeric = (ref.bce_loss(y, y_hat + h) - ref.bce_loss(y, y_hat - h)) / (2 * h)
    yield mutated or close("bce_loss_grad(y, y_hat) against central differences of the loss",
                           got, numeric, tol=1e-5)
    yield close("bce_loss_grad(y, y_hat)", got, ref.bce_loss_grad(y, y_hat),
                hint="Differentiate with respect to y_hat, entry by entry.")


# -- layers ---------------------------------------------------------------------------

def _backward(layer: Any, x: np.ndarray, dy: np.ndarray, grads: tuple[str, ...]
              ) -> tuple[dict[str, Any], list[Any]]:
    dx, after = layer.call_watching_args("backward", x, dy)
    out = {"dx": dx}
    for name in grads:
        out[name] = layer.get(name)
    return out, after


@problem("Linear", points=5, needs=["Linear"], checks=10)
def linear(student: Student, ctx: Context) -> Checks:
    """Forward, backward (dx, dW, db summed over the batch), the upstream gradient, step."""
    n, n_in, n_out = ctx.shape(3, low=3, high=13)
    layer = student.new("Linear", n_in, n_out, rng=student.rng(ctx.child_seed()))
    W0, b0 = layer.get("W"), layer.get("b")
    first = shape("Linear.W", W0, (n_in, n_out))
    if first.ok:
        first = close("Linear.b (starts at zero)", b0, np.zeros(n_out))
    if first.ok and np.std(as_array("Linear.W", W0, expected_shape=(n_in, n_out))) == 0:
        first = CheckResult.failed("Linear(n_in, n_out)", "Linear.W should start random, not "
                                   "constant: with a constant W every unit learns the same.")
    yield first if not first.ok else CheckResult.passed(
        f"Linear({n_in}, {n_out}): W of shape ({n_in}, {n_out}) random, b zero")

    # Give b non-zero values so that forward must really add it.
    W = ctx.rng.normal(size=(n_in, n_out))
    b = ctx.rng.normal(size=n_out)
    layer.set("W", W)
    layer.set("b", b)
    x = ctx.rng.normal(size=(n, n_in))
    out, after = layer.call_watching_args("forward", x)
    yield close(f"Linear.forward(x) for x of shape {x.shape}", out, x @ W + b
                ).keyed("Linear.forward(x)")

    dy = ctx.rng.normal(size=(n, n_out))
    got, after_b = _backward(layer, x, dy, ("dW", "db"))
    expected = {"dx": dy @ W.T, "dW": x.T @ dy, "db": dy.sum(axis=0)}
    hints = {"dx": "dx = dy · Wᵀ has the shape of x.", "dW": "dW = xᵀ · dy has the shape of W.",
             "db": "The handout sums the bias gradient over the batch."}
    for key in ("dx", "dW", "db"):
        yield close(f"Linear.backward(x, dy) → {key}", got[key], expected[key], hint=hints[key],
                    batch_size=n)

    again, _ = _backward(layer, x, dy, ("dW", "db"))
    shapes = {key: value.shape for key, value in expected.items()}
    yield repeatable("Linear.backward run twice", got, again, shapes=shapes)
    scaled, _ = _backward(layer, x, -2.0 * dy, ("dW", "db"))
    zero, _ = _backward(layer, x, np.zeros_like(dy), ("dW", "db"))
    yield scales_with_upstream("Linear.backward uses dy", got, scaled, -2.0, shapes=shapes)
    yield zero_upstream("Linear.backward with dy = 0", zero, shapes=shapes)

    mutated = unchanged("Linear.forward(x)", x, after[0])
    if mutated.ok:
        mutated = unchanged("Linear.backward(x, dy)", [x], [after_b[0]])
    yield mutated

    _backward(layer, x, dy, ("dW", "db"))  # the step uses the gradients of this dy
    eta = float(ctx.rng.uniform(0.05, 0.5))
    W_now = as_array("Linear.W", layer.get("W"), expected_shape=W.shape)
    b_now = as_array("Linear.b", layer.get("b"), expected_shape=b.shape)
    layer.call("step", eta)
    want_W, want_b = W_now - eta * expected["dW"], b_now - eta * expected["db"]
    step_W = close(f"Linear.step({eta:.3f}) → W", layer.get("W"), want_W,
                   hint="step should do W -= step_size * dW.")
    step_b = close(f"Linear.step({eta:.3f}) → b", layer.get("b"), want_b,
                   hint="step should do b -= step_size * db.")
    # One check whichever array it reports on, and whatever step size this run drew.
    yield (step_W if not step_W.ok else step_b).keyed("Linear.step")


def _activation_layer(student: Student, ctx: Context, cls: str, forward: Any,
                      derivative: Any) -> Checks:
    layer = student.new(cls)
    x = ctx.rng.normal(size=ctx.shape(2))
    x = away_from_kinks(x, 0.05)
    out, after = layer.call_watching_args("forward", x)
    yield close(f"{cls}.forward(x)", out, forward(x))
    dy = ctx.rng.normal(size=x.shape)
    dx, after_b = layer.call_watching_args("backward", x, dy)
    yield close(f"{cls}.backward(x, dy)", dx, dy * derivative(x),
                hint="backward returns dy times the derivative at x.")
    scaled = layer.call("backward", x, -2.0 * dy)
    yield scales_with_upstream(f"{cls}.backward uses dy", {"dx": dx}, {"dx": scaled}, -2.0,
                               shapes={"dx": x.shape})
    layer.call("step", 0.1)
    again = layer.call("forward", x)
    moved = close(f"{cls}.step changes nothing", again, forward(x))
    mutated = unchanged(f"{cls}.forward(x)", x, after[0])
    if mutated.ok:
        mutated = unchanged(f"{cls}.backward(x, dy)", x, after_b[0])
    yield moved if not moved.ok else mutated


@problem("Sigmoid", points=1, needs=["Sigmoid"], checks=4)
def sigmoid_layer(student: Student, ctx: Context) -> Checks:
    """The layer form of sigmoid: forward, backward with dy, a step that changes nothing."""
    yield from _activation_layer(student, ctx, "Sigmoid", ref.sigmoid, ref.sigmoid_grad)


@problem("ReLU", points=1, needs=["ReLU"], checks=4)
def relu_layer(student: Student, ctx: Context) -> Checks:
    """The layer form of ReLU, checked away from the kink at 0."""
    yield from _activation_layer(student, ctx, "ReLU", ref.relu, ref.relu_grad)


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


@problem("train_digits", points=3, training=True, timeout_s=240, checks=1,
         needs=["Linear", "ReLU", "Sigmoid", "bce_loss", "bce_loss_grad"])
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
