"""Sandboxes made ahead of time, so a submission never waits for interpreter start-up.

Per kind of sandbox (limits, provided code, warm imports) the pool keeps a
fork server's template (``graders.sandbox.forkserver``): the imports are paid
once, and each submission gets a child forked from it that isolates itself
anew. Where a template cannot be used (its imports started threads, or
``fork=False``) it keeps started sandboxes instead. Either way a sandbox has
run nothing but the harness and the imports before it is handed to exactly
one submission, and is destroyed afterwards: the next submission gets a
different process, tmpfs and cgroup.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections import Counter, deque
from pathlib import Path

from ..errors import SandboxError
from . import open_harness
from .cgroups import sweep_stale
from .forkserver import TemplateUnusable, Zygote
from .limits import Limits
from .process import HarnessProcess
from .runtime import Replacements

log = logging.getLogger("dlgrade.sandbox")
Key = tuple[Limits, Path | None, tuple[str, ...], bool, Replacements]
BACKGROUND_NICENESS = 10
# Import sets learned from uploads: one is kept warm once it was asked for this many times
# among the last RECENT acquisitions, and at most LEARNED_KINDS of them at once. A single
# upload with unusual imports therefore costs no warm-up, and no sequence of uploads can
# make a worker hold more than LEARNED_KINDS extra sandboxes.
RECENT = 32
SEEN_TWICE = 2
LEARNED_KINDS = 3


class WarmPool:
    """Keeps ``size`` started sandboxes per kind (limits, provided code, warm imports).

    One long-lived thread starts them all: bubblewrap's --die-with-parent is
    tied to the thread that started it, so a short-lived starter thread would
    take its sandboxes down when it ends.
    """

    def __init__(self, size: int = 1, *, adaptive: bool = True, fork: bool = True) -> None:
        self.size = size
        self.adaptive = adaptive
        self.fork = fork
        self._ready: dict[Key, deque[HarnessProcess]] = {}
        self._zygotes: dict[Key, Zygote] = {}
        self._no_fork: set[Key] = set()  # kinds whose imports start threads
        self._wanted: set[Key] = set()
        self._learned: set[Key] = set()
        self._recent: deque[Key] = deque(maxlen=RECENT)
        self._cond = threading.Condition()
        self._closed = False
        self._owner_pid = -1  # the starter thread is started lazily, in the process that uses it
        self._thread: threading.Thread | None = None

    def _ensure_thread(self) -> None:
        """(Re)start the starter thread in this process: a fork (Celery's prefork pool)
        copies the pool object but not its thread, nor its sandboxes' parent."""
        if self._owner_pid == os.getpid():
            return
        self._owner_pid = os.getpid()
        self._ready = {}
        self._zygotes = {}  # the parent process's: its own to close
        self._no_fork = set()
        self._wanted = set()
        self._learned = set()
        self._recent.clear()
        atexit.register(self.close)  # pooled sandboxes must not outlive the worker's cgroups
        with contextlib.suppress(OSError, SandboxError):
            sweep_stale()  # what a worker killed with -9 left behind
        self._thread = threading.Thread(target=self._run, daemon=True, name="dlgrade-pool")
        self._thread.start()

    def acquire(self, limits: Limits, *, provided_dir: Path | None = None,
                warm: tuple[str, ...] = (), sandbox: bool = True,
                replace: Replacements = (), extra: tuple[str, ...] = ()) -> HarnessProcess:
        """A started (and warmed) harness, fresh from the pool or started now.

        ``warm`` is what the assignment always wants imported; ``extra`` what this
        upload imports on top (graders.engine.imports). A sandbox warmed with exactly
        both is preferred, then one with ``warm`` alone; one warmed with more than
        the upload imports is never handed out, since it would hold memory the
        submission's limit is meant for.
        """
        base: Key = (limits, provided_dir, tuple(warm), sandbox, tuple(replace))
        more = sorted(set(extra) - set(warm)) if self.adaptive else []
        exact: Key = (limits, provided_dir, (*warm, *more), sandbox, tuple(replace))
        proc = None
        zygote = None
        with self._cond:
            self._ensure_thread()
            for key in dict.fromkeys((exact, base)):
                candidate = self._zygotes.get(key)
                if candidate is not None and candidate.take():
                    zygote = candidate
                    break
                proc = self._take(key)
                if proc is not None:
                    break
            self._wanted.add(base)
            if exact != base:
                self._learn(exact)
            self._cond.notify()
        if zygote is not None:
            proc = self._fork(zygote)
        elif proc is not None:
            proc.renice(0)  # started in the background at low priority; now it is urgent
        if proc is None:
            proc = start_warm(*base)
        proc.started = time.monotonic()  # its wall-clock budget starts with the submission
        return proc

    def has_ready(self, *, warmed: bool = False) -> bool:
        """A sandbox or template is waiting (one with learned or assignment imports, if
        ``warmed``): what a benchmark or test waits for before it measures."""
        with self._cond:
            keys = [k for k, q in self._ready.items() if q]
            keys += [k for k, z in self._zygotes.items() if z.usable]
            return any(k[2] for k in keys) if warmed else bool(keys)

    def _fork(self, zygote: Zygote) -> HarnessProcess | None:
        child = zygote.child()
        try:
            child.start()
        except SandboxError as exc:  # the template is marked broken and will be replaced
            log.warning("the fork server failed, starting a sandbox instead: %s", exc)
            with self._cond:
                self._cond.notify()
            return None
        return child

    def _take(self, key: Key) -> HarnessProcess | None:
        queue = self._ready.get(key)
        while queue:
            candidate = queue.popleft()
            if candidate.alive:
                return candidate
            candidate.close()
        return None

    def _learn(self, key: Key) -> None:
        """Keep warm the import sets recent uploads asked for more than once (lock held)."""
        self._recent.append(key)
        counts = Counter(self._recent)
        learned = {k for k, n in counts.most_common(LEARNED_KINDS) if n >= SEEN_TWICE}
        for gone in self._learned - learned:
            self._wanted.discard(gone)
            for p in self._ready.pop(gone, ()):
                p.close()
            if gone in self._zygotes:
                self._zygotes[gone].broken = True  # closed by the starter once it is free
        self._learned = learned
        self._wanted |= learned

    def _forks(self, key: Key) -> bool:
        return self.fork and key[3] and key not in self._no_fork

    def _run(self) -> None:
        while True:
            with self._cond:
                retired = self._retire()
                key = self._next_short()
                while key is None and not retired and not self._closed:
                    self._cond.wait()
                    retired = self._retire()
                    key = self._next_short()
                if self._closed:
                    return
            for zygote in retired:
                zygote.close()
            if key is None:
                continue
            if self._forks(key):
                self._start_zygote(key)
                continue
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

    def _start_zygote(self, key: Key) -> None:
        limits, provided_dir, warm, _sandbox, replace = key
        zygote = Zygote(limits, provided_dir, warm, replace)
        try:
            zygote.start(niceness=BACKGROUND_NICENESS)
        except TemplateUnusable as exc:
            log.warning("no fork server for this kind of sandbox (%s): started ones instead", exc)
            with self._cond:
                self._no_fork.add(key)
            return
        except SandboxError as exc:
            log.warning("could not start a fork server: %s", exc)
            time.sleep(1.0)
            return
        with self._cond:
            keep = not self._closed and key in self._wanted and key not in self._zygotes
            if keep:
                self._zygotes[key] = zygote
        if not keep:
            zygote.close()

    def _retire(self) -> list[Zygote]:
        """Templates that are broken, dead, used up or no longer wanted, and not serving."""
        gone = [k for k, z in self._zygotes.items() if not z.busy and not z.usable]
        return [self._zygotes.pop(k) for k in gone]

    def _next_short(self) -> Key | None:
        for k in self._wanted:
            if self._forks(k):
                if k not in self._zygotes:
                    return k
            elif len(self._ready.get(k, ())) < self.size:
                return k
        return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            procs: list[HarnessProcess | Zygote] = [p for q in self._ready.values() for p in q]
            procs += self._zygotes.values()
            self._ready.clear()
            self._zygotes.clear()
            self._cond.notify_all()
        for p in procs:
            p.close()
        # A sandbox or template the starter is making now is closed by it when done: wait,
        # so that nothing of the pool outlives this call.
        starter = self._thread
        if (starter is not None and starter is not threading.current_thread()
                and self._owner_pid == os.getpid()):
            starter.join(timeout=60)


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
