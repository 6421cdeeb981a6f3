"""Warm sandboxes: a worker's grading latency with a pool of pre-started sandboxes versus
starting one per submission. Both sides run in the same warm worker process (the
service's situation); only where the sandbox comes from differs.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from graders.engine import grade
from graders.results import ProblemResult
from graders.sandbox import Limits, open_harness
from graders.sandbox.forkserver import Zygote
from graders.sandbox.pool import WarmPool

from .common import Figure

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "tests/assignments/radboud_dl_a1/submissions"
CASES = [  # (what, file, problems)
    ("a .py, three layer problems", SUBMISSIONS / "correct_clean.py",
     ["sigmoid", "relu", "Linear"]),
    ("a notebook, all 11 problems", SUBMISSIONS / "correct_notebook.ipynb", None),
]


def _wait_full(pool: WarmPool) -> None:
    end = time.monotonic() + 30
    while time.monotonic() < end and not pool.has_ready():
        time.sleep(0.01)


def _case(what: str, path: Path, problems: list[str] | None, repeats: int) -> Figure:
    pool = WarmPool(size=1)
    cold, warm = [], []
    try:
        grade("radboud-dl-a1", [path], problems=problems)  # import everything once
        grade("radboud-dl-a1", [path], problems=problems, pool=pool)
        for _ in range(repeats):
            t = time.perf_counter()
            grade("radboud-dl-a1", [path], problems=problems)
            cold.append(time.perf_counter() - t)
            _wait_full(pool)  # submissions arrive slower than sandboxes start
            t = time.perf_counter()
            grade("radboud-dl-a1", [path], problems=problems, pool=pool)
            warm.append(time.perf_counter() - t)
    finally:
        pool.close()
    c, w = statistics.median(cold), statistics.median(warm)
    return Figure(f"worker latency, warm pool vs cold: {what}", w * 1000, c * 1000, "ms",
                  "faster than cold", w < c,
                  f"{(c - w) * 1000:.0f} ms saved per submission (medians of {repeats}); the "
                  "pool pre-imports numpy and the assignment's warm_imports")


NYU_NOTEBOOK = ROOT / "tests/assignments/nyu_dl_hw1/submissions/full_correct_out_in_columns.ipynb"


def _first_result(pool: WarmPool) -> float:
    """Seconds to the first graded problem's result (written problems are listed at once)."""
    t = time.perf_counter()
    first: list[float] = []

    def seen(r: ProblemResult) -> None:
        if not r.manual and not first:
            first.append(time.perf_counter() - t)

    grade("nyu-dl-hw1", [NYU_NOTEBOOK], pool=pool, on_problem=seen)
    return first[0]


def _wait_learned(pool: WarmPool) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end and not pool.has_ready(warmed=True):
        time.sleep(0.05)


def first_result_with_torch(repeats: int = 5) -> Figure:
    """nyu-dl-hw1 imports torch at the top: learned warm imports against a plain pool."""
    plain, learned = WarmPool(size=1, adaptive=False), WarmPool(size=1)
    before, after = [], []
    try:
        for pool in (plain, learned):  # the learned pool sees `import torch` twice
            _first_result(pool)
            _first_result(pool)
        for _ in range(repeats):
            _wait_full(plain)
            before.append(_first_result(plain))
            _wait_learned(learned)
            after.append(_first_result(learned))
    finally:
        plain.close()
        learned.close()
    b, a = statistics.median(before), statistics.median(after)
    return Figure("nyu notebook (import torch): first result", a, b, "s", "<= 1 s (issue 13)",
                  a <= 1.0, f"medians of {repeats}, idle worker; baseline: the same pool "
                  "without learned imports (DLGRADE_WARM_ADAPTIVE=false)")


NOTEBOOK_IMPORTS = ("matplotlib.pyplot", "scipy.optimize", "sklearn.datasets")


def sandbox_with_imports(repeats: int = 7) -> Figure:
    """From asking for a sandbox with a notebook's imports loaded to its first answer:
    forked from a template (issue 13) against started by bubblewrap, which pays the imports
    in every sandbox; alternated. That is the CPU a burst spends per submission on them."""
    limits = Limits()
    template = Zygote(limits, None, NOTEBOOK_IMPORTS)
    template.start()
    forked, started = [], []
    try:
        for _ in range(repeats):
            t = time.perf_counter()
            assert template.take()
            with template.child() as proc:
                proc.request({"op": "ping"}, 30)
                forked.append(time.perf_counter() - t)
            t = time.perf_counter()
            with open_harness(limits) as proc:
                proc.request({"op": "warm", "modules": list(NOTEBOOK_IMPORTS)}, 120)
                started.append(time.perf_counter() - t)
    finally:
        template.close()
    f, s = statistics.median(forked), statistics.median(started)
    return Figure("sandbox with matplotlib, scipy, sklearn: forked", f * 1000, s * 1000, "ms",
                  "faster than started", f < s,
                  f"medians of {repeats}, alternated; baseline: started by bubblewrap, then "
                  "importing them (the pool without the fork server)")


def measure(repeats: int = 7) -> list[Figure]:
    return ([_case(what, path, problems, repeats) for what, path, problems in CASES]
            + [first_result_with_torch(), sandbox_with_imports(repeats)])


if __name__ == "__main__":
    print(first_result_with_torch().row())
    print(sandbox_with_imports().row())
