"""The fork server: a submission's sandbox forked from a template that paid the imports.

The attack suite (test_attacks.py, test_limits.py) runs every attack on forked
sandboxes too (the ``launcher`` fixture); these tests cover what only the fork
server has: a template serving submission after submission, and the pool's use of it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
from sandbox_support import CORRECT

from graders.engine import grade
from graders.errors import SandboxUnavailable
from graders.sandbox import Limits
from graders.sandbox.forkserver import ForkedSandbox, TemplateUnusable, Zygote
from graders.sandbox.pool import WarmPool

# Reports what an earlier submission could have left behind, then leaves all of it.
SPY = r'''
import ctypes, json, os, subprocess, sys
import numpy as np

libc = ctypes.CDLL(None, use_errno=True)
found = []
for path in ("/tmp/left-behind", "/dev/shm/left-behind"):
    if os.path.exists(path):
        found.append(path)
if hasattr(np, "left_behind"):
    found.append("an attribute set on numpy")
if "left_behind_module" in sys.modules:
    found.append("a module imported from /tmp")
others = sorted(int(p) for p in os.listdir("/proc") if p.isdigit()) != [1, os.getpid()]
if others:
    found.append(f"processes {[p for p in os.listdir('/proc') if p.isdigit()]}")
if libc.shmget(0x5EED, 0, 0) != -1:
    found.append("a System V shared memory segment")
REPORT = json.dumps({"found": found, "random": float(np.random.random()), "pid": os.getpid()})

for path in ("/tmp/left-behind", "/dev/shm/left-behind"):
    with open(path, "w") as fh:
        fh.write("x")
np.left_behind = True
with open("/tmp/left_behind_module.py", "w") as fh:
    fh.write("X = 1\n")
sys.path.insert(0, "/tmp")
import left_behind_module  # noqa: E402,F401
libc.shmget(0x5EED, 4096, 0o1666)
subprocess.Popen(["sleep", "60"], start_new_session=True)


def report():
    return REPORT
'''


def _run_spy(zygote: Zygote) -> dict:
    assert zygote.take()
    child = zygote.child()
    child.start()
    try:
        loaded = child.request({"op": "load", "files": [
            {"name": "spy.py", "cells": [{"label": "spy", "source": SPY}]}]}, 30)
        assert loaded["ok"], loaded
        reply = child.request({"op": "call", "target": {"name": "report"}}, 10)
        assert reply["ok"], reply
        return json.loads(reply["value"])
    finally:
        child.close()


def test_submissions_forked_one_after_another_share_nothing(watch):
    zygote = Zygote(Limits(), None, ("scipy.optimize",))
    zygote.start()
    try:
        reports = [_run_spy(zygote) for _ in range(3)]
    finally:
        zygote.close()
    # Files, /dev/shm, module state, imports, processes and IPC of the one before: none.
    assert [r["found"] for r in reports] == [[], [], []]
    assert len({r["random"] for r in reports}) == 3  # numpy's generator reseeded per child
    # Each child had a cgroup of its own, removed with it; beside them the template's own
    # and its self-test child's.
    assert len(watch.cgroups) == 5 and watch.leaked_cgroups() == []


def _user_namespace_of(child: ForkedSandbox) -> int:
    """An open handle on the child's own user namespace (its init's, below process A)."""
    a = child.proc.pid
    init = int(Path(f"/proc/{a}/task/{a}/children").read_text().split()[0])
    return os.open(f"/proc/{init}/ns/user", os.O_RDONLY)


def test_a_child_whose_namespace_outlives_it_does_not_block_the_next(watch):
    """The kernel frees a dead child's user namespace lazily (seen: 2 s after an
    out-of-memory kill): the next child must not wait for it. Here a handle held on the
    first child's namespace keeps it alive for as long as the test likes."""
    zygote = Zygote(Limits(), None, ())
    zygote.start()
    held = -1
    try:
        assert zygote.take()
        first = zygote.child()
        first.start()
        try:
            assert first.request({"op": "ping"}, 5)["pong"]
            held = _user_namespace_of(first)
        finally:
            first.close()
        started = time.perf_counter()
        assert zygote.take()
        second = zygote.child()
        second.start()
        try:
            assert second.request({"op": "ping"}, 5)["pong"]
        finally:
            second.close()
        assert time.perf_counter() - started < 1.0
    finally:
        if held >= 0:
            os.close(held)
        zygote.close()
    assert watch.leaked_cgroups() == []


def test_a_template_whose_imports_start_threads_is_refused(tmp_path, watch):
    """A fork copies only the forking thread: another's locks would be held forever."""
    provided = tmp_path / "provided"
    provided.mkdir()
    (provided / "threader.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n")
    for d in (tmp_path, provided):
        d.chmod(0o755)
    (provided / "threader.py").chmod(0o644)
    zygote = Zygote(Limits(), provided, ("threader",))
    with pytest.raises(TemplateUnusable):
        zygote.start()
    assert watch.leaked_cgroups() == []


def _wait_for_template(pool: WarmPool, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pool._zygotes and pool.has_ready():
            return
        time.sleep(0.02)
    raise AssertionError("the pool never made a template")


def test_the_pool_forks_each_submission_from_its_template(watch):
    pool = WarmPool(size=1)
    try:
        pool.acquire(Limits()).close()  # started cold; the pool makes a template meanwhile
        _wait_for_template(pool)
        template_pids = next(iter(pool._zygotes.values())).box._pids()
        for _ in range(2):
            started = time.perf_counter()
            proc = pool.acquire(Limits())
            took = time.perf_counter() - started
            try:
                assert isinstance(proc, ForkedSandbox)
                assert proc.request({"op": "ping"}, 5)["pong"]
                assert took < 0.5, took
                # Its processes sit in its own cgroup, not the template's, and run at
                # normal priority although the template was started at a low one.
                assert proc._pids() and proc._pids().isdisjoint(template_pids)
                assert {os.getpriority(os.PRIO_PROCESS, p) for p in proc._pids()} == {0}
            finally:
                proc.close()
        result = grade("radboud-dl-a1", [CORRECT], problems=["sigmoid", "relu"], pool=pool)
        assert [p.status for p in result.problems] == ["passed", "passed"]
    finally:
        pool.close()
    assert watch.leaked_cgroups() == []


def test_a_dead_template_is_replaced_and_the_submission_still_graded(watch):
    pool = WarmPool(size=1)
    try:
        grade("radboud-dl-a1", [CORRECT], problems=["sigmoid"], pool=pool)
        _wait_for_template(pool)
        first = next(iter(pool._zygotes.values()))
        first.box.cgroup.kill_all()  # the template dies (say, the OOM killer took it)
        result = grade("radboud-dl-a1", [CORRECT], problems=["sigmoid"], pool=pool)
        assert result.problems[0].status == "passed", result.problems[0].message
        _wait_for_template(pool)
        assert first not in pool._zygotes.values()
    finally:
        pool.close()
    assert watch.leaked_cgroups() == []


def test_the_template_holds_no_file_of_a_submission(watch):
    """What a child writes lands in its own tmpfs: the template's /tmp stays as it was."""
    zygote = Zygote(Limits(), None, ())
    zygote.start()
    try:
        _run_spy(zygote)
        # The template's /tmp, seen from the host through its process's root (pid 2 of its
        # namespace: bubblewrap's init is pid 1).
        template = next(p for p in zygote.box._pids()
                        if Path(f"/proc/{p}/status").read_text().split("NSpid:")[1]
                        .split("\n")[0].split()[-1] == "2")
        assert "left-behind" not in os.listdir(f"/proc/{template}/root/tmp")
    finally:
        zygote.close()


def test_a_template_whose_children_cannot_isolate_is_refused(watch):
    """Stands in for a host whose kernel refuses a step of the child's isolation: here the
    child cannot set its CPU rlimit. The template's self-test finds out, once."""
    with pytest.raises(TemplateUnusable, match="did not start"):
        Zygote(Limits(cpu_s=-5), None, ()).start()
    assert watch.leaked_cgroups() == []


def test_without_a_usable_template_the_pool_starts_sandboxes(watch, monkeypatch):
    def refuse(self: Zygote) -> None:
        raise TemplateUnusable("refused for the test")

    monkeypatch.setattr(Zygote, "_self_test", refuse)
    pool = WarmPool(size=1)
    try:
        pool.acquire(Limits()).close()
        end = time.monotonic() + 30
        while not pool.has_ready() and time.monotonic() < end:
            time.sleep(0.02)
        assert pool._no_fork and not pool._zygotes
        proc = pool.acquire(Limits())
        try:
            assert not isinstance(proc, ForkedSandbox)
            assert proc.request({"op": "ping"}, 5)["pong"]
        finally:
            proc.close()
    finally:
        pool.close()
    assert watch.leaked_cgroups() == []


def test_a_garbled_template_reply_retires_the_template_instead_of_raising(watch):
    """The pool's starter catches SandboxError only: a bare ValueError would end it."""
    zygote = Zygote(Limits(), None, ())
    zygote.start()
    real = zygote.box.ctrl
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        theirs.send(b"{not json")  # what the template would seem to answer
        zygote.box.ctrl = ours
        with pytest.raises(SandboxUnavailable, match="malformed"):
            zygote._call({"op": "warm", "modules": []}, 5.0)
        assert zygote.broken and not zygote.usable
    finally:
        zygote.box.ctrl = real
        for end in (ours, theirs):
            end.close()
        zygote.close()
