"""A submission waiting behind a deadline's burst is not mistaken for a lost message.

This was a known limit (a strict xfail): the sweep gave up after 2 x max_tries
re-sends, about 35 minutes with the defaults. Re-sends now back off and only
a job queued for ``max_queued_hours`` becomes an infrastructure error.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select, update

from service.context import build_context
from service.models import Assignment, GradingJob, Outbox, Submission, User, utcnow
from service.services.queue import sweep
from service.services.submissions import accept_upload
from service.settings import Settings

from .reliability_support import StackFactory


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, queue: str, payload: dict[str, Any]) -> None:
        self.sent.append(payload)


def test_a_submission_waiting_in_a_long_queue_is_not_failed(make_stack: StackFactory,
                                                             tmp_path: Any) -> None:
    stack = make_stack()
    settings = Settings(database_url=stack.db_url, redis_url=None, state_dir=tmp_path,
                        secret_key=SecretStr("x" * 40), grader="fakes:FakeGrader")
    ctx = build_context(settings, broker=Recorder())
    try:
        with ctx.sessions() as s:
            a = s.get(Assignment, stack.assignment_id)
            user = s.scalars(select(User).where(User.role == "student")).first()
            assert a is not None and user is not None
            sid = accept_upload(ctx, s, a, user, [("s.py", "text/x-python",
                                                   io.BytesIO(b"p1 p2 t1"))]).id
        # A deadline burst: the queue ahead of it takes an hour; no worker ever lost it.
        for _ in range(12):  # every resend_after (5 min by default) the sweep looks again
            with ctx.sessions() as s:
                s.execute(update(Outbox).values(sent_at=utcnow() - timedelta(
                    seconds=settings.resend_after_seconds + 1)))
                s.commit()
            sweep(ctx)
        with ctx.sessions() as s:
            sub = s.get(Submission, sid)
            assert sub is not None
            assert sub.status == "queued", sub.error_message
    finally:
        ctx.close()


def test_a_job_never_picked_up_for_a_day_becomes_an_infrastructure_error(
        make_stack: StackFactory, tmp_path: Any) -> None:
    stack = make_stack()
    settings = Settings(database_url=stack.db_url, redis_url=None, state_dir=tmp_path,
                        secret_key=SecretStr("x" * 40), grader="fakes:FakeGrader")
    broker = Recorder()
    ctx = build_context(settings, broker=broker)
    try:
        with ctx.sessions() as s:
            a = s.get(Assignment, stack.assignment_id)
            user = s.scalars(select(User).where(User.role == "student")).first()
            assert a is not None and user is not None
            sid = accept_upload(ctx, s, a, user, [("s.py", "text/x-python",
                                                   io.BytesIO(b"p1 p2 t1"))]).id
        sent_before = len(broker.sent)
        with ctx.sessions() as s:
            s.execute(update(Outbox).values(sent_at=utcnow() - timedelta(hours=2)))
            s.commit()
        sweep(ctx)
        assert len(broker.sent) > sent_before  # waited long: sent again, not failed
        with ctx.sessions() as s:
            s.execute(update(GradingJob).values(created_at=utcnow() - timedelta(
                hours=settings.max_queued_hours + 1)))
            s.execute(update(Outbox).values(sent_at=utcnow() - timedelta(hours=2)))
            s.commit()
        sweep(ctx)
        with ctx.sessions() as s:
            sub = s.get(Submission, sid)
            assert sub is not None
            assert (sub.status, sub.error_kind) == ("error", "infrastructure")
            assert "internal grading error" in (sub.error_message or "")
    finally:
        ctx.close()
