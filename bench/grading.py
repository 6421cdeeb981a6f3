"""End-to-end `dlgrade grade` of layer problems, with and without the sandbox.

Both sides run the same command in a fresh process (cold interpreter, same
imports); only `--no-sandbox` differs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from graders.assignments import registry

from .common import Figure, interleaved

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "radboud-dl-a1": (ROOT / "tests/assignments/radboud_dl_a1/submissions/correct_clean.py",
                      lambda p: p.id != "train_digits"),
    "ucla-c247-hw3": (ROOT / "tests/assignments/ucla_c247_hw3/submissions/student",
                      lambda p: p.id.startswith("layers.")),
}


def _grade(slug: str, path: Path, problems: list[str], sandbox: bool) -> None:
    cmd = [sys.executable, "-m", "graders.cli", "grade", slug, str(path), "--json", "--seed", "1"]
    for p in problems:
        cmd += ["-p", p]
    if not sandbox:
        cmd.append("--no-sandbox")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(out.stdout)
    assert result["score"] == result["max_score"], result


def measure(repeats: int = 7) -> list[Figure]:
    figures = []
    for slug, (path, wanted) in CASES.items():
        if slug not in registry.slugs() or not path.exists():
            continue
        problems = [p.id for p in registry.get(slug).problems if not p.manual and wanted(p)]
        _grade(slug, path, problems, True)
        sandboxed, bare = interleaved(lambda: _grade(slug, path, problems, True),  # noqa: B023
                                      lambda: _grade(slug, path, problems, False),  # noqa: B023
                                      repeats)
        ratio = sandboxed / bare
        figures.append(Figure(
            f"dlgrade grade {slug} ({len(problems)} layer problems)", sandboxed, bare, "s",
            "≤ 1.2x and < 1.5 s", ratio <= 1.2 and sandboxed < 1.5,
            f"medians of {repeats} alternated runs, whole command incl. interpreter start"))
    return figures
