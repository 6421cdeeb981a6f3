"""Sampled gradient checks: they catch the classic bugs and stay cheap."""

from __future__ import annotations

import numpy as np
import pytest

from graders.checks import (
    BadValue,
    away_from_kinks,
    check_gradient,
    directional_derivative,
    distinct_shape,
    numerical_gradient,
    numerical_gradient_sample,
    upstream_scalar,
)


def _affine_problem(rng: np.random.Generator):
    """Softmax loss of an affine layer on distinct sizes, and its true gradients."""
    n, d, c = distinct_shape(rng, 3)
    x = rng.normal(size=(n, d))
    y = rng.integers(0, c, size=n)
    params = {"W": rng.normal(size=(d, c)), "b": rng.normal(size=c)}

    def probs(p: dict[str, np.ndarray]) -> np.ndarray:
        s = x @ p["W"] + p["b"]
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss(p: dict[str, np.ndarray]) -> float:
        return float(-np.log(probs(p)[np.arange(n), y]).mean())

    def grad(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        dscores = probs(p)
        dscores[np.arange(n), y] -= 1
        dscores /= n
        return {"W": x.T @ dscores, "b": dscores.sum(axis=0)}

    return loss, params, grad(params), n, grad


def test_numerical_gradient_matches_known_derivative():
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    g = numerical_gradient(lambda a: float(np.sum(a**3)), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-8)


def test_sampled_and_directional_derivatives_match_the_full_gradient():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))

    def f(a: np.ndarray) -> float:
        return float(np.sum(np.sin(a)))

    full = numerical_gradient(f, x)
    coords = np.array([0, 5, 11])
    np.testing.assert_allclose(numerical_gradient_sample(f, x, coords), full.flat[coords],
                               rtol=1e-9)
    v = rng.normal(size=x.shape)
    assert directional_derivative(f, x, v) == pytest.approx(float(np.sum(full * v)), rel=1e-8)


def test_check_gradient_passes_a_correct_gradient_per_block():
    loss, params, grads, *_ = _affine_problem(np.random.default_rng(1))
    results = check_gradient("loss grads", loss, params, grads, rng=np.random.default_rng(2))
    assert [r.name for r in results] == ["loss grads['W']", "loss grads['b']"]
    assert all(r.ok for r in results), [r.message for r in results]


def test_check_gradient_catches_a_wrong_bias_behind_a_huge_correct_weight_gradient():
    loss, params, grads, *_ = _affine_problem(np.random.default_rng(3))

    def big_loss(p: dict[str, np.ndarray]) -> float:
        return loss(p) + 1e4 * float(np.sum(p["W"] ** 2))

    analytic = {"W": grads["W"] + 2e4 * params["W"], "b": grads["b"] * 1.01}
    w_result, b_result = check_gradient("grads", big_loss, params, analytic,
                                        rng=np.random.default_rng(4))
    assert w_result.ok, w_result.message
    assert not b_result.ok
    assert b_result.message.startswith("grads['b']: analytic and numerical gradients differ at [")


def test_check_gradient_catches_a_factor_of_n_and_says_so():
    loss, params, grads, n, _ = _affine_problem(np.random.default_rng(5))
    wrong = {"W": grads["W"] * n, "b": grads["b"]}
    results = check_gradient("grads", loss, params, wrong, rng=np.random.default_rng(6),
                             batch_size=n)
    w_result = results[0]
    assert not w_result.ok
    assert f"off by a factor of {n}, the batch size" in w_result.message.lower()
    assert results[1].ok


def test_check_gradient_catches_a_transposed_gradient_with_distinct_shapes():
    loss, params, grads, *_ = _affine_problem(np.random.default_rng(7))
    wrong = {"W": grads["W"].T.copy(), "b": grads["b"]}
    result = check_gradient("grads", loss, params, wrong, rng=np.random.default_rng(8))[0]
    assert not result.ok
    assert "wrong shape" in result.message
    assert "transpose" in result.message


def test_check_gradient_catches_one_wrong_entry_outside_the_sample():
    rng = np.random.default_rng(9)
    a = rng.normal(size=(40, 30))
    w = rng.normal(size=(40, 30))
    grad = a.copy()
    grad[17, 11] += 5.0

    def f(p: dict[str, np.ndarray]) -> float:
        return float(np.sum(p["W"] * a))

    result = check_gradient("grads", f, {"W": w}, {"W": grad}, rng=rng, coords_per_param=4)[0]
    assert not result.ok


def _relu_layer(x: np.ndarray, dout: np.ndarray):
    f = upstream_scalar(lambda p: np.maximum(0.0, p["x"]), dout)
    return f, {"x": dout * (x > 0)}


def test_relu_layer_with_entries_near_the_kink_fails_without_away_from_kinks():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(3, 5))
    x[0, :3] = [1e-7, -1e-7, 0.0]
    dout = rng.normal(size=x.shape)
    f, grads = _relu_layer(x, dout)
    result = check_gradient("relu_backward", f, {"x": x}, grads, rng=rng, coords_per_param=15)
    assert not result[0].ok


def test_correct_relu_layer_passes_after_away_from_kinks():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(3, 5))
    x[0, :3] = [1e-7, -1e-7, 0.0]
    x = away_from_kinks(x, 1e-3)
    dout = rng.normal(size=x.shape)
    f, grads = _relu_layer(x, dout)
    result = check_gradient("relu_backward", f, {"x": x}, grads, rng=rng, coords_per_param=15)
    assert result[0].ok, result[0].message


def test_points_straddling_a_kink_are_set_aside_but_a_wrong_gradient_still_fails():
    rng = np.random.default_rng(17)
    x = rng.normal(size=(3, 5))
    x[1, :4] = [3e-6, -3e-6, 5e-7, -5e-7]  # within h = 1e-5 of ReLU's kink
    dout = rng.normal(size=x.shape)
    f, grads = _relu_layer(x, dout)
    good = check_gradient("relu_backward", f, {"x": x}, grads, rng=rng, coords_per_param=15)
    assert good[0].ok, good[0].message
    bad = check_gradient("relu_backward", f, {"x": x}, {"x": grads["x"] * 1.01}, rng=rng,
                         coords_per_param=15)
    assert not bad[0].ok


def test_a_loss_computed_in_float32_is_reported_as_unstable_not_passed():
    rng = np.random.default_rng(18)
    a = rng.normal(size=(6, 4))

    def f32(p: dict[str, np.ndarray]) -> float:
        return float(np.sum(np.tanh(p["W"].astype(np.float32)) * a.astype(np.float32)))

    w = rng.normal(size=(6, 4))
    truth = (1 - np.tanh(w) ** 2) * a
    result = check_gradient("grads", f32, {"W": w}, {"W": truth}, rng=rng)[0]
    assert not result.ok
    assert "unstable" in result.message


def test_away_from_kinks_keeps_signs_and_clears_the_margin():
    moved = away_from_kinks(np.array([-1e-4, 0.0, 2e-4, -0.5, 0.7]), 1e-3)
    assert np.all(np.abs(moved) >= 1e-3)
    assert list(np.sign(moved)) == [-1.0, 1.0, 1.0, -1.0, 1.0]
    assert moved[3] == -0.5 and moved[4] == 0.7


def test_check_gradient_works_in_float64_for_float32_params():
    loss, params, _, _, grad = _affine_problem(np.random.default_rng(11))
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    seen: set[np.dtype] = set()

    def spy(p: dict[str, np.ndarray]) -> float:
        seen.update(v.dtype for v in p.values())
        return loss(p)

    truth = grad({k: v.astype(np.float64) for k, v in p32.items()})
    results = check_gradient("grads", spy, p32, truth, rng=np.random.default_rng(12))
    assert seen == {np.dtype(np.float64)}
    assert all(r.ok for r in results), [r.message for r in results]


def test_check_gradient_uses_a_bounded_number_of_evaluations_on_a_3072_by_50_parameter():
    rng = np.random.default_rng(13)
    a = rng.normal(size=(3072, 50))
    w = rng.normal(size=(3072, 50)) * 1e-4
    calls = 0

    def f(p: dict[str, np.ndarray]) -> float:
        nonlocal calls
        calls += 1
        return float(np.sum(p["W"] * a) + 0.5 * np.sum(p["W"] ** 2))

    results = check_gradient("grads", f, {"W": w}, {"W": a + w}, rng=rng,
                             coords_per_param=8, directions=3)
    assert results[0].ok, results[0].message
    assert calls == results.evaluations == 2 * 8 + 2 * 3
    assert calls < 2 * w.size


def test_check_gradient_reports_a_missing_gradient_key():
    loss, params, grads, *_ = _affine_problem(np.random.default_rng(14))
    results = check_gradient("grads", loss, params, {"W": grads["W"]},
                             rng=np.random.default_rng(15))
    assert results[0].ok
    assert not results[1].ok and "missing" in results[1].message


def test_check_gradient_fails_cleanly_when_the_loss_is_not_a_number():
    params = {"W": np.ones((2, 3))}
    results = check_gradient("grads", lambda p: None, params, {"W": np.ones((2, 3))},
                             rng=np.random.default_rng(16))
    assert not results[0].ok
    assert "returned None" in results[0].message


def test_upstream_scalar_refuses_to_broadcast_the_forward_output():
    f = upstream_scalar(lambda x: x.sum(axis=0, keepdims=True), np.ones((3, 2)))
    with pytest.raises(BadValue, match="the shape of dout"):
        f(np.ones((3, 2)))
