"""A student's value is bounded before the grader widens it to float64.

A reply may hold 200 MB of bools, well inside the sandbox's message limit;
as float64 that is 1.6 GB in the trusted process, outside every limit the
sandbox has. Every reading site must refuse it, with a message naming what
came back, before the copy is made.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from graders.checks import (
    diagnose,
    finite,
    rel_error,
    repeatable,
    scales_with_upstream,
    unchanged,
    zero_upstream,
)
from graders.checks._validate import MAX_ENTRIES, Invalid, real_array
from graders.engine.errors import WrongValue
from graders.engine.proxy import as_array, as_number

MiB = 1 << 20


def traced(read: Callable[[], Any]) -> tuple[Any, int]:
    """What ``read()`` returned or raised, and the peak bytes it allocated."""
    tracemalloc.start()
    try:
        try:
            outcome: Any = read()
        except Exception as exc:
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def huge_bools(n: int = MAX_ENTRIES + 1) -> np.ndarray:
    return np.ones(n, dtype=bool)


def test_a_value_read_without_an_expected_shape_is_capped_before_widening():
    big = huge_bools()

    outcome, peak = traced(lambda: real_array(big))

    assert isinstance(outcome, Invalid)
    assert str(outcome) == (f"got an array of shape ({big.size},), expected a numpy array of "
                            f"at most {MAX_ENTRIES:,} entries")
    assert peak < MiB  # 32 MB as float64


def test_a_partly_known_shape_gets_the_same_cap():
    big = huge_bools()

    outcome, peak = traced(lambda: real_array(big, (None, 3)))

    assert isinstance(outcome, Invalid) and "at most 4,194,304 entries" in str(outcome)
    assert peak < MiB


def test_finite_refuses_a_huge_unshaped_reply_instead_of_widening_it():
    big = huge_bools()

    result, peak = traced(lambda: finite("loss_history", big))

    assert not result.ok
    assert f"loss_history: got an array of shape ({MAX_ENTRIES + 1},)" in result.message
    assert peak < MiB


def _grads(dW: Any) -> dict[str, Any]:
    return {"dW": dW, "dx": np.zeros((4, 5)), "db": np.zeros(3)}  # dW is read first


SHAPES = {"dx": (4, 5), "dW": (5, 3), "db": (3,)}
SUPPORTING = {  # each check, and how it names the call whose dW came back wrong
    "repeatable": (lambda bad, shapes: repeatable(
        "Linear.backward run twice", _grads(np.ones((5, 3))), _grads(bad), shapes=shapes),
        "on the second call"),
    "scales_with_upstream": (lambda bad, shapes: scales_with_upstream(
        "Linear.backward uses dy", _grads(np.ones((5, 3))), _grads(bad), -2.0, shapes=shapes),
        "for -2·dy"),
    "zero_upstream": (lambda bad, shapes: zero_upstream(
        "Linear.backward with dy = 0", _grads(bad), shapes=shapes),
        "for dy = 0"),
}


@pytest.mark.parametrize(("check", "when"), SUPPORTING.values(), ids=SUPPORTING.keys())
def test_supporting_checks_refuse_a_gradient_far_larger_than_its_shape(check, when):
    bad = huge_bools(MiB)  # 1 MB of bools where 15 numbers belong; 8 MB as float64

    result, peak = traced(lambda: check(bad, SHAPES))

    assert not result.ok
    assert result.message.endswith(f": dW {when}: got an array of shape ({MiB},), expected an "
                                   "array of shape (5, 3)."), result.message
    assert peak < MiB // 4


@pytest.mark.parametrize(("check", "when"), SUPPORTING.values(), ids=SUPPORTING.keys())
def test_supporting_checks_without_shapes_still_cap_what_they_read(check, when):
    big = huge_bools()

    result, peak = traced(lambda: check(big, None))

    assert not result.ok
    assert f"dW {when}: got an array of shape ({MAX_ENTRIES + 1},), expected a numpy array " \
           f"of at most {MAX_ENTRIES:,} entries." in result.message, result.message
    assert peak < MiB


def test_supporting_checks_with_shapes_still_pass_a_right_backward():
    rng = np.random.default_rng(0)
    x, w, dy = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=(4, 3))

    def back(d: np.ndarray) -> dict[str, Any]:
        return {"dx": d @ w.T, "dW": x.T @ d, "db": d.sum(axis=0)}

    assert repeatable("Linear.backward", back(dy), back(dy), shapes=SHAPES).ok
    assert scales_with_upstream("Linear.backward", back(dy), back(-2 * dy), -2, shapes=SHAPES).ok
    assert zero_upstream("Linear.backward", back(0 * dy), shapes=SHAPES).ok


# -- the proxy's readers ---------------------------------------------------------------

def test_as_number_refuses_an_array_before_widening_it():
    """The radboud-dl-a1 optimize_f attack: x came back as 200 MB of bools (here 20 MB)."""
    big = huge_bools(20 * MiB)

    outcome, peak = traced(lambda: as_number("optimize_f(...): one step: x", big))

    assert isinstance(outcome, WrongValue)
    assert str(outcome) == ("optimize_f(...): one step: x: expected a single number, got an "
                            f"array of shape ({20 * MiB},).")
    assert peak < MiB  # 160 MB as float64


def test_as_array_refuses_a_reply_far_larger_than_its_expected_shape():
    big = huge_bools(MiB)

    outcome, peak = traced(lambda: as_array("Linear.W", big, expected_shape=(7, 3)))

    assert isinstance(outcome, WrongValue)
    assert str(outcome) == f"Linear.W: got an array of shape ({MiB},), expected an array of " \
                           "shape (7, 3)."
    assert peak < MiB // 4


def test_as_array_without_an_expected_shape_is_capped():
    big = huge_bools()

    outcome, peak = traced(lambda: as_array("the predicted test labels", big))

    assert isinstance(outcome, WrongValue)
    assert f"at most {MAX_ENTRIES:,} entries" in str(outcome)
    assert peak < MiB


def test_as_array_and_as_number_still_read_right_values():
    labels = np.arange(10_000) % 10
    got = as_array("labels", labels, ndim=1, expected_shape=labels.shape)
    assert got.dtype == np.float64 and np.array_equal(got, labels)
    assert as_number("loss", np.array([[2.5]])) == 2.5
    assert as_number("loss", True) == 1.0


@pytest.mark.parametrize("dtype", [bool, np.float32])
def test_a_huge_cache_is_compared_for_changes_without_widening_it(dtype):
    """A cache read back after the call is compared with the one sent, entry by entry: widened
    whole to float64, 250 MB of bools took 2 GB, twice."""
    before = np.zeros(16 * MiB, dtype=dtype)
    after = before.copy()
    after[-1] = 1
    cache_bytes = before.nbytes

    outcome, peak = traced(lambda: unchanged("f(dout, cache)", (before,), (after,),
                                             what="its cache"))
    assert outcome.status == "failed"
    assert outcome.message.startswith(
        f"f(dout, cache) modified its cache in place (at [0]: 1 of {before.size} entries "
        f"changed, first at [{before.size - 1}]: was 0")
    assert peak < cache_bytes // 4, peak
    same, peak = traced(lambda: unchanged("f(dout, cache)", (before,), (before.copy(),)))
    assert same.ok and peak < 2 * cache_bytes, peak  # the copy itself, and a few MB


def test_nan_stays_equal_to_nan_and_a_changed_dtype_is_compared_by_value():
    x = np.array([1.0, np.nan, 3.0])
    assert unchanged("f", x, x.copy()).ok
    assert unchanged("f", np.array([1, 0, 3]), np.array([1.0, 0.0, 3.0])).ok
    assert not unchanged("f", np.array([True, False]), np.array([1.0, 1.0])).ok


def test_rel_error_and_diagnose_widen_no_reply_larger_than_the_expected_value():
    big = huge_bools(64 * MiB)  # 512 MB as float64
    expected = np.zeros((3, 5))

    outcome, peak = traced(lambda: rel_error(big, expected))
    assert isinstance(outcome, ValueError) and "shapes differ" in str(outcome)
    assert peak < MiB, peak
    outcome, peak = traced(lambda: diagnose(big, expected))
    assert outcome == "" and peak < MiB, peak
