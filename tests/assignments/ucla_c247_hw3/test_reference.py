"""The ucla-c247-hw3 reference reproduces every number in the contract, on the course's own code.

Gradients are checked with the course's ``eval_numerical_gradient`` and its
``rel_error`` (max of ``|a - b| / max(1e-8, |a| + |b|)``), as the handout
prints them, and against PyTorch autograd where that is installed.
"""

from __future__ import annotations

import ast
import importlib
import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from graders.assignments.ucla_c247_hw3 import provided
from graders.assignments.ucla_c247_hw3.provided.softmax import softmax_loss
from graders.assignments.ucla_c247_hw3.provided.utils.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
)
from graders.assignments.ucla_c247_hw3.provided.utils.solver import Solver
from reference.ucla_c247_hw3 import fc_net, layers, neural_net

REFERENCE_DIR = Path(neural_net.__file__).parent

TOY_SCORES = np.array(
    [
        [-1.07260209, 0.05083871, -0.87253915],
        [-2.02778743, -0.10832494, -1.52641362],
        [-0.74225908, 0.15259725, -0.39578548],
        [-0.38172726, 0.10835902, -0.17328274],
        [-0.64417314, -0.18886813, -0.41106892],
    ]
)


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """The course's measure: the worst entry of |x - y| / max(1e-8, |x| + |y|)."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_grads(
    loss: Callable[[], float], params: dict[str, np.ndarray]
) -> Iterator[tuple[str, np.ndarray]]:
    """The course's numerical gradient of ``loss()`` for every parameter, by name."""
    for name in sorted(params):
        yield name, eval_numerical_gradient(lambda _: loss(), params[name], verbose=False)


def toy_model_and_data() -> tuple[neural_net.TwoLayerNet, np.ndarray, np.ndarray]:
    """The handout's toy model and toy data, drawn in the handout's order."""
    np.random.seed(0)
    net = neural_net.TwoLayerNet(4, 10, 3, std=1e-1)
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    return net, X, np.array([0, 1, 2, 2, 1])


def fixed_case_two_layer() -> tuple[fc_net.TwoLayerNet, np.ndarray, np.ndarray]:
    """The handout's fixed case for the modular TwoLayerNet."""
    N, D, H, C = 3, 5, 50, 7
    model = fc_net.TwoLayerNet(input_dim=D, hidden_dims=H, num_classes=C, weight_scale=1e-2)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    return model, X, np.array([0, 5, 1])


# neural_net.py


def test_toy_scores_match_handout() -> None:
    net, X, _ = toy_model_and_data()
    assert np.sum(np.abs(net.loss(X) - TOY_SCORES)) < 1e-7


def test_toy_loss_matches_handout() -> None:
    net, X, y = toy_model_and_data()
    loss, _ = net.loss(X, y, reg=0.05)
    assert abs(loss - 1.071696123862817) < 1e-10


@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_toy_grads_match_numerical_gradient_like_the_handout(reg: float) -> None:
    net, X, y = toy_model_and_data()
    _, grads = net.loss(X, y, reg=reg)
    assert sorted(grads) == sorted(net.params)
    for name, num in numerical_grads(lambda: net.loss(X, y, reg=reg)[0], net.params):
        assert rel_error(num, grads[name]) < 1e-8, name  # handout: 1e-9 to 1e-10


def test_toy_train_brings_final_loss_below_0_02_and_returns_histories() -> None:
    net, X, y = toy_model_and_data()
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=False)
    assert stats["loss_history"][-1] < 0.02  # handout's run: 0.0145
    assert len(stats["loss_history"]) == 100
    assert stats["train_acc_history"] and stats["val_acc_history"]


def test_predict_is_argmax_of_scores() -> None:
    net, X, _ = toy_model_and_data()
    np.testing.assert_array_equal(net.predict(X), np.argmax(TOY_SCORES, axis=1))


def test_neural_net_loss_does_not_modify_inputs_or_params() -> None:
    net, X, y = toy_model_and_data()
    before = {name: p.copy() for name, p in net.params.items()}
    X_before = X.copy()
    net.loss(X, y, reg=0.05)
    np.testing.assert_array_equal(X, X_before)
    for name, p in net.params.items():
        np.testing.assert_array_equal(p, before[name])


# layers.py


def test_affine_forward_handout_case() -> None:
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    out, _ = layers.affine_forward(x, w, b)
    expected = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    assert rel_error(out, expected) < 1e-8


def test_affine_backward_matches_numerical_gradients_and_keeps_x_shape() -> None:
    rng = np.random.default_rng(231)
    x, w, b = rng.normal(size=(10, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(10, 5))
    _, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)
    assert dx.shape == x.shape
    num_dx = eval_numerical_gradient_array(lambda v: layers.affine_forward(v, w, b)[0], x, dout)
    num_dw = eval_numerical_gradient_array(lambda v: layers.affine_forward(x, v, b)[0], w, dout)
    num_db = eval_numerical_gradient_array(lambda v: layers.affine_forward(x, w, v)[0], b, dout)
    assert rel_error(num_dx, dx) < 1e-8
    assert rel_error(num_dw, dw) < 1e-8
    assert rel_error(num_db, db) < 1e-8


def test_relu_forward_is_elementwise_max_with_zero() -> None:
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = layers.relu_forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0))


def test_relu_backward_matches_numerical_gradient_away_from_zero() -> None:
    rng = np.random.default_rng(247)
    x = rng.normal(size=(10, 10))
    x[np.abs(x) < 1e-3] = 0.5  # finite differences are wrong at the kink
    dout = rng.normal(size=x.shape)
    dout_before = dout.copy()
    _, cache = layers.relu_forward(x)
    dx = layers.relu_backward(dout, cache)
    num_dx = eval_numerical_gradient_array(lambda v: layers.relu_forward(v)[0], x, dout)
    assert rel_error(num_dx, dx) < 1e-10
    np.testing.assert_array_equal(dout, dout_before)


# fc_net.py: TwoLayerNet


def test_fc_two_layer_init_has_weight_scale_std_and_zero_biases() -> None:
    np.random.seed(0)
    std = 1e-2
    model = fc_net.TwoLayerNet(input_dim=5, hidden_dims=50, num_classes=7, weight_scale=std)
    assert model.params["W1"].shape == (5, 50)
    assert model.params["W2"].shape == (50, 7)
    assert abs(model.params["W1"].std() - std) < std / 10
    assert abs(model.params["W2"].std() - std) < std / 10
    assert not model.params["b1"].any()
    assert not model.params["b2"].any()


def test_fc_two_layer_fixed_case_scores_start_as_in_handout() -> None:
    model, X, _ = fixed_case_two_layer()
    scores = model.loss(X)
    assert scores.shape == (3, 7)
    np.testing.assert_allclose(scores[0, :3], [11.53165108, 12.2917344, 13.05181771], atol=1e-8)


@pytest.mark.parametrize(("reg", "expected"), [(0.0, 3.4702243556), (1.0, 26.5948426952)])
def test_fc_two_layer_fixed_case_loss_matches_handout(reg: float, expected: float) -> None:
    model, X, y = fixed_case_two_layer()
    model.reg = reg
    loss, _ = model.loss(X, y)
    assert abs(loss - expected) < 1e-10


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_fc_two_layer_grads_match_numerical_gradient_like_the_handout(reg: float) -> None:
    model, X, y = fixed_case_two_layer()
    model.reg = reg
    _, grads = model.loss(X, y)
    for name, num in numerical_grads(lambda: model.loss(X, y)[0], model.params):
        assert rel_error(num, grads[name]) < 1e-6, name  # handout: 2.5e-7 at worst


# fc_net.py: FullyConnectedNet


def small_fc_case(
    hidden_dims: list[int], reg: float, weight_scale: float = 5e-2
) -> tuple[fc_net.FullyConnectedNet, np.ndarray, np.ndarray]:
    """The handout's gradient-check setting: N=2, D=15, C=10, weight_scale 5e-2, float64."""
    seed = 0
    rng = np.random.default_rng(seed)
    np.random.seed(seed)
    X, y = rng.normal(size=(2, 15)), rng.integers(10, size=2)
    model = fc_net.FullyConnectedNet(
        hidden_dims,
        input_dim=15,
        num_classes=10,
        reg=reg,
        weight_scale=weight_scale,
        dtype=np.float64,
    )
    return model, X, y


def test_fully_connected_initial_loss_is_near_log_c() -> None:
    model, X, y = small_fc_case([20, 30], reg=0.0)
    loss, _ = model.loss(X, y)
    assert abs(loss - math.log(10)) < 0.05


# Deeper nets get a larger weight_scale: at 5e-2 their pre-activations shrink to ~1e-4, where
# the h = 1e-5 steps of finite differences cross ReLU kinks and the check fails on any code.
DEPTHS = [([20, 30], 5e-2), ([12], 5e-2), ([9, 8, 7, 6], 0.5)]


@pytest.mark.parametrize(("hidden_dims", "weight_scale"), DEPTHS)
@pytest.mark.parametrize("reg", [0.0, 3.14])
def test_fully_connected_grads_match_numerical_gradient(
    hidden_dims: list[int], weight_scale: float, reg: float
) -> None:
    model, X, y = small_fc_case(hidden_dims, reg, weight_scale)
    _, grads = model.loss(X, y)
    expected_names = {f"{kind}{i}" for kind in "Wb" for i in range(1, len(hidden_dims) + 2)}
    assert set(grads) == set(model.params) == expected_names
    for name, num in numerical_grads(lambda: model.loss(X, y)[0], model.params):
        assert rel_error(num, grads[name]) < 1e-5, name  # the contract's rule per block


@pytest.mark.parametrize(("hidden_dims", "weight_scale"), DEPTHS)
@pytest.mark.parametrize("reg", [0.0, 3.14])
def test_fully_connected_grads_match_autograd(
    hidden_dims: list[int], weight_scale: float, reg: float
) -> None:
    torch = pytest.importorskip("torch")
    model, X, y = small_fc_case(hidden_dims, reg, weight_scale)
    loss, grads = model.loss(X, y)

    n_layers = model.num_layers
    p = {name: torch.tensor(v, requires_grad=True) for name, v in model.params.items()}
    out = torch.tensor(X)
    for i in range(1, n_layers + 1):
        out = out @ p[f"W{i}"] + p[f"b{i}"]
        if i < n_layers:
            out = torch.relu(out)
    weights = sum((p[f"W{i}"] ** 2).sum() for i in range(1, n_layers + 1))
    t_loss = torch.nn.functional.cross_entropy(out, torch.tensor(y)) + 0.5 * reg * weights
    t_loss.backward()

    assert abs(loss - t_loss.item()) < 1e-12
    for name, tensor in p.items():
        np.testing.assert_allclose(grads[name], tensor.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_fully_connected_uses_dtype_for_params_and_scores() -> None:
    np.random.seed(0)
    model = fc_net.FullyConnectedNet([20, 30], input_dim=15, num_classes=10)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert model.loss(np.ones((4, 15))).dtype == np.float32


# provided code


def test_provided_softmax_loss_matches_its_definition() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(6, 4)), rng.integers(4, size=6)
    loss, dx = softmax_loss(x, y)
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert abs(loss - np.mean(-np.log(probs[np.arange(6), y]))) < 1e-12
    num_dx = eval_numerical_gradient(lambda _: softmax_loss(x, y)[0], x, verbose=False)
    assert rel_error(num_dx, dx) < 1e-7


def test_eval_numerical_gradient_restores_its_input() -> None:
    x = np.linspace(-1.0, 1.0, num=6).reshape(2, 3)
    before = x.copy()
    grad = eval_numerical_gradient(lambda v: float(np.sum(v**3)), x, verbose=False)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(grad, 3 * x**2, atol=1e-9)


def test_reference_fc_net_uses_the_course_layer_utils() -> None:
    assert fc_net.affine_relu_forward.__module__ == "reference.ucla_c247_hw3.layer_utils"
    assert fc_net.softmax_loss.__module__ == "reference.ucla_c247_hw3.softmax"


def test_provided_files_use_numpy_and_stdlib_only_and_hold_no_graded_code() -> None:
    graded = {
        "affine_forward",
        "affine_backward",
        "relu_forward",
        "relu_backward",
        "TwoLayerNet",
        "FullyConnectedNet",
    }
    allowed = {"__future__", "collections", "copy", "numpy", "typing"}
    for dest, text in provided.sandbox_files().items():
        tree = ast.parse(text, filename=dest)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                assert node.name not in graded, f"{dest} defines {node.name}"
            elif isinstance(node, ast.Import):
                assert {a.name.split(".")[0] for a in node.names} <= allowed, dest
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] in allowed, dest


@pytest.fixture
def student_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A submission root with the course's files in place; its ``nndl`` package is importable."""
    for dest, text in provided.sandbox_files().items():
        (tmp_path / dest).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / dest).write_text(text)
    assert "nndl" not in sys.modules
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == "nndl" or m.startswith("nndl.")]:
        del sys.modules[name]


def import_nndl(tree: Path, **files: str) -> ModuleType:
    """Write student files into ``tree/nndl`` and import ``nndl.fc_net``, as the sandbox would."""
    for name, text in files.items():
        (tree / "nndl" / f"{name}.py").write_text(text)
    return importlib.import_module("nndl.fc_net")


def test_reference_grades_as_a_submission_beside_the_provided_files(student_tree: Path) -> None:
    student_fc = import_nndl(
        student_tree,
        layers=(REFERENCE_DIR / "layers.py").read_text(),
        fc_net=(REFERENCE_DIR / "fc_net.py").read_text(),
    )
    model, X, y = fixed_case_two_layer()
    twin = student_fc.TwoLayerNet(input_dim=5, hidden_dims=50, num_classes=7)
    twin.params = dict(model.params)
    assert twin.loss(X, y)[0] == model.loss(X, y)[0]


def test_layer_utils_gives_fc_net_the_course_softmax_over_an_edited_one(
    student_tree: Path,
) -> None:
    edited_layers = (REFERENCE_DIR / "layers.py").read_text() + (
        "\n\ndef softmax_loss(x, y):\n    return 0.0, x * 0\n"
    )
    student_fc = import_nndl(
        student_tree,
        layers=edited_layers,
        fc_net="from .layers import *\nfrom .layer_utils import *\n",
    )
    assert student_fc.softmax_loss.__module__ == "nndl.softmax"
    x = np.linspace(-1.0, 1.0, num=12).reshape(3, 4)
    w, b = np.linspace(-0.5, 0.5, num=20).reshape(4, 5), np.linspace(0.1, 0.2, num=5)
    out, cache = student_fc.affine_relu_forward(x, w, b)
    np.testing.assert_array_equal(out, np.maximum(x @ w + b, 0))
    dout = np.linspace(-1.0, 1.0, num=15).reshape(3, 5)
    dx, dw, db = student_fc.affine_relu_backward(dout, cache)
    _, ref_cache = layers.affine_forward(x, w, b)
    expected = layers.affine_backward(layers.relu_backward(dout, x @ w + b), ref_cache)
    for got, want in zip((dx, dw, db), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_layer_utils_imports_when_a_layer_is_missing(student_tree: Path) -> None:
    student_fc = import_nndl(
        student_tree,
        layers="def affine_forward(x, w, b):\n    return x @ w + b, None\n",
        fc_net="from .layers import *\nfrom .layer_utils import *\n",
    )
    with pytest.raises(AttributeError, match="relu_forward"):
        student_fc.affine_relu_forward(np.ones((1, 2)), np.ones((2, 2)), np.zeros(2))


def separable_data(seed: int) -> dict[str, np.ndarray]:
    """Three well-separated Gaussian blobs, shaped like small images (N, 2, 3, 4)."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.normal(size=(3, 24))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(3, size=n)
        return (centres[y] + rng.normal(size=(n, 24))).reshape(n, 2, 3, 4), y

    (X_train, y_train), (X_val, y_val) = draw(600), draw(150)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def test_provided_solver_trains_reference_two_layer_net_to_high_accuracy() -> None:
    np.random.seed(0)
    data = separable_data(seed=1)
    model = fc_net.TwoLayerNet(input_dim=24, hidden_dims=30, num_classes=3, weight_scale=1e-2)
    solver = Solver(
        model,
        data,
        update_rule="sgd",
        optim_config={"learning_rate": 1e-1},
        lr_decay=0.9,
        num_epochs=5,
        batch_size=50,
        print_every=1000,
        verbose=False,
    )
    solver.train()
    assert solver.best_val_acc >= 0.95
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc
    assert len(solver.loss_history) == 5 * (600 // 50)
    assert solver.loss_history[-1] < solver.loss_history[0]
    assert len(solver.val_acc_history) == 6  # the first iteration, then each epoch's end
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(1e-1 * 0.9**5)


def test_solver_names_an_unknown_update_rule() -> None:
    np.random.seed(0)
    model = fc_net.TwoLayerNet(input_dim=24, hidden_dims=5, num_classes=3)
    with pytest.raises(ValueError, match="update_rule='adam'"):
        Solver(model, separable_data(seed=2), update_rule="adam")
