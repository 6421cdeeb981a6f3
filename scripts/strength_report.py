"""Regenerate docs/grader-strength.md: `dlgrade assignment check` on every seed assignment.

    python scripts/strength_report.py [SLUG...]

Each solution is graded on three seeds, then every mutant of it on the problems that
grade the changed code (a few minutes in all; nyu-dl-hw1 loads a notebook per mutant).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

# This checkout's graders, not an installed copy (python puts scripts/ first on the path).
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graders import __version__  # noqa: E402
from graders.assignments import registry  # noqa: E402
from graders.strength import check_assignment, solution_files, to_markdown  # noqa: E402

SEEDS = ("radboud-dl-a1", "ucla-c247-hw3", "nyu-dl-hw1")
HEADER = """# Grader strength of the seed assignments

Written by `python scripts/strength_report.py` with dlgrade {version} on {date}
({minutes:.1f} minutes). For each assignment, `dlgrade assignment check` graded the
solution on three seeds, then planted one bug at a time in it (the operators of
`graders/strength/mutants.py`) and graded each mutant in the sandbox on the problems
that grade the changed code. **Killed**: it lost points. **Equivalent**: every reply
it gave the grader equals the solution's. **Accepted**: a difference the contract
leaves to the student, with the reason, or a mutant that only training problems grade
and that still trains past the threshold. **Survived**: a hole in the grader; there
are none. Problems that need a data set not installed here (CIFAR-10, MNIST) are
listed as not checked.

"""


def main(slugs: list[str]) -> None:
    started = time.monotonic()
    sections = []
    for slug in slugs or SEEDS:
        assignment = registry.get(slug)
        solution = registry.bundle(slug).solution
        print(f"{slug}: mutating {solution.resolve().relative_to(ROOT)}", file=sys.stderr)
        report = check_assignment(assignment, solution_files(solution))
        sections.append(to_markdown(report))
    out = ROOT / "docs" / "grader-strength.md"
    out.write_text(HEADER.format(version=__version__, date=time.strftime("%Y-%m-%d"),
                                 minutes=(time.monotonic() - started) / 60)
                   + "\n".join(sections), encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
