"""What a newcomer sees in the terminal when starting ``dlgrade serve`` and ``dlgrade worker``."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest
from conftest import REDIS_URL, queue_prefix
from procs import env, free_port, start, stop, wait_for


def is_log_line(line: str) -> bool:
    try:
        return "level" in json.loads(line)
    except ValueError:
        return False


@pytest.mark.timeout(90)
def test_first_start_passwords_stand_apart_after_the_log_just_before_serving_on(
        tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"   # stdout and stderr, interleaved as on a terminal
    proc = start(["graders.cli", "serve", "--port", str(port)], env(), log, cwd=tmp_path)
    try:
        wait_for(lambda: "serving on" in log.read_text(), 60, "serve")
        lines = log.read_text().splitlines()
    finally:
        stop(proc, signal.SIGTERM)
    serving = next(i for i, line in enumerate(lines) if line.startswith("serving on"))
    assert lines[serving] == (f"serving on http://127.0.0.1:{port} (embedded worker, SQLite); "
                              "API docs at /docs")
    last_log = max(i for i, line in enumerate(lines[:serving]) if is_log_line(line))
    assert "Uvicorn running on" in json.loads(lines[last_log])["message"]
    block = lines[last_log + 1:serving]
    assert block[0] == block[-1] == ""    # a blank line on either side of the accounts
    assert block[1].startswith("First start: created these accounts")
    assert re.fullmatch(r"  admin    admin@localhost  password: \S{12,}", block[2]), block
    assert re.fullmatch(r"  student  student@localhost  password: \S{12,}", block[3]), block
    assert block[4] == "  demo course id 1, assignment id 1"


@pytest.mark.skipif(os.geteuid() != 0, reason="the warning is about running as root")
def test_a_root_worker_says_why_root_instead_of_celerys_superuser_warning(
        pg_url: str, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    proc = start(["graders.cli", "worker", "--no-sweep"],
                 env(DATABASE_URL=pg_url, REDIS_URL=REDIS_URL,
                     DLGRADE_QUEUE_PREFIX=queue_prefix()), log)
    try:
        wait_for(lambda: b" ready." in log.read_bytes(), 60, "the worker")
        out = log.read_text()
    finally:
        stop(proc, signal.SIGTERM)
    assert "superuser" not in out and "SecurityWarning" not in out
    assert "running as root, as grading requires: each sandbox is started with its own " \
           "unprivileged uid and its own cgroup" in out
