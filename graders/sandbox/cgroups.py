"""A cgroup per sandbox: memory of the whole tree, number of processes, CPU used.

cgroup v1 (one hierarchy per controller, as on this machine) and v2 (one
unified tree, as on most current hosts and container runtimes) are both
supported. Killing a run means killing every pid in its cgroup, so nothing a
submission forks can outlive it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

from ..errors import SandboxUnavailable

ROOT = Path("/sys/fs/cgroup")
SELF = Path("/proc/self/cgroup")  # where the grader itself sits


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class Cgroup:
    """Owns one cgroup (v1: one per controller) for the lifetime of a sandbox."""

    def __init__(self, memory_bytes: int, pids: int) -> None:
        name = f"dlgrade-{uuid.uuid4().hex[:12]}"
        self.v2 = (ROOT / "cgroup.controllers").exists()
        try:
            if self.v2:
                parent = _v2_parent()
                self.dirs = {"unified": parent / name}
                self.dirs["unified"].mkdir()
                _write(self.dirs["unified"] / "memory.max", str(memory_bytes))
                with contextlib.suppress(OSError):
                    _write(self.dirs["unified"] / "memory.swap.max", "0")
                _write(self.dirs["unified"] / "pids.max", str(pids))
            else:
                self.dirs = {c: ROOT / c / "dlgrade" / name for c in ("memory", "pids", "cpuacct")}
                for d in self.dirs.values():
                    d.mkdir(parents=True, exist_ok=True)
                mem = self.dirs["memory"]
                _write(mem / "memory.limit_in_bytes", str(memory_bytes))
                with contextlib.suppress(OSError):  # memsw exists only with swap accounting
                    _write(mem / "memory.memsw.limit_in_bytes", str(memory_bytes))
                _write(self.dirs["pids"] / "pids.max", str(pids))
        except OSError as exc:
            self.remove()
            raise SandboxUnavailable(
                f"cannot create a cgroup under {ROOT} ({exc}); dlgrade needs root or a "
                "delegated cgroup to limit memory and processes of student code"
            ) from exc

    @property
    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.dirs.values()]

    def pids(self) -> set[int]:
        out: set[int] = set()
        for f in self.procs_files:
            out.update(int(p) for p in _read(f).split())
        return out

    def cpu_seconds(self) -> float:
        if self.v2:
            for line in _read(self.dirs["unified"] / "cpu.stat").splitlines():
                if line.startswith("usage_usec"):
                    return int(line.split()[1]) / 1e6
            return 0.0
        raw = _read(self.dirs["cpuacct"] / "cpuacct.usage").strip()
        return int(raw) / 1e9 if raw else 0.0

    def memory_peak(self) -> int:
        path = (self.dirs["unified"] / "memory.peak" if self.v2
                else self.dirs["memory"] / "memory.max_usage_in_bytes")
        raw = _read(path).strip()
        return int(raw) if raw.isdigit() else 0

    def oom_killed(self) -> bool:
        if self.v2:
            events = _read(self.dirs["unified"] / "memory.events")
            return any(line.startswith("oom_kill ") and line.split()[1] != "0"
                       for line in events.splitlines())
        control = _read(self.dirs["memory"] / "memory.oom_control")
        for line in control.splitlines():
            if line.startswith("oom_kill ") and line.split()[1] != "0":
                return True
        return _read(self.dirs["memory"] / "memory.failcnt").strip() not in ("", "0")

    def pids_exhausted(self) -> bool:
        path = (self.dirs["unified"] if self.v2 else self.dirs["pids"]) / "pids.events"
        for line in _read(path).splitlines():
            if line.startswith("max ") and line.split()[1] != "0":
                return True
        return False

    def kill_all(self, deadline_s: float = 5.0, *, spare: int | None = None) -> None:
        """SIGKILL every task, except ``spare`` (left to exit by itself) when given.

        Sparing the outer bubblewrap lets it reap its namespace's init: killed
        together, the init is orphaned to the host's pid 1, which in many
        containers and VMs never reaps, and each zombie keeps counting against
        the slot uid's RLIMIT_NPROC in every later sandbox.
        """
        if spare is None and self.v2 and (self.dirs["unified"] / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(self.dirs["unified"] / "cgroup.kill", "1")
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            pids = self.pids() - {spare}
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def remove(self) -> None:
        for d in getattr(self, "dirs", {}).values():
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def _v2_parent() -> Path:
    """A cgroup where dlgrade may create children with memory and pids enabled.

    cgroup v2 lets a cgroup hand controllers to children only while it holds
    no processes itself, so sandboxes live in a ``dlgrade`` cgroup beside the
    grader's own, not below it: ``<parent of ours>/dlgrade/<run>``. At the root
    (a host, or a container whose entrypoint moved its processes into a leaf,
    see docker/worker-entrypoint.sh) that is ``/sys/fs/cgroup/dlgrade``.
    """
    own = _read(SELF).strip().splitlines()
    rel = next((line.split("::", 1)[1] for line in own if line.startswith("0::")), "/")
    base = ROOT / rel.strip("/") if rel.strip("/") else ROOT
    container = base if base == ROOT else base.parent
    parent = container / "dlgrade"
    parent.mkdir(exist_ok=True)
    for d in (container, parent):
        enabled = _read(d / "cgroup.subtree_control").split()
        if {"memory", "pids"} <= set(enabled):
            continue
        try:
            for controller in ("memory", "pids"):
                _write(d / "cgroup.subtree_control", f"+{controller}")
        except OSError as exc:
            raise SandboxUnavailable(
                f"cannot enable the memory and pids controllers in {d} ({exc}). Under cgroup "
                "v2 the grader's processes must sit in a leaf cgroup of their own (see "
                "docs/operations.md), with the cgroup above it delegated to the grader."
            ) from exc
    return parent


def sweep_stale(older_than_s: float = 600.0) -> int:
    """Remove empty sandbox cgroups left by a grader that died before cleaning up.

    Only cgroups with no process and untouched for ``older_than_s`` go: a
    concurrent grader's fresh cgroup is empty for a moment before its launcher
    joins it.
    """
    removed = 0
    v2 = (ROOT / "cgroup.controllers").exists()
    parents = ([_v2_parent()] if v2 else
               [ROOT / c / "dlgrade" for c in ("memory", "pids", "cpuacct")])
    now = time.time()
    for parent in parents:
        for d in parent.glob("dlgrade-*") if parent.exists() else ():
            try:
                if _read(d / "cgroup.procs").strip() or now - d.stat().st_mtime < older_than_s:
                    continue
                d.rmdir()
                removed += 1
            except OSError:
                continue
    return removed
