"""dlgrade installed from its wheel, not from this checkout, grades in the real sandbox.

Every other test imports the repository's own files, so a file the package
needs at run time but the wheel leaves out (graders/sandbox/launch.sh once)
passes them all, and fails every grading of a `pip install .`, which is what
the container images do. Here the project is built into a wheel from a copy
of its tracked files, installed with its dependencies into a fresh venv, and
`dlgrade grade` of that venv grades a submission.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
CORRECT = REPO / "tests" / "assignments" / "radboud_dl_a1" / "submissions" / "correct_clean.py"


def run(*command: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Runs without this checkout on any import path: no PYTHONPATH, cwd outside it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def tracked_copy(dest: Path) -> Path:
    """The files git tracks, so nothing left over from a local build reaches the wheel."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


@pytest.mark.slow  # about a minute: installs numpy, scipy, fastapi, celery ... into the venv
def test_the_installed_wheel_grades_a_submission_in_the_sandbox(tmp_path):
    source = tracked_copy(tmp_path / "source")
    wheels = tmp_path / "wheels"
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", wheels, source,
                cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("dlgrade-*.whl")

    venv = tmp_path / "venv"
    made = run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python, dlgrade = venv / "bin" / "python", venv / "bin" / "dlgrade"
    # With its dependencies, as a user installs it: a dependency missing from
    # pyproject.toml fails here too.
    installed = run(python, "-m", "pip", "install", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    where = run(python, "-c", "import graders, reference, service; "
                "print(graders.__file__, reference.__file__, service.__file__)", cwd=tmp_path)
    site_packages = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    for module_file in where.stdout.split():
        assert Path(module_file).is_relative_to(site_packages), where.stdout

    graded = run(dlgrade, "grade", "radboud-dl-a1", CORRECT, "--json", "--seed", "3",
                 "-p", "sigmoid", "-p", "Linear", cwd=tmp_path)
    assert graded.returncode == 0, graded.stderr
    result = json.loads(graded.stdout)
    assert [p["status"] for p in result["problems"]] == ["passed", "passed"], result
    assert result["score"] == result["max_score"] == 6

    # The pages: every template and static file of the checkout is in the installed
    # package (the container images serve them from there).
    shipped = run(python, "-c", "import pathlib, service.web as w; root = pathlib.Path("
                  "w.__file__).parent; print('\\n'.join(sorted(str(p.relative_to(root)) for p "
                  "in root.rglob('*') if p.is_file() and p.suffix in ('.html', '.css', '.js'))))",
                  cwd=tmp_path)
    web = REPO / "service" / "web"
    wanted = sorted(str(p.relative_to(web)) for p in web.rglob("*")
                    if p.is_file() and p.suffix in (".html", ".css", ".js"))
    assert wanted and shipped.stdout.split() == wanted, shipped.stdout
