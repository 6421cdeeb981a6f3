"""diagnose: each recognised mistake is named, and nothing is named when nothing fits."""

from __future__ import annotations

import numpy as np

from graders.checks import diagnose


def _grad() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(5, 7))


def test_diagnose_names_missing_batch_mean():
    g = _grad()
    phrase = diagnose(g * 5, g, batch_size=5)
    assert "off by a factor of 5, the batch size (5 times too large)" in phrase


def test_diagnose_names_extra_batch_mean():
    g = _grad()
    assert "5 times too small" in diagnose(g / 5, g, batch_size=5)


def test_diagnose_names_other_constant_factors():
    g = _grad()
    assert "constant factor of 2" in diagnose(g * 2, g)
    assert "≈ 3.142" in diagnose(g * np.pi, g)


def test_diagnose_names_a_sign_flip():
    g = _grad()
    assert "sign" in diagnose(-g, g)


def test_diagnose_names_missing_regularisation_gradient():
    g, w = _grad(), np.random.default_rng(4).normal(size=(5, 7))
    phrase = diagnose(g, g + 0.3 * w, reg_term=0.3 * w)
    assert phrase == "differs by exactly reg·W: the regularisation gradient is missing"


def test_diagnose_names_doubled_regularisation_gradient():
    g, w = _grad(), np.random.default_rng(4).normal(size=(5, 7))
    assert "counted twice" in diagnose(g + 0.6 * w, g + 0.3 * w, reg_term=0.3 * w)


def test_diagnose_names_a_transpose():
    square = np.random.default_rng(5).normal(size=(4, 4))
    assert "transpose" in diagnose(square.T, square)
    g = _grad()
    assert "transpose" in diagnose(g.T, g)


def test_diagnose_names_all_zeros():
    assert "every entry is 0" in diagnose(np.zeros((5, 7)), _grad())


def test_diagnose_names_an_unsummed_batch_axis():
    per_sample = np.random.default_rng(6).normal(size=(4, 3))
    assert "sum over axis 0" in diagnose(per_sample, per_sample.sum(axis=0))


def test_diagnose_says_nothing_for_unrelated_values():
    rng = np.random.default_rng(7)
    assert diagnose(rng.normal(size=(5, 7)), rng.normal(size=(5, 7))) == ""


def test_diagnose_says_nothing_for_equal_values():
    g = _grad()
    assert diagnose(g, g.copy()) == ""
