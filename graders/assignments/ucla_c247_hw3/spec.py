"""ucla-c247-hw3: UCLA ECE C147/C247 homework 3 — two-layer and fully connected nets in numpy.

Contract: ``shared/assignments/ucla-c247-hw3.md``. Inputs are drawn from the
run's seed with distinct sizes; expected values come from
``reference.ucla_c247_hw3`` on the trusted side only. Decisions that shape
the checks:

- **Files, not names.** ``neural_net.py`` and ``fc_net.py`` both define
  ``TwoLayerNet``, so the student's code is reached by module
  (``nndl.fc_net``) through ``provided/probes.py``. ``Assignment.layout``
  loads ``fc_net.py`` uploaded on its own (or ``hw3/nndl/fc_net.py``) as
  ``nndl/fc_net.py``, so its ``from .layers import *`` works; a missing file
  fails only the problems that need it, with a message naming it.
- **One bug, one problem where the course allows it.** Layer backward passes
  are checked against numerical gradients of the reference forward pass, so
  a wrong forward costs only its own problem. A numerical check of the
  student's own loss that disagrees while the gradient equals the reference
  passes with a warning: the loss is what is wrong, and the loss checks
  already cost that. ``fc_net.py`` runs on the student's ``layers.py`` (the
  course's design), so a broken layer also fails fc_net checks; their
  messages then name the layer to fix first.
- **Layouts.** ``neural_net.scores`` checks the handout's ``W1`` (H, D)
  layout; ``loss`` and ``grads`` accept a consistently transposed layout so
  it is not charged three times.
- **ReLU kinks.** Numerical checks use inputs whose pre-activations stay at
  least 1e-3 from 0 (redrawn until they do), and ``check_gradient`` sets
  aside any point that still straddles a kink.
- **Training.** The two CIFAR-10 runs happen in the sandbox
  (``provided/training.py``) and return the trained parameters; the test
  images, 1,000 drawn for each run, and their labels stay here, the reference
  forward pass predicts, and the course's ramp, clip((acc - 0.28) / 0.22, 0,
  1), scores the accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

import reference.ucla_c247_hw3 as ucla_reference
from graders.assignments.ucla_c247_hw3 import hyperparams
from graders.assignments.ucla_c247_hw3.data import CifarSplit, cifar_split
from graders.assignments.ucla_c247_hw3.probing import (
    Files,
    abs_close,
    all_blocks,
    first_change,
    labelled,
    loss_hint,
    min_abs,
    noted,
    pair,
    same,
)
from graders.assignments.ucla_c247_hw3.provided import sandbox_files
from graders.checks import (
    away_from_kinks,
    check_gradient,
    close,
    ramp,
)
from graders.checks._validate import Invalid, real_array
from graders.derive import Arg
from graders.engine.errors import StudentRaised, WrongValue
from graders.engine.proxy import Remote, Student, as_array
from graders.results import CheckResult, stable_key
from graders.sandbox.limits import Limits, MiB
from graders.spec import Assignment, Context
from reference.ucla_c247_hw3 import fc_net as ref_fc
from reference.ucla_c247_hw3 import layers as ref_layers
from reference.ucla_c247_hw3 import neural_net as ref_nn

PROVIDED = Path(__file__).with_name("provided")
GRADED_FILES = ("nndl/neural_net.py", "nndl/layers.py", "nndl/fc_net.py")

assignment = Assignment(
    slug="ucla-c247-hw3",
    title="UCLA ECE C147/C247 homework 3: two-layer and fully connected networks in numpy",
    provided_dir=PROVIDED,
    # The course's helpers replace any copy the student kept or edited, in every file. The
    # affine_relu sandwiches need no override: nndl/layer_utils.py is always the course's file
    # (provided_files), and fc_net.py takes them from it.
    overrides={"softmax_loss": "softmax:softmax_loss",
               "Solver": "utils.solver:Solver",
               "eval_numerical_gradient": "utils.gradient_check:eval_numerical_gradient",
               "eval_numerical_gradient_array":
                   "utils.gradient_check:eval_numerical_gradient_array"},
    provided_modules=("probes", "training"),
    skip_calls=("train", "get_CIFAR10_data", "load_CIFAR10", "show", "savefig"),
    provided_files=sandbox_files,
    layout=(*GRADED_FILES, "nndl/layer_utils.py", "utils/solver.py", "utils/gradient_check.py"),
    graded_files=GRADED_FILES,
    # One sandbox serves every problem: room for both training runs and the probes, and for
    # 49,000 float64 CIFAR-10 images (1.2 GB) beside their uint8 copy.
    limits=Limits(wall_s=1800, cpu_s=1800, memory_bytes=3072 * MiB),
    reference=ucla_reference,  # the layer pairs are declared (graders/derive/pairs.py)
)
problem = assignment.problem
Checks = Iterator[CheckResult]
Arrays = dict[str, np.ndarray]


# -- layers.py --------------------------------------------------------------------------------

AFFINE_HANDOUT = np.array([[1.49834967, 1.70660132, 1.91485297],
                           [3.25553199, 3.51413270, 3.77273342]])
FLATTEN = ("The handout flattens x of shape (N, d_1, ..., d_k) row by row to (N, D): "
           "x.reshape(x.shape[0], -1).")


class InLayers:
    """The student's ``nndl/layers.py``, reached by module as every problem reaches it."""

    def __init__(self, student: Student) -> None:
        self.files = Files(student)

    def missing(self, names: Sequence[str]) -> CheckResult | None:
        return self.files.missing("layers", names)

    def call(self, name: str, args: Sequence[Any], label: str) -> tuple[Any, list[Any]]:
        return self.files.call("layers", name.rsplit(".", 1)[-1], *args, label=label)


def affine_handout_case(student: Student, ctx: Context) -> Checks:
    """The handout's own case: x of shape (2, 4, 5, 6) flattened row by row."""
    files = Files(student)
    if absent := files.missing("layers", ["affine_forward"]):
        yield absent
        return
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    label = "affine_forward(x, w, b)"
    got, after = files.call("layers", "affine_forward", x, w, b, label=label)
    out, _ = pair(label, got)
    changed = first_change(label, zip(("its input x", "its input w", "its input b"),
                                      (x, w, b), after, strict=True))
    yield changed if not changed.ok else close(f"{label}, the handout's case", out,
                                               AFFINE_HANDOUT, tol=1e-7, hint=FLATTEN)


# Each bug costs its own problem: backward passes are checked against finite differences of
# the reference forward, and run on the handout's cache when the student's forward raises.
# Writing into dout is only a warning (the contract); x has two dimensions to flatten.
assignment.layer(
    "layers.affine", points=(1, 2), grads="dx, dw, db", via=InLayers, warn_dout=True,
    cache=lambda x, w, b: (x, w, b), extra=(affine_handout_case, 1), hints={
        "out": FLATTEN,
        "dx": "The handout's dx is dout · wᵀ reshaped to x's own shape (N, d_1, ..., d_k).",
        "dw": "The handout's dw is x_flatᵀ · dout, with x flattened to (N, D).",
        "db": "The handout's db sums dout over the batch."},
    x=("N", "D1", "D2"), w=("D1*D2", "M"), b=("M",))
assignment.layer(
    "layers.relu", points=(1, 1), grads="dx", via=InLayers, warn_dout=True,
    cache=lambda x: x, hints={
        "out": "The ReLU is np.maximum(0, x), elementwise, with x's shape.",
        "dx": "The gradient is dout where the forward input x was positive, 0 elsewhere."},
    x=Arg(("N", "D", "K"), kinks=(0.0,)))


def _layers_note(files: Files, ctx: Context) -> str:
    """Which of the student's layers (that fc_net.py builds on) are wrong, said as a note."""
    if "layers" not in files.found:
        return "Note: fc_net.py imports nndl/layers.py, which is not in the submission."
    rng = np.random.default_rng(ctx.child_seed())
    x, w, b = rng.normal(size=(3, 5)), rng.normal(size=(5, 7)), rng.normal(size=7)
    a = away_from_kinks(x @ w + b, 0.05)
    dout = rng.normal(size=(3, 7))
    wrong = [name for name, ok in (
        ("affine_forward", lambda: _layer_ok(files, "affine_forward", (x, w, b), None, None)),
        ("affine_backward", lambda: _layer_ok(
            files, "affine_forward", (x, w, b), dout,
            ref_layers.affine_backward(dout, (x, w, b)), "affine_backward")),
        ("relu_forward", lambda: _layer_ok(files, "relu_forward", (a,), None, None)),
        ("relu_backward", lambda: _layer_ok(
            files, "relu_forward", (a,), dout, (ref_layers.relu_backward(dout, a),),
            "relu_backward")),
    ) if not ok()]
    if not wrong:
        return ""
    one = len(wrong) == 1
    return (f"Note: fc_net.py runs on your layers.py, and {', '.join(wrong)} there "
            f"{'is' if one else 'are'} wrong (see layers.{wrong[0]}): fix "
            f"{'it' if one else 'them'} first.")


def _layer_ok(files: Files, forward: str, args: tuple[np.ndarray, ...], dout: Any,
              want: Sequence[np.ndarray] | None, backward: str = "") -> bool:
    """One quick forward (and backward, on the student's own cache) against the reference."""
    reference = getattr(ref_layers, forward)(*args)[0]
    try:
        got, _ = files.call("layers", forward, *args, label=forward)
        out, cache = pair(forward, got)
        if want is None:
            return same(out, reference)
        grads, _ = files.call("layers", backward, dout, cache, label=backward)
        grads = grads if isinstance(grads, tuple | list) else (grads,)
        return len(grads) == len(want) and all(
            same(g, e) for g, e in zip(grads, want, strict=True))
    except (StudentRaised, WrongValue):
        return False


# -- neural_net.py: the first TwoLayerNet, weights (out, in) ----------------------------------

TOY_SCORES = np.array([[-1.07260209, 0.05083871, -0.87253915],
                       [-2.02778743, -0.10832494, -1.52641362],
                       [-0.74225908, 0.15259725, -0.39578548],
                       [-0.38172726, 0.10835902, -0.17328274],
                       [-0.64417314, -0.18886813, -0.41106892]])
TOY_LOSS = 1.071696123862817


def _toy() -> tuple[Arrays, np.ndarray, np.ndarray]:
    """The handout's toy model parameters and data, drawn exactly as its seeds draw them."""
    rs = np.random.RandomState(0)
    w1 = 1e-1 * rs.randn(10, 4)
    w2 = 1e-1 * rs.randn(3, 10)
    params = {"W1": w1, "b1": np.zeros(10), "W2": w2, "b2": np.zeros(3)}
    x = 10 * np.random.RandomState(1).randn(5, 4)
    return params, x, np.array([0, 1, 2, 2, 1])


def _toy_net(files: Files) -> Remote:
    return files.new("neural_net", "TwoLayerNet", 4, 10, 3, std=1e-1, seed=0,
                     label="TwoLayerNet(4, 10, 3, std=1e-1)")


def _params(label: str, model: Remote) -> dict[str, Any]:
    params = model.get("params")
    if not isinstance(params, dict):
        kind = params.type_name if isinstance(params, Remote) else type(params).__name__
        raise WrongValue(f"{label}.params should be a dict of arrays; got {kind}.")
    return params


def _layout(net: Remote, d: int, h: int, c: int) -> str | CheckResult:
    """"HD" for the handout's W1 (H, D), "DH" for a transposed one, else a failed check."""
    label = f"TwoLayerNet({d}, {h}, {c}).params"
    params = _params("TwoLayerNet", net)
    shapes = {k: np.shape(v) if isinstance(v, np.ndarray) else None for k, v in params.items()}
    if shapes.get("W1") == (h, d) and shapes.get("W2") == (c, h):
        return "HD"
    if shapes.get("W1") == (d, h) and shapes.get("W2") == (h, c):
        return "DH"
    got = ", ".join(f"{k} {s}" for k, s in shapes.items()) or "no parameters"
    return CheckResult.failed(label, f"{label}: expected W1 ({h}, {d}), b1 ({h},), W2 ({c}, "
                                     f"{h}), b2 ({c},); got {got}.")


def _student_layout(params: Arrays, layout: str) -> Arrays:
    """The reference's (out, in) weights as the student stores them."""
    if layout == "HD":
        return dict(params)
    return {k: (v.T.copy() if k.startswith("W") else v) for k, v in params.items()}


def _random_net_case(ctx: Context, *, margin: float = 1e-3
                     ) -> tuple[Arrays, np.ndarray, np.ndarray]:
    """Distinct sizes, hidden pre-activations at least ``margin`` away from ReLU's kink."""
    n, d, h, c = ctx.shape(4, low=3, high=13)
    for _ in range(200):
        params = {"W1": ctx.rng.normal(size=(h, d)) / math.sqrt(d),
                  "b1": ctx.rng.normal(scale=0.5, size=h),
                  "W2": ctx.rng.normal(size=(c, h)) / math.sqrt(h),
                  "b2": ctx.rng.normal(scale=0.5, size=c)}
        x = ctx.rng.normal(size=(n, d))
        if min_abs([x @ params["W1"].T + params["b1"]]) >= margin:
            break
    return params, x, ctx.rng.integers(c, size=n)


def _scores_note(files: Files, ctx: Context, layout: str) -> str:
    """Whether the student's forward pass is right, said as a note for loss and grads."""
    params, x, _ = _random_net_case(ctx)
    h, d = params["W1"].shape
    try:
        net = files.new("neural_net", "TwoLayerNet", d, h, params["W2"].shape[0],
                        label="TwoLayerNet")
        files.student.provided("probes:set_params", net, _student_layout(params, layout))
        ok = same(net.call("loss", x), ref_nn_scores(params, x))
    except (StudentRaised, WrongValue):
        ok = False
    return "" if ok else "Note: the scores are wrong too (see neural_net.scores): fix them first."


def ref_nn_scores(params: Arrays, x: np.ndarray) -> np.ndarray:
    net = _reference_net(params)
    return np.asarray(net.loss(x))


def _reference_net(params: Arrays) -> ref_nn.TwoLayerNet:
    net = ref_nn.TwoLayerNet.__new__(ref_nn.TwoLayerNet)
    net.params = {k: v.copy() for k, v in params.items()}
    return net


def _sum_abs(label: str, got: Any, expected: np.ndarray, tol: float) -> CheckResult:
    """The handout's own measure for the toy scores: the sum of absolute differences."""
    shape_check = close(label, got, expected, tol=np.inf)
    if not shape_check.ok:
        return shape_check
    arr = as_array(label, got, expected_shape=expected.shape)
    diff = np.abs(arr - expected)
    total = float(diff.sum())
    if total <= tol:
        return CheckResult.passed(label, f"sum of absolute differences {total:.1e} "
                                         f"(the handout allows {tol:g}).")
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return CheckResult.failed(label, (
        f"{label}: the sum of absolute differences from the handout's scores is {total:.3g} "
        f"(it allows {tol:g}); worst at [{idx[0]}, {idx[1]}]: got {arr[idx]:.8f}, expected "
        f"{expected[idx]:.8f}."))


@problem("neural_net.scores", points=2, checks=4)
def neural_net_scores(student: Student, ctx: Context) -> Checks:
    """The handout's toy model (init and forward), random shapes against the reference."""
    files = Files(student)
    if absent := files.missing("neural_net", ["TwoLayerNet"]):
        yield absent
        return
    net = _toy_net(files)
    layout = _layout(net, 4, 10, 3)
    if isinstance(layout, CheckResult):
        yield layout
    elif layout == "DH":
        yield CheckResult.failed("TwoLayerNet(4, 10, 3).params", (
            "TwoLayerNet(4, 10, 3).params: W1 has shape (4, 10) and W2 (10, 3); the handout "
            "stores W1 as (hidden_size, input_size) = (10, 4) and W2 as (3, 10), and the "
            "forward pass computes X · W1ᵀ + b1."))
    else:
        yield CheckResult.passed("TwoLayerNet(4, 10, 3).params",
                                 "W1 (10, 4), b1 (10,), W2 (3, 10), b2 (3,).")
    _, x, _ = _toy()
    yield _sum_abs("TwoLayerNet.loss(X) on the handout's toy model", net.call("loss", x),
                   TOY_SCORES, 1e-7)

    params, x, _ = _random_net_case(ctx)
    h, d = params["W1"].shape
    c = params["W2"].shape[0]
    net = files.new("neural_net", "TwoLayerNet", d, h, c, label=f"TwoLayerNet({d}, {h}, {c})")
    student.provided("probes:set_params", net,
                     _student_layout(params, layout if isinstance(layout, str) else "HD"))
    scores, after = net.call_watching_args("loss", x)
    yield close(f"TwoLayerNet({d}, {h}, {c}).loss(X) for X of shape {x.shape}", scores,
                ref_nn_scores(params, x),
                hint="The handout's scores are relu(X · W1ᵀ + b1) · W2ᵀ + b2.")
    mine = _student_layout(params, layout if isinstance(layout, str) else "HD")
    yield first_change("TwoLayerNet.loss(X)", [("its input X", x, after[0]),
                                               ("params", mine, _params("TwoLayerNet", net))])


def _loss_and_grads(label: str, out: Any) -> tuple[Any, Any]:
    return pair(label, out, "(loss, grads)")


@problem("neural_net.loss", points=2, checks=4)
def neural_net_loss(student: Student, ctx: Context) -> Checks:
    """The handout's toy loss (reg 0.05), random cases with and without reg, inputs untouched."""
    files = Files(student)
    if absent := files.missing("neural_net", ["TwoLayerNet"]):
        yield absent
        return
    net = _toy_net(files)
    layout = _layout(net, 4, 10, 3)
    if isinstance(layout, CheckResult):
        yield layout
        return
    yield from noted(_loss_checks(files, ctx, net, layout), _scores_note(files, ctx, layout))


def _loss_checks(files: Files, ctx: Context, net: Remote, layout: str) -> Checks:
    params, x, y = _toy()
    files.student.provided("probes:set_params", net, _student_layout(params, layout))
    label = "TwoLayerNet.loss(X, y, reg=0.05) on the handout's toy model"
    got, _ = _loss_and_grads(label, net.call("loss", x, y, reg=0.05))
    data = _reference_net(params).loss(x, y, reg=0.0)[0]
    yield abs_close(label, got, TOY_LOSS, 1e-10, loss_hint(
        got, data, [params["W1"], params["W2"]], [params["b1"], params["b2"]], 0.05, len(y)))

    changed = CheckResult.passed("TwoLayerNet.loss(X, y, reg)")
    for reg in (0.0, float(ctx.rng.uniform(0.1, 1.0))):
        params, x, y = _random_net_case(ctx)
        h, d = params["W1"].shape
        c = params["W2"].shape[0]
        net = files.new("neural_net", "TwoLayerNet", d, h, c, label=f"TwoLayerNet({d}, {h}, {c})")
        mine = _student_layout(params, layout)
        files.student.provided("probes:set_params", net, mine)
        label = f"TwoLayerNet({d}, {h}, {c}).loss(X, y, reg={reg:.3g})"
        out, after = net.call_watching_args("loss", x, y, reg=reg)
        got, _ = _loss_and_grads(label, out)
        ref = _reference_net(params)
        data = ref.loss(x, y, reg=0.0)[0]
        hint = loss_hint(got, data, [params["W1"], params["W2"]], [params["b1"], params["b2"]],
                         reg, len(y))
        yield close(label, got, ref.loss(x, y, reg=reg)[0], hint=hint)
        if changed.ok:
            changed = first_change(label, [("its input X", x, after[0]),
                                           ("its input y", y, after[1]),
                                           ("params", mine, _params("TwoLayerNet", net))])
    yield changed


def _grads_dict(label: str, grads: Any, params: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(grads, dict):
        raise WrongValue(f"{label}: grads should be a dict with the keys of params; got "
                         f"{type(grads).__name__}.")
    absent = [k for k in params if k not in grads]
    if absent:
        raise WrongValue(f"{label}: grads has no {', '.join(absent)} (it has "
                         f"{', '.join(map(str, grads)) or 'no keys'}).")
    return grads


def _against_reference(label: str, got: dict[str, Any], want: Arrays, params: Arrays,
                       reg: float, batch: int) -> tuple[CheckResult, dict[str, bool]]:
    """Every gradient block against the reference; reg·W is named when it explains the gap."""
    results = {}
    for key, expected in want.items():
        reg_term = reg * params[key] if key.startswith("W") and reg else None
        results[key] = close(f"{label} → grads[{key!r}]", got[key], expected,
                             batch_size=batch, reg_term=reg_term)
    agree = {k: r.ok for k, r in results.items()}
    return all_blocks(f"{label}: grads against the reference", results.values()), agree


@problem("neural_net.grads", points=4, checks=4)
def neural_net_grads(student: Student, ctx: Context) -> Checks:
    """Every gradient against the reference and against numerical gradients of the own loss."""
    files = Files(student)
    if absent := files.missing("neural_net", ["TwoLayerNet"]):
        yield absent
        return
    layout = _layout(_toy_net(files), 4, 10, 3)
    if isinstance(layout, CheckResult):
        yield layout
        return
    yield from noted(_grad_checks(files, ctx, layout), _scores_note(files, ctx, layout))


def _grad_checks(files: Files, ctx: Context, layout: str) -> Checks:
    for reg in (0.0, float(ctx.rng.uniform(0.1, 1.0))):
        params, x, y = _random_net_case(ctx)
        h, d = params["W1"].shape
        c = params["W2"].shape[0]
        net = files.new("neural_net", "TwoLayerNet", d, h, c, label=f"TwoLayerNet({d}, {h}, {c})")
        mine = _student_layout(params, layout)
        files.student.provided("probes:set_params", net, mine)
        label = f"TwoLayerNet({d}, {h}, {c}).loss(X, y, reg={reg:.3g})"
        _, grads = _loss_and_grads(label, net.call("loss", x, y, reg=reg))
        grads = _grads_dict(label, grads, mine)
        _, want = _reference_net(params).loss(x, y, reg=reg)
        if layout == "DH":
            want = _student_layout(want, layout)
        verdict, agree = _against_reference(label, grads, want, mine, reg, len(y))
        yield verdict
        yield _numerical(files, ctx, label, net, mine, grads, (x, y), {"reg": reg}, agree,
                         " (see neural_net.loss)")


def _numerical(files: Files, ctx: Context, label: str, model: Remote, params: Arrays,
               grads: dict[str, Any], args: tuple[np.ndarray, ...], kwargs: dict[str, Any],
               agree: dict[str, bool], blame: str = "") -> CheckResult:
    """Every gradient block against numerical gradients of the student's own loss."""
    def f(p: Arrays) -> Any:
        with labelled(label):
            return files.student.provided("probes:loss_at", model, p, *args, **kwargs)

    # Consistency with the student's own loss: a constant loss with zero gradients has it.
    return replace(all_blocks(
        f"{label}: grads against numerical gradients of your loss", check_gradient(
            label + " → grads", f, params, {k: grads[k] for k in params}, rng=ctx.rng,
            coords_per_param=6, directions=2, batch_size=len(args[1])),
        agree=agree, blame=blame), supporting=True)


@problem("neural_net.train_predict", points=2, checks=3)
def neural_net_train_predict(student: Student, ctx: Context) -> Checks:
    """train on the toy data: final loss below 0.02, three histories; predict = argmax scores.

    The final loss is the reference's loss of the trained parameters on the toy
    data, so a wrong loss value (graded in neural_net.loss) does not count twice.
    """
    files = Files(student)
    if absent := files.missing("neural_net", ["TwoLayerNet"]):
        yield absent
        return
    net = _toy_net(files)
    layout = _layout(net, 4, 10, 3)
    note = _scores_note(files, ctx, layout) if isinstance(layout, str) else ""
    yield from noted(_train_checks(files, ctx, net, layout), note)


def _train_checks(files: Files, ctx: Context, net: Remote, layout: str | CheckResult
                  ) -> Checks:
    _, x, y = _toy()
    files.student.provided("probes:seed", ctx.child_seed())
    label = "TwoLayerNet.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100)"
    stats = net.call("train", x, y, x, y, learning_rate=1e-1, reg=5e-6, num_iters=100,
                     verbose=False)
    # The bookkeeping counts only beside trained parameters that work (a supporting check).
    yield replace(_histories(label, stats, 100), supporting=True)
    yield _final_loss(net, layout, x, y)

    xr = ctx.rng.normal(scale=10.0, size=(13, 4))
    scores = as_array("TwoLayerNet.loss(X)", net.call("loss", xr), expected_shape=(13, None))
    got = net.call("predict", xr)
    if scores.ndim != 2:
        yield CheckResult.failed("TwoLayerNet.predict(X)", (
            f"TwoLayerNet.predict(X): the scores have shape {scores.shape}, so no label can "
            "be read from them (see neural_net.scores)."))
    elif np.all(scores == scores[:, :1]):
        yield CheckResult.failed("TwoLayerNet.predict(X)", (
            "TwoLayerNet.predict(X): every class gets the same score, so any label is the "
            "argmax and predict cannot be checked (see neural_net.scores)."))
    else:
        yield close("TwoLayerNet.predict(X) equals the argmax of the scores", got,
                    np.argmax(scores, axis=1).astype(np.float64),
                    hint="The prediction for each row is the index of its largest score, "
                         "np.argmax(scores, axis=1).")


def _histories(label: str, stats: Any, iters: int) -> CheckResult:
    keys = ("loss_history", "train_acc_history", "val_acc_history")
    if not isinstance(stats, dict) or any(k not in stats for k in keys):
        have = ", ".join(map(str, stats)) if isinstance(stats, dict) else type(stats).__name__
        return CheckResult.failed(label, f"{label} should return a dict with "
                                         f"{', '.join(keys)}; got {have or 'an empty dict'}.")
    losses = stats["loss_history"]
    size = len(losses) if isinstance(losses, list | tuple | np.ndarray) else None
    if size != iters:
        return CheckResult.failed(label, f"{label}: loss_history should hold one loss per "
                                         f"iteration ({iters}); got {size}.")
    try:  # each entry one number (a float, or a 0-d or size-1 array)
        loss_values = real_array(np.asarray(losses), (iters,)).reshape(-1)
    except (Invalid, ValueError, TypeError):  # not one number each: neural_net.loss says why
        loss_values = np.ones(iters)
    if loss_values.size == iters and (
            not np.all(np.isfinite(loss_values)) or np.any(loss_values <= 0)):
        return CheckResult.failed(label, f"{label}: every entry of loss_history is a "
                                         "cross-entropy loss, finite and above 0.")
    # The toy set has 5 images and batches of 200: every iteration ends an epoch.
    for key in ("train_acc_history", "val_acc_history"):
        values = stats[key]
        n = len(values) if isinstance(values, list | tuple | np.ndarray) else None
        if n != iters:
            return CheckResult.failed(label, (
                f"{label}: {key} should hold one accuracy per epoch; with 5 training images "
                f"an epoch is one iteration (iterations_per_epoch = max(num_train / "
                f"batch_size, 1)), so {iters} entries; got {n}."))
        try:
            acc = real_array(np.asarray(values), (iters,)).reshape(-1)
        except (Invalid, ValueError, TypeError):
            return CheckResult.failed(label, f"{label}: {key} should hold numbers.")
        if np.any((acc < 0) | (acc > 1)):
            return CheckResult.failed(label, (
                f"{label}: {key} holds {float(np.max(acc)):g}; an accuracy is the fraction of "
                "labels predicted right, between 0 and 1 (np.mean, not np.sum)."))
    return CheckResult.passed(label, "returns loss, training and validation histories.")


def _final_loss(net: Remote, layout: str | CheckResult, x: np.ndarray, y: np.ndarray
                ) -> CheckResult:
    """The trained parameters' loss on the toy data (reg 5e-6), by the reference."""
    label = "training loss after train"
    params = _params("TwoLayerNet", net)
    shapes = {"W1": (10, 4), "b1": (10,), "W2": (3, 10), "b2": (3,)}
    if isinstance(layout, CheckResult) or any(
            not isinstance(params.get(k), np.ndarray) for k in shapes):
        return CheckResult.failed(label, f"{label}: the trained params cannot be read "
                                         "(see neural_net.scores).")
    trained = {k: as_array(f"trained params[{k!r}]", params[k], expected_shape=shapes[k])
               for k in shapes}
    if layout == "DH":
        trained = _student_layout(trained, "DH")
    wrong = {k: v.shape for k, v in trained.items() if v.shape != shapes[k]}
    if wrong:
        return CheckResult.failed(label, f"{label}: after train, " + ", ".join(
            f"params[{k!r}] has shape {s}, expected {shapes[k]}" for k, s in wrong.items())
            + ": train must update the parameters in place, keeping their shapes.")
    loss = float(_reference_net(trained).loss(x, y, reg=5e-6)[0])
    if loss < 0.02:
        return CheckResult.passed(label, f"{loss:.4f} on the toy data (below 0.02; the "
                                         "handout's run: 0.0145).")
    return CheckResult.failed(label, (
        f"{label}: the trained parameters have loss {loss:.4g} on the toy data; the handout's "
        "run ends at 0.0145, and anything below 0.02 passes. Is every parameter updated with "
        "params[name] -= learning_rate * grads[name], and stored back in self.params?"))


# -- fc_net.py: modular TwoLayerNet and FullyConnectedNet, weights (in, out) -------------------

FC_SCORES_START = np.array([11.53165108, 12.2917344, 13.05181771])
FC_LOSS = {0.0: 3.4702243556, 1.0: 26.5948426952}


def _fc_fixed_case() -> tuple[Arrays, np.ndarray, np.ndarray]:
    """The handout's fixed case: N, D, H, C = 3, 5, 50, 7, every value a linspace."""
    n, d, h, c = 3, 5, 50, 7
    params = {"W1": np.linspace(-0.7, 0.3, num=d * h).reshape(d, h),
              "b1": np.linspace(-0.1, 0.9, num=h),
              "W2": np.linspace(-0.3, 0.4, num=h * c).reshape(h, c),
              "b2": np.linspace(-0.9, 0.1, num=c)}
    x = np.linspace(-5.5, 4.5, num=n * d).reshape(d, n).T
    return params, x, np.array([0, 5, 1])


def _fc_params(dims: Sequence[int], ctx: Context, x: np.ndarray, margin: float = 1e-3
               ) -> Arrays:
    """Weights (in, out) that keep every hidden pre-activation ``margin`` away from 0."""
    for _ in range(200):
        params: Arrays = {}
        out = x
        near = np.inf
        for i, (n_in, n_out) in enumerate(pairwise(dims), start=1):
            params[f"W{i}"] = ctx.rng.normal(size=(n_in, n_out)) * math.sqrt(2.0 / n_in)
            params[f"b{i}"] = ctx.rng.normal(scale=0.3, size=n_out)
            out = out @ params[f"W{i}"] + params[f"b{i}"]
            if i < len(dims) - 1:
                near = min(near, min_abs([out]))
                out = np.maximum(out, 0)
        if near >= margin:
            break
    return params


def _reference_fc(cls: type, params: Arrays, reg: float, n_layers: int) -> Any:
    model: Any = object.__new__(cls)
    model.params = {k: v.copy() for k, v in params.items()}
    model.reg = reg
    model.num_layers = n_layers
    model.dtype = np.float64
    return model


def _fc_gradient_checks(files: Files, ctx: Context, model: Remote, what: str, params: Arrays,
                        x: np.ndarray, y: np.ndarray, reg: float, reference: Any) -> Checks:
    """Loss and every gradient against the reference; gradients against numerical ones."""
    files.student.provided("probes:set_params", model, params)
    model.set("reg", reg)
    label = f"{what}.loss(X, y) with reg = {reg:g}"
    loss, grads = _loss_and_grads(label, model.call("loss", x, y))
    grads = _grads_dict(label, grads, params)
    want_loss, want = reference.loss(x, y)
    data_loss = _reference_fc(type(reference), params, 0.0, reference.num_layers).loss(x, y)[0]
    hint = loss_hint(loss, data_loss, [v for k, v in params.items() if k.startswith("W")],
                     [v for k, v in params.items() if k.startswith("b")], reg, len(y))
    if not same(model.call("loss", x), reference.loss(x)):
        hint = ("The scores, loss(X), differ from the reference's too: the forward pass is "
                "wrong (affine - relu - ... - affine, no ReLU after the last layer).")
    loss_check = close(f"{label} → loss", loss, want_loss, hint=hint)
    verdict, agree = _against_reference(label, grads, want, params, reg, len(y))
    name = f"{label}: loss and grads against the reference"
    yield (CheckResult.failed(name, loss_check.message) if not loss_check.ok else
           verdict if not verdict.ok else CheckResult.passed(name, verdict.message))
    yield _numerical(files, ctx, label, model, params, grads, (x, y), {}, agree)


@problem("fc_net.TwoLayerNet", points=4, checks=9)
def fc_two_layer_net(student: Student, ctx: Context) -> Checks:
    """Initialisation, the handout's fixed case, numerical gradient checks with reg 0 and 0.7."""
    files = Files(student)
    if absent := files.missing("fc_net", ["TwoLayerNet"]):
        yield absent
        return
    yield from noted(_fc_two_layer_checks(files, ctx), _layers_note(files, ctx))


def _fc_two_layer_checks(files: Files, ctx: Context) -> Checks:
    d, h, c = 97, 101, 23  # thousands of weights per matrix: their std is within 3% of scale
    scale = float(ctx.rng.choice([1e-3, 1e-2, 5e-2]))
    build = f"TwoLayerNet(input_dim={d}, hidden_dims={h}, num_classes={c}, weight_scale={scale:g})"
    model = files.new("fc_net", "TwoLayerNet", input_dim=d, hidden_dims=h, num_classes=c,
                      weight_scale=scale, seed=ctx.child_seed(), label=build)
    yield _fc_init_check(build, _params(build, model), {"W1": (d, h), "b1": (h,),
                                                        "W2": (h, c), "b2": (c,)}, scale)

    params, x, y = _fc_fixed_case()
    d = x.shape[1]
    h, c = params["W2"].shape
    model = files.new("fc_net", "TwoLayerNet", input_dim=d, hidden_dims=h, num_classes=c,
                      weight_scale=1e-2, label=f"TwoLayerNet(input_dim={d}, hidden_dims={h}, "
                                               f"num_classes={c})")
    files.student.provided("probes:set_params", model, params)
    scores = model.call("loss", x)
    ref = _reference_fc(ref_fc.TwoLayerNet, params, 0.0, 2)
    first = close("TwoLayerNet.loss(X) on the handout's fixed case", scores, ref.loss(x),
                  hint="The handout's scores are relu(X · W1 + b1) · W2 + b2, with W1 of "
                       "shape (D, H).")
    if first.ok:
        first = close("TwoLayerNet.loss(X) on the handout's fixed case, scores[0, :3]",
                      np.asarray(scores)[0, :3], FC_SCORES_START, tol=1e-8)
    yield first
    for reg, expected in FC_LOSS.items():
        model.set("reg", reg)
        label = f"TwoLayerNet.loss(X, y) on the handout's fixed case with reg = {reg:g}"
        loss, _ = _loss_and_grads(label, model.call("loss", x, y))
        yield abs_close(label, loss, expected, 1e-10, loss_hint(
            loss, FC_LOSS[0.0], [params["W1"], params["W2"]], [params["b1"], params["b2"]],
            reg, len(y)))
    _, after = model.call_watching_args("loss", x, y)
    changed = first_change("TwoLayerNet.loss(X, y)", [
        ("its input X", x, after[0]), ("its input y", y, after[1]),
        ("params", params, _params("TwoLayerNet", model))])

    n, d, h, c = ctx.shape(4, low=3, high=13)
    x = ctx.rng.normal(size=(n, d))
    y = ctx.rng.integers(c, size=n)
    params = _fc_params((d, h, c), ctx, x)
    model = files.new("fc_net", "TwoLayerNet", input_dim=d, hidden_dims=h, num_classes=c,
                      label=f"TwoLayerNet(input_dim={d}, hidden_dims={h}, num_classes={c})")
    for reg in (0.0, 0.7):
        yield from _fc_gradient_checks(files, ctx, model, "TwoLayerNet", params, x, y, reg,
                                       _reference_fc(ref_fc.TwoLayerNet, params, reg, 2))
    yield changed


def _fc_init_check(build: str, params: dict[str, Any], shapes: dict[str, tuple[int, ...]],
                   scale: float) -> CheckResult:
    """Shapes, weight std within 10% of weight_scale, biases zero."""
    for key, want in shapes.items():
        value = params.get(key)
        if not isinstance(value, np.ndarray) or value.shape != want:
            got = value.shape if isinstance(value, np.ndarray) else type(value).__name__
            return CheckResult.failed(build, f"{build}: params[{key!r}] should have shape "
                                             f"{want}; got {got}.")
        if key.startswith("b") and np.any(value != 0):
            return CheckResult.failed(build, f"{build}: params[{key!r}] should start at zero.")
        if key.startswith("W"):
            std = float(np.std(value))
            if abs(std - scale) > 0.1 * scale:
                return CheckResult.failed(build, (
                    f"{build}: params[{key!r}] has standard deviation {std:.3g}; it should be "
                    f"weight_scale = {scale:g} (within 10%): weight_scale * np.random.randn(...)."))
    return CheckResult.passed(build, "shapes, weight_scale and zero biases as the handout's.")


def _fcn_case(ctx: Context, hidden: Sequence[int], d: int, c: int
              ) -> tuple[Arrays, np.ndarray, np.ndarray]:
    n = int(ctx.rng.choice([p for p in (2, 3, 5, 7) if p not in (d, c, *hidden)]))
    x = ctx.rng.normal(size=(n, d))
    return _fc_params((d, *hidden, c), ctx, x), x, ctx.rng.integers(c, size=n)


@problem("fc_net.FullyConnectedNet", points=4, checks=14)
def fully_connected_net(student: Student, ctx: Context) -> Checks:
    """Parameters and dtype, initial loss near log(C), gradient checks with reg 0 and 3.14."""
    files = Files(student)
    if absent := files.missing("fc_net", ["FullyConnectedNet"]):
        yield absent
        return
    yield from noted(_fcn_checks(files, ctx), _layers_note(files, ctx))


def _fcn_checks(files: Files, ctx: Context) -> Checks:
    other = list(ctx.shape(int(ctx.rng.choice([1, 3])), low=5, high=13))
    depths = [([20, 30], 15, 10), (other, 17, 3)]
    hidden, d, c = depths[0]
    build = f"FullyConnectedNet({hidden}, input_dim={d}, num_classes={c}, dtype=np.float64)"
    model = files.new("fc_net", "FullyConnectedNet", hidden, input_dim=d, num_classes=c,
                      dtype="float64", seed=ctx.child_seed(), label=build)
    params = _params(build, model)
    dims = [d, *hidden, c]
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(1, len(dims)):
        shapes[f"W{i}"] = (dims[i - 1], dims[i])
        shapes[f"b{i}"] = (dims[i],)
    yield _fcn_structure(build, params, shapes)

    default = files.new("fc_net", "FullyConnectedNet", hidden, input_dim=d, num_classes=c,
                        seed=ctx.child_seed(),
                        label=f"FullyConnectedNet({hidden}, input_dim={d}, num_classes={c})")
    yield _fcn_dtype(params, _params("FullyConnectedNet", default))

    for (hidden, d, c), key in zip(depths, DEPTH_KEYS, strict=True):
        what = f"FullyConnectedNet({hidden}, input_dim={d}, num_classes={c})"
        small = files.new("fc_net", "FullyConnectedNet", hidden, input_dim=d, num_classes=c,
                          weight_scale=1e-2, dtype="float64", seed=ctx.child_seed(),
                          label=what)
        x0 = ctx.rng.normal(size=(int(ctx.rng.choice([2, 3])), d))
        y0 = ctx.rng.integers(c, size=x0.shape[0])
        label = f"{what}.loss(X, y) with weight_scale = 1e-2"
        loss, _ = _loss_and_grads(label, small.call("loss", x0, y0))
        yield abs_close(f"{label}, near log({c})", loss, math.log(c), 0.05,
                        "With small weights every class is about equally likely, so the "
                        "initial loss is about log(C).", source="log(C) =").keyed(
            f"{key}.loss(X, y) with weight_scale = 1e-2, near log(C)")

    changed = CheckResult.passed("FullyConnectedNet.loss(X, y)")
    for (hidden, d, c), key in zip(depths, DEPTH_KEYS, strict=True):
        what = f"FullyConnectedNet({hidden}, input_dim={d}, num_classes={c})"
        model = files.new("fc_net", "FullyConnectedNet", hidden, input_dim=d, num_classes=c,
                          dtype="float64", label=what)
        params, x, y = _fcn_case(ctx, hidden, d, c)
        for reg in (0.0, 3.14):
            yield from _keyed_as(key, what, _fc_gradient_checks(
                files, ctx, model, what, params, x, y, reg,
                _reference_fc(ref_fc.FullyConnectedNet, params, reg, len(hidden) + 1)))
        if changed.ok:
            files.student.provided("probes:set_params", model, params)
            _, after = model.call_watching_args("loss", x, y)
            changed = first_change(f"{what}.loss(X, y)", [
                ("its input X", x, after[0]), ("its input y", y, after[1]),
                ("params", params, _params(what, model))]).keyed("FullyConnectedNet.loss(X, y)")
    yield changed
    # Without y, loss returns the scores (what predict and the solver's accuracy use).
    files.student.provided("probes:set_params", model, params)
    want = _reference_fc(ref_fc.FullyConnectedNet, params, 0.0, len(hidden) + 1).loss(x)
    yield close("FullyConnectedNet.loss(X) without y: the scores", model.call("loss", x),
                np.asarray(want), hint="With y None, loss returns the class scores (N, C).")


# The second net's depth is drawn per run, so its checks' names vary in length; these keys
# name each net the same way in every run.
DEPTH_KEYS = ("FullyConnectedNet(the handout's depth)", "FullyConnectedNet(a drawn depth)")


def _keyed_as(key: str, what: str, checks: Iterable[CheckResult]) -> Iterator[CheckResult]:
    """Checks named after ``what`` keyed after ``key`` instead (see ``DEPTH_KEYS``)."""
    prefix = stable_key(what)
    for check in checks:
        yield check.keyed(key + check.key[len(prefix):]) if check.key.startswith(prefix) else check


def _fcn_structure(build: str, params: dict[str, Any], shapes: dict[str, tuple[int, ...]]
                   ) -> CheckResult:
    extra = [k for k in params if k not in shapes]
    for key, want in shapes.items():
        value = params.get(key)
        if not isinstance(value, np.ndarray) or value.shape != want:
            got = value.shape if isinstance(value, np.ndarray) else "missing"
            return CheckResult.failed(build, f"{build}: params[{key!r}] should have shape "
                                             f"{want}; got {got}.")
        if key.startswith("b") and np.any(value != 0):
            return CheckResult.failed(build, f"{build}: params[{key!r}] should start at zero.")
    if extra:
        return CheckResult.failed(build, f"{build}: unexpected params {', '.join(extra)}; "
                                         f"expected {', '.join(shapes)}.")
    return CheckResult.passed(build, ", ".join(f"{k} {v}" for k, v in shapes.items()) + ".")


def _fcn_dtype(float64: dict[str, Any], default: dict[str, Any]) -> CheckResult:
    """Parameters take the ``dtype`` argument: float32 by default, float64 when asked."""
    label = "FullyConnectedNet(..., dtype=...) parameter dtypes"
    if not float64 or not default:
        return CheckResult.failed(label, f"{label}: self.params is empty, so no dtype to check.")
    for asked, params in (("float64", float64), ("float32", default)):
        for key, value in params.items():
            dtype = getattr(value, "dtype", None)
            if dtype != np.dtype(asked):
                how = "dtype=np.float64" if asked == "float64" else "the default dtype=np.float32"
                return CheckResult.failed(label, (
                    f"{label}: with {how}, params[{key!r}] has dtype {dtype}; cast every "
                    "parameter with .astype(dtype), as the handout's constructor does."))
    return CheckResult.passed(label, "float32 by default, float64 when asked.")


# -- CIFAR-10 training -----------------------------------------------------------------------

ZERO_AT, FULL_AT = 0.28, 0.50  # the course's rule: clip((acc - 0.28) / 0.22, 0, 1)


def _settings(files: Files, ctx: Context, stem: str) -> hyperparams.Settings:
    module_value = (files.attr(stem, "HYPERPARAMS")
                    if "HYPERPARAMS" in files.found.get(stem, []) else None)
    return hyperparams.settings(stem, ctx.files, module_value, f"nndl/{stem}.py")


def _trained(label: str, params: Any, shapes: dict[str, tuple[int, ...]]) -> Arrays:
    """The returned parameters as float64 arrays of ``shapes`` (a bias may come as a row)."""
    if not isinstance(params, dict):
        kind = params.type_name if isinstance(params, Remote) else type(params).__name__
        raise WrongValue(f"{label}: the trained params should be a dict of arrays; got {kind}.")
    out = {}
    for key, want in shapes.items():
        if key not in params:
            raise WrongValue(f"{label}: the trained params have no {key!r}.")
        value = as_array(f"{label}: params[{key!r}]", params[key])
        if value.shape != want and not (len(want) == 1 and value.size == want[0]):
            raise WrongValue(f"{label}: params[{key!r}] has shape {value.shape}; expected "
                             f"{want}.")
        out[key] = value.reshape(want)
    return out


def _neural_net_scores(params: Any, x: np.ndarray, h: int, c: int) -> np.ndarray:
    """The reference forward pass of a returned neural_net.TwoLayerNet, either layout."""
    label = f"TwoLayerNet({x.shape[1]}, {h}, {c})"
    d = x.shape[1]
    shapes = {k: np.shape(v) for k, v in params.items()} if isinstance(params, dict) else {}
    layout = "DH" if shapes.get("W1") == (d, h) and shapes.get("W2") == (h, c) else "HD"
    want = {"W1": (h, d), "b1": (h,), "W2": (c, h), "b2": (c,)}
    if layout == "DH":
        want.update(W1=(d, h), W2=(h, c))
    trained = _student_layout(_trained(label, params, want), layout)  # back to (out, in)
    return ref_nn_scores(trained, x)


def _fc_net_scores(params: Any, x: np.ndarray, h: int, c: int) -> np.ndarray:
    """The reference forward pass of a returned fc_net.TwoLayerNet (weights (in, out))."""
    d = int(np.prod(x.shape[1:]))
    trained = _trained(f"TwoLayerNet(input_dim={d}, hidden_dims={h})", params,
                       {"W1": (d, h), "b1": (h,), "W2": (h, c), "b2": (c,)})
    return np.asarray(_reference_fc(ref_fc.TwoLayerNet, trained, 0.0, 2).loss(x))


def _score(label: str, scores: np.ndarray, split: CifarSplit, settings: hyperparams.Settings
           ) -> CheckResult:
    """Test accuracy of the reference's predictions from the trained params, on the ramp."""
    if not np.all(np.isfinite(scores)):
        return CheckResult.failed(label, (
            f"{label}: the trained parameters give NaN or inf scores on the test images: "
            f"training with {settings.describe()} diverged. Check the gradients and the "
            "learning rate."))
    accuracy = float(np.mean(np.argmax(scores, axis=1) == split.y_test))
    return ramp(label, accuracy, zero_at=ZERO_AT, full_at=FULL_AT, detail=(
        f"Trained on {len(split.y_train)} images with {settings.describe()}; tested on "
        f"{len(split.y_test)} test images drawn for this run, with the reference forward "
        "pass."))


def _settings_or_failure(files: Files, ctx: Context, stem: str
                         ) -> hyperparams.Settings | CheckResult:
    try:
        return _settings(files, ctx, stem)
    except hyperparams.HyperparamError as exc:
        return CheckResult.failed("training settings", str(exc))


@problem("neural_net.cifar10", points=5, training=True, timeout_s=600, dataset="cifar-10",
         checks=1)
def neural_net_cifar10(student: Student, ctx: Context) -> Checks:
    """TwoLayerNet(3072, 50, 10) trained by the student's train; test accuracy on the ramp."""
    files = Files(student)
    if absent := files.missing("neural_net", ["TwoLayerNet"]):
        yield absent
        return
    settings = _settings_or_failure(files, ctx, "neural_net")
    if isinstance(settings, CheckResult):
        yield settings
        return
    split = cifar_split(ctx.data["cifar-10"], ctx.rng)
    with labelled("TwoLayerNet(3072, 50, 10).train(...)"):
        params = student.provided(
            "training:train_neural_net", split.x_train, split.y_train, split.x_val,
            split.y_val, split.mean_image, settings=settings.values, seed=ctx.child_seed())
    x_test = (split.x_test - split.mean_image).reshape(len(split.x_test), -1)
    with np.errstate(all="ignore"):
        scores = _neural_net_scores(params, x_test, 50, 10)
    yield _score("test accuracy of neural_net.TwoLayerNet", scores, split, settings)


@problem("fc_net.cifar10", points=3, training=True, timeout_s=900, dataset="cifar-10",
         checks=1)
def fc_net_cifar10(student: Student, ctx: Context) -> Checks:
    """fc_net.TwoLayerNet trained by the course's Solver; test accuracy on the ramp."""
    files = Files(student)
    if absent := files.missing("fc_net", ["TwoLayerNet"]):
        yield absent
        return
    settings = _settings_or_failure(files, ctx, "fc_net")
    if isinstance(settings, CheckResult):
        yield settings
        return
    split = cifar_split(ctx.data["cifar-10"], ctx.rng).channels_first()
    with labelled("Solver(TwoLayerNet(...), data).train()"):
        params = student.provided(
            "training:train_fc_net", split.x_train, split.y_train, split.x_val, split.y_val,
            split.mean_image, settings=settings.values, seed=ctx.child_seed())
    with np.errstate(all="ignore"):
        scores = _fc_net_scores(params, split.x_test - split.mean_image,
                                int(settings.values["hidden_dims"]), 10)
    yield _score("test accuracy of fc_net.TwoLayerNet", scores, split, settings)


assignment.manual("written.matrix_calculus", points=10,
                  description="The matrix-derivative questions of the homework, graded by hand.")

# Results follow the contract's tables: neural_net.py, layers.py, fc_net.py, then the manual part.
ORDER = ("neural_net.scores", "neural_net.loss", "neural_net.grads", "neural_net.train_predict",
         "neural_net.cifar10", "layers.affine_forward", "layers.affine_backward",
         "layers.relu_forward", "layers.relu_backward", "fc_net.TwoLayerNet",
         "fc_net.FullyConnectedNet", "fc_net.cifar10", "written.matrix_calculus")
assignment.problems.sort(key=lambda p: ORDER.index(p.id))
