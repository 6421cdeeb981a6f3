"""The fork server's template: a sandboxed process that has imported the heavy libraries
and never runs student code.

It answers two requests over a Unix socket from the trusted side: ``warm``
(import these modules) and ``fork`` (start one harness with the descriptors
sent along: its channel, stdout, stderr, a go-ahead pipe, the seccomp filter).
Each fork makes an init process ``A`` in new namespaces, which waits until the
trusted side has moved it into the submission's own cgroup, then forks ``I``,
pid 1 of the new pid namespace, which isolates itself
(``graders.harness.isolate``) and only then forks the harness, which reads the
first request. The template waits for ``A`` and reports its exit status; it
serves one child at a time, and the trusted side kills the child's cgroup
before asking for the next.
"""

from __future__ import annotations

import ctypes
import fcntl
import importlib
import json
import os
import signal
import socket
import sys
import traceback
from typing import Any

from . import isolate

MAX_REQUEST = 1 << 16
SHM_BYTES = 1 << 20
SETUP_FAILED = 97   # read by the trusted side as "the sandbox could not be set up"


def main(argv: list[str]) -> None:
    ctrl = socket.socket(fileno=int(argv[1]))
    from . import main as harness  # imported here once, not in every child
    while True:
        message, fds, _flags, _addr = socket.recv_fds(ctrl, MAX_REQUEST, 8)
        if not message:
            return
        request = json.loads(message)
        if request["op"] == "warm":
            ctrl.send(json.dumps(_warm(request["modules"])).encode())
        elif request["op"] == "fork" and len(fds) in (5, 6):
            _fork(ctrl, request, fds, harness)
            continue
        for fd in fds:
            os.close(fd)


def _warm(modules: list[str]) -> dict[str, Any]:
    try:
        for name in modules:
            importlib.import_module(name)
    except BaseException as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    # A fork copies only the thread that forks: a library that started threads (holding
    # locks the child would wait on forever) makes this template unusable.
    return {"ok": True, "threads": len(os.listdir("/proc/self/task"))}


def _fork(ctrl: socket.socket, request: dict[str, Any], fds: list[int], harness: Any) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            ctrl.close()
            _init(request, fds, harness)
        finally:
            os._exit(SETUP_FAILED)
    for fd in fds:  # the child's alone now: its end of a pipe closing means it is gone
        os.close(fd)
    ctrl.send(json.dumps({"pid": pid}).encode())
    _, status = os.waitpid(pid, 0)
    ctrl.send(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())


def _init(request: dict[str, Any], fds: list[int], harness: Any) -> None:
    """Process A: new namespaces; once in the submission's cgroup, start their pid 1.

    ``fds``: the harness's channel, its stdout and stderr, the go-ahead pipe and, where
    libseccomp is installed, the compiled filter (given per child, as to bubblewrap).
    """
    harness_in, harness_out, out_w, err_w, go = fds[:5]
    program = b""
    if len(fds) == 6:
        with os.fdopen(os.dup(fds[5]), "rb") as fh:
            program = fh.read(1 << 20)
    isolate.prctl(isolate.PR_SET_PDEATHSIG, signal.SIGKILL)
    isolate.unshare(isolate.CLONE_NEWNS | isolate.CLONE_NEWPID | isolate.CLONE_NEWIPC
                    | isolate.CLONE_NEWNET | isolate.CLONE_NEWUTS)
    if os.read(go, 1) != b"g":  # the trusted side has moved us into the submission's cgroup
        os._exit(SETUP_FAILED)
    init = os.fork()
    if init == 0:
        try:
            _pid1(request, [harness_in, harness_out, out_w, err_w], program, harness)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(SETUP_FAILED)
    for fd in fds:
        os.close(fd)
    _, status = os.waitpid(init, 0)
    os._exit(_as_exit_code(status))


def _as_exit_code(status: int) -> int:
    """As bubblewrap reports a death: the exit status, or 128 + the signal."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _pid1(request: dict[str, Any], fds: list[int], program: bytes, harness: Any) -> None:
    """Process I, pid 1 of the new namespace: isolate, start the harness, reap orphans.

    Everything up to the fork of the harness happens before a student byte is read.
    Signals from inside reach a namespace's init only where it has a handler: none.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    isolate.prctl(isolate.PR_SET_NAME, ctypes.cast(ctypes.c_char_p(b"dlgrade-init"),
                                                   ctypes.c_void_p))
    # Out of the way of the numbers they are moved to.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
    for fd in fds:
        os.close(fd)
    for target, fd in zip((3, 4, 1, 2), high, strict=True):
        os.dup2(fd, target)
    os.closerange(5, os.sysconf("SC_OPEN_MAX"))
    isolate.private_mounts(int(request["scratch_bytes"]), SHM_BYTES)
    isolate.unshare(isolate.CLONE_NEWCGROUP)
    isolate.loopback_up()
    os.setsid()
    os.chdir("/tmp")
    isolate.own_user_namespace()
    isolate.drop_capabilities()
    isolate.lower_limits(*(int(request[k]) for k in ("cpu_s", "file_bytes", "open_files",
                                                      "processes")))
    isolate.install_seccomp(program)
    isolate.prctl(isolate.PR_SET_DUMPABLE, 0)  # its memory is not the harness's to open
    harness_pid = os.fork()
    if harness_pid == 0:
        isolate.prctl(isolate.PR_SET_DUMPABLE, 1)  # as any process it starts would be
        _fresh_randomness()
        harness.main(["harness", "3", "4"])
        os._exit(0)
    os.close(3)
    os.close(4)
    while True:
        pid, status = os.wait()
        if pid == harness_pid:
            os._exit(_as_exit_code(status))


def _fresh_randomness() -> None:
    """numpy's global generator was seeded once, in the template: reseed it per child, as a
    new process would be (Python's ``random`` reseeds itself after a fork)."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


if __name__ == "__main__":
    main(sys.argv)
