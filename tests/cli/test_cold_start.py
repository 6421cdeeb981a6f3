"""A cold `dlgrade grade` imports only what grading needs on the trusted side.

scikit-learn, scipy, matplotlib, torch, pandas and nbformat each cost 0.3-1.5 s
of CPU to import: a grading that pulled one in would be seconds slower for every
student. httpx and the service's settings belong to `dlgrade datasets` and
`dlgrade serve`; they are mounted only when one of those is run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graders.cli import app

ROOT = Path(__file__).parents[2]
ASSIGNMENTS = ROOT / "tests" / "assignments"
HEAVY = ("sklearn", "scipy", "matplotlib", "torch", "pandas", "nbformat")
OPTIONAL = ("httpx", "service", "pydantic_settings")

# The CLI run in-process, then the names of every module it imported, on the last line.
PROBE = """
import json, sys
from graders.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def grade_and_list_imports(slug: str, path: Path) -> tuple[dict[str, object], set[str]]:
    run = subprocess.run([sys.executable, "-c", PROBE, "grade", slug, str(path), "--json",
                          "--seed", "1"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    *result, imported = run.stdout.strip().splitlines()
    return json.loads("\n".join(result)), set(json.loads(imported))


@pytest.mark.parametrize(("slug", "submission"), [
    ("radboud-dl-a1", "radboud_dl_a1/submissions/correct_clean.py"),  # train_digits included
    ("nyu-dl-hw1", "nyu_dl_hw1/submissions/full_correct_out_in_columns.ipynb"),
    ("ucla-c247-hw3", "ucla_c247_hw3/submissions/student"),
])
def test_grading_imports_no_heavy_library_on_the_trusted_side(slug: str, submission: str
                                                              ) -> None:
    result, imported = grade_and_list_imports(slug, ASSIGNMENTS / submission)
    graded = [p for p in result["problems"] if p["status"] not in ("manual", "skipped")]
    assert graded and all(p["status"] == "passed" for p in graded), result
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))
    assert imported.isdisjoint(OPTIONAL), sorted(imported & set(OPTIONAL))


def test_commands_of_optional_packages_are_still_listed_and_run() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["--help"])
    assert listed.exit_code == 0
    for command in ("grade", "datasets", "serve", "worker"):
        assert f" {command} " in listed.output
    datasets = runner.invoke(app, ["datasets", "list"])
    assert datasets.exit_code == 0, datasets.output
    assert "inside scikit-learn" in datasets.output
    serve = runner.invoke(app, ["serve", "--help"])
    assert serve.exit_code == 0 and "--state-dir" in serve.output
