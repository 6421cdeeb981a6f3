"""Warm sandboxes: a worker's grading latency with a pool of pre-started sandboxes versus
starting one per submission. Both sides run in the same warm worker process (the
service's situation); only where the sandbox comes from differs.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from graders.engine import grade
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
    while time.monotonic() < end and not any(pool._ready.values()):
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


def measure(repeats: int = 7) -> list[Figure]:
    return [_case(what, path, problems, repeats) for what, path, problems in CASES]
