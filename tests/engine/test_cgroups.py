"""cgroup v2, the layout of Docker hosts, on a machine whose limits live in v1.

This machine mounts memory and pids as v1 hierarchies, so the kernel cannot
enforce v2 limits here. What can be checked is checked: the v2 files dlgrade
writes and reads, on a tree shaped like ``/sys/fs/cgroup``; and, on the
kernel's real cgroup2 mount (``/sys/fs/cgroup/unified`` in hybrid mode),
that a sandbox's whole process tree is counted and killed through
``cgroup.procs``, ``cpu.stat`` and ``cgroup.kill``.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from graders.errors import SandboxUnavailable
from graders.sandbox import cgroups
from graders.sandbox.cgroups import Cgroup


def _v2_tree(tmp_path: Path, own: str) -> Path:
    """A v2 root with the grader in ``own``, as /sys/fs/cgroup and /proc/self/cgroup show it."""
    root = tmp_path / "cgroup"
    for d in (root, root / own.strip("/")):
        d.mkdir(parents=True, exist_ok=True)
        (d / "cgroup.controllers").write_text("cpu memory pids\n")
        (d / "cgroup.subtree_control").write_text("")
    (tmp_path / "self").write_text(f"0::{own}\n")
    return root


def test_v2_sandbox_cgroup_sits_beside_the_graders_own_with_its_limits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _v2_tree(tmp_path, "/system.slice/worker")
    monkeypatch.setattr(cgroups, "ROOT", root)
    monkeypatch.setattr(cgroups, "SELF", tmp_path / "self")
    cg = Cgroup(memory_bytes=256 * 2**20, pids=64)
    d = cg.dirs["unified"]
    # not below the grader's cgroup (v2 forbids processes in a cgroup that delegates
    # controllers) but beside it, in a dlgrade parent with memory and pids handed down
    assert d.parent == root / "system.slice" / "dlgrade" and d.name.startswith("dlgrade-")
    assert (d / "memory.max").read_text() == str(256 * 2**20)
    assert (d / "memory.swap.max").read_text() == "0"
    assert (d / "pids.max").read_text() == "64"
    assert (root / "system.slice" / "cgroup.subtree_control").read_text().startswith("+")
    assert cg.procs_files == [d / "cgroup.procs"]


def test_v2_counters_say_which_limit_fired(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root = _v2_tree(tmp_path, "/")
    monkeypatch.setattr(cgroups, "ROOT", root)
    monkeypatch.setattr(cgroups, "SELF", tmp_path / "self")
    cg = Cgroup(memory_bytes=2**20, pids=8)
    d = cg.dirs["unified"]
    assert d.parent == root / "dlgrade"  # a grader at the root (a container's entrypoint)
    assert not cg.oom_killed() and not cg.pids_exhausted() and cg.cpu_seconds() == 0.0
    (d / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n")
    (d / "pids.events").write_text("max 3\n")
    (d / "memory.peak").write_text("1048576\n")
    assert cg.cpu_seconds() == 2.5 and cg.oom_killed() and cg.pids_exhausted()
    assert cg.memory_peak() == 2**20


def test_v2_without_delegated_controllers_says_how_to_fix_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _v2_tree(tmp_path, "/worker")
    (root / "cgroup.subtree_control").unlink()
    (root / "cgroup.subtree_control").mkdir()  # any write fails, as EBUSY would
    monkeypatch.setattr(cgroups, "ROOT", root)
    monkeypatch.setattr(cgroups, "SELF", tmp_path / "self")
    with pytest.raises(SandboxUnavailable, match="leaf cgroup of their own"):
        Cgroup(memory_bytes=2**20, pids=8)


def _unified_mount() -> Path | None:
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, where, kind, *_ = line.split()
        if kind == "cgroup2" and os.access(where, os.W_OK):
            return Path(where)
    return None


def test_v2_kernel_counts_and_kills_the_whole_tree() -> None:
    mount = _unified_mount()
    assert mount is not None, "this machine has no writable cgroup2 mount"
    d = mount / f"dlgrade-test-{uuid.uuid4().hex[:8]}"
    d.mkdir()
    cg = Cgroup.__new__(Cgroup)  # the controllers are v1's here: no limits, the rest is v2
    cg.v2, cg.dirs = True, {"unified": d}
    try:
        busy = subprocess.Popen(
            ["sh", "-c", "sleep 300 & while :; do :; done"], start_new_session=True,
            preexec_fn=lambda: (d / "cgroup.procs").write_text(str(os.getpid())))
        deadline = time.monotonic() + 10
        while (len(cg.pids()) < 2 or cg.cpu_seconds() < 0.2) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(cg.pids()) == 2 and cg.cpu_seconds() >= 0.2  # the shell and its sleep
        assert (d / "cgroup.kill").exists()
        cg.kill_all(deadline_s=0)  # cgroup.kill alone, without the pid-by-pid fallback
        assert busy.wait(5) == -9
        deadline = time.monotonic() + 5
        while cg.pids() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cg.pids() == set()  # the orphaned sleep went too
    finally:
        cg.kill_all()
        cg.remove()
    assert not d.exists()
