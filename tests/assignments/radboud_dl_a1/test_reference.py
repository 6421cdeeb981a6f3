"""The reference solution reproduces every number the radboud-dl-a1 contract quotes.

The test phase of the handout's ``fit`` is not part of ``handout.train`` (it
never runs in the sandbox), so it is rebuilt here from ``handout.minibatches``:
means over the test minibatches, the last partial one dropped.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import check_grad

import reference.radboud_dl_a1 as ref
from graders.assignments.radboud_dl_a1.data import DigitsTask, digits_task
from graders.assignments.radboud_dl_a1.provided import handout

HANDOUT_LR = 0.001
HANDOUT_MB = 10
SUBMISSIONS = Path(__file__).parent / "submissions"
GRADED_PROBLEMS = [
    "optimize_f",
    "sigmoid",
    "sigmoid_grad",
    "relu",
    "relu_grad",
    "bce_loss",
    "bce_loss_grad",
    "Linear",
    "Sigmoid",
    "ReLU",
]


def handout_net() -> handout.Net:
    """The net the handout (and ``train_digits``) builds, one generator for both layers."""
    rng = np.random.default_rng(12345)
    return handout.Net(
        [ref.Linear(64, 32, rng=rng), ref.ReLU(), ref.Linear(32, 1, rng=rng), ref.Sigmoid()]
    )


def evaluate(net: handout.Net, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean loss and accuracy over test minibatches, as the handout's ``fit`` prints them."""
    losses, accuracies = [], []
    for x_mb, y_mb in handout.minibatches(x, y, HANDOUT_MB):
        y_hat = net.forward(x_mb)
        losses.append(np.mean(ref.bce_loss(y_mb, y_hat)))
        accuracies.append(np.mean((y_hat > 0.5) == y_mb))
    return float(np.mean(losses)), float(np.mean(accuracies))


def handout_run(task: DigitsTask, epochs: int) -> list[tuple[float, float, float, float]]:
    """Per epoch: loss[train], accuracy[train], loss[test], accuracy[test]."""
    net = handout_net()
    rows = []
    for _ in range(epochs):
        (train_loss,), (train_acc,) = handout.train(
            net,
            task.x_train,
            task.y_train,
            epochs=1,
            learning_rate=HANDOUT_LR,
            mb_size=HANDOUT_MB,
            loss_fn=ref.bce_loss,
            loss_grad_fn=ref.bce_loss_grad,
        )
        rows.append((train_loss, train_acc, *evaluate(net, task.x_test, task.y_test)))
    return rows


@pytest.fixture(scope="module")
def task() -> DigitsTask:
    return digits_task()


@pytest.fixture(scope="module")
def ten_epochs(task: DigitsTask) -> list[tuple[float, float, float, float]]:
    return handout_run(task, epochs=10)


# --- the digits task ---------------------------------------------------------------------


def test_digits_task_is_split_898_899_with_64_features(task: DigitsTask) -> None:
    assert task.x_train.shape == (898, 64)
    assert task.y_train.shape == (898,)
    assert task.x_test.shape == (899, 64)
    assert task.y_test.shape == (899,)


def test_digits_task_is_globally_standardised(task: DigitsTask) -> None:
    x = np.concatenate([task.x_train, task.x_test])
    assert x.mean() == pytest.approx(0.0, abs=1e-12)
    assert x.std() == pytest.approx(1.0, abs=1e-12)
    # per-pixel standardisation would centre every column; the handout's global one does not
    assert np.abs(x.mean(axis=0)).max() > 0.5


def test_digits_task_labels_are_digits_below_five(task: DigitsTask) -> None:
    from sklearn.datasets import load_digits

    y = np.concatenate([task.y_train, task.y_test])
    expected = (load_digits().target < 5).astype(float)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert y.sum() == expected.sum()
    np.testing.assert_array_equal(y, expected[np.random.default_rng(12345).permutation(1797)])


def test_digits_task_holds_exactly_the_arrays_load_digits_gives(task: DigitsTask) -> None:
    """Read from the file without scikit-learn, yet bit for bit its ``load_digits()``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data - digits.data.mean()) / digits.data.std()
    order = np.random.default_rng(12345).permutation(1797)
    np.testing.assert_array_equal(np.concatenate([task.x_train, task.x_test]), x[order])
    assert task.x_train.dtype == task.x_test.dtype == np.float64


# --- numbers printed by the handout ------------------------------------------------------


def test_epoch_0_matches_handout_numbers(ten_epochs: list[tuple[float, ...]]) -> None:
    assert [round(v, 4) for v in ten_epochs[0]] == [0.6074, 0.7225, 0.5388, 0.8270]


def test_epoch_9_matches_handout_numbers(ten_epochs: list[tuple[float, ...]]) -> None:
    assert [round(v, 4) for v in ten_epochs[9]] == [0.2628, 0.9079, 0.2779, 0.9000]


def test_train_over_many_epochs_equals_one_epoch_at_a_time(
    task: DigitsTask, ten_epochs: list[tuple[float, ...]]
) -> None:
    losses, accuracies = handout.train(
        handout_net(),
        task.x_train,
        task.y_train,
        epochs=10,
        learning_rate=HANDOUT_LR,
        mb_size=HANDOUT_MB,
        loss_fn=ref.bce_loss,
        loss_grad_fn=ref.bce_loss_grad,
    )
    assert losses == [row[0] for row in ten_epochs]
    assert accuracies == [row[1] for row in ten_epochs]


def test_fifty_epochs_reach_about_096_test_accuracy(task: DigitsTask) -> None:
    net = handout_net()
    handout.train(
        net,
        task.x_train,
        task.y_train,
        epochs=50,
        learning_rate=HANDOUT_LR,
        mb_size=HANDOUT_MB,
        loss_fn=ref.bce_loss,
        loss_grad_fn=ref.bce_loss_grad,
    )
    probabilities = handout.predict(net, task.x_test)
    assert probabilities.shape == (899, 1)
    accuracy = np.mean((probabilities[:, 0] > 0.5) == task.y_test)
    assert round(accuracy, 2) == 0.96
    assert round(evaluate(net, task.x_test, task.y_test)[1], 2) == 0.96


def test_linear_init_draws_uniform_in_handout_bound_from_rng() -> None:
    layer = ref.Linear(64, 32, rng=np.random.default_rng(0))
    expected = np.random.default_rng(0).uniform(-np.sqrt(6 / 2048), np.sqrt(6 / 2048), (64, 32))
    np.testing.assert_array_equal(layer.W, expected)
    np.testing.assert_array_equal(layer.b, np.zeros(32))


# --- gradient checks the handout prints ----------------------------------------------------


def projected(
    forward: Callable[[np.ndarray], np.ndarray], dy: np.ndarray, shape: tuple[int, ...]
) -> Callable[[np.ndarray], float]:
    """Scalar ``sum(forward(v) * dy)`` of a flat vector, so check_grad sees a real function."""
    return lambda flat: float(np.sum(forward(flat.reshape(shape)) * dy))


def test_linear_gradients_pass_check_grad() -> None:
    rng = np.random.default_rng(7)
    layer = ref.Linear(4, 3, rng=rng)
    x, dy = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))

    def with_w(w: np.ndarray) -> np.ndarray:
        layer.W = w
        return layer.forward(x)

    def with_b(b: np.ndarray) -> np.ndarray:
        layer.b = b
        return layer.forward(x)

    def backward_then(attr: str) -> Callable[[np.ndarray], np.ndarray]:
        def grad(flat: np.ndarray) -> np.ndarray:
            layer.backward(x, dy)
            return getattr(layer, attr).ravel()

        return grad

    w0, b0 = layer.W.copy(), rng.normal(size=3)
    errors = {
        "dx": check_grad(
            projected(layer.forward, dy, x.shape),
            lambda flat: layer.backward(flat.reshape(x.shape), dy).ravel(),
            x.ravel(),
        ),
        "dW": check_grad(projected(with_w, dy, w0.shape), backward_then("dW"), w0.ravel().copy()),
        "db": check_grad(projected(with_b, dy, b0.shape), backward_then("db"), b0.copy()),
    }
    assert all(err < 1e-5 for err in errors.values()), errors


@pytest.mark.parametrize("layer_cls", [ref.Sigmoid, ref.ReLU])
def test_activation_dx_passes_check_grad(layer_cls: type) -> None:
    rng = np.random.default_rng(11)
    layer = layer_cls()
    x, dy = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    error = check_grad(
        projected(layer.forward, dy, x.shape),
        lambda flat: layer.backward(flat.reshape(x.shape), dy).ravel(),
        x.ravel(),
    )
    assert error < 1e-5


# --- optimize_f: the handout's hints and the decay schedule -----------------------------


def test_optimize_f_one_step_from_3_2_follows_handout_hints() -> None:
    x, y, value, x_hist, y_hist = ref.optimize_f(3.0, 2.0, 0.1, 1)
    assert x != 3.0
    assert value < handout.f(3.0, 2.0)
    assert abs(x - 3.0) < 1
    assert x_hist == [3.0, x]
    assert y_hist == [2.0, y]


def test_optimize_f_uses_decayed_step_and_gradients_at_the_old_point() -> None:
    step_size, decay = 0.05, 0.5
    x, y = -1.0, 4.0
    for t in range(3):
        eta = step_size * decay**t
        x, y = x - eta * handout.grad_x_f(x, y), y - eta * handout.grad_y_f(x, y)
    got = ref.optimize_f(-1.0, 4.0, step_size, 3, decay=decay)
    assert got[:2] == pytest.approx((x, y), rel=1e-12)
    assert got[2] == pytest.approx(handout.f(x, y), rel=1e-12)
    assert len(got[3]) == len(got[4]) == 4


# --- the elementwise functions ----------------------------------------------------------


def test_sigmoid_is_stable_and_symmetric_over_wide_inputs() -> None:
    x = np.linspace(-800, 800, 33).reshape(3, 11)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = ref.sigmoid(x)
    np.testing.assert_allclose(s + ref.sigmoid(-x), 1.0, rtol=0, atol=1e-15)
    assert s.shape == x.shape


def test_bce_loss_grad_matches_central_differences() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=(6, 1)).astype(float)
    y_hat = rng.uniform(0.05, 0.95, size=(6, 1))
    h = 1e-6
    numeric = (ref.bce_loss(y, y_hat + h) - ref.bce_loss(y, y_hat - h)) / (2 * h)
    np.testing.assert_allclose(ref.bce_loss_grad(y, y_hat), numeric, rtol=1e-6)


def test_relu_does_not_modify_its_input() -> None:
    x = np.array([[-1.0, 0.0, 2.0]])
    ref.relu(x)
    ref.ReLU().forward(x)
    np.testing.assert_array_equal(x, [[-1.0, 0.0, 2.0]])


# --- handout.py is safe to run beside student code --------------------------------------


def test_handout_imports_only_numpy_and_the_standard_library() -> None:
    tree = ast.parse(Path(handout.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    roots = {name.split(".")[0] for name in imported}
    assert roots <= {"__future__", "collections", "typing", "numpy"}


def test_handout_defines_no_graded_name() -> None:
    assert not set(GRADED_PROBLEMS) & set(vars(handout))


# --- the submission corpus --------------------------------------------------------------


def test_manifest_lists_every_submission_and_only_known_problems() -> None:
    manifest = json.loads((SUBMISSIONS / "manifest.json").read_text())
    files = {p.name for p in SUBMISSIONS.iterdir() if p.suffix in {".py", ".ipynb"}}
    assert set(manifest) == files
    for entry in manifest.values():
        assert set(entry["loses"]) <= {*GRADED_PROBLEMS, "train_digits"}


def test_manifest_has_three_single_bug_files_per_problem() -> None:
    manifest = json.loads((SUBMISSIONS / "manifest.json").read_text())
    by_problem: dict[str, list[str]] = {problem: [] for problem in GRADED_PROBLEMS}
    for name in manifest:
        # longest id first, so bug_sigmoid_grad_* is not counted as a sigmoid bug
        owners = [p for p in GRADED_PROBLEMS if name.startswith(f"bug_{p}_")]
        if owners:
            by_problem[max(owners, key=len)].append(name)
    for problem, names in by_problem.items():
        assert len(names) >= 3, problem
        assert all(problem in manifest[name]["loses"] for name in names), problem
