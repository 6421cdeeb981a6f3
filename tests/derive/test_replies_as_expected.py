"""A student's reply used as the expected value of a later call ("called twice") is read
as the reference allows before the grader widens or converts it."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from graders.derive.common import as_expected, twice
from graders.results import CheckResult


def test_a_huge_reply_is_refused_before_the_grader_widens_it():
    huge = np.ones(64 * 2**20, dtype=bool)  # 64 MB; 512 MB as float64
    tracemalloc.start()
    try:
        first = as_expected("relu(x) called twice", {"value": huge}, {"value": np.zeros((3, 5))})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(first, CheckResult) and not first.ok and first.supporting
    assert "got an array of shape (67108864,)" in first.message, first.message
    assert peak < 2**20, peak


@pytest.mark.parametrize(("reply", "says"), [
    (None, "None"), ("0.5", "str"), ({"a": 1}, "dict"), ([1.0, 2.0], "list"),
    (np.array(["a", "b"]), "dtype <U1"), (np.zeros((5, 3)), "has shape (5, 3), expected (3, 5)"),
])
def test_odd_first_replies_fail_the_check_and_are_named(reply, says):
    first = as_expected("relu(x) called twice", {"value": reply}, {"value": np.zeros((3, 5))})
    verdict = twice("relu(x) called twice", {"value": np.zeros((3, 5))}, first)
    assert verdict.status == "failed" and verdict.supporting
    assert says in verdict.message, verdict.message
    assert verdict.name == verdict.key == "relu(x) called twice"


def test_a_repeatable_reply_passes_and_a_changing_one_fails():
    want = {"dx": np.arange(6.0).reshape(2, 3)}
    first = as_expected("f called twice", {"dx": np.arange(6.0).reshape(2, 3)}, want)
    assert twice("f called twice", {"dx": np.arange(6.0).reshape(2, 3)}, first).ok
    assert not twice("f called twice", {"dx": 2 * np.arange(6.0).reshape(2, 3)}, first).ok
