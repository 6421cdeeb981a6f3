"""Grading one job: the plain function behind the Celery task and the embedded worker.

It is idempotent. A job is claimed with a conditional update (queued, or
running with an expired lease), so a task delivered twice grades once; the
lease is renewed while grading and checked in the same transaction as every
result write, so a worker that lost its lease cannot commit anything. A job
re-queued after a crash resumes: problems already written are not graded again.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from graders.results import ProblemResult as EngineProblem
from service.context import Context
from service.grading import grader_version, problem_order
from service.isolation import GraderLimit
from service.logs import log_context
from service.models import (
    CheckResult,
    GradingJob,
    GradingRun,
    ProblemResult,
    Submission,
    utcnow,
)
from service.services.gradebook import in_order
from service.services.queue import add_send, fail_job, relay
from service.storage import submission_paths

log = logging.getLogger("dlgrade.worker")


class LeaseLost(Exception):
    """Another worker owns this job now; drop everything this one computed."""


class StoredFilesUnreadable(Exception):
    """This worker cannot read what the API stored: its fault (a volume, a path), not the
    student's, so the job is retried and never graded as an unreadable submission."""

    what = ("the grading worker could not read the files stored for this submission (an "
            "operator must give the workers the API's submissions directory)")


@dataclass
class Claim:
    job_id: int
    run_id: int
    submission_id: int
    token: str
    problems: list[str]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def claim(ctx: Context, submission_id: int, part: str, worker_id: str) -> Claim | None:
    """Take the newest pending job of this part, or None when there is nothing to do."""
    now = utcnow()
    token = secrets.token_hex(16)
    with ctx.sessions() as session:
        job = session.scalars(
            select(GradingJob).where(GradingJob.submission_id == submission_id,
                                     GradingJob.part == part,
                                     GradingJob.status.in_(["queued", "running"]))
            .order_by(GradingJob.id.desc()).limit(1)).first()
        if job is None:
            return None
        if job.status == "running" and job.tries >= ctx.settings.max_tries and (
                job.lease_expires_at is not None and job.lease_expires_at < now):
            fail_job(session, job, f"worker lost {job.tries} times (lease expired)")
            session.commit()
            ctx.changes.announce(submission_id)
            return None
        res = session.execute(
            update(GradingJob)
            .where(GradingJob.id == job.id,
                   (GradingJob.status == "queued")
                   | ((GradingJob.status == "running") & (GradingJob.lease_expires_at < now)))
            .values(status="running", lease_token=token, lease_owner=worker_id[:200],
                    lease_expires_at=now + timedelta(seconds=ctx.settings.lease_seconds),
                    tries=GradingJob.tries + 1, started_at=now))
        if not res.rowcount:  # type: ignore[attr-defined]
            session.rollback()
            return None
        run = session.get(GradingRun, job.run_id)
        sub = session.get(Submission, submission_id)
        assert run is not None and sub is not None
        if run.status == "queued":
            run.status, run.started_at = "running", now
        if sub.status == "queued":
            sub.status, sub.started_at = "running", sub.started_at or now
        session.commit()
        taken = Claim(job.id, job.run_id, submission_id, token, list(job.problems or []))
    ctx.changes.announce(submission_id)
    return taken


def _renew(session: Session, c: Claim, seconds: float) -> None:
    """Extend the lease, locking the job row until commit; raise if it is no longer ours."""
    res = session.execute(
        update(GradingJob)
        .where(GradingJob.id == c.job_id, GradingJob.lease_token == c.token,
               GradingJob.status == "running")
        .values(lease_expires_at=utcnow() + timedelta(seconds=seconds)))
    if not res.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {c.job_id}")


class Heartbeat:
    """Renews the lease every third of its length while the engine works."""

    def __init__(self, ctx: Context, c: Claim) -> None:
        self.ctx, self.claim = ctx, c
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="dlgrade-lease")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        period = self.ctx.settings.lease_seconds / 3
        while not self._stop.wait(period):
            try:
                with self.ctx.sessions() as session:
                    _renew(session, self.claim, self.ctx.settings.lease_seconds)
                    session.commit()
            except LeaseLost:
                self.lost.set()
                return
            except Exception:
                log.exception("lease renewal failed; will retry")


def write_problem(ctx: Context, c: Claim, pr: EngineProblem, version: str, seed: int) -> bool:
    """Commit one problem's result if the lease is still ours; False if it was already there."""
    with ctx.sessions() as session:
        _renew(session, c, ctx.settings.lease_seconds)
        row = ProblemResult(run_id=c.run_id, problem_id=pr.id, score=pr.score,
                            max_score=pr.max_score, status=pr.status, message=pr.message,
                            manual=pr.manual, duration_s=pr.duration_s, grader_version=version,
                            seed=seed)
        row.checks = [CheckResult(position=i, name=ch.name, key=ch.key, status=ch.status,
                                  message=ch.message, hidden=ch.hidden, weight=ch.weight,
                                  fraction=ch.fraction) for i, ch in enumerate(pr.checks)]
        if pr.error_reason or pr.skipped_reason:
            row.checks.append(CheckResult(
                position=len(pr.checks), name="run", key="run", status=pr.status,
                message=pr.message))
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    ctx.changes.announce(c.submission_id)
    log.info("problem graded", extra={"submission_id": c.submission_id,
                                      "problem": pr.id, "status": pr.status})
    return True


def _changes(old: list[ProblemResult], new: list[ProblemResult]) -> list[dict[str, Any]]:
    before = {p.problem_id: p for p in old}
    out = []
    for p in new:
        o = before.get(p.problem_id)
        if o is None or abs(o.score - p.score) > 1e-9 or o.status != p.status:
            out.append({"problem": p.problem_id, "from": None if o is None else o.score,
                        "to": p.score, "from_status": None if o is None else o.status,
                        "to_status": p.status})
    return out


def complete(ctx: Context, c: Claim, version: str) -> bool:
    """Mark the job done; the last job of a run finishes the run and the submission."""
    now = utcnow()
    with ctx.sessions() as session:
        _renew(session, c, ctx.settings.lease_seconds)
        run = session.get(GradingRun, c.run_id, with_for_update=True)
        assert run is not None
        session.execute(update(GradingJob).where(GradingJob.id == c.job_id)
                        .values(status="done", finished_at=now, lease_token=None))
        pending = session.scalars(select(GradingJob.id).where(
            GradingJob.run_id == run.id, GradingJob.status != "done")).all()
        if pending:
            session.commit()
            return False
        problems = session.scalars(
            select(ProblemResult).where(ProblemResult.run_id == run.id)).all()
        run.status, run.finished_at, run.grader_version = "done", now, version
        run.score = round(sum(p.score for p in problems if not p.manual), 6)
        run.max_score = round(sum(p.max_score for p in problems if not p.manual), 6)
        sub = session.get(Submission, c.submission_id)
        assert sub is not None
        if run.previous_run_id is not None:
            old = session.scalars(select(ProblemResult).where(
                ProblemResult.run_id == run.previous_run_id)).all()
            order = problem_order(ctx.grader, sub.assignment.slug)
            run.changes = _changes(list(old), in_order(list(problems), order))
        newest = session.scalars(select(GradingRun.id).where(
            GradingRun.submission_id == sub.id).order_by(GradingRun.id.desc()).limit(1)).one()
        if newest == run.id:
            sub.current_run_id, sub.status, sub.finished_at = run.id, "graded", now
            sub.error_kind = sub.error_message = None
        session.commit()
    ctx.changes.announce(c.submission_id)
    return True


def process_job(ctx: Context, submission_id: int, part: str = "all",
                worker_id: str | None = None) -> str:
    """Grade one job of a submission. Returns what happened, for logs and tests."""
    with log_context(submission_id=submission_id, part=part):
        c = claim(ctx, submission_id, part, worker_id or default_worker_id())
        if c is None:
            log.info("nothing to grade (done, or another worker holds it)")
            return "skipped"
        started = time.monotonic()
        try:
            with Heartbeat(ctx, c) as beat:
                outcome = _grade(ctx, c, beat)
        except LeaseLost:
            log.warning("lease lost; results of this attempt dropped")
            return "lease-lost"
        except GraderLimit as exc:  # the same upload would do it again: no retry
            log.error("grading process past its memory ceiling: %s", exc)
            return _give_back(ctx, c, f"{type(exc).__name__}: {exc}", exc.what, retry=False)
        except StoredFilesUnreadable as exc:
            log.error("stored files unreadable on this worker: %s", exc)
            return _give_back(ctx, c, f"{type(exc).__name__}: {exc}", exc.what)
        except Exception as exc:
            log.exception("grading could not run")
            return _give_back(ctx, c, f"{type(exc).__name__}: {exc}")
        log.info("job finished", extra={"outcome": outcome,
                                        "duration_s": round(time.monotonic() - started, 3)})
        return outcome


def _grade(ctx: Context, c: Claim, beat: Heartbeat) -> str:
    with ctx.sessions() as session:
        run = session.get(GradingRun, c.run_id)
        sub = session.get(Submission, c.submission_id)
        assert run is not None and sub is not None
        slug, seed = sub.assignment.slug, run.seed
        paths = submission_paths(ctx.settings, sub)
        check_stored(paths, [f.size for f in sub.files])
        done = set(session.scalars(select(ProblemResult.problem_id).where(
            ProblemResult.run_id == c.run_id)).all())
    todo = [p for p in c.problems if p not in done]
    version = grader_version(ctx.grader, slug)
    if todo:
        written: set[str] = set()

        def on_problem(pr: EngineProblem) -> None:
            if pr.id in todo and pr.id not in written and not beat.lost.is_set():
                write_problem(ctx, c, pr, version, seed)
                written.add(pr.id)

        grade = ctx.grader.grade(slug, paths, seed=seed, problems=todo, on_problem=on_problem)
        if beat.lost.is_set():
            raise LeaseLost(f"job {c.job_id}")
        for pr in grade.problems:
            if pr.id in todo and pr.id not in written:
                write_problem(ctx, c, pr, version, seed)
                written.add(pr.id)
        missing = [p for p in todo if p not in written]
        if missing:
            for pid in missing:
                write_problem(ctx, c, EngineProblem(
                    id=pid, max_score=0.0, error_reason="internal grading error: no result"),
                    version, seed)
    return "graded" if complete(ctx, c, version) else "part-done"


def check_stored(paths: list[Path], sizes: list[int]) -> None:
    """Every stored file is there, readable, and as large as when it was uploaded."""
    for path, size in zip(paths, sizes, strict=True):
        try:
            with open(path, "rb") as f:
                found = os.fstat(f.fileno()).st_size
        except OSError as exc:
            raise StoredFilesUnreadable(
                f"{path}: {exc.strerror or type(exc).__name__} (does this worker use the API's "
                "submissions directory, DLGRADE_SUBMISSIONS_PATH or DLGRADE_STATE_DIR?)") from exc
        if found != size:
            raise StoredFilesUnreadable(f"{path}: {found} bytes on disk, {size} uploaded")


def _give_back(ctx: Context, c: Claim, reason: str, what: str = "", retry: bool = True) -> str:
    """Grading could not run (sandbox missing, bug): retry elsewhere until the cap, then fail."""
    with ctx.sessions() as session:
        job = session.get(GradingJob, c.job_id, with_for_update=True)
        if job is None or job.lease_token != c.token:
            return "lease-lost"
        job.last_error = reason[:2000]
        if job.tries >= ctx.settings.max_tries or not retry:
            fail_job(session, job, reason, what)
            session.commit()
            ctx.changes.announce(c.submission_id)
            return "error"
        job.status, job.lease_token, job.lease_owner = "queued", None, None
        add_send(session, job)
        session.commit()
    ctx.changes.announce(c.submission_id)
    relay(ctx)
    return "retry"

