"""The database, not the broker, is the source of truth: outbox, lease, sweep, retry cap."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from conftest import REDIS_URL, RecordingBroker, World, upload
from fakes import FakeGrader
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from test_svc_submissions import grade_all

from graders.results import CheckResult
from graders.results import ProblemResult as EP
from service.context import Context
from service.healthcheck import worker_alive
from service.models import GradingJob, Outbox, ProblemResult, Submission, utcnow
from service.services.queue import sweep
from service.services.runner import LeaseLost, claim, process_job, write_problem
from service.settings import Settings
from service.worker import TASK, CeleryBroker, celery_config, create_celery


def _expire(ctx: Context, sid: int) -> None:
    with ctx.sessions() as s:
        s.execute(update(GradingJob).where(GradingJob.submission_id == sid)
                  .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()


def _results(ctx: Context, sid: int) -> list[str]:
    with ctx.sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None
        return sorted(s.scalars(select(ProblemResult.problem_id)
                                .where(ProblemResult.run_id == sub.current_run_id)).all())


def test_upload_survives_a_dead_broker_and_the_sweep_sends_later(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    broker.down = True
    r = upload(client, world, "alice")
    assert r.status_code == 201 and r.json()["status"] == "queued"
    with ctx.sessions() as s:
        row = s.scalars(select(Outbox).order_by(Outbox.id)).first()
        assert row is not None and row.sent_at is None and "unreachable" in (row.last_error or "")
    broker.down = False
    sweep(ctx)
    assert len(broker.sent) == 2
    grade_all(ctx, broker)
    assert _results(ctx, r.json()["id"]) == ["m1", "p1", "p2", "t1"]


def test_killed_worker_is_requeued_by_the_sweep_and_graded_once(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sid = upload(client, world, "alice").json()["id"]
    broker.sent.clear()
    dead = claim(ctx, sid, "quick", "worker-that-dies")
    assert dead is not None
    # it wrote one problem before dying
    assert write_problem(ctx, dead, EP("p1", 2.0, checks=[CheckResult.passed("p1")]),
                         "fake-1", 1)
    assert sweep(ctx)["requeued"] == 0  # lease still valid: nothing to do
    _expire(ctx, sid)
    assert sweep(ctx) == {"requeued": 1, "resent": 0, "failed": 0}
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_GRADER_LOG", str(log))
    assert isinstance(ctx.grader, FakeGrader)
    grade_all(ctx, broker)  # the re-sent quick job
    for _, p in [("", {"submission_id": sid, "part": "training"})]:
        process_job(ctx, p["submission_id"], p["part"])
    assert _results(ctx, sid) == ["m1", "p1", "p2", "t1"]
    graded = [line.split()[1] for line in log.read_text().splitlines()]
    assert sorted(graded) == ["m1", "p2", "t1"]  # p1 was not graded again
    with pytest.raises(LeaseLost):  # and the dead worker cannot commit anything now
        write_problem(ctx, dead, EP("p2", 3.0), "fake-1", 1)


def test_lease_expiring_too_often_marks_an_infrastructure_error(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice").json()["id"]
    for i in range(ctx.settings.max_tries):
        assert claim(ctx, sid, "quick", f"w{i}") is not None
        _expire(ctx, sid)
        sweep(ctx)
    with ctx.sessions() as s:
        sub = s.get(Submission, sid)
        assert sub is not None and sub.status == "error" and sub.error_kind == "infrastructure"
        assert "internal grading error" in (sub.error_message or "")
    listed = client.get(f"/api/v1/assignments/{world.ids['a1']}/statistics",
                        headers=world.h("inst_a")).json()
    assert listed["submissions_by_status"] == {"error:infrastructure": 1}


def test_lost_message_is_sent_again_after_resend_after(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice").json()["id"]
    broker.sent.clear()  # Redis restarted: the messages are gone
    assert sweep(ctx)["resent"] == 0
    with ctx.sessions() as s:
        s.execute(update(Outbox).values(sent_at=utcnow() - timedelta(
            seconds=ctx.settings.resend_after_seconds + 1)))
        s.commit()
    assert sweep(ctx)["resent"] == 2
    grade_all(ctx, broker)
    assert _results(ctx, sid) == ["m1", "p1", "p2", "t1"]


def test_celery_settings_do_not_lose_or_repeat_work() -> None:
    s = Settings(redis_url="redis://x", longest_grading_seconds=3600, queue_prefix="q")
    conf = celery_config(s)
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["broker_transport_options"]["visibility_timeout"] > 3600
    assert {q.name for q in conf["task_queues"]} == {"q.grading", "q.training", "q.regrade"}
    app = create_celery(s)
    assert app.conf.task_acks_late and TASK in app.tasks


def test_relay_publishes_to_the_real_redis_queue(ctx: Context, world: World,
                                                 settings: Settings) -> None:
    settings.redis_url = REDIS_URL
    ctx.broker = CeleryBroker(create_celery(settings))
    r = redis.Redis.from_url(REDIS_URL)
    queue = settings.queue("grading")
    try:
        from fastapi.testclient import TestClient as TC

        from service.app import create_app

        with TC(create_app(settings, context=ctx)) as c:
            assert upload(c, world, "alice").status_code == 201
        assert r.llen(queue) == 1 and r.llen(settings.queue("training")) == 1
        with ctx.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Outbox)
                            .where(Outbox.sent_at.is_(None))) == 0
    finally:
        r.delete(queue, settings.queue("training"))


@pytest.mark.timeout(60)
def test_celery_worker_grades_through_the_same_task(ctx: Context, world: World,
                                                    settings: Settings) -> None:
    from celery.contrib.testing.worker import start_worker

    settings.redis_url = REDIS_URL
    app = create_celery(settings, ctx)
    ctx.broker = CeleryBroker(app)
    from service.app import create_app

    with TestClient(create_app(settings, context=ctx)) as c, \
            start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                         hostname=f"test-{settings.queue_prefix}@{socket.gethostname()}",
                         queues=[settings.queue("grading"), settings.queue("training")]):
        sid = upload(c, world, "alice", content="p1 t1").json()["id"]
        res = c.get(f"/api/v1/submissions/{sid}/wait?timeout=20", headers=world.h("alice"))
        while res.json()["status"] not in ("graded", "error"):
            res = c.get(f"/api/v1/submissions/{sid}/wait?timeout=20&known_problems="
                        f"{len(res.json()['problems'])}", headers=world.h("alice"))
        assert worker_alive(settings)  # what the container health check asks
    assert res.json()["status"] == "graded" and res.json()["score"] == 4
    redis.Redis.from_url(REDIS_URL).delete(*[settings.queue(k) for k in
                                             ("grading", "training", "regrade")])
    assert os.environ.get("FAKE_GRADER_SLEEP") is None


def test_embedded_worker_threads_grade_through_the_same_function(
        settings: Settings, world: World) -> None:
    from service.app import create_app
    from service.context import build_context
    from service.services.queue import LocalBroker

    c = build_context(settings)  # no broker given: embedded mode picks its own
    app = create_app(settings, context=c)
    assert isinstance(c.broker, LocalBroker)
    with TestClient(app) as client:
        sid = upload(client, world, "alice", content="p1 t1").json()["id"]
        res = client.get(f"/api/v1/submissions/{sid}/wait?final=true&timeout=20",
                         headers=world.h("alice")).json()
    c.close()
    assert res["status"] == "graded" and res["score"] == 4


def test_embedded_start_resends_what_the_last_process_left(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    from service.services.queue import recover_local

    sid = upload(client, world, "alice").json()["id"]
    assert claim(ctx, sid, "quick", "the-process-that-stopped") is not None
    broker.sent.clear()  # the in-memory queue is gone with that process
    assert recover_local(ctx) == {"requeued": 2, "failed": 0}
    grade_all(ctx, broker)
    assert _results(ctx, sid) == ["m1", "p1", "p2", "t1"]


def test_embedded_start_ends_a_job_that_killed_the_process_max_tries_times(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    """A submission that takes the process down must not take it down at every restart."""
    from service.services.queue import recover_local

    deadly = upload(client, world, "alice").json()["id"]
    second = upload(client, world, "bob").json()["id"]
    for i in range(ctx.settings.max_tries):  # each start claimed it, then the process died
        if i:
            assert recover_local(ctx)["failed"] == 0
        assert claim(ctx, deadly, "quick", "the-process-that-died") is not None
    assert claim(ctx, second, "quick", "the-process-that-died") is not None
    broker.sent.clear()
    assert recover_local(ctx) == {"requeued": 3, "failed": 1}
    sent = [(p["submission_id"], p["part"]) for _, p in broker.sent]
    assert (deadly, "quick") not in sent and sent.count((second, "quick")) == 1
    with ctx.sessions() as s:
        sub = s.get(Submission, deadly)
        assert sub is not None and sub.status == "error" and sub.error_kind == "infrastructure"
        job = s.scalars(select(GradingJob).where(GradingJob.submission_id == deadly,
                                                 GradingJob.part == "quick")).one()
        assert job.status == "error" and job.tries == ctx.settings.max_tries
    grade_all(ctx, broker)  # the one below the limit is graded on its next try
    with ctx.sessions() as s:
        job = s.scalars(select(GradingJob).where(GradingJob.submission_id == second,
                                                 GradingJob.part == "quick")).one()
        assert job.status == "done" and job.tries == 2
    assert _results(ctx, second) == ["m1", "p1", "p2", "t1"]


def test_regrade_cancels_the_pending_part_of_a_failed_run(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice").json()["id"]
    old = claim(ctx, sid, "training", "slow-worker")
    assert old is not None
    for _ in range(ctx.settings.max_tries):  # the quick part fails for good
        c = claim(ctx, sid, "quick", "w")
        assert c is not None
        _expire(ctx, sid)
        with ctx.sessions() as s:  # keep the training lease alive meanwhile
            s.execute(update(GradingJob).where(GradingJob.id == old.job_id)
                      .values(lease_expires_at=utcnow() + timedelta(minutes=5)))
            s.commit()
        sweep(ctx)
    r = client.post(f"/api/v1/submissions/{sid}/regrade", headers=world.h("inst_a"),
                    json={"reason": "infrastructure fixed"})
    assert r.status_code == 202, r.text
    with pytest.raises(LeaseLost):
        write_problem(ctx, old, EP("t1", 2.0), "fake-1", 1)
    broker.sent.clear()
    broker.sent.extend([("q", {"submission_id": sid, "part": "quick"}),
                        ("q", {"submission_id": sid, "part": "training"})])
    grade_all(ctx, broker)
    assert _results(ctx, sid) == ["m1", "p1", "p2", "t1"]


def test_a_queued_submission_says_how_many_are_ahead_of_it(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    first = upload(client, world, "alice").json()
    second = upload(client, world, "bob").json()
    assert (first["queue_position"], second["queue_position"]) == (1, 2)
    process_job(ctx, first["id"], broker.sent[0][1]["part"])
    seen = client.get(f"/api/v1/submissions/{second['id']}", headers=world.h("bob")).json()
    assert seen["queue_position"] == 1
    grade_all(ctx, broker)
    done = client.get(f"/api/v1/submissions/{second['id']}", headers=world.h("bob")).json()
    assert done["status"] == "graded" and done["queue_position"] is None
