"""Every test here runs real bubblewrap sandboxes, watched from outside.

The autouse ``watch`` fixture records each cgroup, uid slot and sandbox a
test starts, snapshots the cgroup's kernel counters just before the engine
removes it (so a test can say *which* limit fired), and fails the test if a
cgroup directory or a slot lock outlives it.

Modules that use the ``launcher`` fixture run each test twice: with a sandbox
bubblewrap starts, and with one forked from a fork server's template (the
pool's fast path), so every attack meets both.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sandbox_support import pids_current, read_counter

import graders.engine.session
import graders.sandbox.bwrap as bwrap
import graders.sandbox.forkserver as forkserver
from graders.assignments import registry
from graders.sandbox import Limits, open_harness
from graders.sandbox.cgroups import Cgroup
from graders.sandbox.slots import LOCK_DIR, Slot


@dataclass
class Counters:
    """A cgroup's kernel counters at the moment the engine removed it."""

    oom_kills: int = 0
    pids_refused: int = 0   # forks the pids controller refused
    memory_peak: int = 0
    cpu_s: float = 0.0


@dataclass
class Watch:
    cgroups: list[Cgroup] = field(default_factory=list)
    counters: dict[int, Counters] = field(default_factory=dict)   # id(cgroup) -> counters
    slots: list[int] = field(default_factory=list)
    sandboxes: list[bwrap.BwrapSandbox] = field(default_factory=list)
    peak_pids: int = 0

    def final(self, index: int = 0) -> Counters:
        """Counters of the ``index``-th cgroup this test created, taken at its removal."""
        return self.counters[id(self.cgroups[index])]

    @contextlib.contextmanager
    def sampling_pids(self) -> Iterator[None]:
        """Track the largest number of tasks in any of the test's cgroups while inside."""
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                for cg in list(self.cgroups):
                    self.peak_pids = max(self.peak_pids, pids_current(cg))
                stop.wait(0.005)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def leaked_cgroups(self) -> list[str]:
        return [str(d) for cg in self.cgroups for d in cg.dirs.values() if d.exists()]

    def held_slots(self) -> list[int]:
        """Slots whose lock this process still holds, read from the kernel's lock table."""
        inodes = {}
        for n in set(self.slots):
            with contextlib.suppress(OSError):
                inodes[os.stat(LOCK_DIR / f"{n}.lock").st_ino] = n
        held = []
        for line in Path("/proc/locks").read_text().splitlines():
            parts = line.split()
            if "->" in parts:  # a waiter, not a holder
                continue
            pid, where = int(parts[4]), parts[5]
            inode = int(where.rsplit(":", 1)[1])
            if pid == os.getpid() and inode in inodes:
                held.append(inodes[inode])
        return held


def _counters(cg: Cgroup) -> Counters:
    return Counters(
        oom_kills=read_counter(cg, ("memory", "memory.oom_control"), ("", "memory.events"),
                               "oom_kill"),
        pids_refused=read_counter(cg, ("pids", "pids.events"), ("", "pids.events"), "max"),
        memory_peak=cg.memory_peak(),
        cpu_s=cg.cpu_seconds(),
    )


@pytest.fixture(autouse=True)
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Watch]:
    w = Watch()

    class RecordingCgroup(Cgroup):
        def __init__(self, memory_bytes: int, pids: int) -> None:
            super().__init__(memory_bytes, pids)
            w.cgroups.append(self)

        def remove(self) -> None:
            if id(self) not in w.counters and self in w.cgroups:
                w.counters[id(self)] = _counters(self)
            super().remove()

    class RecordingSlot(Slot):
        def __init__(self) -> None:
            super().__init__()
            w.slots.append(self.index)

    class RecordingSandbox(bwrap.BwrapSandbox):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            w.sandboxes.append(self)

    monkeypatch.setattr(bwrap, "Cgroup", RecordingCgroup)
    monkeypatch.setattr(forkserver, "Cgroup", RecordingCgroup)
    monkeypatch.setattr(bwrap, "Slot", RecordingSlot)
    monkeypatch.setattr(bwrap, "BwrapSandbox", RecordingSandbox)
    yield w
    assert not w.leaked_cgroups(), f"cgroups left behind: {w.leaked_cgroups()}"
    assert not w.held_slots(), f"sandbox slots still locked: {w.held_slots()}"


TemplateKey = tuple[Path | None, tuple[tuple[Path, str], ...]]


@pytest.fixture(scope="session")
def templates() -> Iterator[dict[TemplateKey, forkserver.Zygote]]:
    """Fork-server templates for the kinds of sandbox these tests start, made once (before
    any test's ``watch``, which would count their cgroups as the test's)."""
    a = registry.get("radboud-dl-a1")
    kinds = [(a.limits, a.provided_dir, a.warm_imports, tuple(a.sandbox_replacements())),
             (Limits(), None, (), ())]
    made: dict[TemplateKey, forkserver.Zygote] = {}
    try:
        for limits, provided_dir, warm, replace in kinds:
            zygote = forkserver.Zygote(limits, provided_dir, warm, replace)
            made[(provided_dir, replace)] = zygote
            zygote.start()
        yield made
    finally:
        for zygote in made.values():
            zygote.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "launcher" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("bwrap_only")
        metafunc.parametrize("launcher", ["bwrap"] if only else ["bwrap", "forked"],
                             indirect=True)


@pytest.fixture
def launcher(request: pytest.FixtureRequest, templates: dict[TemplateKey, forkserver.Zygote],
             watch: Watch, monkeypatch: pytest.MonkeyPatch) -> str:
    """"forked": every sandbox the test opens comes from a template, as the pool's do."""
    if request.param == "forked":
        zygotes = templates

        def forked(limits: Limits, *, sandbox: bool = True, provided_dir: Path | None = None,
                   replace: tuple = ()) -> bwrap.BwrapSandbox:  # type: ignore[type-arg]
            zygote = zygotes.get((provided_dir, tuple(replace)))
            if not sandbox or zygote is None or zygote.busy:  # another sandbox at once
                return open_harness(limits, sandbox=sandbox, provided_dir=provided_dir,
                                    replace=replace)
            assert zygote.take(), "an earlier test broke the fork server's template"
            proc = zygote.child(limits)
            watch.sandboxes.append(proc)
            return proc

        monkeypatch.setattr(graders.engine.session, "open_harness", forked)
        if hasattr(request.module, "open_harness"):
            monkeypatch.setattr(request.module, "open_harness", forked)
    return str(request.param)
