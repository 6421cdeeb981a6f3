"""The nyu-dl-hw1 references are exact: true gradients in both layouts, and a real student agrees.

Finite differences run in float64 on unnormalised uint8 samples, as the
handout's loop passes them. The example student notebook's own
``train_one_sample`` is executed beside the course's helpers and must move
every parameter by exactly ``-learning_rate * gradient``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graders.assignments.nyu_dl_hw1.provided import handout
from reference.nyu_dl_hw1 import (
    IN_OUT,
    OUT_IN,
    LayerSpec,
    Layout,
    detect_layout,
    expected_architecture,
    forward,
    gradients,
    layout_candidates,
    predict,
)

SIZES = (784, 32, 32, 10)
NOTEBOOK = Path(__file__).resolve().parents[3].parent / "shared/examples/nyu-dl-hw1-student.ipynb"


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Max of |x - y| / max(1e-8, |x| + |y|), the contracts' measure."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def network(layout: Layout, scale: float, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Random weights of std ``scale / sqrt(max(n_in, n_out))`` in ``layout``, random biases."""
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for n_in, n_out in pairwise(SIZES):
        W = rng.normal(0, scale / np.sqrt(max(n_in, n_out)), size=(n_in, n_out))
        weights.append(W if layout == IN_OUT else np.ascontiguousarray(W.T))
        biases.append(rng.normal(0, 0.1, size=n_out))
    return weights, biases


def mnist_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 28, 28) uint8 images, mostly 0 like MNIST digits, never normalised."""
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[rng.random(size=images.shape) < 0.8] = 0
    return images


def numerical_gradient(
    loss: Callable[[], float], p: np.ndarray, entries: list[tuple[int, ...]], h: float
) -> np.ndarray:
    """Central differences of ``loss()`` in the listed entries of ``p`` (perturbed in place)."""
    grad = np.zeros(len(entries))
    for k, ix in enumerate(entries):
        old = p[ix]
        p[ix] = old + h
        plus = loss()
        p[ix] = old - h
        minus = loss()
        p[ix] = old
        grad[k] = (plus - minus) / (2 * h)
    return grad


# gradients


@pytest.mark.parametrize("layout", [OUT_IN, IN_OUT])
def test_gradients_match_central_differences(layout: Layout) -> None:
    rng = np.random.default_rng(6953)
    # scale 0.1 keeps the hidden layers out of saturation on 0..255 inputs
    weights, biases = network(layout, scale=0.1, seed=1)
    for sample, y in zip(mnist_like(rng, 2), (3, 8), strict=True):
        dweights, dbiases = gradients(weights, biases, sample, y, layout)

        def loss(sample: np.ndarray = sample, y: int = y) -> float:
            return forward(weights, biases, sample, y, layout)[0]

        for params, grads in ((weights, dweights), (biases, dbiases)):
            for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                assert g.shape == p.shape
                entries = list(np.ndindex(p.shape))
                if len(entries) > 400:  # W1: a random sample of its 25,088 entries
                    picks = rng.choice(len(entries), size=400, replace=False)
                    entries = [entries[k] for k in picks]
                # pixels up to 255 make the loss steep along W1: a smaller step there
                h = 1e-6 if 784 in p.shape else 1e-5
                num = numerical_gradient(loss, p, entries, h)
                got = np.array([g[ix] for ix in entries])
                # Scaled by the block's largest entry: finite differences carry ~1e-10 of
                # rounding, more than the tiniest entries of a saturated layer are worth.
                error = np.max(np.abs(num - got)) / np.max(np.abs(got))
                assert error < 1e-6, f"layer {i + 1}, {p.shape}: {error:.1e}"


def test_gradients_in_both_layouts_are_transposes() -> None:
    sample = mnist_like(np.random.default_rng(0), 1)[0]
    w_out_in, biases = network(OUT_IN, scale=0.1, seed=2)
    w_in_out = [W.T.copy() for W in w_out_in]
    dw_a, db_a = gradients(w_out_in, biases, sample, 4, OUT_IN)
    dw_b, db_b = gradients(w_in_out, biases, sample, 4, IN_OUT)
    for a, b in zip(dw_a, dw_b, strict=True):
        np.testing.assert_allclose(a, b.T, rtol=1e-12, atol=1e-300)
    for a, b in zip(db_a, db_b, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def test_gradients_keep_column_bias_shapes() -> None:
    sample = mnist_like(np.random.default_rng(1), 1)[0]
    weights, biases = network(OUT_IN, scale=0.1, seed=3)
    columns = [b.reshape(-1, 1) for b in biases]
    _, db_flat = gradients(weights, biases, sample, 0, OUT_IN)
    _, db_col = gradients(weights, columns, sample, 0, OUT_IN)
    for flat, col in zip(db_flat, db_col, strict=True):
        assert col.shape == (flat.size, 1)
        np.testing.assert_array_equal(col.ravel(), flat)


@pytest.mark.parametrize("layout", [OUT_IN, IN_OUT])
def test_a_gradient_step_lowers_the_loss(layout: Layout) -> None:
    rng = np.random.default_rng(7)
    weights, biases = network(layout, scale=1.0, seed=4)
    for sample, y in zip(mnist_like(rng, 5), rng.integers(10, size=5), strict=True):
        before = forward(weights, biases, sample, int(y), layout)[0]
        dweights, dbiases = gradients(weights, biases, sample, int(y), layout)
        lr = 1e-4
        stepped_w = [W - lr * g for W, g in zip(weights, dweights, strict=True)]
        stepped_b = [b - lr * g for b, g in zip(biases, dbiases, strict=True)]
        assert forward(stepped_w, stepped_b, sample, int(y), layout)[0] < before


def test_gradients_do_not_modify_the_parameters() -> None:
    weights, biases = network(IN_OUT, scale=1.0, seed=5)
    copies = [p.copy() for p in weights + biases]
    gradients(weights, biases, mnist_like(np.random.default_rng(2), 1)[0], 1, IN_OUT)
    for p, before in zip(weights + biases, copies, strict=True):
        np.testing.assert_array_equal(p, before)


# the example student's train_one_sample


def notebook_function(name: str, edit: tuple[str, str] | None = None) -> str:
    """Source of the code cell of the example notebook that defines ``name``."""
    if not NOTEBOOK.exists():
        pytest.skip(f"example notebook not found at {NOTEBOOK} (shared/ beside the repository)")
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    (source,) = [s for s in sources if f"def {name}(" in s]
    if edit is not None:
        assert edit[0] in source
        source = source.replace(*edit)
    return source


def run_student_step(
    source: str, weights: Any, biases: Any, sample: np.ndarray, y: int, lr: float
) -> dict[str, Any]:
    """Run the cell beside the course's helpers and call ``train_one_sample`` once."""
    namespace: dict[str, Any] = {"np": np, "weights": weights, "biases": biases}
    namespace.update({name: getattr(handout, name) for name in handout.__all__})
    exec(compile(source, "notebook cell: train_one_sample", "exec"), namespace)
    namespace["train_one_sample"](sample, y, learning_rate=lr)
    return namespace


def object_array(arrays: list[np.ndarray]) -> np.ndarray:
    """What the example notebook builds: ``np.array(weights, dtype=object)``."""
    holder = np.empty(len(arrays), dtype=object)
    holder[:] = arrays
    return holder


@pytest.mark.parametrize("container", [list, object_array])
@pytest.mark.parametrize("lr", [0.003, 0.1])
def test_example_student_step_is_old_minus_lr_times_reference_gradient(
    container: Callable[[list[np.ndarray]], Any], lr: float
) -> None:
    source = notebook_function("train_one_sample")
    rng = np.random.default_rng(11)
    for sample, y in zip(mnist_like(rng, 3), (2, 7, 0), strict=True):
        weights, biases = network(IN_OUT, scale=0.1, seed=int(rng.integers(1000)))
        dweights, dbiases = gradients(weights, biases, sample, y, IN_OUT)
        expected = [p - lr * g for p, g in zip(weights + biases, dweights + dbiases, strict=True)]

        ns = run_student_step(source, container(weights), container(biases), sample, y, lr)

        updated = list(ns["weights"]) + list(ns["biases"])
        for got, want in zip(updated, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_dsigmoid_of_the_activation_bug_differs_from_the_reference_in_hidden_layers() -> None:
    buggy = notebook_function(
        "train_one_sample", edit=("* dsigmoid(z)", "* dsigmoid(activations[i + 1])")
    )
    sample = mnist_like(np.random.default_rng(12), 1)[0]
    weights, biases = network(IN_OUT, scale=0.1, seed=13)
    lr = 0.003
    dweights, dbiases = gradients(weights, biases, sample, 5, IN_OUT)
    expected = [p - lr * g for p, g in zip(weights + biases, dweights + dbiases, strict=True)]
    old = [p.copy() for p in weights + biases]

    ns = run_student_step(buggy, weights, biases, sample, 5, lr)

    updated = list(ns["weights"]) + list(ns["biases"])
    steps = [(o - u) / lr for o, u in zip(old, updated, strict=True)]
    true = [(o - e) / lr for o, e in zip(old, expected, strict=True)]
    errors = [rel_error(s, t) for s, t in zip(steps, true, strict=True)]
    w1, w2, w3, b1, b2, b3 = errors
    assert min(w1, w2, b1, b2) > 1e-2  # both hidden layers' gradients are off
    assert max(w3, b3) < 1e-9  # the output layer's is not


# forward, predict, detect_layout


@pytest.mark.parametrize("layout", [OUT_IN, IN_OUT])
def test_forward_returns_handout_loss_guess_and_activations(layout: Layout) -> None:
    weights, biases = network(layout, scale=0.1, seed=20)
    sample = mnist_like(np.random.default_rng(3), 1)[0]
    loss, guess, activations = forward(weights, biases, sample, 6, layout)
    probs = activations[-1]
    assert [a.shape for a in activations] == [(784,), (32,), (32,), (10,)]
    np.testing.assert_array_equal(activations[0], sample.reshape(-1).astype(float))
    assert probs.sum() == pytest.approx(1.0)
    assert loss == pytest.approx(-np.log(probs[6]), rel=1e-12)
    np.testing.assert_array_equal(guess, np.eye(10)[np.argmax(probs)])


def test_forward_detects_the_layout_when_not_given() -> None:
    weights, biases = network(OUT_IN, scale=0.1, seed=21)
    sample = mnist_like(np.random.default_rng(4), 1)[0]
    assert forward(weights, biases, sample, 1)[0] == forward(weights, biases, sample, 1, OUT_IN)[0]


@pytest.mark.parametrize("layout", [OUT_IN, IN_OUT])
def test_predict_agrees_with_forward_per_sample(layout: Layout) -> None:
    weights, biases = network(layout, scale=1.0, seed=30)  # the handout's init
    images = mnist_like(np.random.default_rng(5), 60)
    labels = predict(weights, biases, images, layout, batch_size=25)
    per_sample = [np.argmax(forward(weights, biases, x, 0, layout)[1]) for x in images]
    np.testing.assert_array_equal(labels, per_sample)
    assert len(set(labels.tolist())) > 1  # a constant guess would prove nothing
    np.testing.assert_array_equal(predict(weights, biases, images.reshape(60, 784)), labels)


def test_detect_layout_tells_the_two_layouts_apart() -> None:
    weights, _ = network(IN_OUT, scale=1.0, seed=40)
    assert detect_layout(weights) == IN_OUT
    assert detect_layout([W.T for W in weights]) == OUT_IN
    assert detect_layout(object_array(weights)) == IN_OUT


def test_detect_layout_names_shapes_that_fit_no_layout() -> None:
    weights, _ = network(IN_OUT, scale=1.0, seed=41)
    mixed = [weights[0], weights[1], weights[2].T]
    with pytest.raises(ValueError, match=r"\(784, 32\), \(32, 32\), \(10, 32\)"):
        detect_layout(mixed)
    with pytest.raises(ValueError, match="784→32→32→10"):
        detect_layout([np.zeros((784, 16)), np.zeros((16, 32)), np.zeros((32, 10))])


def test_detect_layout_refuses_square_networks() -> None:
    with pytest.raises(ValueError, match="both layouts"):
        detect_layout([np.zeros((8, 8))] * 3, sizes=None)


# handout helpers


def test_handout_sigmoid_is_stable_and_exact() -> None:
    x = np.array([-1000.0, -20.0, -1.0, 0.0, 1.0, 20.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = handout.sigmoid(x)
    np.testing.assert_allclose(s[1:-1], 1 / (1 + np.exp(-x[1:-1])), rtol=1e-15)
    assert s[0] >= 0 and s[-1] == 1.0
    np.testing.assert_allclose(handout.dsigmoid(x), s * (1 - s), rtol=1e-15)


def test_handout_softmax_loss_and_one_hot() -> None:
    p = handout.softmax(np.array([1000.0, 1001.0, 999.0]))
    assert p.sum() == pytest.approx(1.0) and np.argmax(p) == 1
    one_hot = handout.integer_to_one_hot(3, 7)  # the handout ignores ``max``
    np.testing.assert_array_equal(one_hot, np.eye(10)[3])
    assert handout.cross_entropy_loss(one_hot, np.full(10, 0.1)) == pytest.approx(np.log(10))


# the PyTorch part


def traced_layers(model: Any, x: Any) -> list[LayerSpec]:
    """Linear and ReLU modules in the order one forward pass calls them."""
    torch = pytest.importorskip("torch")
    seen: list[LayerSpec] = []

    def record(module: Any, _inputs: Any, _output: Any) -> None:
        if isinstance(module, torch.nn.Linear):
            seen.append(LayerSpec("Linear", module.in_features, module.out_features))
        elif isinstance(module, torch.nn.ReLU):
            seen.append(LayerSpec("ReLU"))

    handles = [m.register_forward_hook(record) for m in model.modules()]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def test_reference_net_has_the_expected_architecture_and_output() -> None:
    torch = pytest.importorskip("torch")
    from reference.nyu_dl_hw1.fashion_mlp import Net

    model = Net()
    images = torch.zeros(4, 1, 28, 28)
    assert traced_layers(model, images) == list(expected_architecture())
    assert model(images).shape == (4, 10)
    assert model(torch.zeros(4, 784)).shape == (4, 10)


def test_expected_architecture_reads_like_the_handout() -> None:
    assert [str(layer) for layer in expected_architecture()] == [
        "Linear(784→256)",
        "ReLU",
        "Linear(256→128)",
        "ReLU",
        "Linear(128→64)",
        "ReLU",
        "Linear(64→10)",
    ]


# per-layer layouts (a network whose weights mix the two)


def test_layout_candidates_read_a_consistent_network_one_way() -> None:
    weights, _ = network(IN_OUT, scale=1.0, seed=50)
    assert layout_candidates(weights) == [(IN_OUT,) * 3]
    assert layout_candidates([W.T for W in weights]) == [(OUT_IN,) * 3]


def test_layout_candidates_of_a_mixed_network_try_the_square_layer_both_ways() -> None:
    weights, _ = network(IN_OUT, scale=1.0, seed=51)
    mixed = [weights[0], weights[1], weights[2].T]
    assert layout_candidates(mixed) == [(IN_OUT, OUT_IN, OUT_IN), (IN_OUT, IN_OUT, OUT_IN)]
    assert layout_candidates([np.zeros((784, 16)), weights[1], weights[2]]) == []


def test_per_layer_layouts_give_the_same_network_as_one_layout() -> None:
    sample = mnist_like(np.random.default_rng(6), 1)[0]
    weights, biases = network(IN_OUT, scale=0.1, seed=52)
    mixed = [weights[0], weights[1], weights[2].T.copy()]
    layouts = (IN_OUT, IN_OUT, OUT_IN)
    assert forward(mixed, biases, sample, 3, layouts)[0] == forward(weights, biases, sample, 3)[0]
    dw_mixed, db_mixed = gradients(mixed, biases, sample, 3, layouts)
    dw, db = gradients(weights, biases, sample, 3, IN_OUT)
    np.testing.assert_allclose(dw_mixed[2], dw[2].T, rtol=1e-12)
    for a, b in zip(db_mixed, db, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_array_equal(predict(mixed, biases, sample[None], layouts),
                                  predict(weights, biases, sample[None], IN_OUT))


def test_the_dsigmoid_of_activation_variant_differs_only_in_hidden_layers() -> None:
    sample = mnist_like(np.random.default_rng(7), 1)[0]
    weights, biases = network(OUT_IN, scale=0.1, seed=53)
    true = gradients(weights, biases, sample, 2, OUT_IN)
    bug = gradients(weights, biases, sample, 2, OUT_IN, dsigmoid_at="activation")
    for grads_true, grads_bug in zip(true, bug, strict=True):
        np.testing.assert_array_equal(grads_true[2], grads_bug[2])
        assert rel_error(grads_true[0], grads_bug[0]) > 1e-2
