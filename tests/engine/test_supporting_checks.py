"""Supporting checks (uses dy, inputs unchanged, same twice) count only beside a right value.

Code that computes nothing has every such property: a backward returning
zeros scales with dy, repeats itself and leaves its inputs alone.
"""

from __future__ import annotations

from graders.engine.runner import _withhold_unsupported
from graders.results import CheckResult, ProblemResult


def _problem(*checks: CheckResult) -> ProblemResult:
    result = ProblemResult("Linear", 5.0, checks=list(checks))
    _withhold_unsupported(result)
    return result


def _support(name: str) -> CheckResult:
    return CheckResult.passed(name, supporting=True)


def test_no_matching_value_of_the_same_call_withholds_its_support() -> None:
    result = _problem(
        CheckResult.passed("Linear(7, 3): W of shape (7, 3) random, b zero"),
        CheckResult.failed("Linear.backward(x, dy) → dx", "wrong"),
        CheckResult.failed("Linear.backward(x, dy) → dW", "wrong"),
        _support("Linear.backward uses dy"),
        _support("Linear.backward run twice"))
    assert result.score == 5.0 * 1 / 5
    withheld = result.checks[3]
    assert withheld.status == "failed" and "once a value of Linear.backward matches" in (
        withheld.message)


def test_one_right_value_of_the_call_keeps_all_of_its_support() -> None:
    result = _problem(
        CheckResult.passed("Linear.backward(x, dy) → dx"),
        CheckResult.failed("Linear.backward(x, dy) → db", "wrong"),
        _support("Linear.backward uses dy"),
        _support("Linear.backward(x, dy)"))
    assert result.score == 5.0 * 3 / 4


def test_support_for_a_call_without_values_needs_any_right_value() -> None:
    kept = _problem(CheckResult.passed("TwoLayerNet(4, 10, 3).params"),
                    _support("TwoLayerNet.predict(X) equals the argmax"))
    assert kept.score == 5.0
    lost = _problem(CheckResult.failed("training loss after train", "too high"),
                    _support("TwoLayerNet.train(X, y) histories"))
    assert lost.score == 0.0 and "once a value of this problem matches" in lost.checks[1].message


def test_a_problem_of_supporting_checks_only_is_left_alone() -> None:
    assert _problem(_support("a"), _support("b")).score == 5.0
