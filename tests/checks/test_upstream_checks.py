"""Backward passes must use dy, be linear in it, repeat, and leave inputs alone."""

from __future__ import annotations

import numpy as np

from graders.checks import (
    linear_in_upstream,
    repeatable,
    scales_with_upstream,
    unchanged,
    zero_upstream,
)


def _setup():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(4, 5)), rng.normal(size=(5, 3))
    return rng, x, w, rng.normal(size=(4, 3))


def _good(x, w):
    return lambda dy: {"dx": dy @ w.T, "dW": x.T @ dy, "db": dy.sum(axis=0)}


def _ignores_dy_in_db(x, w):
    return lambda dy: {"dx": dy @ w.T, "dW": x.T @ dy, "db": np.full(3, float(len(x)))}


def test_correct_backward_passes_all_upstream_checks():
    rng, x, w, dy = _setup()
    back, dy2 = _good(x, w), rng.normal(size=dy.shape)
    assert scales_with_upstream("Linear.backward", back(dy), back(-2 * dy), -2).ok
    assert zero_upstream("Linear.backward", back(0 * dy)).ok
    assert linear_in_upstream("Linear.backward", back(dy), back(dy2), back(dy + dy2)).ok
    assert repeatable("Linear.backward", back(dy), back(dy)).ok


def test_scaling_check_catches_a_backward_that_ignores_dy():
    _, x, w, dy = _setup()
    back = _ignores_dy_in_db(x, w)
    result = scales_with_upstream("Linear.backward", back(dy), back(-2 * dy), -2)
    assert not result.ok
    assert "db" in result.message and "is dy used?" in result.message


def test_scaling_check_catches_a_backward_that_uses_abs_dy():
    _, x, _, dy = _setup()

    def back(d):
        return {"dW": x.T @ np.abs(d)}

    assert not scales_with_upstream("Linear.backward", back(dy), back(-2 * dy), -2).ok


def test_zero_upstream_catches_a_backward_that_ignores_dy():
    _, x, w, dy = _setup()
    result = zero_upstream("Linear.backward", _ignores_dy_in_db(x, w)(0 * dy))
    assert not result.ok
    assert "db should be exactly 0" in result.message


def test_linearity_check_catches_a_backward_that_ignores_dy():
    rng, x, w, dy = _setup()
    back, dy2 = _ignores_dy_in_db(x, w), rng.normal(size=dy.shape)
    result = linear_in_upstream("Linear.backward", back(dy), back(dy2), back(dy + dy2))
    assert not result.ok and "db is not linear in dy" in result.message


def test_repeatable_names_accumulation_into_a_stored_gradient():
    _, x, _, dy = _setup()
    stored = np.zeros((5, 3))

    def back(d):
        stored[...] += x.T @ d
        return {"dW": stored.copy()}

    result = repeatable("Linear.backward", back(dy), back(dy))
    assert not result.ok and "doubled" in result.message


def test_missing_gradient_is_reported_by_name():
    _, x, w, dy = _setup()
    back = _good(x, w)
    result = scales_with_upstream("Linear.backward", back(dy), {"dx": None}, -2)
    assert not result.ok and "dx" in result.message


def test_unchanged_fails_on_in_place_mutation_of_the_input():
    x = np.array([[-1.0, 2.0], [3.0, -4.0]])
    before = x.copy()
    x[x < 0] = 0.0
    result = unchanged("relu_forward(x)", before, x)
    assert not result.ok
    assert "modified its input x in place" in result.message
    assert "first at [0, 0]: was -1, now 0" in result.message


def test_unchanged_walks_a_cache_tuple():
    x, w = np.ones(3), np.ones(2)
    before = (x.copy(), w.copy())
    w[1] = 5.0
    result = unchanged("affine_forward(x, w, b)", before, (x, w), what="its cache")
    assert not result.ok and "at [1]" in result.message


def test_unchanged_with_warn_only_passes_with_a_warning():
    dout = np.array([1.0, -2.0])
    before = dout.copy()
    dout[1] = 0.0
    result = unchanged("relu_backward(dout, cache)", before, dout, what="dout", warn_only=True)
    assert result.ok and result.fraction == 1.0
    assert result.message.startswith("Warning: relu_backward(dout, cache) modified dout")


def test_unchanged_passes_when_nothing_changed_including_nan():
    x = np.array([1.0, np.nan])
    assert unchanged("f(x)", x.copy(), x).ok
