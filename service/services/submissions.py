"""Accepting uploads and queueing gradings, each in one transaction with its outbox rows."""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from graders.engine.intake import check_upload
from service import storage
from service.context import Context
from service.models import (
    Assignment,
    GradingJob,
    GradingRun,
    Submission,
    SubmissionFile,
    User,
    utcnow,
)
from service.services.durations import worth_a_job_of_their_own
from service.services.errors import Conflict
from service.services.policy import check_can_submit
from service.services.queue import add_send, relay

log = logging.getLogger("dlgrade.submissions")


def plan_jobs(ctx: Context, session: Session, slug: str, *,
              bulk: bool) -> list[tuple[str, str, list[str]]]:
    """(part, queue, problems): long training problems on their own queue, bulk regrades on theirs.

    Splitting lets the quick problems' results arrive without waiting for training,
    but the second job loads the submission again; so training that recently took
    less than ``split_training_over_s`` stays in the one job.
    """
    s = ctx.settings
    problems = ctx.grader.assignment(slug).problems
    quick = [p.id for p in problems if not p.training]
    slow = [p.id for p in problems if p.training]
    if bulk:
        return [("all", s.queue("regrade"), quick + slow)]
    if (s.split_training and quick and slow
            and worth_a_job_of_their_own(session, slug, slow, s.split_training_over_s)):
        return [("quick", s.queue("grading"), quick), ("training", s.queue("training"), slow)]
    return [("all", s.queue("training") if not quick else s.queue("grading"), quick + slow)]


def enqueue_run(session: Session, ctx: Context, sub: Submission, *, reason: str = "",
                requested_by: int | None = None, bulk: bool = False,
                new_seed: bool = False) -> GradingRun:
    """A run, its jobs and their outbox rows, in the caller's transaction.

    Jobs of older runs still pending (a part of a run that failed) are cancelled:
    their workers lose the lease and commit nothing.
    """
    session.execute(update(GradingJob).where(GradingJob.submission_id == sub.id,
                                             GradingJob.status.in_(["queued", "running"]))
                    .values(status="cancelled", lease_token=None))
    previous = None
    if sub.current_run_id is not None:
        previous = session.get(GradingRun, sub.current_run_id)
    number = 1 + len(session.scalars(select(GradingRun.id).where(
        GradingRun.submission_id == sub.id)).all())
    seed = previous.seed if previous is not None and not new_seed else secrets.randbelow(2**31)
    run = GradingRun(submission_id=sub.id, number=number, seed=seed, reason=reason,
                     requested_by=requested_by,
                     previous_run_id=previous.id if previous is not None else None)
    session.add(run)
    session.flush()
    for part, queue, problems in plan_jobs(ctx, session, sub.assignment.slug, bulk=bulk):
        job = GradingJob(run_id=run.id, submission_id=sub.id, part=part, queue=queue,
                         problems=problems, status="queued", tries=0, sends=0)
        session.add(job)
        session.flush()
        add_send(session, job)
    sub.status = "queued"
    sub.finished_at = None
    return run


def accept_upload(ctx: Context, session: Session, a: Assignment, user: User,
                  files: list[tuple[str, str, BinaryIO]]) -> Submission:
    """Check the rules, keep the files, commit submission + queued run + outbox, then send.

    Files that cannot earn a point (a notebook that is not JSON, no code at all)
    are refused with ``SubmissionError`` before anything is committed, so the
    refusal uses no attempt.
    Reading them passes ``ctx.intake`` first, which bounds what refusals may cost.
    """
    now = utcnow()
    attempt = check_can_submit(session, a, user.id, now)
    key = f"{a.id}/{uuid.uuid4().hex}"
    # Nothing is written yet: end the read transaction so a wait for a reader (and the read)
    # holds no pooled connection; a deadline rush would otherwise drain the pool.
    session.commit()
    with ctx.intake.admit(user.id):
        stored = storage.store_files(ctx.settings, key, files)
        try:
            paths = [ctx.settings.submissions_dir / key / f.name for f in stored]
            check_upload(paths, ctx.grader.assignment(a.slug).graded_files)
        except BaseException:
            storage.remove(ctx.settings, key)
            raise
    try:
        sub = Submission(assignment_id=a.id, user_id=user.id, attempt=attempt, status="queued",
                         storage_key=key, submitted_at=now)
        sub.assignment = a
        sub.files = [SubmissionFile(name=f.name, size=f.size, sha256=f.sha256,
                                    content_type=f.content_type) for f in stored]
        session.add(sub)
        session.flush()
        enqueue_run(session, ctx, sub)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        storage.remove(ctx.settings, key)
        raise Conflict("another submission was made at the same moment; try again",
                       code="concurrent_submission") from exc
    except BaseException:
        session.rollback()
        storage.remove(ctx.settings, key)
        raise
    log.info("submission accepted", extra={"submission_id": sub.id, "attempt": attempt})
    try:
        relay(ctx)
    except Exception:  # committed and kept: the sweep sends it; the upload is not refused
        log.warning("sending after the upload failed; the sweep will send it",
                    exc_info=True, extra={"submission_id": sub.id})
    return sub


def regrade(ctx: Context, session: Session, sub: Submission, *, by: User, reason: str,
            bulk: bool = False, new_seed: bool = False) -> GradingRun:
    """A new run; earlier runs and their results stay for the history.

    The submission's row is locked first, so of two regrades at the same moment
    (a double click) the second sees the first's queued run and is refused.
    """
    session.refresh(sub, with_for_update=True)
    if sub.status in ("queued", "running"):
        raise Conflict(f"submission {sub.id} is being graded; regrade it when it finishes",
                       code="grading_in_progress")
    return enqueue_run(session, ctx, sub, reason=reason, requested_by=by.id, bulk=bulk,
                       new_seed=new_seed)


def status_counts(session: Session, assignment_id: int) -> dict[str, int]:
    """How many of an assignment's submissions are queued, running, graded, in error: a
    regrade's progress."""
    rows = session.execute(select(Submission.status, func.count()).where(
        Submission.assignment_id == assignment_id).group_by(Submission.status))
    return {status: n for status, n in rows}
