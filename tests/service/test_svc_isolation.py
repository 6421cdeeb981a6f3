"""Grading runs in a child under a memory ceiling: a grader bug costs one job, not the worker."""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RecordingBroker, World, upload
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_svc_submissions import grade_all

from service.context import Context, build_context
from service.isolation import FRAME_LIMIT, IsolatedGrader, read_frame
from service.models import GradingJob, Submission
from service.services.runner import LeaseLost
from service.settings import Settings


@pytest.fixture
def worker(settings: Settings, broker: RecordingBroker) -> Iterator[Context]:
    """A worker's context with the production default: grading in a capped child."""
    c = build_context(settings.model_copy(update={"grader_memory_limit_mb": 400}),
                      broker=broker)
    assert isinstance(c.grader, IsolatedGrader)
    yield c
    c.grader.close()
    c.close()


def _outcomes(worker: Context, broker: RecordingBroker, sid: int) -> list[str]:
    mine = [(q, p) for q, p in broker.sent if p["submission_id"] == sid]
    broker.sent[:] = mine
    return grade_all(worker, broker)


def test_a_job_past_the_memory_ceiling_is_that_jobs_error_and_the_worker_grades_on(
        client: TestClient, world: World, worker: Context, broker: RecordingBroker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_GRADER_HOG_MB", "2048")
    hog = upload(client, world, "alice", content="p1 grader-hog").json()["id"]
    fine = upload(client, world, "bob", content="p1 p2 secret t1").json()["id"]
    sent = list(broker.sent)
    assert _outcomes(worker, broker, hog) == ["error", "error"]  # no retries: it would recur
    broker.sent[:] = sent
    assert _outcomes(worker, broker, fine) == ["part-done", "graded"]
    res = client.get(f"/api/v1/submissions/{hog}", headers=world.h("alice")).json()
    assert res["status"] == "error" and res["error_kind"] == "infrastructure"
    assert "more memory than the grader may use" in res["error"]
    with worker.sessions() as s:
        job = s.scalars(select(GradingJob).where(GradingJob.submission_id == hog)).first()
        assert job is not None and "memory ceiling of 400 MB" in (job.last_error or "")
        assert job.tries == 1
    res = client.get(f"/api/v1/submissions/{fine}", headers=world.h("bob")).json()
    assert res["status"] == "graded" and res["score"] == 7


def test_a_grading_process_killed_mid_job_is_retried_then_an_infrastructure_error(
        client: TestClient, world: World, worker: Context, broker: RecordingBroker) -> None:
    dies = upload(client, world, "alice", content="p1 grader-dies").json()["id"]
    fine = upload(client, world, "bob", content="p1 p2").json()["id"]
    sent = list(broker.sent)
    outcomes = _outcomes(worker, broker, dies)
    assert outcomes.count("retry") == 2 * (worker.settings.max_tries - 1)
    assert outcomes.count("error") == 2
    with worker.sessions() as s:
        sub = s.get(Submission, dies)
        assert sub is not None and sub.status == "error" and sub.error_kind == "infrastructure"
        job = s.scalars(select(GradingJob).where(GradingJob.submission_id == dies)).first()
        assert job is not None and "SIGKILL" in (job.last_error or "")
    broker.sent[:] = sent
    assert _outcomes(worker, broker, fine) == ["part-done", "graded"]


def test_the_child_keeps_the_engines_exception_and_never_gets_the_credentials(
        client: TestClient, world: World, worker: Context, broker: RecordingBroker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://grader:hunter2@db/dlgrade")
    sid = upload(client, world, "alice", content="crash").json()["id"]
    _outcomes(worker, broker, sid)
    with worker.sessions() as s:
        job = s.scalars(select(GradingJob).where(GradingJob.submission_id == sid)).first()
        assert job is not None
        assert (job.last_error or "").startswith("SandboxUnavailable: bubblewrap")
    assert isinstance(worker.grader, IsolatedGrader)
    (child,) = worker.grader._children
    assert child.alive and child.proc.pid != os.getpid()
    environ = Path(f"/proc/{child.proc.pid}/environ").read_bytes()
    assert b"hunter2" not in environ and b"test-secret-" not in environ
    limit = Path(f"/proc/{child.proc.pid}/limits").read_text()
    assert f"{400 * 2**20}" in next(line for line in limit.splitlines()
                                    if line.startswith("Max data size"))


def test_a_job_abandoned_mid_way_leaves_no_stale_results_for_the_next(
        worker: Context, tmp_path: Path) -> None:
    """The worker stops reading when its lease is lost; the child's remaining frames of
    that job must never be taken for the next job's results."""
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text("p1")
    second.write_text("p1 p2 secret")

    def lease_lost(_: object) -> None:
        raise LeaseLost("job 1")

    grader = worker.grader
    with pytest.raises(LeaseLost):
        grader.grade("fake-a1", [first], seed=1, problems=None, on_problem=lease_lost)
    seen: list[tuple[str, str]] = []
    grade = grader.grade("fake-a1", [second], seed=2, problems=None,
                         on_problem=lambda pr: seen.append((pr.id, pr.status)))
    assert seen == [("p1", "passed"), ("p2", "passed"), ("m1", "manual"), ("t1", "failed")]
    assert grade.seed == 2 and [p.id for p in grade.problems] == ["p1", "p2", "m1", "t1"]


def test_a_frame_from_the_child_is_bounded_before_it_is_read() -> None:
    huge = io.BytesIO(struct.pack(">I", FRAME_LIMIT + 1) + b"{}")
    with pytest.raises(ValueError, match="limit"):
        read_frame(huge)
    assert huge.tell() == 4  # the body was never read
    for bad in (b"\x00\x00", struct.pack(">I", 10) + b"{}", struct.pack(">I", 2) + b"[]"):
        with pytest.raises(ValueError):
            read_frame(io.BytesIO(bad))
    assert read_frame(io.BytesIO(b"")) is None
