"""Grading in a child process under a memory ceiling, so a grader bug costs one job.

The trusted side bounds every reply before parsing it; when a bound is missed
(a forged reply that decodes into gigabytes), the process doing the parsing
runs out of memory. Without this module that process is the Celery worker or,
in embedded mode, the API itself. Here it is a child with ``RLIMIT_DATA`` set
to ``DLGRADE_GRADER_MEMORY_LIMIT_MB``: an allocation past it raises
``MemoryError`` there, the job ends as a grader-limit error, the child is
replaced, and the worker grades the next upload.

One child per grading thread, started on first use and kept: it owns the warm
sandbox pool, so the fast path pays no interpreter start-up per job. Results
come back as JSON frames (length-prefixed, each bounded), one per problem as it
finishes, so the parent commits them as before.

    parent (worker / API)                     child (python -m service.isolation)
    ─────────────────────                     ───────────────────────────────────
    IsolatedGrader.grade(job)  ── request ──▶  inner grader (EngineGrader, pool)
    on_problem → database      ◀── problem ──  RLIMIT_DATA soft = the ceiling
    Grade                      ◀── grade ────  MemoryError → "memory" frame, exit
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import dataclasses
import json
import logging
import os
import resource
import signal
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from graders import errors as engine_errors
from graders.results import CheckResult, Grade, ProblemResult
from service.settings import Settings

log = logging.getLogger("dlgrade.worker")
MiB = 1 << 20
FRAME_LIMIT = 64 * MiB  # a result frame is a few kB; anything near this is a bug
_HEADER = struct.Struct(">I")
# Settings that only the parent needs: credentials never reach the child.
_PARENT_ONLY = {"database_url", "redis_url", "secret_key"}
_PARENT_ENV = {"DATABASE_URL", "REDIS_URL", "DLGRADE_DATABASE_URL", "DLGRADE_REDIS_URL",
               "DLGRADE_SECRET_KEY"}


class GraderLimit(Exception):
    """The grading process went past its memory ceiling on this job: the job's error."""

    what = "grading this submission needed more memory than the grader may use"


class GraderDied(Exception):
    """The grading process ended mid-job (killed, crashed): retried like a lost worker."""


class IsolatedGrader:
    """A :class:`~service.grading.Grader` whose ``grade`` runs in a memory-capped child.

    ``assignment`` and ``slugs`` read the registry in this process (no
    grading happens there); ``version`` is the inner grader's.
    """

    def __init__(self, settings: Settings, inner: Any) -> None:
        self.settings, self.inner = settings, inner
        self.limit_mb = settings.grader_memory_limit_mb
        self._local = threading.local()
        self._children: list[Child] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    @property
    def version(self) -> str:
        return str(self.inner.version)

    def version_for(self, slug: str) -> str:
        """The inner grader's version for ``slug`` (a course bundle adds its own)."""
        from service.grading import grader_version

        return grader_version(self.inner, slug)

    def assignment(self, slug: str) -> Any:
        return self.inner.assignment(slug)

    def slugs(self) -> list[str]:
        return list(self.inner.slugs())

    def grade(self, slug: str, paths: Sequence[Path], *, seed: int,
              problems: Sequence[str] | None,
              on_problem: Callable[[ProblemResult], None]) -> Grade:
        child: Child | None = getattr(self._local, "child", None)
        if child is None or not child.alive:
            if child is not None:  # it ran out of memory, died, or was left mid-job
                child.close()
                with self._lock, contextlib.suppress(ValueError):
                    self._children.remove(child)
            child = Child(self.settings)
            self._local.child = child
            with self._lock:
                self._children.append(child)
        return child.grade(slug, paths, seed=seed, problems=problems, on_problem=on_problem)

    def close(self) -> None:
        """Let every child stop its sandboxes and exit (at shutdown; also run at exit)."""
        with self._lock:
            children, self._children = self._children, []
        for c in children:
            c.close(grace_s=5.0)


class Child:
    """One grading process and its pipes; owned by one thread at a time."""

    def __init__(self, settings: Settings) -> None:
        config = settings.model_dump(mode="json", exclude=_PARENT_ONLY)
        env = {k: v for k, v in os.environ.items() if k not in _PARENT_ENV}
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.isolation"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env, cwd=os.getcwd())
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        write_frame(self.stdin, {"settings": config, "parent": os.getpid()})

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def grade(self, slug: str, paths: Sequence[Path], *, seed: int,
              problems: Sequence[str] | None,
              on_problem: Callable[[ProblemResult], None]) -> Grade:
        """The child's answer; a child left mid-job (the caller's ``on_problem`` raised
        ``LeaseLost``, a time limit hit this thread) is closed: its next frames are stale."""
        in_step = False
        try:
            try:
                write_frame(self.stdin, {"slug": slug, "paths": [str(p) for p in paths],
                                         "seed": seed, "problems": None if problems is None
                                         else list(problems)})
            except OSError as exc:
                raise self._died(f"could not send it the job ({exc})") from exc
            while True:
                frame = self._next()
                if "problem" in frame:
                    on_problem(_decoded(problem_from_json, frame["problem"]))
                    continue
                if "grade" in frame:
                    grade = _decoded(grade_from_json, frame["grade"])
                    in_step = True
                    return grade
                if "memory" in frame:
                    raise GraderLimit(str(frame["memory"]))
                in_step = True  # the child reported an exception and waits for the next job
                raise _rebuild(frame.get("error") or {})
        finally:
            if not in_step:
                self.close()

    def _next(self) -> dict[str, Any]:
        try:
            frame = read_frame(self.stdout)
        except OSError as exc:
            raise self._died(f"its pipe failed ({exc})") from exc
        except ValueError as exc:
            raise GraderDied(f"the grading process sent a bad frame: {exc}") from exc
        if frame is None:
            raise self._died("it ended mid-job")
        return frame

    def _died(self, what: str) -> GraderDied:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        code = self.proc.returncode
        how = (f"signal {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exit status {code}")
        return GraderDied(f"the grading process ({how}): {what}")

    def close(self, grace_s: float = 0.0) -> None:
        """End the child; with ``grace_s`` it may first shut its sandbox pool down itself."""
        with contextlib.suppress(OSError):
            self.stdin.close()  # the child's loop ends at end of input
        if grace_s:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace_s)
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.stdout.close()


def _decoded(decode: Callable[[dict[str, Any]], Any], data: Any) -> Any:
    try:
        return decode(data)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise GraderDied(f"the grading process sent a malformed result: {exc!r}") from exc


def _rebuild(error: dict[str, Any]) -> Exception:
    """The child's exception, as the same engine class when it is one (SandboxUnavailable)."""
    name, message = str(error.get("type", "Exception")), str(error.get("message", ""))
    cls = getattr(engine_errors, name, None)
    if isinstance(cls, type) and issubclass(cls, engine_errors.DlgradeError):
        return cls(message)
    return RuntimeError(f"{name} in the grading process: {message}")


# Frames -------------------------------------------------------------------------


def write_frame(stream: IO[bytes], obj: dict[str, Any]) -> None:
    data = json.dumps(obj, separators=(",", ":")).encode()
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> dict[str, Any] | None:
    """One frame, or None at end of stream; refuses a length past ``FRAME_LIMIT`` unread."""
    header = stream.read(_HEADER.size)
    if not header:
        return None
    if len(header) < _HEADER.size:
        raise ValueError("truncated frame header")
    (size,) = _HEADER.unpack(header)
    if size > FRAME_LIMIT:
        raise ValueError(f"frame of {size} bytes (limit {FRAME_LIMIT})")
    data = stream.read(size)
    if len(data) < size:
        raise ValueError("truncated frame")
    obj = json.loads(data)
    if not isinstance(obj, dict):
        raise ValueError("frame is not an object")
    return obj


def problem_from_json(d: dict[str, Any]) -> ProblemResult:
    checks = [CheckResult(**c) for c in d.get("checks", [])]
    return ProblemResult(**{**d, "checks": checks})


def grade_from_json(d: dict[str, Any]) -> Grade:
    return Grade(**{**d, "problems": [problem_from_json(p) for p in d.get("problems", [])]})


# The child ----------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """SIGKILL when the thread that started us ends (a worker killed mid-grade)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def apply_ceiling(limit_mb: int) -> None:
    """Cap this process's data (heap, anonymous mappings) at ``limit_mb``.

    Only the soft limit: the sandboxes this process starts set their own
    limits (the memory cgroup) and raise the soft one back to the hard one.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    soft = limit_mb * MiB
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Grade jobs read from ``stdin`` until it closes; exit after running out of memory."""
    hello = read_frame(stdin)
    if hello is None:
        return
    _die_with_parent(int(hello["parent"]))
    settings = Settings(**hello["settings"])
    from service.logs import configure_logging

    configure_logging(settings.log_level, settings.log_json)
    apply_ceiling(settings.grader_memory_limit_mb)
    from service.grading import load_inner_grader

    inner = load_inner_grader(settings)
    while (job := read_frame(stdin)) is not None:
        if not run_job(inner, job, stdout, settings.grader_memory_limit_mb):
            os._exit(3)  # after a MemoryError nothing in this process is to be trusted


def run_job(inner: Any, job: dict[str, Any], out: IO[bytes], limit_mb: int) -> bool:
    """Grade one job, streaming frames; False when it ran out of memory."""
    try:
        grade = inner.grade(job["slug"], [Path(p) for p in job["paths"]], seed=job["seed"],
                            problems=job["problems"],
                            on_problem=lambda pr: write_frame(
                                out, {"problem": dataclasses.asdict(pr)}))
        write_frame(out, {"grade": dataclasses.asdict(grade)})
        return True
    except MemoryError:
        where = "".join(traceback.format_exc(limit=-3).splitlines(keepends=True)[-6:])
        write_frame(out, {"memory": f"past the grader's memory ceiling of {limit_mb} MB "
                                    f"(DLGRADE_GRADER_MEMORY_LIMIT_MB); {where}"[:4000]})
        return False
    except Exception as exc:
        log.exception("grading failed in the grading process")
        write_frame(out, {"error": {"type": type(exc).__name__, "message": str(exc)[:4000]}})
        return True


def main() -> None:
    frames = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the grader prints goes to the log, never into the frames
    serve(sys.stdin.buffer, frames)


if __name__ == "__main__":
    main()
