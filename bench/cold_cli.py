"""A cold `dlgrade grade`: the trusted side's own start-up, beside what it used to import.

Each run is a fresh interpreter. The baseline runs the same command after importing
what the trusted side imported before issue 13: scikit-learn's datasets (for the
digits), scipy.stats (nyu-dl-hw1's init test), httpx and the service's settings (the
CLI mounted `datasets`, `serve` and `worker` eagerly). Runs alternate, so machine
noise hits both sides alike; CPU seconds, printed beside, vary less with the load.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .common import Figure

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "tests" / "assignments"
EAGER = "import sklearn.datasets, scipy.stats, httpx, service.cli"
CASES = [  # (slug, submission, what, target in seconds or None for "below the baseline")
    ("radboud-dl-a1", SUBMISSIONS / "radboud_dl_a1/submissions/correct_clean.py",
     "a full .py, train_digits included", 1.2),
    ("nyu-dl-hw1", SUBMISSIONS / "nyu_dl_hw1/submissions/full_correct_out_in_columns.ipynb",
     "a notebook importing torch", None),
    ("ucla-c247-hw3", SUBMISSIONS / "ucla_c247_hw3/submissions/student",
     "the course's folder", None),
]


def _grade(slug: str, path: Path, eager: bool) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the command and the children it waited for)."""
    args = ["grade", slug, str(path), "--json", "--seed", "1"]
    prelude = f"{EAGER}; " if eager else ""
    code = (f"import runpy, sys; {prelude}sys.argv = ['dlgrade', *sys.argv[1:]]; "
            "runpy.run_module('graders.cli', run_name='__main__')")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.stdout)
    graded = [p for p in result["problems"] if p["status"] not in ("manual", "skipped")]
    assert graded and all(p["status"] == "passed" for p in graded), result
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(repeats: int = 9) -> list[Figure]:
    figures = []
    for slug, path, what, target in CASES:
        if not path.exists():
            continue
        _grade(slug, path, eager=False)  # the sandbox's caches (font list, digits cut-down)
        runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for _ in range(repeats):  # alternated, so machine noise hits both sides alike
            for eager in (False, True):
                runs[eager].append(_grade(slug, path, eager))
        (now, now_cpu), (before, before_cpu) = (
            (statistics.median(w for w, _ in runs[e]), statistics.median(c for _, c in runs[e]))
            for e in (False, True))
        met = now <= target if target is not None else now < before
        figures.append(Figure(
            f"cold dlgrade grade {slug}: {what}", now, before, "s",
            f"≤ {target:g} s" if target is not None else "below the baseline", met,
            f"medians of {repeats} alternated fresh processes; CPU {now_cpu:.2f} s, baseline "
            f"{before_cpu:.2f} s; baseline: the same command after the imports the trusted "
            "side used to make"))
    return figures


if __name__ == "__main__":
    for fig in measure():
        print(fig.row(), flush=True)
