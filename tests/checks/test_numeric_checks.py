"""close, shape, finite and rel_error: tolerances, validation and messages."""

from __future__ import annotations

import numpy as np
import pytest

from graders.checks import close, finite, rel_error, shape
from graders.errors import SpecError


def _sigmoid_grad(x: np.ndarray) -> np.ndarray:
    s = 1.0 / (1.0 + np.exp(-x))
    return s * (1.0 - s)


def test_rel_error_is_max_of_abs_diff_over_abs_sum():
    got = np.array([1.0, 2.0, 0.0])
    expected = np.array([3.0, 2.0, 0.0])
    assert rel_error(got, expected) == pytest.approx(0.5)  # |1-3| / (1+3)


def test_rel_error_floors_the_denominator_at_1e_8():
    assert rel_error(0.0, 1e-9) == pytest.approx(0.1)  # 1e-9 / max(1e-8, 1e-9)


def test_rel_error_of_two_empty_arrays_is_zero():
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_rel_error_refuses_to_broadcast():
    with pytest.raises(ValueError, match="never broadcast"):
        rel_error(np.ones((1, 3)), np.ones(3))


def test_close_passes_within_tolerance_and_fails_just_outside():
    expected = np.array([1.0, 2.0])
    assert close("v", expected * (1 + 1e-7), expected).ok
    assert not close("v", expected * (1 + 1e-5), expected).ok


def test_close_shape_error_never_broadcasts():
    result = close("Linear.db", np.ones((1, 3)), np.ones(3))
    assert not result.ok
    assert result.message.startswith("Linear.db: wrong shape — got (1, 3), expected (3,).")


def test_close_rejects_a_scalar_where_an_array_is_expected():
    result = close("Linear.db", 1.0, np.ones(3))
    assert not result.ok
    assert "got a scalar, expected (3,)" in result.message


def test_close_rejects_object_arrays_with_a_message():
    ragged = np.array([np.ones(2), np.ones(3)], dtype=object)
    result = close("weights", ragged, np.ones(2))
    assert not result.ok
    assert "dtype object" in result.message


def test_close_rejects_none_naming_the_expected_shape():
    result = close("sigmoid(x)", None, np.ones((3, 4)))
    assert result.message == "sigmoid(x): got None, expected an array of shape (3, 4)."


def test_close_rejects_strings_and_complex_values():
    assert "str" in close("v", "0.5", 0.5).message
    complex_result = close("v", np.ones(2) + 0j, np.ones(2))
    assert not complex_result.ok
    assert "complex" in complex_result.message


def test_close_rejects_nan_where_expected_is_finite():
    got = np.array([[0.5, 0.5], [np.nan, 0.5]])
    result = close("sigmoid(x)", got, np.full((2, 2), 0.5))
    assert not result.ok
    assert "1 of 4 entries is NaN or inf" in result.message
    assert "first at [1, 0]: got nan, expected 0.5" in result.message


def test_close_accepts_nan_where_expected_is_nan():
    expected = np.array([1.0, np.nan])
    assert close("v", expected.copy(), expected).ok
    assert not close("v", np.array([1.0, 0.0]), expected).ok


def test_close_reports_worst_index():
    x = np.linspace(-3, 3, 35).reshape(7, 5)
    expected = _sigmoid_grad(x)
    got = expected.copy()
    got[3, 1] *= 1.5
    got[5, 4] *= 1.01
    result = close("sigmoid_grad(x)", got, expected)
    assert not result.ok
    assert result.message.startswith("sigmoid_grad(x): 2 of 35 entries differ; worst at [3, 1]: ")
    assert "rel_error 2.0e-01" in result.message


def test_close_shows_enough_digits_to_see_the_difference():
    result = close("loss", 0.19664, 0.19660)
    assert "got 0.19664, expected 0.1966" in result.message


def test_close_accepts_booleans_as_zero_and_one():
    x = np.array([[-1.0, 2.0], [3.0, -4.0]])
    assert close("relu_grad(x)", x > 0, (x > 0).astype(float)).ok


def test_close_ignore_mask_accepts_any_value_at_the_kink():
    x = np.array([-1.0, 0.0, 2.0])
    expected = np.array([0.0, 0.0, 1.0])
    got = np.array([0.0, 1.0, 1.0])
    assert not close("relu_grad(x)", got, expected).ok
    assert close("relu_grad(x)", got, expected, ignore=(x == 0)).ok


def test_close_accepts_float32_rounding_of_a_float64_reference():
    x = np.random.default_rng(0).normal(size=(5, 7))
    expected = _sigmoid_grad(x)
    assert close("sigmoid_grad(x)", expected.astype(np.float32), expected).ok


def test_close_flags_float16_precision_as_too_coarse():
    x = np.random.default_rng(0).normal(size=(5, 7))
    expected = _sigmoid_grad(x)
    result = close("sigmoid_grad(x)", expected.astype(np.float16), expected)
    assert not result.ok
    assert "significant digits" in result.message


def test_close_names_a_batch_factor():
    expected = np.random.default_rng(1).normal(size=(5, 3))
    result = close("Linear.dW", expected * 5, expected, batch_size=5)
    assert "off by a factor of 5, the batch size" in result.message.lower()


def test_close_names_a_transpose_with_distinct_shapes():
    expected = np.random.default_rng(2).normal(size=(5, 3))
    result = close("Linear.dW", expected.T, expected)
    assert "wrong shape — got (3, 5), expected (5, 3)" in result.message
    assert "transpose" in result.message


def test_close_appends_the_hint():
    result = close("Linear.db", np.zeros(3), np.ones(3),
                   hint="the handout sums the bias gradient over the batch")
    assert result.message.endswith("The handout sums the bias gradient over the batch.")


def test_close_carries_hidden_and_weight():
    result = close("v", 1.0, 1.0, hidden=True, weight=2.5)
    assert result.hidden and result.weight == 2.5


def test_close_blames_the_spec_for_an_invalid_expected_value():
    with pytest.raises(SpecError):
        close("v", 1.0, np.array(["a"]))


def test_shape_accepts_wildcards_and_rejects_extra_axes():
    assert shape("scores", np.zeros((4, 10)), (None, 10)).ok
    result = shape("Linear.b", np.zeros((1, 3)), (3,))
    assert result.message == "Linear.b: wrong shape — got (1, 3), expected (3,)."


def test_shape_rejects_lists():
    assert "got a list" in shape("Linear.b", [0.0, 0.0, 0.0], (3,)).message


def test_finite_reports_first_bad_entry():
    result = finite("loss history", np.array([1.0, 0.5, np.inf, np.nan]))
    assert not result.ok
    assert "2 of 4 entries are NaN or inf; first at [2]: inf" in result.message
    assert finite("loss history", np.array([1.0, 0.5])).ok
