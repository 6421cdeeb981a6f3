"""Private PostgreSQL and Redis servers, and helpers, for the fault and load tests.

Nothing here touches the machine's shared PostgreSQL or Redis. The session
starts one private PostgreSQL cluster (``initdb`` + ``pg_ctl`` on a free port,
in a temporary directory, as the ``postgres`` OS user when run as root); every
test gets its own database in it, its own private Redis (``redis-server`` on a
free port, nothing persisted) and its own API and Celery worker processes
(``bench.service_throughput.ServiceStack``). Tests that restart PostgreSQL
restart this private cluster only.

The fake grader of ``tests/service`` (``fakes.FakeGrader``) stands in for the
engine where a test needs to control time or count gradings across
processes; the load test grades with the real engine.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SERVICE_TESTS = HERE.parent / "service"
sys.path.insert(0, str(SERVICE_TESTS))  # procs.py and fakes.py, shared with tests/service

from procs import free_port, start_redis, stop  # noqa: E402

from bench.service_throughput import ServiceStack, wait_until  # noqa: E402

StackFactory = Callable[..., ServiceStack]  # the make_stack fixture
FAKE = "fakes:FakeGrader"
FAKE_SLUG = "fake-a1"
FULL_MARKS = b"p1 p2 secret t1\n"  # the fake grader's full-marks submission


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(
        p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1 and a free port, in ``root``.

    initdb refuses to run as root, so as root the cluster belongs to the
    ``postgres`` OS user (``runuser``); otherwise to the current user.
    """

    def __init__(self, root: Path) -> None:
        bindir = _pg_bin()
        if bindir is None:
            pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.bin = bindir
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.as_user: str | None = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no 'postgres' OS user for initdb")
            self.as_user = "postgres"
            os.chown(root, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / tool), *args]
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120,
                              cwd=self.root)

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends sessions cleanly; ``immediate`` is a crash (recovery on next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop",
                  check=False)

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def ensure_running(self) -> None:
        if not self.running():
            self.start()


class PrivateRedis:
    """``redis-server`` on a free port of 127.0.0.1, nothing persisted: a restart loses all."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = start_redis(self.port, workdir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGKILL)
            self.proc = None

    def start(self) -> None:
        if self.proc is None:
            self.proc = start_redis(self.port, self.workdir)

    def restart(self) -> None:
        self.kill()
        self.start()


def graded_lines(log: Path) -> list[tuple[str, str]]:
    """(storage dir, problem) per line of a fake-grader or bench grade log."""
    if not log.exists():
        return []
    return [(p[0], p[1]) for p in (line.split() for line in log.read_text().splitlines())
            if len(p) >= 2]


def report(title: str, **figures: Any) -> None:
    """One line of figures on stdout (shown with ``-s``; docs/reliability.md quotes them)."""
    print(f"\n[{title}] " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


__all__ = ["FAKE", "FAKE_SLUG", "FULL_MARKS", "PrivatePostgres", "PrivateRedis",
           "ServiceStack", "StackFactory", "graded_lines", "report", "wait_until"]
