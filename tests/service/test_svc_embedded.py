"""``serve`` with no configuration: SQLite in a local data dir and an in-process worker.

SQLite is the embedded mode's own database here, not a stand-in for PostgreSQL.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
import pytest
from procs import env, free_port, start, stop, wait_for
from pydantic import ValidationError
from test_svc_processes import notebook

from service.settings import Settings


def test_settings_read_the_conventional_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/dlgrade")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("DLGRADE_MAX_FILES", "3")
    s = Settings()
    assert s.db_url == "postgresql+psycopg://u@db:5432/dlgrade"
    assert not s.embedded and s.max_files == 3
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("REDIS_URL")
    s = Settings(state_dir=Path("/tmp/x"))
    assert s.embedded and s.db_url == "sqlite:////tmp/x/dlgrade.db"


def test_a_short_secret_key_is_refused_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLGRADE_SECRET_KEY", "changeme")
    with pytest.raises(ValidationError, match="8 characters; it must be at least 32"):
        Settings()
    monkeypatch.setenv("DLGRADE_SECRET_KEY", "k" * 32)
    assert Settings().resolved_secret() == "k" * 32


@pytest.mark.timeout(120)
def test_serve_without_configuration_grades_a_real_notebook(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    # exactly the README's `dlgrade serve`, in an empty directory with no configuration
    proc = start(["graders.cli", "serve", "--port", str(port)], env(), log, cwd=tmp_path)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(url + "/healthz").status_code == 200, 60, "serve")
        out = log.read_text()
        student_pw = re.search(r"student@localhost\s+password: (\S+)", out)
        assert student_pw and "admin@localhost" in out, out
        assert (tmp_path / "dlgrade-data" / "dlgrade.db").exists()
        tok = httpx.post(url + "/api/v1/auth/token", data={
            "username": "student@localhost", "password": student_pw.group(1)}).json()
        h = {"Authorization": f"Bearer {tok['access_token']}"}
        (course,) = httpx.get(url + "/api/v1/courses", headers=h).json()
        (a,) = httpx.get(f"{url}/api/v1/courses/{course['id']}/assignments", headers=h).json()
        nb = notebook(tmp_path / "a1.ipynb")
        r = httpx.post(f"{url}/api/v1/assignments/{a['id']}/submissions", headers=h,
                       files=[("files", ("a1.ipynb", nb.read_bytes(), "application/json"))])
        assert r.status_code == 201, r.text
        sid = r.json()["id"]

        def graded() -> object:
            body = httpx.get(f"{url}/api/v1/submissions/{sid}/wait?timeout=10", headers=h,
                             timeout=15).json()
            return body if body["status"] in ("graded", "error") else None

        body = wait_for(graded, 60, "the embedded worker")
        assert body["status"] == "graded", body
        assert body["score"] == body["max_score"], [  # type: ignore[index]
            (p["id"], p["status"], p["message"]) for p in body["problems"]]  # type: ignore[index]
    finally:
        stop(proc, signal.SIGTERM)
    restarted = start(["graders.cli", "serve", "--port", str(port)], env(), log, cwd=tmp_path)
    try:  # a second start keeps the data and prints no new passwords
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200, 60,
                 "restart")
        assert log.read_text().count("First start") == 1
    finally:
        stop(restarted)
