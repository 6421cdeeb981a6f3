"""`dlgrade assignment check`: the solution scores full marks and its mutants are caught."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders.bundles import Registry
from graders.strength import check_assignment, solution_files, to_markdown
from graders.strength.mutants import apply, sites

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "examples" / "bundles" / "demo-layers-hw"


@pytest.mark.parametrize(("source", "operator", "mutated"), [
    ("def f(a, b):\n    return a + b", "sign", "return a - b"),
    ("def f(a, b):\n    return a + b", "drop-term", "    return a"),
    ("def f(a, b):\n    return a * b", "mul-div", "return a / b"),
    ("def f(x):\n    return -x", "sign", "return x"),
    ("def f(x, w):\n    return x.T @ w", "transpose", "return x @ w"),
    ("def f(d):\n    return d.sum(axis=0)", "reduce", "d.mean(axis=0)"),
    ("def f(d):\n    return d.sum(axis=0)", "axis", "d.sum(axis=1)"),
    ("def f(d):\n    return d.max(axis=1, keepdims=True)", "keepdims", "keepdims=False"),
    ("def f(x):\n    return x[1:]", "off-by-one", "x[2:]"),
    ("def f(x):\n    return x > 0", "compare", "x >= 0"),
    ("class L:\n    def forward(self, x):\n        self.x = x\n        return x",
     "first-call-only", "self.x = getattr(self, 'x', x)"),
    ("def f(config, v):\n    config['v'] = v\n    return v", "state-dropped", "pass"),
    ("def f(x):\n    return x", "constant-return", "return _dlgrade_zeros(x)"),
])
def test_each_operator_plants_its_documented_bug(source: str, operator: str, mutated: str):
    site = next(s for s in sites(source) if s.operator == operator)
    mutant = apply(source, site)
    ast.parse(mutant.source)
    assert mutated in mutant.source
    assert mutant.diff.startswith("-") and "\n+" in mutant.diff


def test_code_no_problem_grades_is_not_mutated():
    assert {s.owner for s in sites("def a(x):\n    return x + 1\n"
                                    "def b(x):\n    return x - 1\n", {"b"})} == {"b"}


INIT_CELL = """np.random.seed(6953)
weights = []
for n_in, n_out in zip(sizes[:-1], sizes[1:]):
    sigma = np.sqrt(1.0 / max(n_in, n_out))
    weights.append(np.random.randn(n_out, n_in) * sigma)
"""


def test_a_notebooks_top_level_initialisation_is_mutated_for_the_variable_it_fills():
    """A problem that ``needs=["weights"]`` grades the loop that fills ``weights``, not only
    functions: a notebook initialises its network in top-level code."""
    found = sites(INIT_CELL, {"weights"})
    assert found and {s.owner for s in found} == {"weights"}
    assert {s.operator for s in found} >= {"mul-div"}
    assert not sites(INIT_CELL, {"sigma"})   # the loop's temporary owns nothing


def _weakened(tmp_path: Path) -> Path:
    """The small bundle with a check so loose (tol=1: every value passes) it catches nothing."""
    bundle = tmp_path / "weak"
    shutil.copytree(SMALL, bundle, ignore=shutil.ignore_patterns("__pycache__"))
    spec = bundle / "spec.py"
    spec.write_text(spec.read_text().replace(
        'yield close("affine_forward(x, w, b)", out, ref.affine_forward(x, w, b)[0])',
        'yield close("affine_forward(x, w, b)", out, ref.affine_forward(x, w, b)[0], tol=1.0)'))
    return bundle


def test_a_strong_grader_kills_every_mutant_that_changes_the_output():
    assignment = Registry.from_paths([SMALL]).get("demo-layers-hw")
    report = check_assignment(assignment, solution_files(SMALL / "reference"), seeds=(1, 2))
    assert not report.reference_misses
    assert report.ok
    counts = {p.id: (len(p.results), p.count("survived")) for p in report.problems}
    assert all(n > 0 and survived == 0 for n, survived in counts.values()), counts
    killed = [r for p in report.problems for r in p.results if r.verdict == "killed"]
    markdown = to_markdown(report)   # which mutants were caught, and by which check
    assert f"The {len(killed)} killed mutants" in markdown
    for r in killed:
        assert r.caught_by
        assert f"| {r.file}:{r.mutant.site.line} | {r.mutant.site.operator} |" in markdown


def test_a_weak_check_shows_its_surviving_mutant_with_the_diff(tmp_path: Path):
    bundle = _weakened(tmp_path)
    assignment = Registry.from_paths([bundle]).get("demo-layers-hw")
    report = check_assignment(assignment, solution_files(bundle / "reference"), seeds=(1,))
    assert not report.ok
    survivors = [r for p in report.problems if p.id == "affine_forward" for r in p.results
                 if r.verdict == "survived"]
    assert any(r.mutant.site.operator == "drop-term" and "+ b" in r.mutant.diff
               for r in survivors)
    assert "Survived mutants:" in to_markdown(report)


def test_a_solution_that_loses_points_fails_the_check(tmp_path: Path):
    bundle = tmp_path / "b"
    shutil.copytree(SMALL, bundle, ignore=shutil.ignore_patterns("__pycache__"))
    wrong = bundle / "wrong.py"
    wrong.write_text((bundle / "reference" / "__init__.py").read_text().replace(
        "np.maximum(x, 0.0)", "np.maximum(x, 0.5)"))
    assignment = Registry.from_paths([bundle]).get("demo-layers-hw")
    report = check_assignment(assignment, [(wrong, "solution.py")], seeds=(1,),
                              problems=["relu_forward"])
    assert report.reference_misses and "relu_forward 0/1" in report.reference_misses[0]
    assert not report.ok


def test_the_cli_exits_zero_for_a_strong_bundle_and_one_for_a_weak_one(tmp_path: Path):
    env = {**os.environ, "COLUMNS": "200"}
    strong = subprocess.run([sys.executable, "-m", "graders.cli", "assignment", "check",
                             str(SMALL), "--seeds", "1", "--markdown", str(tmp_path / "r.md")],
                            cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert strong.returncode == 0, strong.stdout + strong.stderr
    assert "every mutant that changes the output is caught" in strong.stdout
    assert "| affine_forward |" in (tmp_path / "r.md").read_text()
    weak = subprocess.run([sys.executable, "-m", "graders.cli", "assignment", "check",
                           str(_weakened(tmp_path)), "--seeds", "1"],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert weak.returncode == 1
    assert "survived affine_forward" in weak.stdout


def test_a_helper_is_mutated_for_the_problems_whose_functions_call_it():
    from graders.spec import ProblemSpec
    from graders.strength.check import _grades, _uses

    uses = _uses(["def helper(x):\n    return x + 1\n"
                  "def graded(x):\n    return helper(x) * 2\n"
                  "def unrelated(x):\n    return x - 1\n"])
    problem = ProblemSpec("graded", 1.0, needs=("graded",))
    assert _grades(problem, "a.py", "helper", uses)
    assert not _grades(problem, "a.py", "unrelated", uses)


@pytest.mark.slow
@pytest.mark.parametrize("slug", ["radboud-dl-a1", "ucla-c247-hw3"])
def test_a_seed_assignment_catches_every_mutant_that_changes_its_output(slug: str):
    """docs/grader-strength.md, kept true (nyu-dl-hw1 takes ten minutes: run by the script)."""
    from graders.assignments import registry

    report = check_assignment(registry.get(slug), solution_files(registry.bundle(slug).solution))
    survivors = [(p.id, r.mutant.diff) for p in report.problems for r in p.results
                 if r.verdict == "survived"]
    assert not report.reference_misses and not survivors, (report.reference_misses, survivors)
