"""The fork server: heavy imports paid once per template, a fresh sandbox per submission.

A template is a bubblewrap sandbox (``TemplateSandbox``) that has imported
numpy, the harness and the libraries a kind of upload needs, and has never
run student code (``graders.harness.zygote``). For each submission it forks
a child, which this side moves into a cgroup of its own before the child may
go on; the child then enters new namespaces, mounts its own /proc, /tmp and
/dev/shm, enters its own user namespace, drops every capability and loads
the seccomp filter, all before it reads the first request. A submission
therefore starts from a copy of memory no other submission has touched, in
namespaces, files and a cgroup no other submission has used.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

from ..errors import SandboxError, SandboxUnavailable
from . import seccomp
from .bwrap import BwrapSandbox
from .cgroups import Cgroup
from .limits import Limits
from .runtime import Replacements

REPLY_BYTES = 4096
MAX_CHILDREN = 256      # then the template is replaced, its CPU rlimit far from reached
TEMPLATE_CPU_S = 3600   # the template's own: imports once, then one fork per submission
FORK_TIMEOUT_S = 10.0


class TemplateUnusable(SandboxError):
    """Forking from this template is not safe or not possible: the warmed libraries started
    threads (a fork copies their locks, not them), or the host refused a step of isolation."""


class TemplateSandbox(BwrapSandbox):
    TEMPLATE = True
    CPU_S = TEMPLATE_CPU_S
    ctrl: socket.socket | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ctrl = ours
        self._start_with(theirs.detach(), -1)

    def close(self) -> None:
        if self.ctrl is not None:
            self.ctrl.close()
        super().close()


class Zygote:
    """One template and the child it is serving, if any (one at a time)."""

    def __init__(self, limits: Limits, provided_dir: Path | None, warm: tuple[str, ...],
                 replace: Replacements = ()) -> None:
        self.box = TemplateSandbox(limits, provided_dir, replace)
        self.warm = warm
        self.busy = False
        self.broken = False
        self.children = 0
        self._lock = threading.Lock()

    def start(self, niceness: int = 0) -> None:
        self.box.niceness = niceness
        self.box.start()
        try:
            reply = self._call({"op": "warm", "modules": list(self.warm)}, 120.0)
            if not reply.get("ok"):
                raise SandboxUnavailable(f"the template could not import {self.warm}: "
                                         f"{reply.get('error')}")
            if reply.get("threads") != 1:
                raise TemplateUnusable(f"importing {self.warm} started threads")
            self._self_test()
        except BaseException:
            self.close()
            raise
        self.box.renice(0)  # its children are born with its priority

    def _self_test(self) -> None:
        """One child isolated and answering, or this host cannot fork sandboxes (a kernel
        that refuses a step): then the pool starts them with bubblewrap instead."""
        self.busy = True
        child = self.child()
        try:
            child.start()
            child.request({"op": "ping"}, FORK_TIMEOUT_S)
        except SandboxError as exc:
            raise TemplateUnusable(f"a forked sandbox did not start: {exc}; "
                                   f"{child.stderr.text()[-500:]}") from exc
        finally:
            child.close()
        self.children = 0

    @property
    def usable(self) -> bool:
        return (not self.busy and not self.broken and self.box.running
                and self.children < MAX_CHILDREN)

    def take(self) -> bool:
        with self._lock:
            if not self.usable:
                return False
            self.busy = True
            return True

    def child(self, limits: Limits | None = None) -> ForkedSandbox:
        """A sandbox for one submission, forked when started (after ``take``). Its limits
        are the template's unless given; rlimits above the template's are capped there."""
        return ForkedSandbox(self, limits or self.box.limits)

    # -- the control channel (the template runs trusted code only, yet replies are bounded) --
    def _call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.box.ctrl.send(json.dumps(request).encode())
        return self._reply(timeout)

    def _reply(self, timeout: float) -> dict[str, Any]:
        ready, _, _ = select.select([self.box.ctrl], [], [], timeout)
        if not ready:
            raise SandboxUnavailable("the sandbox template did not answer")
        data = self.box.ctrl.recv(REPLY_BYTES)
        if not data:
            self.broken = True
            raise SandboxUnavailable("the sandbox template is gone: "
                                     f"{self.box.stderr.text()[-500:]}")
        try:
            reply = json.loads(data)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            self.broken = True
            raise SandboxUnavailable("the sandbox template sent a malformed reply")
        return reply

    def fork(self, cgroup: Cgroup, fds: list[int], limits: Limits) -> ForkedChild:
        """Fork a child with these descriptors; it waits until it sits in ``cgroup``."""
        go_r, go_w = os.pipe()
        program = seccomp.filter_fd()
        if program is not None:
            fds = [*fds, program]
        try:
            request = {"op": "fork", "scratch_bytes": limits.scratch_bytes,
                       "cpu_s": int(limits.cpu_s) + 1, "file_bytes": limits.file_bytes,
                       "open_files": limits.open_files, "processes": limits.pids}
            socket.send_fds(self.box.ctrl, [json.dumps(request).encode()],
                            [*fds[:4], go_r, *fds[4:]])
            os.close(go_r)
            go_r = -1
            reply = self._reply(FORK_TIMEOUT_S)
            pid = self._host_pid(int(reply["pid"]))
            for procs in cgroup.procs_files:
                procs.write_text(str(pid))
            os.write(go_w, b"g")
        except (OSError, ValueError, KeyError, SandboxError) as exc:
            self.broken = True
            raise SandboxUnavailable(f"the fork server could not start a sandbox: {exc}"
                                     ) from exc
        finally:
            for fd in (go_r, go_w, -1 if program is None else program):
                if fd >= 0:
                    os.close(fd)
        self.children += 1
        return ForkedChild(self, pid)

    def _host_pid(self, inner: int) -> int:
        """The host's pid of the template's child ``inner`` (which sits in its cgroup)."""
        for pid in self.box._pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("NSpid:") and line.split()[-1] == str(inner) \
                            and len(line.split()) > 2:
                        return pid
        raise SandboxUnavailable(f"the template's child {inner} is not in its cgroup")

    def release(self, child: ForkedChild | None) -> None:
        """Called when a child's sandbox is closed: its exit must have been reported."""
        if child is None or child.returncode is None:
            self.broken = True
        self.busy = False

    def close(self) -> None:
        self.broken = True
        self.box.close()


class ForkedChild:
    """What ``subprocess.Popen`` is to a sandbox bubblewrap started: its exit, as the
    template reports it. Killing is the cgroup's job (a host pid may be reused)."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self._collect(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._collect(timeout if timeout is not None else 3600.0)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("sandbox", timeout or 0.0)
        return self.returncode

    def kill(self) -> None:
        pass

    def _collect(self, timeout: float) -> None:
        try:
            reply = self.zygote._reply(timeout)
        except SandboxUnavailable:
            if self.zygote.broken:  # the template died or garbled: its child is killed
                self.returncode = -9
            return
        if "exit" in reply:
            self.returncode = int(reply["exit"])


class ForkedSandbox(BwrapSandbox):
    """One submission's sandbox, forked from a template instead of started by bubblewrap."""

    def __init__(self, zygote: Zygote, limits: Limits) -> None:
        box = zygote.box
        super().__init__(limits, box.provided_dir, box.replace)
        self.zygote = zygote

    def _spawn(self, harness_in: int, harness_out: int, out_w: int, err_w: int
               ) -> ForkedChild:  # type: ignore[override]
        self.cgroup = Cgroup(self.limits.memory_bytes, self.limits.pids)
        return self.zygote.fork(self.cgroup, [harness_in, harness_out, out_w, err_w],
                                self.limits)

    def _cleanup(self) -> None:
        super()._cleanup()
        self.zygote.release(self.proc if isinstance(self.proc, ForkedChild) else None)
