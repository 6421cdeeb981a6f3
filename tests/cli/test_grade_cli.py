"""`dlgrade grade` as an instructor runs it: exit codes, one JSON object, formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SUBMISSIONS = Path(__file__).parents[1] / "assignments" / "radboud_dl_a1" / "submissions"
CORRECT = SUBMISSIONS / "correct_clean.py"


def dlgrade(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graders.cli", *args], capture_output=True,
                          text=True, timeout=300, env=env, cwd=Path(__file__).parents[2])


def test_json_output_is_exactly_one_object_with_the_documented_fields():
    run = dlgrade("grade", "radboud-dl-a1", str(CORRECT), "--json", "--seed", "5",
                  "-p", "sigmoid", "-p", "Linear")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)  # fails on any extra output
    assert set(result) == {"assignment", "score", "max_score", "seed", "duration_s", "problems"}
    assert result["seed"] == 5 and result["assignment"] == "radboud-dl-a1"
    assert [p["id"] for p in result["problems"]] == ["sigmoid", "Linear"]
    assert result["score"] == result["max_score"] == 6
    for problem in result["problems"]:
        assert set(problem) == {"id", "score", "max_score", "status", "checks"}
        for check in problem["checks"]:
            assert set(check) == {"name", "status", "hidden", "message"}


def test_a_submission_for_another_assignment_says_so(tmp_path):
    other = tmp_path / "hw1.py"  # nyu-dl-hw1's names; radboud-dl-a1 only shares sigmoid
    other.write_text("import numpy as np\n"
                     "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"
                     "def feed_forward_sample(sample, y):\n    return 0.0, 0\n")
    run = dlgrade("grade", "radboud-dl-a1", str(other), "--json")
    relu = next(p for p in json.loads(run.stdout)["problems"] if p["id"] == "relu")[
        "checks"][0]["message"]
    assert "Not found: `relu`" in relu
    assert "names radboud-dl-a1 grades are missing: is this the submission for another " \
        "assignment?" in relu
    ok = dlgrade("grade", "radboud-dl-a1", str(CORRECT), "--json")
    assert "another assignment" not in ok.stdout


def test_a_name_never_defined_says_which_statement_failed_while_loading(tmp_path):
    source = tmp_path / "a1.py"
    source.write_text("import numpy as np\n"
                      "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"
                      "print 'sigmoid defined'\n")  # Python 2: the whole file cannot run
    run = dlgrade("grade", "radboud-dl-a1", str(source), "--json", "-p", "sigmoid")
    message = json.loads(run.stdout)["problems"][0]["checks"][0]["message"]
    assert message.startswith("Not found: `sigmoid` (looked in a1.py).")
    assert "1 statement(s) failed, which may be why: a1.py, line 4: SyntaxError" in message


def test_an_unreadable_notebook_still_completes_with_error_problems(tmp_path):
    broken = tmp_path / "a1.ipynb"
    broken.write_text('{"cells": [ this is not json')
    run = dlgrade("grade", "radboud-dl-a1", str(broken), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["score"] == 0
    assert all(p["status"] == "error" for p in result["problems"])
    assert "not valid JSON" in result["problems"][0]["checks"][-1]["message"]


def test_unknown_assignment_and_missing_path_exit_non_zero_with_a_reason(tmp_path):
    run = dlgrade("grade", "no-such-course", str(CORRECT))
    assert run.returncode == 2 and "unknown assignment 'no-such-course'" in run.stderr
    run = dlgrade("grade", "radboud-dl-a1", str(tmp_path / "missing.py"))
    assert run.returncode == 2 and "no such file" in run.stderr
    run = dlgrade("grade", "radboud-dl-a1", str(CORRECT), "-p", "no_such_problem")
    assert run.returncode == 2 and "no_such_problem" in run.stderr


def test_without_bubblewrap_grading_refuses_and_says_how_to_install(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))
    run = dlgrade("grade", "radboud-dl-a1", str(CORRECT), "--json", env=env)
    assert run.returncode == 3
    assert "apt-get install bubblewrap" in run.stderr
    assert run.stdout == ""


def test_gradescope_format_has_one_test_per_problem():
    run = dlgrade("grade", "radboud-dl-a1", str(SUBMISSIONS / "bug_Linear_db_mean.py"),
                  "--format", "gradescope", "-p", "Linear", "-p", "relu")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    tests = {t["name"]: t for t in result["tests"]}
    assert set(tests) == {"Linear", "relu"}
    assert tests["relu"]["score"] == tests["relu"]["max_score"] == 1
    assert tests["Linear"]["score"] < 5 and "db" in tests["Linear"]["output"]


def test_table_output_names_the_first_failing_check():
    run = dlgrade("grade", "radboud-dl-a1", str(SUBMISSIONS / "bug_Linear_db_mean.py"),
                  "-p", "Linear")
    assert run.returncode == 0, run.stderr
    assert "Linear" in run.stdout and "partial" in run.stdout and "db" in run.stdout


def test_no_sandbox_warns_loudly():
    run = dlgrade("grade", "radboud-dl-a1", str(CORRECT), "--no-sandbox", "-p", "relu", "--json")
    assert run.returncode == 0
    assert "WARNING" in run.stderr and "reference" in run.stderr
    assert json.loads(run.stdout)["score"] == 1


def test_assignments_lists_problems_and_points():
    run = dlgrade("assignments")
    assert run.returncode == 0
    assert "radboud-dl-a1" in run.stdout and "train_digits" in run.stdout
