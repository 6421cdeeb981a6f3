"""The docs' main example, ``examples/bundles/layers-hw``, proven and graded as a course would.

``docs/new-assignment.md`` shows these commands and their output: if the bundle's checks
weaken or its grading drifts, this fails before the page lies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "examples" / "bundles" / "layers-hw"
CORRECT = REPO / "tests" / "derive" / "submissions" / "layers_correct.py"
BUGGY = Path(__file__).parent / "submissions" / "layers_hw_bug_affine_db_mean.py"


def _dlgrade(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graders.cli", *args], cwd=REPO, text=True,
                          capture_output=True, env={**os.environ, "COLUMNS": "200", **(env or {})},
                          timeout=600)


def test_the_strength_check_of_layers_hw_leaves_no_mutant_alive(tmp_path: Path) -> None:
    report = tmp_path / "strength.md"
    run = _dlgrade("assignment", "check", str(BUNDLE), "--markdown", str(report))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "every mutant that changes the output is caught" in run.stdout
    assert "Survived" not in report.read_text()


def test_layers_hw_grades_a_correct_and_a_buggy_solution_through_the_assignments_path() -> None:
    env = {"DLGRADE_ASSIGNMENTS_PATH": str(BUNDLE.parent)}
    graded = {}
    for sub in (CORRECT, BUGGY):
        run = _dlgrade("grade", "demo-layers", str(sub), "--json", "--seed", "1", env=env)
        assert run.returncode == 0, run.stderr
        graded[sub.name] = {p["id"]: p for p in json.loads(run.stdout)["problems"]}

    for p in graded[CORRECT.name].values():
        assert p["status"] in ("passed", "manual"), p
    lost = {pid: p["score"] for pid, p in graded[BUGGY.name].items()
            if p["status"] not in ("passed", "manual")}
    assert list(lost) == ["affine"] and lost["affine"] < 3, lost
    failed = [c["message"] for c in graded[BUGGY.name]["affine"]["checks"]
              if c["status"] != "passed"]
    assert any("affine_backward(dout, cache) → db" in m for m in failed), failed
