"""What a problem reports when several things are wrong at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graders.engine import grade_submission
from graders.engine.submission import load_submission
from graders.results import CheckResult
from graders.spec import Assignment


def _assignment() -> Assignment:
    a = Assignment("order-test", "Order test")

    @a.problem("train", points=2, needs=["train"], training=True, dataset="mnist")
    def train(student: Any, ctx: Any) -> Iterator[CheckResult]:
        yield CheckResult.passed("train")

    return a


def test_a_missing_function_is_not_found_even_when_its_data_set_is_not_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(tmp_path / "no-datasets"))
    code = tmp_path / "solution.py"
    code.write_text("def fit(x):\n    return x\n")
    a = _assignment()
    grade = grade_submission(a, load_submission([code]), seed=1, problems=a.problems,
                             sandbox=False)
    (result,) = grade.problems
    assert result.status == "failed", result.message
    assert "Not found: `train`" in result.message and "not installed" not in result.message


def test_a_present_function_whose_data_set_is_missing_is_skipped_with_the_fetch_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(tmp_path / "no-datasets"))
    code = tmp_path / "solution.py"
    code.write_text("def train(x):\n    return x\n")
    a = _assignment()
    grade = grade_submission(a, load_submission([code]), seed=1, problems=a.problems,
                             sandbox=False)
    (result,) = grade.problems
    assert result.status == "skipped"
    assert "not installed" in result.message and "dlgrade datasets fetch mnist" in result.message
