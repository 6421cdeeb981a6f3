"""Helpers for the real-sandbox tests: grading attack files, and looking at the host from outside.

Attack submissions live in ``adversarial/``. Some hold a constant such as
``PORT = None`` that only the test knows the value of (a listener's port, a
file it planted); :func:`adversarial` writes a copy with the value filled in.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.assignments import registry
from graders.engine import grade_submission
from graders.engine.submission import load_submission
from graders.results import Grade, ProblemResult
from graders.sandbox.cgroups import Cgroup

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ADVERSARIAL = HERE / "adversarial"
CORRECT = REPO / "tests" / "assignments" / "radboud_dl_a1" / "submissions" / "correct_clean.py"
SANDBOX_UIDS = range(61000, 61064)
MiB = 1 << 20


def adversarial(name: str, tmp_path: Path | None = None, **values: Any) -> Path:
    """The attack file ``name``; with ``values``, a copy whose ``KEY = None`` lines are set."""
    path = ADVERSARIAL / name
    if not values:
        return path
    assert tmp_path is not None, "a copy with values needs a directory"
    source = path.read_text()
    for key, value in values.items():
        source, count = re.subn(rf"^{key} = .*$", f"{key} = {value!r}", source, count=1,
                                flags=re.MULTILINE)
        assert count == 1, f"{name} has no line '{key} = ...'"
    copy = tmp_path / name
    copy.write_text(source)
    return copy


@dataclass
class Graded:
    """One grading run: the result, and how long it took on the wall clock."""

    grade: Grade
    seconds: float
    traced_peak: int = 0  # bytes the grading process allocated at most, when traced
    by_id: dict[str, ProblemResult] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.grade.problems}

    def __getitem__(self, problem_id: str) -> ProblemResult:
        return self.by_id[problem_id]


def grade_file(path: Path, *problems: str, sandbox: bool = True, seed: int = 1,
               timeout_s: float | None = None, statement_timeout_s: float | None = None,
               trace_memory: bool = False, **limits: Any) -> Graded:
    """Grade ``path`` as radboud-dl-a1, with a smaller time or resource budget if asked.

    ``limits`` are fields of ``graders.sandbox.limits.Limits``; ``timeout_s``
    replaces each problem's own time limit. With ``trace_memory``, the peak of
    Python allocations in this (trusted) process while grading is recorded.
    """
    assignment = registry.get("radboud-dl-a1")
    changes: dict[str, Any] = {}
    if limits:
        changes["limits"] = dataclasses.replace(assignment.limits, **limits)
    if statement_timeout_s is not None:
        changes["statement_timeout_s"] = statement_timeout_s
    assignment = dataclasses.replace(assignment, **changes)
    specs = [assignment.get(p) for p in (problems or ("sigmoid",))]
    if timeout_s is not None:
        specs = [dataclasses.replace(s, timeout_s=timeout_s) for s in specs]
    submission = load_submission([path])
    if trace_memory:
        tracemalloc.start()
    started = time.monotonic()
    try:
        result = grade_submission(assignment, submission, seed=seed, problems=specs,
                                  sandbox=sandbox)
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
    finally:
        if trace_memory:
            tracemalloc.stop()
    return Graded(result, seconds, peak)


def assert_grader_healthy() -> None:
    """A correct submission graded right after an attack still gets full marks."""
    after = grade_file(CORRECT, "sigmoid", seed=7)
    assert (after["sigmoid"].status, after["sigmoid"].score) == ("passed", 1.0), (
        after.grade.to_json())


# -- the host, seen from outside ----------------------------------------------------------------

def processes() -> list[tuple[int, int, str]]:
    """(pid, uid, comm) of every process on the host."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            uid = os.stat(f"/proc/{entry}").st_uid
            with open(f"/proc/{entry}/comm") as fh:
                comm = fh.read().strip()
        except OSError:
            continue
        found.append((int(entry), uid, comm))
    return found


def processes_named(comm: str) -> list[tuple[int, int, str]]:
    return [p for p in processes() if p[2] == comm]


def in_cgroups(cgroups: list[Cgroup]) -> list[int]:
    """Pids of host processes that sit in any of ``cgroups`` (which may be gone already)."""
    names = {d.name for cg in cgroups for d in cg.dirs.values()}
    pids = []
    for pid, uid, _comm in processes():
        if uid not in SANDBOX_UIDS:
            continue
        try:
            with open(f"/proc/{pid}/cgroup") as fh:
                own = fh.read()
        except OSError:
            continue
        if any(f"/{name}\n" in own or own.endswith(f"/{name}") for name in names):
            pids.append(pid)
    return pids


def read_counter(cgroup: Cgroup, v1: tuple[str, str], v2: tuple[str, str], key: str) -> int:
    """A ``key value`` counter from a cgroup file (v1: controller and file; v2: file)."""
    path = (cgroup.dirs["unified"] / v2[1]) if cgroup.v2 else (cgroup.dirs[v1[0]] / v1[1])
    try:
        text = path.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return int(parts[1])
    return 0


def pids_current(cgroup: Cgroup) -> int:
    path = (cgroup.dirs["unified"] if cgroup.v2 else cgroup.dirs["pids"]) / "pids.current"
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return 0
