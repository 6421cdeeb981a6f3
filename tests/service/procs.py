"""Starting the API, workers and a private Redis as real processes, and stopping them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("DLGRADE_", "FAKE_GRADER"))}
    e.pop("DATABASE_URL", None)
    e.pop("REDIS_URL", None)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE)])
    e.update(extra)
    return e


def start(args: list[str], environ: dict[str, str], log: Path,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """In its own process group, so a kill takes the Celery children with it."""
    out = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen([sys.executable, "-m", *args], env=environ, stdout=out,
                            stderr=subprocess.STDOUT, cwd=cwd or ROOT, start_new_session=True)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_for(cond: Callable[[], object], timeout: float, what: str, every: float = 0.2) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = cond()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"waited {timeout} s for {what}")


def start_api(environ: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = start(["uvicorn", "--factory", "service.app:app_factory", "--port", str(port),
                  "--log-level", "warning"], environ, log)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(url + "/readyz", timeout=2).status_code == 200, 30, "the API")
    return proc, url


def start_worker(environ: dict[str, str], log: Path,
                 queues: str = "grading,training,regrade") -> subprocess.Popen[bytes]:
    proc = start(["service", "worker", "--queues", queues], environ, log)
    wait_for(lambda: b"ready" in log.read_bytes(), 30, "the worker")
    return proc


def start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """A private, non-persistent Redis: a restart loses every message, as the fault demands."""
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)

    def up() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    wait_for(up, 10, "redis")
    return proc
