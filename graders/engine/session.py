"""One loaded submission inside one sandbox, restarted when a problem kills it.

The first load's log is what the student sees. When a problem crashes or
times out, the sandbox is gone; the next problem starts a fresh one and loads
the submission again, so one bad problem never costs the others.
"""

from __future__ import annotations

from typing import Any

from ..errors import SandboxError, SandboxUnavailable
from ..sandbox import HarnessProcess, open_harness
from ..sandbox.pool import WarmPool
from ..spec import Assignment
from .imports import heavy_imports
from .submission import Submission


class LoadFailed(SandboxError):
    """Loading the submission itself hit a limit; no problem can run."""


class Session:
    def __init__(self, assignment: Assignment, submission: Submission, *, sandbox: bool = True,
                 preset: dict[str, Any] | None = None, pool: WarmPool | None = None) -> None:
        self.assignment = assignment
        self.submission = submission
        self.sandbox = sandbox
        self.preset = preset or {}
        self.pool = pool
        self.proc: HarnessProcess | None = None
        self.load_log: list[dict[str, Any]] | None = None
        self.load_error: SandboxError | None = None
        self.starts = 0
        self.names: dict[str, Any] = {}

    def _load_message(self) -> dict[str, Any]:
        provided = self.assignment.provided_files() if self.assignment.provided_files else {}
        files = [{"name": s.name, "cells": [{"label": c.label, "source": c.source}
                                            for c in s.cells]}
                 for s in self.submission.sources if _course_path(s.name, provided) is None]
        # The course's files go first, so the student's modules can import them.
        files[:0] = [{"name": path, "cells": [{"label": f"{path} (provided by the course)",
                                               "source": text}]}
                     for path, text in provided.items()]
        # The course's modules are imported before any student code runs; the harness
        # restores their names before each call of the course's code, and imports one first
        # needed later afresh, so a submission that patches them at load time changes
        # nothing. Patching from inside a call (or patching numpy or torch) is not stopped:
        # see docs/threat-model.md.
        modules = sorted({t.split(":")[0] for t in self.assignment.overrides.values()}
                         | set(self.assignment.provided_modules))
        return {"op": "load", "files": files, "skip_calls": list(self.assignment.skip_calls),
                "provided": modules,
                "statement_timeout": self.assignment.statement_timeout_s,
                "override": dict(self.assignment.overrides), "preset": self.preset}

    def ensure(self) -> HarnessProcess:
        if self.load_error is not None:
            raise self.load_error
        if self.proc is not None and self.proc.alive:
            return self.proc
        self.close()
        a = self.assignment
        if self.pool is not None:
            proc = self.pool.acquire(a.limits, provided_dir=a.provided_dir,
                                     warm=a.warm_imports, sandbox=self.sandbox,
                                     replace=a.sandbox_replacements(),
                                     extra=heavy_imports(self.submission))
        else:
            proc = open_harness(a.limits, sandbox=self.sandbox, provided_dir=a.provided_dir,
                                replace=a.sandbox_replacements())
            proc.start()
        self.starts += 1
        self.proc = proc
        try:
            reply = proc.request(self._load_message(), self.assignment.load_timeout_s)
        except SandboxUnavailable:
            raise
        except SandboxError as exc:
            self.load_error = LoadFailed(f"Loading the submission stopped: {exc}")
            raise self.load_error from None
        if not reply.get("ok"):
            err = reply.get("error", {})
            self.load_error = LoadFailed(f"Loading the submission failed: {err.get('type')}: "
                                         f"{err.get('message')}")
            raise self.load_error
        if self.load_log is None:
            self.load_log = list(reply.get("log", []))
        return proc

    def request(self, message: dict[str, Any], timeout: float, *,
                limit: float | None = None) -> dict[str, Any]:
        proc = self.ensure()
        return proc.request(message, timeout, limit=limit)

    def find(self, names: list[str]) -> dict[str, Any]:
        missing = [n for n in names if n not in self.names]
        if missing:
            reply = self.request({"op": "find", "names": missing}, 10.0)
            found = reply.get("found", {}) if reply.get("ok") else {}
            for n in missing:
                self.names[n] = found.get(n)
        return {n: self.names[n] for n in names}

    def output_tail(self, n: int = 2000) -> str:
        if self.proc is None:
            return ""
        return (self.proc.stdout.text() + self.proc.stderr.text())[-n:]

    def close(self) -> None:
        if self.proc is not None:
            self.proc.close()
            self.proc = None



def _course_path(name: str, provided: dict[str, str]) -> str | None:
    """The provided file a submitted one stands in for (``hw3/nndl/layer_utils.py``)."""
    for path in provided:
        if name == path or name.endswith("/" + path):
            return path
    return None
