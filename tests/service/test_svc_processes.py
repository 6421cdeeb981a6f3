"""The service as it is deployed: API and Celery worker as separate processes.

The first test uses the real engine on a real notebook. The fault tests use
the fake grader's slow problems to kill a worker mid-grade and to restart a
private Redis; each ends with exactly one committed result per problem.
"""

from __future__ import annotations

import csv
import io
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
from conftest import REDIS_URL, World, queue_prefix
from procs import ROOT, env, start_api, start_redis, start_worker, stop, wait_for
from sqlalchemy import func, select

from service.context import Context
from service.models import GradingJob, GradingRun, ProblemResult, Submission

pytestmark = pytest.mark.timeout(180)


def notebook(path: Path) -> Path:
    """The reference solution of radboud-dl-a1 as a student would hand it in."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Assignment 1"),
                nbformat.v4.new_code_cell((ROOT / "reference/radboud_dl_a1/__init__.py")
                                          .read_text())]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def proc_env(pg_url: str, tmp_path: Path) -> dict[str, str]:
    return env(DATABASE_URL=pg_url, REDIS_URL=REDIS_URL,
               DLGRADE_STATE_DIR=str(tmp_path / "data"),
               DLGRADE_SECRET_KEY="proc-secret-" + "x" * 32,
               DLGRADE_QUEUE_PREFIX=queue_prefix(), DLGRADE_LOG_LEVEL="INFO",
               DLGRADE_SWEEP_INTERVAL_SECONDS="1")


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[list[Any]]:
    running: list[Any] = []
    yield running
    for p in running:
        stop(p, signal.SIGKILL)


def wait_graded(url: str, sid: int, headers: dict[str, str], timeout: float = 90) -> Any:
    def done() -> Any:
        r = httpx.get(f"{url}/api/v1/submissions/{sid}/wait?timeout=10", headers=headers,
                      timeout=15).json()
        return r if r["status"] in ("graded", "error") else None

    return wait_for(done, timeout, f"submission {sid}")


def test_real_notebook_over_http_to_a_celery_worker(world: World, proc_env: dict[str, str],
                                                    procs: list[Any], tmp_path: Path) -> None:
    aid = world.add_assignment("Assignment 1", slug="radboud-dl-a1")
    api, url = start_api(proc_env, tmp_path / "api.log")
    procs.append(api)
    procs.append(start_worker(proc_env, tmp_path / "worker.log"))
    nb = notebook(tmp_path / "assignment1.ipynb")
    with nb.open("rb") as f:
        r = httpx.post(f"{url}/api/v1/assignments/{aid}/submissions", headers=world.h("alice"),
                       files=[("files", ("assignment1.ipynb", f, "application/x-ipynb+json"))])
    assert r.status_code == 201, r.text
    res = wait_graded(url, r.json()["id"], world.h("alice"))
    assert res["status"] == "graded", res
    assert res["score"] == res["max_score"] == 21.0
    assert {p["status"] for p in res["problems"]} == {"passed"}
    assert res["grader_version"]
    gb = httpx.get(f"{url}/api/v1/courses/{world.ids['course_a']}/gradebook.csv",
                   headers=world.h("inst_a")).text
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(gb))}
    assert rows["alice@example.org"]["Assignment 1"] == "21"
    assert rows["bob@example.org"]["Assignment 1"] == ""
    assert b'"submission_id": ' + str(r.json()["id"]).encode() in (
        tmp_path / "worker.log").read_bytes()


def _committed(ctx: Context, sid: int) -> set[str]:
    """Problems with a committed result in any run of the submission (the first is in progress)."""
    with ctx.sessions() as s:
        return set(s.scalars(select(ProblemResult.problem_id).join(GradingRun)
                             .where(GradingRun.submission_id == sid)).all())


def _one_result_each(ctx: Context, sid: int) -> None:
    with ctx.sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None and sub.status == "graded"
        rows = s.execute(select(ProblemResult.problem_id, func.count())
                         .where(ProblemResult.run_id == sub.current_run_id)
                         .group_by(ProblemResult.problem_id)).all()
    assert dict(rows) == {"p1": 1, "p2": 1, "m1": 1, "t1": 1}


@pytest.mark.slow
def test_worker_killed_mid_grade_is_requeued_and_graded_once(
        world: World, ctx: Context, proc_env: dict[str, str], procs: list[Any],
        tmp_path: Path) -> None:
    calls = tmp_path / "calls.log"
    proc_env.update(DLGRADE_GRADER="fakes:FakeGrader", FAKE_GRADER_SLEEP="2",
                    FAKE_GRADER_LOG=str(calls), DLGRADE_LEASE_SECONDS="3",
                    DLGRADE_SPLIT_TRAINING="false")
    api, url = start_api(proc_env, tmp_path / "api.log")
    procs.append(api)
    worker = start_worker(proc_env, tmp_path / "worker1.log")
    r = httpx.post(f"{url}/api/v1/assignments/{world.ids['a1']}/submissions",
                   headers=world.h("alice"), files=[("files", ("s.py", b"p1 p2 t1", "t/p"))])
    sid = r.json()["id"]
    # Wait for p1's row, not the grader's log: the log line is written just before the
    # result is committed, and a kill in between rightly grades p1 again.
    wait_for(lambda: "p1" in _committed(ctx, sid), 30, "p1's result to be committed")
    stop(worker, signal.SIGKILL)  # mid-grade: p1 committed, p2 in progress
    procs.append(start_worker(proc_env, tmp_path / "worker2.log"))
    res = wait_graded(url, sid, world.h("alice"))
    assert res["status"] == "graded" and res["score"] == 2 + 1.5 + 2
    _one_result_each(ctx, sid)
    graded = [line.split()[1] for line in calls.read_text().splitlines()]
    assert graded.count("p1") == 1  # resumed, not restarted
    with ctx.sessions() as s:
        assert s.scalar(select(func.max(GradingJob.tries))
                        .where(GradingJob.submission_id == sid)) == 2


@pytest.mark.slow
def test_redis_restart_loses_messages_but_not_submissions(
        world: World, ctx: Context, proc_env: dict[str, str], procs: list[Any],
        tmp_path: Path) -> None:
    from procs import free_port

    port = free_port()
    redis_proc = start_redis(port, tmp_path)
    proc_env.update(REDIS_URL=f"redis://127.0.0.1:{port}/0", DLGRADE_GRADER="fakes:FakeGrader",
                    DLGRADE_RESEND_AFTER_SECONDS="3")
    api, url = start_api(proc_env, tmp_path / "api.log")
    procs.append(api)
    files = [("files", ("s.py", b"p1 p2 t1", "t/p"))]
    h = world.h("alice")
    # 1. Redis down at upload time: accepted, kept in the outbox, sent by the sweep later
    stop(redis_proc, signal.SIGKILL)
    r1 = httpx.post(f"{url}/api/v1/assignments/{world.ids['a1']}/submissions", headers=h,
                    files=files, timeout=30)
    assert r1.status_code == 201
    redis_proc = start_redis(port, tmp_path)
    procs.append(redis_proc)
    worker = start_worker(proc_env, tmp_path / "worker1.log")
    assert wait_graded(url, r1.json()["id"], h)["status"] == "graded"
    # 2. Sent, then Redis restarts before any worker takes it: the message is gone
    stop(worker)
    r2 = httpx.post(f"{url}/api/v1/assignments/{world.ids['a1']}/submissions", headers=h,
                    files=files)
    stop(redis_proc, signal.SIGKILL)
    redis_proc = start_redis(port, tmp_path)
    procs.append(redis_proc)
    procs.append(start_worker(proc_env, tmp_path / "worker2.log"))
    assert wait_graded(url, r2.json()["id"], h)["status"] == "graded"
    _one_result_each(ctx, r1.json()["id"])
    _one_result_each(ctx, r2.json()["id"])
