"""Every realistic single bug loses the problem it belongs to, and no other.

The corpus and what each file must lose are in ``submissions/manifest.json``;
each file is graded for real, in the sandbox, with a seed of its own.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from graders.engine import grade

SUBMISSIONS = Path(__file__).parent / "submissions"
MANIFEST = json.loads((SUBMISSIONS / "manifest.json").read_text())


def _grade(name: str):
    return grade("radboud-dl-a1", [SUBMISSIONS / name], seed=zlib.crc32(name.encode()))


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_submission_loses_exactly_the_problems_its_bug_belongs_to(name):
    entry = MANIFEST[name]
    result = _grade(name)
    by_id = {p.id: p for p in result.problems}
    lost = {p.id for p in result.problems if p.status != "passed"}
    assert lost == set(entry["loses"]), {p.id: p.message for p in result.problems
                                        if p.status != "passed"}
    for pid in entry["loses"]:
        problem = by_id[pid]
        if pid == "train_digits":
            if entry.get("train_digits_partial"):
                assert 0 < problem.score < problem.max_score, problem.message
            elif entry.get("train_digits_nan_outputs"):
                assert problem.score == 0 and "NaN" in problem.message
            continue
        # The message points at the code that is wrong.
        function = pid.split(".")[0]
        assert function.lower() in problem.message.lower(), problem.message


def test_a_correct_notebook_with_top_level_training_and_plots_gets_full_marks():
    result = _grade("correct_notebook.ipynb")
    assert result.score == result.max_score == 21
    assert all(p.status == "passed" for p in result.problems)


def test_the_same_seed_gives_the_same_score_and_messages():
    first = _grade("bug_Linear_db_mean.py").to_json()
    second = _grade("bug_Linear_db_mean.py").to_json()
    first.pop("duration_s")
    second.pop("duration_s")
    assert first == second


def test_check_keys_are_the_same_whatever_the_seed_draws():
    """Statistics group checks by key: two seeds must give the same keys, not one per run."""
    first, second = ([c for p in grade("radboud-dl-a1", [SUBMISSIONS / "bug_Linear_db_mean.py"],
                                       seed=seed, problems=["Linear", "optimize_f"]).problems
                      for c in p.checks] for seed in (1, 2))
    assert [c.name for c in first] != [c.name for c in second]  # names show each run's values
    assert [c.key for c in first] == [c.key for c in second]
    assert "Linear.step(lr), step #" in [c.key for c in first]
