"""nyu-dl-hw1: NYU CS-GY 6953 / ECE-GY 7123 homework 1 — MLPs in numpy and in PyTorch.

Contract: ``shared/assignments/nyu-dl-hw1.md``. Expected values come from
``reference.nyu_dl_hw1`` on the trusted side only; the sandbox runs the
student's code and the course's own (``provided/``): the handout's helpers,
the handout's epoch loop, and the grader's model locator, tracer and
PyTorch training loop, which return plain data (layers, trained weights).

How a notebook is loaded (decisions the contract leaves open):

- MNIST. The notebook's ``tf.keras.datasets.mnist.load_data()`` cannot run
  here and is passed over; ``x_train``, ``y_train`` and ``x_test`` are
  already in the namespace, exactly as that loader returns them
  (``data.mnist_preset``; small stand-ins when MNIST is not installed, which
  only ``mnist_numpy.accuracy`` needs). ``y_test`` never is.
- The rest of the loading cell runs as written, so a notebook that rescales
  or reshapes the arrays there keeps its arrays: its ``train_one_epoch``
  trains on them. ``mnist_numpy.accuracy`` scores the trained weights here on
  the grader's own test images, as given, divided by 255, or with the scale
  and shift the notebook applied to its ``x_test`` (whose values are never
  scored). Probes pass each sample as the handout's loop does, a
  (28, 28) uint8 image; a function that rescales it to [0, 1] itself is
  compared with the reference on the rescaled sample.
- The numpy part's entry points that train or evaluate (``skip_calls``) are
  not run at top level; ``train_one_sample`` is one of them, so ``weights``
  and ``biases`` are the initialisation. A top-level PyTorch loop fails at
  once (torchvision is a stand-in, so its data sets and loaders have no
  data) or stops at the statement budget.
- ``weights``/``biases`` are read with ``student.get`` (an object array
  arrives as a handle and is read with ``tolist``) and put back after every
  problem that changes them, in the container the notebook built.

Written by hand, not declared with ``graders.derive``: every problem reads the
notebook's globals (``weights``, ``biases``, its ``x_test`` scaling) or traces a
PyTorch model, so there is no function or layer with the reference's API for a
helper to call (``docs/new-assignment.md``).

Trust: the forward pass is traced inside the sandbox, so a submission that
patches torch could misreport its layers (2 points, for more work than the
model itself). The accuracies cannot be faked that way: no prediction is
made in the sandbox. The trained weights come back, and the reference
forward pass (numpy) or a replay of the trained PyTorch layers, checked
against the model's outputs on random probe images, predicts the test
images here; the Fashion-MNIST test images never enter the sandbox.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

import reference.nyu_dl_hw1 as ref
from graders.checks import close, ramp, rel_error, unchanged
from graders.checks._format import shape_str, type_phrase
from graders.checks._validate import Invalid, real_array
from graders.engine.errors import StudentRaised, WrongValue
from graders.engine.proxy import Remote, Student
from graders.results import CheckResult
from graders.sandbox.limits import Limits
from graders.spec import Assignment, Context
from reference.nyu_dl_hw1.architecture import IGNORED_KINDS, LayerSpec

from . import replay
from .data import mnist_like, mnist_preset

PROVIDED = Path(__file__).with_name("provided")
HELPERS = ("sigmoid", "dsigmoid", "softmax", "cross_entropy_loss", "integer_to_one_hot")

assignment = Assignment(
    slug="nyu-dl-hw1",
    title="NYU CS-GY 6953 / ECE-GY 7123 homework 1: MLPs in numpy (MNIST) and PyTorch "
          "(Fashion-MNIST)",
    provided_dir=PROVIDED,
    overrides={name: f"handout:{name}" for name in HELPERS},
    # The numpy part's training and evaluation entry points. PyTorch loops are not listed:
    # with torchvision a stand-in they have no data and fail at once, whereas a skipped
    # ``model = train(model, loader)`` would bind None.
    skip_calls=("test_and_train", "train_one_epoch", "train_one_sample",
                "feed_forward_test_data", "feed_forward_training_data", "feed_forward_dataset"),
    # One sandbox serves every problem while it lives: room for both training runs.
    limits=Limits(wall_s=1800, cpu_s=1800),
    preset=mnist_preset,
)
problem = assignment.problem
Checks = Iterator[CheckResult]

SIZES = ref.LAYER_SIZES
HANDOUT_LR = 0.003
TOL = 1e-6
TOL_FLOAT32 = 1e-3
# Each of the 6 tests of mnist_numpy.init rejects a correct init with this probability, so
# a correct init fails the problem with probability below 6e-4 (< 0.001, the contract's bar).
INIT_ALPHA = 1e-4
# Those tests' bounds, written out: importing scipy.stats costs ~0.7 s of CPU on every cold
# grading. norm.isf(INIT_ALPHA / 2), and for each weight matrix's n = n_in * n_out,
# (chi2.ppf(INIT_ALPHA / 2, n), chi2.isf(INIT_ALPHA / 2, n)); test_spec_checks.py checks
# them against scipy. Another n (a near-miss shape) asks scipy itself.
INIT_Z = 3.890591886413094
INIT_CHI2 = {25088: (24225.916031125205, 25968.932603162822),
             1024: (857.2748112770463, 1209.5666297887715),
             320: (230.84782996317526, 427.9770992304923)}
# Inputs a probe compares against: the sample as given, and rescaled to [0, 1] inside.
SCALES = ((1.0, "as given"), (1 / 255, "rescaled to [0, 1]"))

# The grader's PyTorch training run (fixed, so a rerun gives the same score).
FASHION_EPOCHS = 5
FASHION_BATCH = 64
FASHION_LR = 1e-3
TRAIN_SEED = 6953
PROBES = 16  # random images on which the replayed layers must match the model's outputs


# -- written answers ----------------------------------------------------------------------

assignment.manual("written.l1_regression", points=3, description=(
    "Loss for linear regression with the l1 norm; why no closed form; representation, "
    "goodness and optimisation."))
assignment.manual("written.expressivity", points=4, description=(
    "Box function from two step neurons (w = 1, 1; biases 0, -delta; output weights h, -h); "
    "approximating a smooth function on [-B, B]; d-dimensional inputs."))
assignment.manual("written.initialization", points=5, description=(
    "var(a_j) = n_in sigma^2 v^2; sigma^2 = 1/n_in; factor 2 for ReLU; backward rule 1/n_out; "
    "Xavier 2/(n_in + n_out)."))
assignment.manual("written.softmax_jacobian", points=2, description=(
    "dy_i/dz_j = y_i (delta_ij - y_j)."))


# -- the PyTorch part -----------------------------------------------------------------------

def _torch_missing() -> CheckResult | None:
    if importlib.util.find_spec("torch") is not None:
        return None
    return CheckResult.skipped("PyTorch", "PyTorch is not installed on this grader; install "
                               "it with `pip install 'dlgrade[torch]'`.")


def _traced_layers(raw: Any) -> list[LayerSpec]:
    """The tracer's ``[[kind, in, out], ...]``, checked: it comes back from the sandbox."""
    if not isinstance(raw, list) or len(raw) > 500:
        raise WrongValue("the trace of the forward pass came back malformed.")
    layers = []
    for item in raw:
        if not (isinstance(item, list | tuple) and len(item) == 3 and isinstance(item[0], str)):
            raise WrongValue("the trace of the forward pass came back malformed.")
        n_in, n_out = (int(v) if isinstance(v, int) and not isinstance(v, bool) else None
                       for v in item[1:])
        layers.append(LayerSpec(item[0][:60], n_in, n_out))
    return layers


def _dims(value: Any) -> list[int] | None:
    """A shape reported by the tracer, or None when it is not a short list of sizes."""
    if isinstance(value, list | tuple) and len(value) <= 8 and all(
            isinstance(d, int) and not isinstance(d, bool) for d in value):
        return [int(d) for d in value]
    return None


def _listing(layers: Sequence[LayerSpec]) -> str:
    return ", ".join(map(str, layers)) if layers else "no layer"


def _difference(got: Sequence[LayerSpec], want: Sequence[LayerSpec]) -> str:
    """The first place where the traced layers leave the handout's, as one sentence."""
    for i, expected in enumerate(want):
        where = f"After {got[i - 1]}" if i else "First"
        if i >= len(got):
            return f"{where} the forward pass ends, where {expected} should come"
        if got[i] != expected:
            hint = (" (a ReLU defined in __init__ counts only if forward calls it)"
                    if expected.kind == "ReLU" else "")
            return f"{where} comes {got[i]} where {expected} is expected{hint}"
    return (f"After the last {want[-1]} comes {_listing(got[len(want):])}: the model should "
            "return the logits, since nn.CrossEntropyLoss applies log-softmax itself")


@problem("fashion_mlp.architecture", points=2, checks=2)
def fashion_architecture(student: Student, ctx: Context) -> Checks:
    """The layers one traced forward pass calls, in order, and the (N, 10) output."""
    missing = _torch_missing()
    if missing:
        yield missing
        return
    batch = ctx.shape(1, low=3, high=13)[0]  # a prime: never 10, never 1
    traced = student.provided("fashion_training:trace_model", student.namespace,
                              batch=batch, seed=ctx.child_seed())
    if not isinstance(traced, dict):
        raise WrongValue("the trace of the forward pass came back malformed.")
    if traced.get("model") is None:
        yield CheckResult.failed("the model", str(traced.get("message", "No model found."))[:800])
        return
    model = str(traced["model"])[:200]
    layers = [layer for layer in _traced_layers(traced.get("layers"))
              if layer.kind not in IGNORED_KINDS]
    want = ref.expected_architecture()
    name = f"{model}: layers in call order"
    # Keys leave out the student's own name for the model, so statistics group all students.
    if tuple(layers) == want:
        yield CheckResult.passed(name, _listing(layers), key="model: layers in call order")
    else:
        yield CheckResult.failed(name, (
            f"{model}: one forward pass calls {_listing(layers)} (flatten and dropout "
            f"ignored); expected {_listing(want)}. {_difference(layers, want)[:400]}."),
            key="model: layers in call order")

    input_shape = _dims(traced.get("input_shape"))
    output = _dims(traced.get("output_shape"))
    if input_shape is None:
        raise WrongValue("the trace of the forward pass came back malformed.")
    call = f"{model} on x of shape {shape_str(input_shape)}"
    key = "model: output"  # passed or not, whatever batch this run drew
    if output is None:
        yield CheckResult.failed(f"{call}: output", f"{call} returned "
                                 f"{str(traced.get('output_type'))[:60]}, expected a tensor of "
                                 f"shape ({batch}, 10).", key=key)
    elif output == [batch, 10]:
        yield CheckResult.passed(f"{call}: output of shape ({batch}, 10)", key=key)
    else:
        yield CheckResult.failed(f"{call}: output", key=key, message=f"{call}: output of shape "
                                 f"{shape_str(output)}, expected ({batch}, 10): one row of 10 "
                                 "class scores per image.")


@problem("fashion_mlp.accuracy", points=4, training=True, timeout_s=900, checks=1,
         dataset="fashion-mnist")
def fashion_accuracy(student: Student, ctx: Context) -> Checks:
    """A fresh copy of the model, trained by the grader's loop; accuracy on the test images."""
    missing = _torch_missing()
    if missing:
        yield missing
        return
    data = ctx.data["fashion-mnist"]
    probes = ctx.rng.integers(0, 256, size=(PROBES, 28, 28), dtype=np.uint8)
    out = student.provided("fashion_training:train_and_export", student.namespace,
                           data.x_train, data.y_train, probes, epochs=FASHION_EPOCHS,
                           batch_size=FASHION_BATCH, learning_rate=FASHION_LR, seed=TRAIN_SEED)
    if not isinstance(out, dict):
        raise WrongValue("the training run came back malformed.")
    if out.get("model") is None:
        yield CheckResult.failed("the model", str(out.get("message", "No model found."))[:800])
        return
    model = str(out["model"])[:200]
    # The test images never enter the sandbox: the layers the trained model's forward pass
    # called come back, are checked against its outputs on the probes, and predict here.
    try:
        layers = replay.layers_of(out.get("layers"))
        replay.check_replay(layers, _rows(probes), out.get("outputs"))
    except replay.NotReplayable as exc:
        yield CheckResult.failed("test accuracy", (
            f"{model}: the grader computes test predictions itself, from the layers one "
            f"forward pass calls, in order; {exc}. Write the forward pass as a chain of "
            "Linear layers and activations, as the handout's model is."))
        return
    with np.errstate(all="ignore"):
        predictions = np.argmax(replay.replay(layers, _rows(data.x_test)), axis=1)
    accuracy = float(np.mean(predictions == data.y_test))
    yield ramp("test accuracy", accuracy, zero_at=0.10, full_at=0.85, detail=(
        f"{model}, freshly initialised, trained by the grader: "
        f"{FASHION_EPOCHS} epochs over {len(data.y_train)} images, Adam (lr {FASHION_LR:g}), "
        f"minibatches of {FASHION_BATCH}, cross-entropy; tested on {len(data.y_test)} images "
        "with the trained layers replayed by the grader."))


def _rows(images: np.ndarray) -> np.ndarray:
    """uint8 images as the grader's training loop feeds them: [0, 1], one row per image."""
    return np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 255.0


# -- the numpy part: reading and restoring the module-level network --------------------------

@dataclass
class Params:
    """``weights`` or ``biases`` as the notebook holds them: arrays and their container."""

    name: str
    arrays: list[np.ndarray]
    container: str  # "list", "tuple" or "object array"

    def shapes(self) -> str:
        return ", ".join(shape_str(a.shape) for a in self.arrays) or "nothing"


def _numeric(label: str, value: Any) -> np.ndarray:
    """A numeric array from an array, number or (nested) list; anything else is wrong."""
    if isinstance(value, list | tuple):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError):
            raise WrongValue(f"{label}: expected a numeric array, got a ragged list.") from None
    if isinstance(value, np.ndarray | np.generic | int | float) and not isinstance(value, bool):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":
            return arr
    raise WrongValue(f"{label}: expected a numeric array, got {_kind(value)}.")


def _kind(value: Any) -> str:
    if isinstance(value, Remote):
        return f"a {value.type_name}"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return type_phrase(value)


def _read(student: Student, name: str) -> Params:
    """Read ``weights`` or ``biases``: a list, a tuple or an object array of arrays."""
    value = student.get(name)
    if isinstance(value, Remote) and value.type_name == "ndarray":
        items, container = value.call("tolist"), "object array"
    elif isinstance(value, list):
        items, container = value, "list"
    elif isinstance(value, tuple):
        items, container = list(value), "tuple"
    else:
        raise WrongValue(f"{name} should be a list (or tuple, or object array) of 3 arrays; got "
                    f"{_kind(value)}.")
    if not isinstance(items, list):
        raise WrongValue(f"{name} should hold 3 arrays; got {_kind(items)}.")
    return Params(name, [_numeric(f"{name}[{i}]", item) for i, item in enumerate(items)],
                  container)


def _put(student: Student, params: Params, arrays: Sequence[np.ndarray] | None = None) -> None:
    """Bind ``params.name`` to fresh copies of ``arrays``, in the notebook's own container."""
    copies = [np.array(a, copy=True) for a in (params.arrays if arrays is None else arrays)]
    value: Any = copies
    if params.container == "object array":
        value = student.provided("mnist_training:object_array", copies)
    elif params.container == "tuple":
        value = tuple(copies)
    student.assign(params.name, value)


@dataclass
class Network:
    weights: Params
    biases: Params


def _network(student: Student) -> Network:
    return Network(_read(student, "weights"), _read(student, "biases"))


@contextmanager
def _restoring(student: Student) -> Iterator[Network]:
    """The network as it is now, put back afterwards (also after the student's code raised).

    Not after a sandbox failure: the next problem starts a fresh sandbox anyway.
    """
    net = _network(student)
    try:
        yield net
    except (StudentRaised, WrongValue):
        _put(student, net.weights)
        _put(student, net.biases)
        raise
    _put(student, net.weights)
    _put(student, net.biases)


def _layouts(net: Network) -> list[tuple[ref.Layout, ...]]:
    """The readings of the student's network the reference can run, or why there is none."""
    candidates = ref.layout_candidates(net.weights.arrays)
    if not candidates:
        raise WrongValue(f"weights have shapes {net.weights.shapes()}: not the layers 784→32→32→10 "
                    "in either layout (W of shape (n_out, n_in) used as W @ a, or (n_in, n_out) "
                    "used as a @ W), so they cannot be checked here; see mnist_numpy.init.")
    sizes = SIZES[1:]
    if len(net.biases.arrays) != len(sizes) or any(
            b.size != n for b, n in zip(net.biases.arrays, sizes, strict=True)):
        raise WrongValue(f"biases have shapes {net.biases.shapes()}; expected 3 vectors of 32, 32 "
                    "and 10 entries.")
    return candidates


def _samples(ctx: Context, n: int, student: Student) -> list[tuple[np.ndarray, int]]:
    """MNIST-like uint8 images with random labels, shaped as the notebook's own loop passes
    them: (28, 28), or (784,) rows when its loading cell reshaped x_train."""
    images = mnist_like(ctx.rng, n)
    shape = student.provided("mnist_training:sample_shape", student.namespace)
    if shape == [28 * 28]:
        images = images.reshape(n, 28 * 28)
    return [(image, int(ctx.rng.integers(0, 10))) for image in images]


def _random_biases(ctx: Context, biases: Params) -> list[np.ndarray]:
    """Non-zero biases of the student's shapes, so a forward pass must really add them."""
    out = []
    for b in biases.arrays:
        dtype = b.dtype if b.dtype.kind == "f" else np.float64
        out.append(ctx.rng.normal(0.0, 0.5, size=b.shape).astype(dtype))
    return out


def _scaled(sample: np.ndarray, scale: float) -> np.ndarray:
    return sample if scale == 1.0 else sample / 255.0


# -- mnist_numpy.init -----------------------------------------------------------------------

def _init_layout(weights: Params) -> CheckResult:
    name = "weights: 784→32→32→10 in one layout"
    try:
        layout = ref.detect_layout(weights.arrays)
    except ValueError:
        per_layer = ref.layout_candidates(weights.arrays)
        if per_layer:
            return CheckResult.failed(name, (
                f"weights have shapes {weights.shapes()}: each fits 784→32→32→10, but not in "
                "one layout. Use (n_in, n_out) for every layer (a @ W) or (n_out, n_in) for "
                "every layer (W @ a)."))
        return CheckResult.failed(name, (
            f"weights have shapes {weights.shapes()}; expected 3 matrices for 784→32→32→10: "
            "(784, 32), (32, 32), (32, 10) used as a @ W, or (32, 784), (32, 32), (10, 32) "
            "used as W @ a."))
    return CheckResult.passed(name, f"shapes {weights.shapes()}, layout {layout}")


def _init_statistics(weights: Params) -> CheckResult:
    """Variance (chi-square) and mean (normal) of each W against N(0, 1/max(n_in, n_out)).

    Both tests are two-sided at level ``INIT_ALPHA``; the variance is the mean of
    w² (the mean is tested separately), compared with the exact chi-square bounds.
    """
    name = "weights: mean 0, variance 1/max(n_in, n_out)"
    if len(weights.arrays) != 3:
        return CheckResult.failed(name, f"weights should hold 3 matrices, it holds "
                                        f"{len(weights.arrays)}.")
    z = INIT_Z
    for i, (W, (n_in, n_out)) in enumerate(zip(weights.arrays, pairwise(SIZES), strict=True)):
        label = f"weights[{i}] ({n_in}→{n_out})"
        try:
            w = real_array(W, (n_in, n_out)).ravel()  # its size bounded before the copy
        except Invalid as exc:
            return CheckResult.failed(name, f"{label}: {exc}.")
        n, var = w.size, 1.0 / max(n_in, n_out)
        if n < 2 or not np.all(np.isfinite(w)):
            return CheckResult.failed(name, f"{label}: expected {n_in * n_out} finite values, "
                                            f"got {n}.")
        low, high = (q / n * var for q in _chi2_bounds(n))
        got = float(np.mean(w**2))
        if not low <= got <= high:
            hint = ""
            if abs(got - var**2) < 0.2 * var**2:
                hint = " That is the square of the target: use std = sqrt(1/max(n_in, n_out))."
            elif abs(got - 1.0) < 0.2:
                hint = " That is a standard normal: scale it by sqrt(1/max(n_in, n_out))."
            return CheckResult.failed(name, (
                f"{label}: variance {got:.4g}, expected 1/{max(n_in, n_out)} = {var:.4g} (a "
                f"correct init lands in [{low:.4g}, {high:.4g}] with probability "
                f"{1 - INIT_ALPHA:.4f}).{hint}"))
        # Only meaningful once the spread is right: a too wide init also "misses" the mean.
        mean_bound = z * np.sqrt(var / n)
        mean = float(w.mean())
        if abs(mean) > mean_bound:
            return CheckResult.failed(name, (
                f"{label}: mean {mean:.4g}, expected about 0 (a correct init lands within "
                f"±{mean_bound:.2g} with probability {1 - INIT_ALPHA:.4f})."))
    return CheckResult.passed(name)


def _chi2_bounds(n: int) -> tuple[float, float]:
    """The chi-square quantiles at INIT_ALPHA / 2 and 1 - INIT_ALPHA / 2 with n degrees."""
    if n in INIT_CHI2:
        return INIT_CHI2[n]
    from scipy import stats

    return (float(stats.chi2.ppf(INIT_ALPHA / 2, n)), float(stats.chi2.isf(INIT_ALPHA / 2, n)))


def _init_biases(biases: Params) -> CheckResult:
    name = "biases: zero vectors of 32, 32, 10"
    sizes = SIZES[1:]
    if len(biases.arrays) != len(sizes):
        return CheckResult.failed(name, f"biases should hold 3 vectors, it holds "
                                        f"{len(biases.arrays)}.")
    for i, (b, n) in enumerate(zip(biases.arrays, sizes, strict=True)):
        if b.size != n or sorted(b.shape)[-1:] != [n]:
            return CheckResult.failed(name, f"biases[{i}]: shape {shape_str(b.shape)}, expected "
                                            f"({n},) (or a ({n}, 1) column).")
        if np.any(b != 0):
            nonzero = int(np.count_nonzero(b))
            return CheckResult.failed(name, f"biases[{i}]: {nonzero} of {n} entries are not "
                                            "zero; the handout initialises biases to zero.")
    return CheckResult.passed(name)


@problem("mnist_numpy.init", points=2, needs=["weights", "biases"], checks=3)
def mnist_init(student: Student, ctx: Context) -> Checks:
    """Shapes in one layout, N(0, 1/max(n_in, n_out)) weights, zero biases."""
    net = _network(student)
    yield _init_layout(net.weights)
    yield _init_statistics(net.weights)
    yield _init_biases(net.biases)


# -- mnist_numpy.feed_forward_sample --------------------------------------------------------

def _loss_error(got: float, expected: float) -> float:
    if not (np.isfinite(got) and np.isfinite(expected)):
        return 0.0 if got == expected or (np.isnan(got) and np.isnan(expected)) else np.inf
    return abs(got - expected) / max(1e-8, abs(got) + abs(expected))


def _forward_output(call: str, out: Any) -> tuple[float, np.ndarray]:
    if not (isinstance(out, tuple | list) and len(out) == 2):
        kind = f"{len(out)} values" if isinstance(out, tuple | list) else _kind(out)
        raise WrongValue(f"{call} should return (loss, one_hot_guess); got {kind}.")
    loss = _numeric(f"{call} → loss", out[0])
    if loss.size != 1:
        raise WrongValue(f"{call} → loss: expected a number, got shape {shape_str(loss.shape)}.")
    guess = _numeric(f"{call} → one_hot_guess", out[1])
    if guess.size != 10 or sorted(guess.shape)[:-1] not in ([], [1]):
        raise WrongValue(f"{call} → one_hot_guess: expected 10 entries, got shape "
                    f"{shape_str(guess.shape)}.")
    return float(loss.reshape(())), guess.astype(np.float64).reshape(10)


def _forward_check(student: Student, what: str, weights: list[np.ndarray],
                   biases: list[np.ndarray], layouts: list[tuple[ref.Layout, ...]],
                   samples: list[tuple[np.ndarray, int]]) -> CheckResult:
    """Every sample's (loss, guess) against the reference on the same parameters."""
    name = f"feed_forward_sample(x, y) {what}"
    for sample, y in samples:
        call = f"feed_forward_sample(x, {y})"
        out, after = student.call_watching_args("feed_forward_sample", sample.copy(), y)
        mutated = unchanged(call, sample, after[0] if after else None, what="its input sample")
        if not mutated.ok:
            return CheckResult.failed(name, mutated.message)
        loss, guess = _forward_output(call, out)
        refs = [(ref.forward(weights, biases, _scaled(sample, s), y, lay), how)
                for s, how in SCALES for lay in layouts]
        (ref_loss, ref_guess, _), how = min(refs, key=lambda r: _loss_error(loss, r[0][0]))
        verdict = close(f"{call} → loss", loss, ref_loss, hint=_bias_hint(
            loss, weights, biases, sample, y, layouts))
        if not verdict.ok:
            return CheckResult.failed(name, verdict.message)
        if not np.array_equal(guess, ref_guess):
            return CheckResult.failed(name, (
                f"{call} → one_hot_guess: got {np.array2string(guess, precision=3)}, expected "
                f"the one-hot vector of class {int(np.argmax(ref_guess))}, the most likely one."))
    return CheckResult.passed(name, f"{len(samples)} samples (input {how}).")


def _bias_hint(loss: float, weights: list[np.ndarray], biases: list[np.ndarray],
               sample: np.ndarray, y: int, layouts: list[tuple[ref.Layout, ...]]) -> str:
    if all(not np.any(b) for b in biases):
        return ""
    zeros = [np.zeros_like(b, dtype=np.float64) for b in biases]
    for s, _ in SCALES:
        for lay in layouts:
            if _loss_error(loss, ref.forward(weights, zeros, _scaled(sample, s), y, lay)[0]) <= TOL:
                return "It equals the loss without biases: add b in every layer."
    return ""


@problem("mnist_numpy.feed_forward_sample", points=3, checks=2,
         needs=["feed_forward_sample", "weights", "biases"])
def feed_forward_sample(student: Student, ctx: Context) -> Checks:
    """Loss and one-hot guess on the student's own network, then with non-zero biases."""
    with _restoring(student) as net:
        layouts = _layouts(net)
        samples = _samples(ctx, 4, student)
        weights = net.weights.arrays
        yield _forward_check(student, "with your initial weights and biases", weights,
                             net.biases.arrays, layouts, samples[:2])
        biases = _random_biases(ctx, net.biases)
        _put(student, net.biases, biases)
        yield _forward_check(student, "with non-zero biases", weights, biases, layouts,
                             samples[2:])


# -- mnist_numpy.train_one_sample -----------------------------------------------------------

BLOCKS = ("weights[0]", "weights[1]", "weights[2]", "biases[0]", "biases[1]", "biases[2]")


def _stepped(old: list[np.ndarray], grads: list[np.ndarray], lr: float) -> list[np.ndarray]:
    return [p.astype(np.float64) - lr * g for p, g in zip(old, grads, strict=True)]


def _block_errors(new: list[np.ndarray], want: list[np.ndarray]) -> list[float]:
    return [rel_error(n.astype(np.float64), w) for n, w in zip(new, want, strict=True)]


def _off_by_ratio(old: np.ndarray, new: np.ndarray, grad: np.ndarray, lr: float) -> float:
    """‖implied − true gradient‖ / ‖true gradient‖, the implied one being (old − new) / lr."""
    implied = (old.astype(np.float64) - new.astype(np.float64)) / lr
    size = float(np.linalg.norm(grad))
    distance = float(np.linalg.norm(implied - grad))
    return distance / size if size else (0.0 if distance == 0 else float("inf"))


def _off_by(old: np.ndarray, new: np.ndarray, grad: np.ndarray, lr: float) -> str:
    """How far the implied gradient (old − new) / lr is from the true one, relative to it."""
    size = float(np.linalg.norm(grad))
    if size == 0:
        implied = (old.astype(np.float64) - new.astype(np.float64)) / lr
        return f"{float(np.linalg.norm(implied - grad)):.3g} where the true gradient is 0"
    ratio = _off_by_ratio(old, new, grad, lr)
    if ratio < 0.01:  # "off by 0%" next to a failure read as a contradiction
        return f"{ratio * 100:.2g}%"
    return f"{ratio:.0%}" if ratio < 10 else f"{ratio:.3g}×"


def _step_check(name: str, call: str, old: list[np.ndarray], new: list[np.ndarray],
                sample: np.ndarray, y: int, lr: float,
                layouts: list[tuple[ref.Layout, ...]]) -> CheckResult:
    """``new`` (weights + biases after the call) against old − lr · true gradient."""
    for label, before, after in zip(BLOCKS, old, new, strict=True):
        if after.shape != before.shape:
            return CheckResult.failed(name, f"{call}: {label} changed shape from "
                                            f"{shape_str(before.shape)} to "
                                            f"{shape_str(after.shape)}.")
    n = len(old) // 2
    options = []
    for s, _ in SCALES:
        for lay in layouts:
            x = _scaled(sample, s)
            dw, db = ref.gradients(old[:n], old[n:], x, y, lay)
            options.append((dw + db, x, lay))
    grads, x, lay = min(options, key=lambda o: max(_block_errors(new, _stepped(old, o[0], lr))))
    errors = _block_errors(new, _stepped(old, grads, lr))
    # float32 parameters carry ~1e-4 relative rounding through a whole forward and backward
    # pass, and more on entries near 0: the maths is right when each block's update is within
    # 1e-3 of -learning_rate × the true gradient, as a whole.
    single = any(np.asarray(a).dtype.itemsize < 8 for a in (*old, *new))
    tol = TOL_FLOAT32 if single else TOL
    if single:
        off = [_off_by_ratio(o, w, g, lr) for o, w, g in zip(old, new, grads, strict=True)]
        errors = [0.0 if r <= TOL_FLOAT32 else e for r, e in zip(off, errors, strict=True)]
        if max(errors) <= tol:
            return CheckResult.passed(name, f"{call}: float32 parameters; every block's update "
                                            f"is within {max(off):.1e} of the true one "
                                            f"(tolerance {TOL_FLOAT32:g}).")
    if max(errors) <= tol:
        return CheckResult.passed(name, f"{call}: max rel_error {max(errors):.1e}.")

    layer_words = ("layer 1", "layer 2", "the output layer")
    wrong = []
    for i in range(n):
        blocks = [(BLOCKS[k], k) for k in (i, n + i) if errors[k] > tol]
        if blocks:
            parts = [f"{label} off by {_off_by(old[k], new[k], grads[k], lr)}"
                     for label, k in blocks]
            wrong.append(f"{layer_words[i]} ({', '.join(parts)})")
    right = [layer_words[i] for i in range(n) if errors[i] <= tol and errors[n + i] <= tol]
    worst = int(np.argmax(errors))
    detail = close(f"{BLOCKS[worst]} after the call", new[worst],
                   _stepped(old, grads, lr)[worst]).message
    verdict = (f"{call}: the update is not −learning_rate × the true gradient in "
               f"{' and '.join(wrong)}")
    if right:
        verdict += f"; {' and '.join(right)} {'is' if len(right) == 1 else 'are'} right"
    measure = ("Off by = ‖(old − new) / learning_rate − true gradient‖ / ‖true gradient‖, "
               "the gradient at the parameters before the call.")
    hint = _step_hint(old, new, x, y, lr, lay)
    return CheckResult.failed(name, " ".join(p for p in (verdict + ".", hint, measure, detail)
                                             if p))


def _step_hint(old: list[np.ndarray], new: list[np.ndarray], x: np.ndarray, y: int, lr: float,
               layout: tuple[ref.Layout, ...]) -> str:
    """Name a classic mistake when the update matches it exactly."""
    n = len(old) // 2
    if all(np.array_equal(a, b) for a, b in zip(old, new, strict=True)):
        return ("Nothing changed: train_one_sample must update the module-level weights and "
                "biases, in place (weights[i] -= ...) or by rebinding them (global weights).")
    dw, db = ref.gradients(old[:n], old[n:], x, y, layout)
    true = [*dw, *db]
    dw, db = ref.gradients(old[:n], old[n:], x, y, layout, dsigmoid_at="activation")
    bug = [*dw, *db]
    variants = [
        (_stepped(old, bug, lr), "This is the update you get by applying dsigmoid to the "
         "activation sigmoid(z) instead of the pre-activation z: dsigmoid(z) already applies "
         "the sigmoid."),
        (_stepped(old, true, -lr), "The parameters moved up the gradient: subtract "
         "learning_rate × gradient."),
        (_stepped(old, true, 1.0), "The step ignores learning_rate."),
    ]
    for want, hint in variants:
        if max(_block_errors(new, want)) <= TOL:
            return hint
    return ""


@problem("mnist_numpy.train_one_sample", points=5, checks=3,
         needs=["train_one_sample", "weights", "biases"])
def train_one_sample(student: Student, ctx: Context) -> Checks:
    """One step on several samples and learning rates equals old − lr · true gradient."""
    with _restoring(student) as net:
        layouts = _layouts(net)
        probes = [(net.biases.arrays, HANDOUT_LR, "with your initial weights and biases"),
                  (_random_biases(ctx, net.biases), float(ctx.rng.uniform(0.01, 0.1)),
                   "with non-zero biases"),
                  (_random_biases(ctx, net.biases), float(ctx.rng.uniform(0.2, 1.0)),
                   "with non-zero biases and a large learning rate")]
        for (biases, lr, what), (sample, y) in zip(probes, _samples(ctx, len(probes), student),
                                                    strict=True):
            _put(student, net.weights)
            _put(student, net.biases, biases)
            call = f"train_one_sample(x, {y}, {lr:.4g})"
            student.call("train_one_sample", sample, y, lr)
            after = _network(student)
            if len(after.weights.arrays) != 3 or len(after.biases.arrays) != 3:
                yield CheckResult.failed(f"train_one_sample {what}", (
                    f"{call}: afterwards weights hold {len(after.weights.arrays)} arrays and "
                    f"biases {len(after.biases.arrays)}; expected 3 each."))
                continue
            old = [*net.weights.arrays, *biases]
            new = [*after.weights.arrays, *after.biases.arrays]
            yield _step_check(f"train_one_sample {what}", call, old, new, sample, y, lr, layouts)


# -- mnist_numpy.accuracy -------------------------------------------------------------------

AFFINE_RTOL = 1e-6


def _test_inputs(student: Student, supplied: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The test images as the trained weights may expect them, each built here from ours.

    As given, divided by 255, and, when the loading cell rescaled ``x_test``
    (``x_test / 255``, ``(x_test - mean) / std``), the same scale and shift
    applied to our copy. The notebook's ``x_test`` only tells the scale and
    shift: its values are never scored, so an ``x_test`` crafted to steer
    the predictions earns nothing.
    """
    x = np.asarray(supplied, dtype=np.float64).reshape(supplied.shape[0], -1)
    options = [(x, "as given"), (x / 255.0, "divided by 255")]
    if not student.has("x_test"):
        return options
    value = student.get("x_test")
    if not (isinstance(value, np.ndarray) and value.dtype.kind in "biuf"
            and value.size == x.size):
        return options
    mine = np.asarray(value, dtype=np.float64).reshape(x.shape)
    fitted = _affine(x, mine)
    if fitted is not None:
        a, b = fitted
        options.append((a * x + b, f"rescaled as your x_test is ({a:.4g}·x + {b:.4g})"))
    return options


def _affine(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """``(a, b)`` with ``y == a·x + b`` entry by entry, if there are such scalars."""
    lo, hi = float(x.min()), float(x.max())
    if hi == lo:
        return None
    i, j = np.unravel_index(np.argmin(x), x.shape), np.unravel_index(np.argmax(x), x.shape)
    a = (float(y[j]) - float(y[i])) / (hi - lo)
    b = float(y[i]) - a * lo
    if a == 0 or not np.allclose(y, a * x + b, rtol=AFFINE_RTOL, atol=AFFINE_RTOL * abs(a) * hi):
        return None
    return a, b


@problem("mnist_numpy.accuracy", points=3, training=True, timeout_s=900, checks=1,
         dataset="mnist", needs=["train_one_epoch", "weights", "biases"])
def mnist_accuracy(student: Student, ctx: Context) -> Checks:
    """Three epochs of the student's train_one_epoch; the reference forward pass scores them."""
    mnist = ctx.data["mnist"]
    with _restoring(student):
        student.provided("mnist_training:train_epochs", student.namespace, epochs=3,
                         learning_rate=HANDOUT_LR)
        trained = _network(student)
        inputs = _test_inputs(student, mnist.x_test)
    layouts = _layouts(trained)
    if not all(np.all(np.isfinite(p)) for p in trained.weights.arrays + trained.biases.arrays):
        yield CheckResult.failed("test accuracy", "After 3 epochs weights or biases contain NaN "
                                 "or inf: training diverged. Check the gradients.")
        return
    accuracy, source = max((float(np.mean(ref.predict(trained.weights.arrays,
                                                      trained.biases.arrays, x, lay)
                                          == mnist.y_test)), how)
                           for x, how in inputs for lay in layouts)
    yield ramp("test accuracy", accuracy, zero_at=0.10, full_at=0.70, detail=(
        f"After 3 calls of train_one_epoch(learning_rate={HANDOUT_LR}) on "
        f"{len(mnist.y_train)} training images; scored with the reference forward pass on "
        f"the grader's {len(mnist.y_test)} test images, {source}."))


__all__ = ["assignment"]
