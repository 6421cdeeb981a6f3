"""Partial credit on a ramp, and shapes whose sizes are all distinct."""

from __future__ import annotations

import numpy as np
import pytest

from graders.checks import distinct_shape, ramp
from graders.errors import SpecError


def test_ramp_gives_nothing_at_and_below_zero_at():
    assert ramp("acc", 0.50, zero_at=0.5, full_at=0.95).fraction == 0.0
    result = ramp("acc", 0.30, zero_at=0.5, full_at=0.95)
    assert result.fraction == 0.0 and result.status == "failed"


def test_ramp_gives_everything_at_and_above_full_at():
    result = ramp("acc", 0.95, zero_at=0.5, full_at=0.95)
    assert result.fraction == 1.0 and result.ok
    assert ramp("acc", 0.99, zero_at=0.5, full_at=0.95).fraction == 1.0


def test_ramp_is_linear_in_the_middle_with_a_readable_message():
    result = ramp("acc", 0.815, zero_at=0.5, full_at=0.95)
    assert result.fraction == pytest.approx(0.7)
    assert result.message == (
        "test accuracy 0.815: 70% of the points (full at ≥ 0.95, none at ≤ 0.50).")


def test_ramp_never_shows_100_percent_without_full_credit():
    result = ramp("acc", 0.9499, zero_at=0.5, full_at=0.95)
    assert "99%" in result.message and not result.ok


def test_ramp_works_downwards_for_a_loss():
    result = ramp("loss", 0.26, zero_at=0.5, full_at=0.02, what="final training loss")
    assert result.fraction == pytest.approx(0.5)
    assert "(full at ≤ 0.02, none at ≥ 0.50)" in result.message


def test_ramp_gives_nothing_for_nan():
    assert ramp("acc", float("nan"), zero_at=0.1, full_at=0.7).fraction == 0.0


def test_ramp_with_equal_thresholds_is_a_spec_error():
    with pytest.raises(SpecError):
        ramp("acc", 0.5, zero_at=0.5, full_at=0.5)


def test_distinct_shape_sizes_are_distinct_and_in_range():
    rng = np.random.default_rng(0)
    for ndim in range(1, 7):
        dims = distinct_shape(rng, ndim)
        assert len(set(dims)) == ndim
        assert all(2 <= d <= 13 for d in dims)


def test_distinct_shape_is_reproducible_from_the_seed():
    first = distinct_shape(np.random.default_rng(5), 4)
    assert first == distinct_shape(np.random.default_rng(5), 4)


def test_distinct_shape_refuses_impossible_requests():
    with pytest.raises(ValueError):
        distinct_shape(np.random.default_rng(0), 5, low=2, high=4)
