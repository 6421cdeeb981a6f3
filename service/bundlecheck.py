"""A bundle's strength check in a child process, under the grader's memory ceiling.

The check grades dozens of mutants of the course's solution: sandboxes do
the running, but the replies are parsed, compared and scored here on the
trusted side, as in any grading. Run in the parent's own thread, a bug of the
reply-bomb class would cost the worker (or the API); in this child (``RLIMIT_DATA`` at
``DLGRADE_GRADER_MEMORY_LIMIT_MB``, a wall-clock limit, no credentials in its
environment) it costs the check, and the bundle is rejected with the reason.

    parent (a worker's task; embedded: API) child (python -m service.bundlecheck)
    check_bundle(settings, key, slug)  ──▶  load the bundle, check_assignment(...)
    progress(...)                      ◀──  {"progress": "..."} per mutant
    CheckOutcome                       ◀──  {"report": ...} | {"memory": ...} | {"error": ...}
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.isolation import (
    _PARENT_ENV,
    _die_with_parent,
    apply_ceiling,
    read_frame,
    write_frame,
)
from service.settings import Settings


class CheckFailed(Exception):
    """The check could not finish: out of memory, out of time, or the bundle broke it."""


@dataclass
class CheckOutcome:
    ok: bool
    mutants: int
    markdown: str


def check_bundle(settings: Settings, key: str, slug: str, seeds: Sequence[int],
                 progress: Callable[[str], None]) -> CheckOutcome:
    env = {k: v for k, v in os.environ.items() if k not in _PARENT_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.Popen([sys.executable, "-m", "service.bundlecheck"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    deadline = time.monotonic() + settings.bundle_check_seconds
    try:
        write_frame(proc.stdin, {"folder": str(settings.bundles_dir), "key": key, "slug": slug,
                                 "seeds": list(seeds), "parent": os.getpid(),
                                 "limit_mb": settings.grader_memory_limit_mb})
        proc.stdin.close()
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
                raise CheckFailed(f"it took longer than {settings.bundle_check_seconds:g} s "
                                  "(DLGRADE_BUNDLE_CHECK_SECONDS)")
            try:
                frame = read_frame(proc.stdout)
            except ValueError as exc:
                raise CheckFailed(f"the checking process sent a bad frame: {exc}") from exc
            if frame is None:
                proc.wait(timeout=5)
                raise CheckFailed(f"the checking process ended early (status {proc.returncode})")
            if "progress" in frame:
                progress(str(frame["progress"])[:500])
            elif "report" in frame:
                r = frame["report"]
                return CheckOutcome(bool(r["ok"]), int(r["mutants"]), str(r["markdown"]))
            elif "memory" in frame:
                raise CheckFailed(str(frame["memory"]))
            else:
                raise CheckFailed(str(frame.get("error", "unknown failure"))[:4000])
    finally:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        proc.stdout.close()


def _run(job: dict[str, Any], out: Any) -> None:
    from graders.strength import check_assignment, solution_files, to_markdown
    from service.grading import CourseBundles

    registry = CourseBundles(Path(job["folder"])).registry(job["key"])
    assignment = registry.get(job["slug"])
    solution = registry.bundle(job["slug"]).solution
    report = check_assignment(assignment, solution_files(solution), seeds=job["seeds"],
                              progress=lambda line: write_frame(out, {"progress": line}))
    write_frame(out, {"report": {"ok": report.ok, "markdown": to_markdown(report),
                                 "mutants": sum(len(p.results) for p in report.problems)}})


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the bundle prints goes to the log, never into the frames
    job = read_frame(sys.stdin.buffer)
    if job is None:
        return
    _die_with_parent(int(job["parent"]))
    if job["limit_mb"]:
        apply_ceiling(int(job["limit_mb"]))
    try:
        _run(job, out)
    except MemoryError:
        write_frame(out, {"memory": "the strength check needed more memory than the grader "
                                    f"may use ({job['limit_mb']} MB, "
                                    "DLGRADE_GRADER_MEMORY_LIMIT_MB)"})
        os._exit(3)
    except Exception as exc:
        write_frame(out, {"error": f"{type(exc).__name__}: {exc}"[:4000]})


if __name__ == "__main__":
    main()
