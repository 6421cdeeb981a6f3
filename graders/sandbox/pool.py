"""Sandboxes started ahead of time, so a submission never waits for interpreter start-up.

Each pooled sandbox has run nothing but the harness (and, when asked, the
imports an assignment needs, such as torch). It is handed to exactly one
submission and destroyed afterwards: nothing of one submission can be seen
by the next, because the next one gets a different process, tmpfs and cgroup.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

from ..errors import SandboxError
from . import open_harness
from .cgroups import sweep_stale
from .limits import Limits
from .process import HarnessProcess
from .runtime import Replacements

log = logging.getLogger("dlgrade.sandbox")
Key = tuple[Limits, Path | None, tuple[str, ...], bool]
BACKGROUND_NICENESS = 10


class WarmPool:
    """Keeps ``size`` started sandboxes per kind (limits, provided code, warm imports).

    One long-lived thread starts them all: bubblewrap's --die-with-parent is
    tied to the thread that started it, so a short-lived starter thread would
    take its sandboxes down when it ends.
    """

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self._ready: dict[Key, deque[HarnessProcess]] = {}
        self._wanted: set[Key] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._owner_pid = -1  # the starter thread is started lazily, in the process that uses it

    def _ensure_thread(self) -> None:
        """(Re)start the starter thread in this process: a fork (Celery's prefork pool)
        copies the pool object but not its thread, nor its sandboxes' parent."""
        if self._owner_pid == os.getpid():
            return
        self._owner_pid = os.getpid()
        self._ready = {}
        self._wanted = set()
        atexit.register(self.close)  # pooled sandboxes must not outlive the worker's cgroups
        with contextlib.suppress(OSError, SandboxError):
            sweep_stale()  # what a worker killed with -9 left behind
        threading.Thread(target=self._run, daemon=True, name="dlgrade-pool").start()

    def acquire(self, limits: Limits, *, provided_dir: Path | None = None,
                warm: tuple[str, ...] = (), sandbox: bool = True,
                replace: Replacements = ()) -> HarnessProcess:
        """A started (and warmed) harness, fresh from the pool or started now."""
        key = (limits, provided_dir, tuple(warm), sandbox, tuple(replace))
        proc = None
        with self._cond:
            self._ensure_thread()
            queue = self._ready.setdefault(key, deque())
            while queue and proc is None:
                candidate = queue.popleft()
                if candidate.alive:
                    proc = candidate
                else:
                    candidate.close()
            self._wanted.add(key)
            self._cond.notify()
        if proc is None:
            proc = start_warm(*key)
        else:
            proc.renice(0)  # started in the background at low priority; now it is urgent
        proc.started = time.monotonic()  # its wall-clock budget starts with the submission
        return proc

    def _run(self) -> None:
        while True:
            with self._cond:
                key = self._next_short()
                while key is None and not self._closed:
                    self._cond.wait()
                    key = self._next_short()
                if self._closed:
                    return
            try:
                # Ahead-of-time work must not slow down uploads or gradings under way.
                proc = start_warm(*key, niceness=BACKGROUND_NICENESS)
            except SandboxError as exc:
                log.warning("could not pre-start a sandbox: %s", exc)
                time.sleep(1.0)
                continue
            with self._cond:
                if self._closed:
                    proc.close()
                    return
                self._ready.setdefault(key, deque()).append(proc)

    def _next_short(self) -> Key | None:
        return next((k for k in self._wanted if len(self._ready.get(k, ())) < self.size), None)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            procs = [p for q in self._ready.values() for p in q]
            self._ready.clear()
            self._cond.notify_all()
        for p in procs:
            p.close()


def start_warm(limits: Limits, provided_dir: Path | None, warm: tuple[str, ...],
               sandbox: bool, replace: Replacements = (), niceness: int = 0) -> HarnessProcess:
    proc = open_harness(limits, sandbox=sandbox, provided_dir=provided_dir, replace=replace)
    proc.niceness = niceness
    proc.start()
    try:
        reply = proc.request({"op": "warm", "modules": list(warm)}, 120.0)
    except SandboxError:
        proc.close()
        raise
    if not reply.get("ok"):
        log.warning("warming imports %s failed: %s", warm, reply.get("error"))
    return proc
