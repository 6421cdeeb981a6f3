"""Score arithmetic and the two output forms, as instructors and Gradescope read them."""

from graders.results import CheckResult, Grade, ProblemResult


def test_points_split_by_weight_and_ramp_fraction():
    p = ProblemResult("train", 3, [CheckResult.ramp("test accuracy", 0.5, "half")])
    assert p.score == 1.5 and p.status == "partial"
    q = ProblemResult("Linear", 5, [CheckResult.passed("a"), CheckResult.failed("b", "wrong"),
                                    CheckResult.passed("c", weight=2.0)])
    assert q.score == 3.75 and q.message == "wrong"


def test_manual_problems_count_in_neither_score_nor_max_score():
    g = Grade("a", 1, [ProblemResult("written.q", 4, manual=True),
                       ProblemResult("p", 2, [CheckResult.passed("x")])])
    assert g.max_score == 2 and g.score == 2
    assert g.to_json()["problems"][0]["status"] == "manual"


def test_an_error_with_no_points_is_error_not_failed():
    p = ProblemResult("p", 2, [CheckResult.error("run", "Stopped after 10 s of CPU time")])
    assert p.status == "error" and p.score == 0


def test_a_warning_is_the_message_of_a_problem_with_full_points():
    p = ProblemResult("layers.relu_backward", 1,
                      [CheckResult.passed("x", "Warning: relu_backward modified dout in place")])
    assert p.status == "passed" and p.message.startswith("Warning")


def test_gradescope_output_does_not_repeat_names_and_hides_hidden_checks():
    p = ProblemResult("Linear", 5, [
        CheckResult.failed("Linear.db", "Linear.db: wrong shape — got (1, 3), expected (3,)."),
        CheckResult.failed("secret", "secret: expected 0.123", hidden=True)])
    out = Grade("a", 1, [p]).to_gradescope()["tests"][0]["output"]
    assert "Linear.db: Linear.db" not in out and "wrong shape" in out
    assert "0.123" not in out and "[failed] hidden check" in out


def test_a_check_key_leaves_out_the_values_a_run_drew():
    a = CheckResult.failed("Linear.step(0.159) → W", "wrong")
    b = CheckResult.passed("Linear.step(0.402) → W")
    assert a.key == b.key == "Linear.step(#) → W"
    # digits that are part of a name stay: fc1.W is not fc2.W
    assert CheckResult.passed("fc1.W").key != CheckResult.passed("fc2.W").key
    assert CheckResult.passed("x of shape (6, 4)").key == "x of shape (#, #)"
    assert a.keyed("Linear.step").key == "Linear.step" and a.keyed("k").name == a.name
