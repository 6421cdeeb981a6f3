"""The trusted side of one harness process: its channel, its output, its death.

Whatever starts the process (bubblewrap, or nothing with ``--no-sandbox``),
talking to it is the same: send one request, wait for one reply under a
deadline, and turn every way it can fail into a ``SandboxError`` that says
what happened in words a student can act on.
"""

from __future__ import annotations

import contextlib
import os
import select
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import MemoryLimit, OutputLimit, ProtocolError, SandboxCrashed, TimeLimit
from ..harness import wire
from .limits import Limits


@dataclass
class CapturedOutput:
    """Keeps the first ``limit`` bytes of a stream and counts the rest."""

    limit: int
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        out = self.data.decode("utf-8", "replace")
        if self.dropped:
            out += f"\n[... {self.dropped} more bytes of output not kept]"
        return out


def _drain(fd: int, sink: CapturedOutput) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        sink.feed(chunk)
    os.close(fd)


class HarnessProcess:
    """Base class: subclasses fill ``_command`` and may hook ``_cpu_used``/``_kill``."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.proc: subprocess.Popen[bytes] | None = None
        self.stdout = CapturedOutput(limits.output_bytes // 2)
        self.stderr = CapturedOutput(limits.output_bytes // 2)
        self.started = 0.0
        self._threads: list[threading.Thread] = []
        self.req_w = self.resp_r = -1
        self.niceness = 0  # set before start(): pooled sandboxes start at a low priority
        self.greeted = False  # the harness's HELLO arrived: the sandbox itself started

    # Subclasses ------------------------------------------------------------------
    def _spawn(self, harness_in: int, harness_out: int, out_w: int, err_w: int
               ) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def _cpu_used(self) -> float:
        return 0.0

    def _pids(self) -> set[int]:
        return {self.proc.pid} if self.proc is not None else set()

    def renice(self, niceness: int) -> None:
        """Give every process of the run this priority (a pooled sandbox put to work)."""
        for pid in self._pids():
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, pid, niceness)
        self.niceness = niceness

    def _kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()

    def _diagnose_death(self) -> Exception | None:
        return None

    def _cleanup(self) -> None:
        pass

    # Life cycle ------------------------------------------------------------------
    def start(self) -> None:
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        self._start_with(req_r, resp_w)

    def _start_with(self, child_in: int, child_out: int) -> None:
        """Spawn with these two descriptors as the child's channel (closed here after)."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self.started = time.monotonic()
        try:
            self.proc = self._spawn(child_in, child_out, out_w, err_w)
        except BaseException:
            for fd in (out_r, err_r, self.req_w, self.resp_r):
                if fd >= 0:
                    os.close(fd)
            self.req_w = self.resp_r = -1
            self._cleanup()  # a slot or cgroup taken before the failure must not leak
            raise
        finally:
            for fd in (child_in, child_out, out_w, err_w):
                if fd >= 0:
                    os.close(fd)
        for fd, sink in ((out_r, self.stdout), (err_r, self.stderr)):
            t = threading.Thread(target=_drain, args=(fd, sink), daemon=True)
            t.start()
            self._threads.append(t)

    def close(self) -> None:
        for fd in (self.req_w, self.resp_r):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.req_w = self.resp_r = -1
        self._kill()
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        for t in self._threads:
            t.join(timeout=2)
        self._cleanup()

    def __enter__(self) -> HarnessProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.req_w >= 0

    # Requests --------------------------------------------------------------------
    def request(self, message: dict[str, Any], timeout: float, *,
                limit: float | None = None) -> dict[str, Any]:
        """Send one request and wait for its reply, killing everything on any limit.

        ``timeout`` is what is left of the caller's budget; ``limit`` is the
        budget as declared, which is what a student should read in a message.
        """
        limit = timeout if limit is None else limit
        wall_left = self.limits.wall_s - (time.monotonic() - self.started)
        deadline = time.monotonic() + max(min(timeout, wall_left), 0.0)
        clock = _Clock(deadline, self._cpu_used(), timeout, limit)
        try:
            wire.write_all(self.req_w, wire.encode(message))
            if not self.greeted:
                if self._read(len(wire.HELLO), clock) != wire.HELLO:
                    raise wire.WireError("the harness did not start with its greeting")
                self.greeted = True
            (hlen,) = struct.unpack(">I", self._read(4, clock))
            if hlen > self.limits.header_bytes:
                raise OutputLimit(
                    f"the code returned a value too large to check ({_mb(hlen)} of nested "
                    f"lists, dicts or numbers; limit {_mb(self.limits.header_bytes)}): "
                    "return numpy arrays.")
            header = self._read(hlen, clock)
            (blen,) = struct.unpack(">Q", self._read(8, clock))
            if hlen + blen > self.limits.message_bytes:
                raise OutputLimit(f"the code returned {_mb(hlen + blen)} of results "
                                  f"(limit {_mb(self.limits.message_bytes)}).")
            blob = self._read(blen, clock)
            return wire.decode(header, blob)
        except wire.WireError as exc:
            self._kill()
            raise ProtocolError(f"the sandboxed process sent a malformed reply ({exc})") from None
        except (BrokenPipeError, EOFError):
            raise self._death() from None
        except (TimeLimit, MemoryLimit, OutputLimit):
            self._kill()
            raise

    def _read(self, n: int, clock: _Clock) -> bytearray:
        """Exactly ``n`` bytes, read into one buffer (a reply may be hundreds of MB)."""
        buf = bytearray(n)
        view = memoryview(buf)
        pos = 0
        while pos < n:
            now = time.monotonic()
            if now >= clock.deadline:
                self._kill()
                if clock.timeout <= self.limits.wall_s - (now - self.started) + 1e-3:
                    raise TimeLimit(f"Stopped after {clock.limit:g} s of wall-clock time "
                                    f"(limit {clock.limit:g} s).")
                raise TimeLimit(f"Stopped after {self.limits.wall_s:g} s of wall-clock time "
                                f"for the whole submission (limit {self.limits.wall_s:g} s).")
            cpu = self._cpu_used()
            if cpu - clock.cpu_start > clock.timeout:
                self._kill()
                raise TimeLimit(f"Stopped after {clock.limit:g} s of CPU time "
                                f"(limit {clock.limit:g} s).")
            if cpu > self.limits.cpu_s:  # every process of the tree, forks included
                self._kill()
                raise TimeLimit(f"Stopped after {self.limits.cpu_s:g} s of CPU time for the "
                                f"whole submission (limit {self.limits.cpu_s:g} s).")
            ready, _, _ = select.select([self.resp_r], [], [], min(0.05, clock.deadline - now))
            if not ready:
                if self.proc is not None and self.proc.poll() is not None:
                    raise EOFError
                continue
            got = os.readv(self.resp_r, [view[pos:pos + min(n - pos, 1 << 20)]])
            if not got:
                raise EOFError
            pos += got
        return buf

    def _death(self) -> Exception:
        """Explain why the process went away, from the most specific cause down."""
        if self.proc is not None:
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._kill()
        specific = self._diagnose_death()
        if specific is not None:
            self._kill()
            return specific
        code = self.proc.returncode if self.proc is not None else None
        self._kill()
        if code is not None and (code < 0 or code > 128):  # bubblewrap reports 128+N
            number = -code if code < 0 else code - 128
            return SandboxCrashed(f"the submission's process was killed by signal {number} "
                                  f"({_signal_name(number)}).")
        return SandboxCrashed(
            f"the submission's process exited (status {code}) in the middle of grading; "
            "look for exit(), os._exit() or code that kills its own process.")


@dataclass(frozen=True)
class _Clock:
    deadline: float    # monotonic time when the wall-clock budget ends
    cpu_start: float   # CPU seconds of the tree when the request was sent
    timeout: float     # what was left of the budget, in seconds
    limit: float       # the budget as declared, for messages


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB"


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"
