"""The trusted-side checks of nyu-dl-hw1 on values built here, without a sandbox.

The initialisation test is statistical: a correct init must pass it with
probability above 0.999, and the usual wrong scales must fail it. The step
check must name the layer that is off and recognise the classic bugs.
"""

from __future__ import annotations

import ast
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from graders.assignments.nyu_dl_hw1 import spec
from graders.assignments.nyu_dl_hw1.data import mnist_like
from reference.nyu_dl_hw1 import IN_OUT, OUT_IN, gradients

SIZES = (784, 32, 32, 10)


def init(rng: np.random.Generator, draw: str = "normal", scale: str = "max",
         layout: str = IN_OUT) -> spec.Params:
    weights = []
    for n_in, n_out in pairwise(SIZES):
        var = {"max": 1 / max(n_in, n_out), "one": 1.0, "squared": 1 / max(n_in, n_out) ** 2,
               "n_out": 1 / n_out}[scale]
        if draw == "normal":
            W = rng.normal(0, np.sqrt(var), size=(n_in, n_out))
        else:
            bound = np.sqrt(3 * var)
            W = rng.uniform(-bound, bound, size=(n_in, n_out))
        weights.append(W if layout == IN_OUT else W.T)
    return spec.Params("weights", weights, "list")


def test_a_correct_init_fails_the_statistical_test_less_than_once_in_a_thousand() -> None:
    rng = np.random.default_rng(0)
    failures = sum(not spec._init_statistics(init(rng)).ok for _ in range(1000))
    assert failures <= 4  # about 0.6 expected; the contract allows 1


def test_the_init_bounds_written_out_are_scipys_quantiles() -> None:
    from scipy import stats

    tail = spec.INIT_ALPHA / 2
    z = spec.INIT_Z
    assert z == pytest.approx(float(stats.norm.isf(tail)), rel=1e-12)
    assert set(spec.INIT_CHI2) == {n_in * n_out for n_in, n_out in pairwise(spec.SIZES)}
    for n in (*spec.INIT_CHI2, 100):  # 100: a near-miss shape, which asks scipy itself
        expected = (float(stats.chi2.ppf(tail, n)), float(stats.chi2.isf(tail, n)))
        assert spec._chi2_bounds(n) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("layout", [IN_OUT, OUT_IN])
def test_uniform_draws_of_the_right_variance_pass_in_either_layout(layout: str) -> None:
    assert spec._init_statistics(init(np.random.default_rng(1), "uniform", layout=layout)).ok


@pytest.mark.parametrize(("scale", "says"), [
    ("one", "a standard normal"),
    ("squared", "the square of the target"),
    ("n_out", "weights[0] (784→32): variance"),
])
def test_wrong_scales_fail_with_the_layer_and_the_variance(scale: str, says: str) -> None:
    result = spec._init_statistics(init(np.random.default_rng(2), scale=scale))
    assert not result.ok
    assert says in result.message


def test_a_huge_weight_is_refused_before_the_statistics_widen_it() -> None:
    import tracemalloc

    weights = init(np.random.default_rng(4))
    weights.arrays[0] = np.ones(64 << 20, dtype=bool)  # 64 MB; 512 MB as float64
    tracemalloc.start()
    try:
        result = spec._init_statistics(weights)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not result.ok
    assert "weights[0] (784→32): got an array of shape (67108864,), expected an array of " \
           "shape (784, 32)." in result.message
    assert peak < 1 << 20


def test_biases_must_be_zero_vectors_and_columns_are_accepted() -> None:
    zeros = spec.Params("biases", [np.zeros((32, 1)), np.zeros(32), np.zeros((10, 1))], "tuple")
    assert spec._init_biases(zeros).ok
    ones = spec.Params("biases", [np.zeros(32), np.ones(32), np.zeros(10)], "list")
    assert "biases[1]: 32 of 32 entries are not zero" in spec._init_biases(ones).message


def test_a_mixed_layout_is_named_as_such() -> None:
    weights = init(np.random.default_rng(3)).arrays
    mixed = spec.Params("weights", [weights[0], weights[1], weights[2].T], "list")
    result = spec._init_layout(mixed)
    assert not result.ok and "not in one layout" in result.message


# -- the step check ---------------------------------------------------------------------------

def _step(old: list[np.ndarray], grads: list[np.ndarray], lr: float) -> list[np.ndarray]:
    return [p - lr * g for p, g in zip(old, grads, strict=True)]


@pytest.fixture
def network() -> tuple[list[np.ndarray], np.ndarray, int]:
    rng = np.random.default_rng(4)
    weights = init(rng).arrays
    biases = [rng.normal(0, 0.5, size=n) for n in SIZES[1:]]
    return [*weights, *biases], mnist_like(rng, 1)[0], 6


def test_the_true_step_passes_and_a_step_on_the_rescaled_sample_too(
        network: tuple[list[np.ndarray], np.ndarray, int]) -> None:
    old, sample, y = network
    for x in (sample, sample / 255.0):
        dw, db = gradients(old[:3], old[3:], x, y, IN_OUT)
        new = _step(old, [*dw, *db], 0.05)
        result = spec._step_check("step", "call", old, new, sample, y, 0.05, [(IN_OUT,) * 3])
        assert result.ok, result.message


def test_the_dsigmoid_of_activation_bug_names_the_hidden_layers_and_the_bug(
        network: tuple[list[np.ndarray], np.ndarray, int]) -> None:
    old, sample, y = network
    dw, db = gradients(old[:3], old[3:], sample, y, IN_OUT, dsigmoid_at="activation")
    new = _step(old, [*dw, *db], 0.05)
    result = spec._step_check("step", "call", old, new, sample, y, 0.05, [(IN_OUT,) * 3])
    assert not result.ok
    assert "in layer 1 (weights[0] off by" in result.message
    assert "the output layer is right" in result.message
    assert "applying dsigmoid to the activation" in result.message


def test_a_step_that_only_misses_the_output_bias_says_so(
        network: tuple[list[np.ndarray], np.ndarray, int]) -> None:
    old, sample, y = network
    dw, db = gradients(old[:3], old[3:], sample, y, IN_OUT)
    new = _step(old, [*dw, *db], 0.05)
    new[5] = old[5].copy()
    result = spec._step_check("step", "call", old, new, sample, y, 0.05, [(IN_OUT,) * 3])
    assert "in the output layer (biases[2] off by 100%)" in result.message
    assert "layer 1 and layer 2 are right" in result.message


def test_an_unchanged_network_is_told_to_update_the_module_level_names(
        network: tuple[list[np.ndarray], np.ndarray, int]) -> None:
    old, sample, y = network
    result = spec._step_check("step", "call", old, [p.copy() for p in old], sample, y, 0.05,
                              [(IN_OUT,) * 3])
    assert "Nothing changed" in result.message and "global weights" in result.message


# -- the course's code that runs in the sandbox -------------------------------------------------

PROVIDED = Path(spec.__file__).with_name("provided")
GRADED_NAMES = {"feed_forward_sample", "train_one_sample", "train_one_epoch", "weights",
                "biases", "Net", "forward", "gradients", "backward"}


def _top_level_names_and_imports(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text())
    names = {node.name for node in tree.body
             if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    names |= {t.id for node in tree.body if isinstance(node, ast.Assign)
              for t in node.targets if isinstance(t, ast.Name)}
    imports = {(node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
               for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
               for alias in node.names}
    return names, {name.split(".")[0] for name in imports}


@pytest.mark.parametrize("module", ["handout.py", "mnist_training.py", "fashion_training.py"])
def test_provided_code_defines_no_graded_name(module: str) -> None:
    names, _ = _top_level_names_and_imports(PROVIDED / module)
    assert not names & GRADED_NAMES


@pytest.mark.parametrize("module", ["handout.py", "mnist_training.py"])
def test_the_numpy_parts_provided_code_needs_only_numpy(module: str) -> None:
    _, imports = _top_level_names_and_imports(PROVIDED / module)
    assert imports <= {"__future__", "collections", "inspect", "sys", "typing", "numpy"}


@pytest.mark.parametrize(("rescale", "a", "b"), [
    (lambda x: x / 255.0, 1 / 255, 0.0),
    (lambda x: (x.astype(np.float32) - 33.3) / 78.5, 1 / 78.5, -33.3 / 78.5),
])
def test_a_rescaled_x_test_gives_its_scale_and_shift(rescale, a: float, b: float) -> None:
    x = mnist_like(np.random.default_rng(0), 50).reshape(50, -1).astype(np.float64)
    fitted = spec._affine(x, np.asarray(rescale(x), dtype=np.float64))
    assert fitted is not None
    assert fitted == pytest.approx((a, b), rel=1e-5, abs=1e-7)


def test_an_x_test_that_is_not_a_rescaled_copy_gives_nothing() -> None:
    """Rows rewritten to encode labels are never scored, nor taken for a rescaling."""
    x = mnist_like(np.random.default_rng(0), 50).reshape(50, -1).astype(np.float64)
    crafted = x / 255.0
    crafted[np.arange(50), np.arange(50) % 10] = 1.0
    assert spec._affine(x, crafted) is None
