"""Getting work to workers without trusting the broker.

Sends are decided inside the transaction that creates the work (an
``Outbox`` row) and made after it commits (:func:`relay`). The periodic
:func:`sweep` re-sends what was never sent or got lost, and re-queues jobs
whose worker stopped renewing its lease, up to ``max_tries``; after that the
submission becomes an infrastructure error the instructor sees.
"""

from __future__ import annotations

import logging
import queue as queue_mod
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.context import Context
from service.models import GradingJob, GradingRun, Outbox, Submission, utcnow

log = logging.getLogger("dlgrade.queue")


class Broker(Protocol):
    def send(self, queue: str, payload: dict[str, Any]) -> None:
        """Hand one task to the queue; raise if the broker is unreachable."""
        ...


def add_send(session: Session, job: GradingJob) -> Outbox:
    """Record a send in the caller's transaction; :func:`relay` makes it after commit."""
    job.sends += 1
    row = Outbox(job_id=job.id, queue=job.queue,
                 payload={"submission_id": job.submission_id, "part": job.part})
    session.add(row)
    return row


def queue_position(session: Session, submission_id: int) -> int | None:
    """1 for the next job a worker takes: how many queued jobs of its queue are ahead of this
    submission's first queued job, plus one; None when none of its jobs is waiting."""
    mine = session.execute(select(GradingJob.id, GradingJob.queue).where(
        GradingJob.submission_id == submission_id, GradingJob.status == "queued")
        .order_by(GradingJob.id).limit(1)).first()
    if mine is None:
        return None
    ahead = session.scalar(select(func.count()).select_from(GradingJob).where(
        GradingJob.queue == mine.queue, GradingJob.status == "queued", GradingJob.id < mine.id))
    return int(ahead or 0) + 1


def relay(ctx: Context, limit: int = 100) -> int:
    """Send pending outbox rows; stops at the first broker failure and leaves the rest."""
    if ctx.broker is None:
        return 0
    sent = 0
    with ctx.sessions() as session:
        rows = session.scalars(
            select(Outbox).where(Outbox.sent_at.is_(None)).order_by(Outbox.id).limit(limit)
            .with_for_update(skip_locked=True)).all()
        for row in rows:
            try:
                ctx.broker.send(row.queue, row.payload)
            except Exception as exc:  # the broker is down: the sweep retries later
                row.send_attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("broker send failed; left in outbox",
                            extra={"outbox_id": row.id, "error": row.last_error})
                break
            row.sent_at = utcnow()
            sent += 1
        session.commit()
    return sent


def fail_job(session: Session, job: GradingJob, reason: str, what: str = "") -> None:
    """Give up on a job: the run and submission show an infrastructure error with a reference.

    ``reason`` is for operators (logs, the job row); ``what``, when given, is a
    sentence safe to show everyone that says which part of the service failed.
    """
    now = utcnow()
    job.status, job.finished_at, job.last_error = "error", now, reason
    job.lease_token = None
    run = session.get(GradingRun, job.run_id, with_for_update=True)
    sub = session.get(Submission, job.submission_id)
    assert run is not None and sub is not None
    run.status, run.finished_at = "error", now
    sub.status, sub.finished_at = "error", now
    sub.error_kind = "infrastructure"
    sub.error_message = (f"internal grading error (reference job-{job.id})"
                         + (f": {what}" if what else "")
                         + "; your submission is kept and an instructor can regrade it")
    log.error("job failed for good", extra={"submission_id": sub.id, "job_id": job.id,
                                            "reason": reason})


def sweep(ctx: Context) -> dict[str, int]:
    """Re-queue expired leases, re-send lost messages, then relay. Safe to run anywhere, often."""
    s = ctx.settings
    now = utcnow()
    counts = {"requeued": 0, "resent": 0, "failed": 0}
    with ctx.sessions() as session:
        expired = session.scalars(
            select(GradingJob).where(GradingJob.status == "running",
                                     GradingJob.lease_expires_at < now)
            .with_for_update(skip_locked=True)).all()
        for job in expired:
            if job.tries >= s.max_tries:
                fail_job(session, job, f"worker lost {job.tries} times (lease expired)")
                counts["failed"] += 1
                continue
            job.status, job.lease_token, job.lease_owner = "queued", None, None
            add_send(session, job)
            counts["requeued"] += 1
            log.warning("lease expired; re-queued", extra={"submission_id": job.submission_id,
                                                           "job_id": job.id, "tries": job.tries})
        cutoff = now - timedelta(seconds=s.resend_after_seconds)
        last_send = (select(Outbox.job_id, func.max(Outbox.sent_at).label("sent"),
                            func.count(Outbox.id).label("n"),
                            func.count(Outbox.sent_at).label("done"))
                     .group_by(Outbox.job_id).subquery())
        lost = session.execute(
            select(GradingJob, last_send.c.sent)
            .join(last_send, last_send.c.job_id == GradingJob.id)
            .where(GradingJob.status == "queued", last_send.c.n == last_send.c.done,
                   last_send.c.sent < cutoff)
            .with_for_update(of=GradingJob, skip_locked=True)).all()
        for job, last_sent in lost:
            # A message may be lost, or just waiting behind a deadline's burst: re-sending is
            # harmless (a task delivered twice grades once), so back off instead of giving up,
            # and call it an infrastructure error only when it has waited far too long.
            if now - job.created_at > timedelta(hours=s.max_queued_hours):
                fail_job(session, job, f"queued for over {s.max_queued_hours:g} h and sent "
                                       f"{job.sends} times without being picked up")
                counts["failed"] += 1
                continue
            backoff = s.resend_after_seconds * 2 ** min(max(job.sends - 1, 0), 6)
            if now - last_sent < timedelta(seconds=backoff):
                continue
            add_send(session, job)
            counts["resent"] += 1
            log.warning("queued too long; sent again", extra={"submission_id": job.submission_id,
                                                              "job_id": job.id})
        session.commit()
    relay(ctx)
    return counts


def recover_local(ctx: Context) -> dict[str, int]:
    """Embedded start-up: the in-memory queue died with the last process, so send all again.

    Only this process grades in embedded mode, so a job still ``running`` belonged to
    the process that stopped; it resumes from the problems it had committed. The try
    limit applies as in :func:`sweep`: a job that took the process down ``max_tries``
    times ends as an infrastructure error instead of taking it down again at every start.
    """
    counts = {"requeued": 0, "failed": 0}
    with ctx.sessions() as session:
        jobs = session.scalars(select(GradingJob).where(
            GradingJob.status.in_(["queued", "running"]))).all()
        for job in jobs:
            if job.status == "running" and job.tries >= ctx.settings.max_tries:
                fail_job(session, job, f"the service stopped while grading it {job.tries} "
                                       "times (killed or crashed mid-grade)")
                counts["failed"] += 1
                continue
            job.status, job.lease_token, job.lease_owner = "queued", None, None
            add_send(session, job)
            counts["requeued"] += 1
        session.commit()
    relay(ctx)
    return counts


class LocalBroker:
    """Embedded mode: in-process queues, one thread per queue, same task code as Celery."""

    def __init__(self, handler: Callable[[dict[str, Any]], object], queues: list[str]) -> None:
        self._handler = handler
        self._queues: dict[str, queue_mod.Queue[dict[str, Any] | None]] = {
            q: queue_mod.Queue() for q in queues}
        self._threads: dict[str, threading.Thread] = {}

    def send(self, queue: str, payload: dict[str, Any]) -> None:
        self._queues[queue].put(payload)

    def start(self) -> None:
        for name, q in self._queues.items():
            t = threading.Thread(target=self._run, args=(q,), name=f"dlgrade-{name}", daemon=True)
            t.start()
            self._threads[name] = t

    def stop(self) -> None:
        for q in self._queues.values():
            q.put(None)
        for t in self._threads.values():
            t.join(timeout=5)

    def consumers(self) -> dict[str, list[str]]:
        """A queue is consumed while its thread lives."""
        return {name: ["embedded"] if (t := self._threads.get(name)) and t.is_alive() else []
                for name in self._queues}

    def missing_datasets(self, names: Sequence[str]) -> dict[str, list[str]]:
        from service.services.workers import missing_locally

        return {"embedded": missing_locally(names)}

    def _run(self, q: queue_mod.Queue[dict[str, Any] | None]) -> None:
        while (payload := q.get()) is not None:
            try:
                self._handler(payload)
            except Exception:
                log.exception("embedded task failed", extra=payload)


class Sweeper:
    """Calls :func:`sweep` every ``interval`` seconds in a daemon thread."""

    def __init__(self, ctx: Context, interval: float) -> None:
        self.ctx, self.interval = ctx, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dlgrade-sweeper", daemon=True)
        self.last_run: datetime | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                sweep(self.ctx)
                self.last_run = utcnow()
            except Exception:
                log.exception("sweep failed")
