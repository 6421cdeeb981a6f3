"""The memory ceiling's price: a worker's per-job grading time with grading in the capped
child process (the service's default) versus in the worker itself (ceiling 0).

Both sides keep a warm pool (in the child, or in the worker) and grade the same
submission; submissions arrive slower than sandboxes start, as in ``bench.warm``.
"""

from __future__ import annotations

import statistics
import time

from service.grading import EngineGrader, Grader
from service.isolation import IsolatedGrader
from service.settings import Settings

from .common import Figure
from .warm import CASES

SETTLE_S = 1.5  # time for the pool to refill between submissions


def _case(what: str, path: object, problems: list[str] | None, repeats: int) -> Figure:
    settings = Settings(warm_sandboxes=1, log_json=False, log_level="WARNING")
    inside: Grader = EngineGrader(settings)
    child = IsolatedGrader(settings, EngineGrader(settings))
    times: dict[str, list[float]] = {"in": [], "child": []}
    try:
        for g in (inside, child):  # imports, the child's start-up and a first pool fill
            g.grade("radboud-dl-a1", [path], seed=1, problems=problems,  # type: ignore[list-item]
                    on_problem=lambda _: None)
        for _ in range(repeats):
            for key, g in (("in", inside), ("child", child)):
                time.sleep(SETTLE_S)
                t = time.perf_counter()
                g.grade("radboud-dl-a1", [path], seed=1, problems=problems,  # type: ignore[list-item]
                        on_problem=lambda _: None)
                times[key].append(time.perf_counter() - t)
    finally:
        child.close()
        pool = getattr(inside, "pool", None)
        if pool is not None:
            pool.close()
    a, b = statistics.median(times["child"]), statistics.median(times["in"])
    return Figure(f"grading in the capped child: {what}", a * 1000, b * 1000, "ms",
                  "within 10% of in-process", a <= b * 1.10,
                  f"{(a - b) * 1000:+.0f} ms per job (medians of {repeats}); the child starts "
                  "once per grading thread and is kept")


def measure(repeats: int = 7) -> list[Figure]:
    return [_case(what, path, problems, repeats) for what, path, problems in CASES]


if __name__ == "__main__":
    for fig in measure():
        print(fig.row(), flush=True)
