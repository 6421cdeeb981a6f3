"""The same task delivered twice, for real: duplicate Celery messages raced by two workers.

``tests/service/test_svc_submissions.py`` calls the task function twice in one
process. Here every message of a burst is published again to the real queue
while the originals are still queued or being graded (a Redis redelivery, a
sweep re-send racing the original, a retried publish), and a third time
after grading; two worker processes take them concurrently. The claim (a
conditional update of the job row) lets one delivery grade and makes the
others return ``skipped``: the engine runs each problem once, one result is
committed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from bench.service_throughput import ServiceStack, audit, upload_burst, wait_all_final, wait_until
from service.models import Outbox
from service.settings import Settings
from service.worker import CeleryBroker, create_celery

from .reliability_support import FULL_MARKS, StackFactory, graded_lines, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _messages(stack: ServiceStack) -> list[tuple[str, dict[str, object]]]:
    """The (queue, payload) of every message the service sent."""
    with stack.session() as s:
        return [(r.queue, dict(r.payload)) for r in
                s.scalars(select(Outbox).where(Outbox.sent_at.is_not(None)))]


def _drained(stack: ServiceStack) -> bool:
    r = redis.Redis.from_url(stack.redis_url)
    return sum(int(r.llen(f"{stack.prefix}.{q}")) for q in ("grading", "training")) == 0 and (
        int(r.hlen("unacked")) == 0)


def _log_count(stack: ServiceStack, text: str) -> int:
    return sum(p.read_text().count(text) for p in stack.workdir.glob("worker-*.log"))


def test_every_task_delivered_three_times_is_graded_once(make_stack: StackFactory,
                                                         tmp_path: Path) -> None:
    log = tmp_path / "graded.log"
    stack = make_stack(env={"FAKE_GRADER_SLEEP": "0.05", "FAKE_GRADER_LOG": str(log),
                            "DLGRADE_RESEND_AFTER_SECONDS": "600",  # no re-sends of its own
                            # both queues raced: training always in a job of its own
                            "DLGRADE_SPLIT_TRAINING_OVER_S": "0"})
    stack.start_api()
    for _ in range(2):
        stack.start_worker()
    broker = CeleryBroker(create_celery(Settings(redis_url=stack.redis_url,
                                                 queue_prefix=stack.prefix)))
    uploads = upload_burst(stack, 40, 8, FULL_MARKS, rate=40)
    accepted = [u.submission_id for u in uploads if u.submission_id is not None]
    assert len(accepted) == 40
    messages = _messages(stack)
    assert len(messages) == 80  # a quick and a training part each
    for queue, payload in messages:  # second deliveries, racing the first ones
        broker.send(queue, payload)
    wait_all_final(stack, accepted, timeout=120)
    for queue, payload in messages:  # third deliveries, of work already done
        broker.send(queue, payload)
    wait_until(lambda: _drained(stack), 60, "the queues to drain")
    time.sleep(1.0)  # the last message taken is answered
    stack.stop_workers()  # flushes their logs
    result = audit(stack, accepted, log)
    assert result.ok, result
    assert len(graded_lines(log)) == 40 * 4  # the engine ran each problem once
    graded, skipped = _log_count(stack, '"job finished"'), _log_count(stack, "nothing to grade")
    assert (graded, skipped) == (80, 160)
    report("every message of a burst of 40 delivered 3 times to 2 workers",
           accepted=len(accepted), deliveries=len(messages) * 3, graded_jobs=graded,
           skipped_deliveries=skipped, graded_once=result.graded_once, lost=len(result.lost),
           twice=len(result.twice), problem_gradings=len(graded_lines(log)))
