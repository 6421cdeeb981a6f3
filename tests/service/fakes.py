"""A stand-in grader for queue mechanics: fast, deterministic, and countable across processes.

The end-to-end tests use the real engine; these tests need to control time
(a slow problem to kill a worker in) and to count how often grading ran.
Behaviour is read from the submitted text: ``p1`` passes problem p1, ``p2``
and ``secret`` pass p2's visible and hidden checks, ``t1`` passes training
problem t1, ``crash`` makes grading impossible (as a missing sandbox would),
``grader-hog`` allocates far more memory than a grader should, and ``grader-dies``
kills the grading process.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from graders.errors import SandboxUnavailable, UnknownAssignment
from graders.results import CheckResult, Grade, ProblemResult
from service.grading import AssignmentInfo, ProblemInfo

SLUG = "fake-a1"
PROBLEMS = [ProblemInfo("p1", 2.0), ProblemInfo("p2", 3.0), ProblemInfo("m1", 4.0, manual=True),
            ProblemInfo("t1", 2.0, training=True, dataset="mnist")]


class FakeGrader:
    version = "fake-1"

    def __init__(self, settings: object = None) -> None:
        self.calls = 0

    def assignment(self, slug: str) -> AssignmentInfo:
        if slug != SLUG:
            raise UnknownAssignment(f"unknown assignment {slug!r}")
        return AssignmentInfo(SLUG, "Fake assignment", PROBLEMS)

    def slugs(self) -> list[str]:
        return [SLUG]

    def grade(self, slug: str, paths: Sequence[Path], *, seed: int,
              problems: Sequence[str] | None,
              on_problem: Callable[[ProblemResult], None]) -> Grade:
        self.calls += 1
        try:
            text = "\n".join(Path(p).read_text() for p in paths)
        except OSError as exc:  # as the engine does: every problem says the upload is unreadable
            out = [ProblemResult(spec.id, spec.points, error_reason=f"The submission could not "
                                 f"be read: {exc}") for spec in PROBLEMS
                   if problems is None or spec.id in problems]
            for r in out:
                on_problem(r)
            return Grade(slug, seed, out)
        if "crash" in text:
            raise SandboxUnavailable("bubblewrap is not installed")
        if "grader-hog" in text:  # what an unbounded reply does to the grader's memory
            hog = bytearray(int(os.environ.get("FAKE_GRADER_HOG_MB", "2048")) << 20)
            hog[::4096] = b"x" * len(hog[::4096])
        if "grader-dies" in text:
            os.kill(os.getpid(), signal.SIGKILL)
        sleep = float(os.environ.get("FAKE_GRADER_SLEEP", "0"))
        log = os.environ.get("FAKE_GRADER_LOG")
        out = []
        for spec in PROBLEMS:
            if problems is not None and spec.id not in problems:
                continue
            if sleep:
                time.sleep(sleep)
            if spec.manual:
                r = ProblemResult(spec.id, spec.points, manual=True)
            elif spec.id == "p2":
                r = ProblemResult(spec.id, spec.points, checks=[
                    _check("p2.visible", "p2" in text),
                    _check("p2.secret", "secret" in text, hidden=True)])
            elif spec.id == "p1":  # like Linear.step(0.159): the name shows the run's value
                r = ProblemResult(spec.id, spec.points, checks=[
                    _check(f"p1.step({seed % 1000 / 1000:.3f})", "p1" in text)])
            else:
                r = ProblemResult(spec.id, spec.points, checks=[_check(spec.id, spec.id in text)])
            if log:
                with open(log, "a") as f:
                    f.write(f"{paths[0].parent.name} {spec.id} {seed}\n")
            on_problem(r)
            out.append(r)
        return Grade(slug, seed, out)


def _check(name: str, ok: bool, hidden: bool = False) -> CheckResult:
    if ok:
        return CheckResult.passed(name, hidden=hidden)
    return CheckResult.failed(name, f"{name}: secret detail, got 1 expected 2" if hidden
                              else f"{name}: wrong, got 1 expected 2", hidden=hidden)
