"""A loss declared with a regularisation strength is checked with it and without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.bundles import Registry
from graders.engine import grade

LOSS = '''
import numpy as np


def softmax_loss(W, X, y, reg):
    scores = X @ W
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    n = X.shape[0]
    loss = -np.log(p[np.arange(n), y]).mean() + reg * np.sum(W * W)
    p[np.arange(n), y] -= 1
    return loss, X.T @ p / n + 2 * reg * W
'''

SPEC = '''
from graders.derive import labels
from graders.spec import Assignment

from . import reference

assignment = Assignment("reg-hw", "Regularised loss", reference=reference)
assignment.loss("softmax_loss", points=2, W=("D", "C"), X=("N", "D"), y=labels("C"),
                reg=0.3)
'''


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    bundle = tmp_path / "bundles" / "reg-hw"
    (bundle / "reference").mkdir(parents=True)
    (bundle / "dlgrade-bundle.toml").write_text(
        'slug = "reg-hw"\ntitle = "Regularised loss"\nversion = "1"\n')
    (bundle / "spec.py").write_text(SPEC)
    (bundle / "reference" / "__init__.py").write_text(LOSS)
    return Registry.from_paths([tmp_path / "bundles"])


def _checks(registry: Registry, source: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    monkeypatch.setattr("graders.assignments.registry", registry)
    path = tmp_path / "loss.py"
    path.write_text(source)
    problem = grade("reg-hw", [path], seed=7).problems[0]
    assert problem.max_score == 2
    return {c.name: c.ok for c in problem.checks}


WITHOUT = "softmax_loss(W, X, y, reg) without regularisation (reg=0)"


def test_the_correct_loss_passes_with_and_without_regularisation(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checks = _checks(registry, LOSS, tmp_path, monkeypatch)
    assert all(checks.values()), checks
    assert {f"{WITHOUT} → loss", f"{WITHOUT} → dW"} <= set(checks)
    assert len(checks) == registry.get("reg-hw").problems[0].checks == 8


@pytest.mark.parametrize(("bug", "old", "new"), [
    ("regulariser forgotten in the gradient", "+ 2 * reg * W", ""),
    ("regulariser halved in the loss", "reg * np.sum(W * W)", "0.5 * reg * np.sum(W * W)"),
])
def test_a_regulariser_bug_fails_only_the_checks_with_one(
        bug: str, old: str, new: str, registry: Registry, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    checks = _checks(registry, LOSS.replace(old, new), tmp_path, monkeypatch)
    assert checks[f"{WITHOUT} → loss"] and checks[f"{WITHOUT} → dW"], bug
    assert not all(checks.values()), bug


def test_a_data_term_bug_fails_without_regularisation_too(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checks = _checks(registry, LOSS.replace("X.T @ p / n", "X.T @ p"), tmp_path, monkeypatch)
    assert not checks[f"{WITHOUT} → dW"]


def test_another_number_is_passed_as_it_is_and_never_set_to_zero(tmp_path: Path) -> None:
    bundle = tmp_path / "bundles" / "margin-hw"
    (bundle / "reference").mkdir(parents=True)
    (bundle / "dlgrade-bundle.toml").write_text(
        'slug = "margin-hw"\ntitle = "Margin"\nversion = "1"\n')
    (bundle / "spec.py").write_text(SPEC.replace('"reg-hw"', '"margin-hw"').replace(
        "reg=0.3)", "reg=0.3, delta=1.0)").replace("softmax_loss\",", "softmax_loss\","))
    (bundle / "reference" / "__init__.py").write_text(LOSS.replace(
        "def softmax_loss(W, X, y, reg):", "def softmax_loss(W, X, y, reg, delta):"))
    problem = Registry.from_paths([tmp_path / "bundles"]).get("margin-hw").problems[0]
    assert problem.checks == 8       # six, and two without reg; none without delta
    assert "again with reg at 0" in problem.description
