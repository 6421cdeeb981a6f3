"""Turning rows into API answers; hidden checks stay hidden from students until the due date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service import schemas as S
from service.models import Assignment, GradingRun, ProblemResult, ScoreAdjustment, Submission
from service.services.gradebook import (
    Cell,
    Scored,
    Standing,
    adjustments_for,
    in_order,
    late,
    load_scored,
    score,
    standings_of,
)
from service.services.policy import window
from service.services.queue import queue_position

HIDDEN = S.CheckOut(name="hidden", key="hidden", status="hidden", message="", hidden=True)


def assignment_out(a: Assignment, problems: list[S.ProblemSpecOut],
                   my_due: datetime | None = None,
                   mine: Standing | None = None) -> S.AssignmentOut:
    """``my_due`` and ``mine`` (the student's standing) for a student's view."""
    tz = a.course.timezone
    return S.AssignmentOut(
        id=a.id, course_id=a.course_id, slug=a.slug, title=a.title,
        opens_at=S.local(a.opens_at, tz), due_at=S.local(a.due_at, tz),  # type: ignore[arg-type]
        last_accepted_at=S.local(a.last_accepted_at, tz),
        late_penalty_per_day=a.late_penalty_per_day, max_submissions=a.max_submissions,
        min_interval_seconds=a.min_interval_seconds, show_hidden_details=a.show_hidden_details,
        counts=a.counts, visible=a.visible, problems=problems, my_due_at=S.local(my_due, tz),  # type: ignore[arg-type]
        late_days_used=None if mine is None else mine.cells.get(a.id, Cell()).late_days_used,
        late_days_left=None if mine is None else mine.left)


def written_out(adj: ScoreAdjustment, max_points: float, tz: str) -> S.WrittenScoreOut:
    return S.WrittenScoreOut(
        user_id=adj.user_id, problem_id=adj.problem_id, points=adj.points,
        max_points=max_points, reason=adj.reason, by=adj.created_by,
        at=S.local(adj.created_at, tz),  # type: ignore[arg-type]
        submission_id=adj.submission_id)


def late_fields(sub: Submission, due: datetime, raw: float | None,
                mine: Standing) -> dict[str, object]:
    """Lateness of one submission as the gradebook would count it (``mine``: its student's)."""
    a = sub.assignment
    lt = late(a, due, sub.submitted_at, raw or 0.0, mine.available.get(a.id, mine.left))
    return {"days_late": lt.days_late, "late_days_used": lt.late_days_used,
            "late_days_left": mine.left, "penalty": lt.penalty,
            "score_after_penalty": None if raw is None else lt.score,
            "counted": mine.cells.get(a.id, Cell()).submission_id == sub.id}


def _problem(p: ProblemResult, adj: ScoreAdjustment | None, hide: bool, tz: str) -> S.ProblemOut:
    checks = [HIDDEN if hide and c.hidden else
              S.CheckOut(name=c.name, key=c.key or c.name, status=c.status, message=c.message,
                         hidden=c.hidden)
              for c in p.checks]
    message = p.message
    if hide and any(c.hidden for c in p.checks):
        message = next((c.message for c in p.checks
                        if not c.hidden and c.status not in ("passed", "hidden")), "")
    return S.ProblemOut(
        id=p.problem_id, score=adj.points if adj else p.score, max_score=p.max_score,
        status=p.status, message=message, manual=p.manual, autograded_score=p.score,
        adjustment=None if adj is None else S.AdjustmentOut(
            kind=adj.kind, points=adj.points, reason=adj.reason, by=adj.created_by,
            at=S.local(adj.created_at, tz)),  # type: ignore[arg-type]
        checks=checks)


def submission_out(session: Session, sub: Submission, *, staff: bool, now: datetime,
                   order: Sequence[str]) -> S.SubmissionOut:
    """``order``: the assignment's problem ids (``grading.problem_order``), the order shown."""
    a = sub.assignment
    tz = a.course.timezone
    w = window(session, a, sub.user_id)
    hide = not staff and now < w.due_at and not a.show_hidden_details
    runs = session.scalars(select(GradingRun).where(GradingRun.submission_id == sub.id)
                           .order_by(GradingRun.id)).all()
    current = next((r for r in runs if r.id == sub.current_run_id), None)
    problems: list[S.ProblemOut] = []
    total = max_total = None
    if current is not None:
        rows = in_order(list(session.scalars(
            select(ProblemResult).where(ProblemResult.run_id == current.id)
            .options(selectinload(ProblemResult.checks)))), order)
        scored = score(sub, rows, adjustments_for(session, sub))
        total, max_total = scored.score, scored.max_score
        problems = [_problem(p, scored.adjusted.get(p.problem_id), hide, tz) for p in rows]
    elif sub.status in ("queued", "running"):  # first grading in progress: show what is in
        latest = runs[-1] if runs else None
        if latest is not None:
            rows = in_order(list(session.scalars(
                select(ProblemResult).where(ProblemResult.run_id == latest.id)
                .options(selectinload(ProblemResult.checks)))), order)
            problems = [_problem(p, None, hide, tz) for p in rows]
    by_id = {r.id: r for r in runs}
    history = []
    for r in runs:
        if r.previous_run_id is None:
            continue
        prev = by_id.get(r.previous_run_id)
        history.append(S.RegradeOut(
            run=r.number, at=S.local(r.finished_at or r.created_at, tz), reason=r.reason,
            status=r.status, score_from=prev.score if prev else None, score_to=r.score,
            changes=r.changes or []))
    return S.SubmissionOut(
        id=sub.id, assignment_id=sub.assignment_id, user_id=sub.user_id, attempt=sub.attempt,
        status=sub.status, error=sub.error_message,  # type: ignore[arg-type]
        queue_position=queue_position(session, sub.id) if sub.status == "queued" else None,
        error_kind=sub.error_kind,  # type: ignore[arg-type]
        submitted_at=S.local(sub.submitted_at, tz),  # type: ignore[arg-type]
        started_at=S.local(sub.started_at, tz), finished_at=S.local(sub.finished_at, tz),
        score=total, max_score=max_total,
        **late_fields(sub, w.due_at, total, standings_of(session, a.course, [sub.user_id])[
            sub.user_id]),  # type: ignore[arg-type]
        grader_version=current.grader_version if current else None,
        seed=current.seed if current else None,
        files=[S.FileOut(id=f.id, name=f.name, size=f.size, sha256=f.sha256) for f in sub.files],
        problems=problems, history=history)


def scores_by_submission(session: Session, assignment_id: int,
                         user_ids: list[int] | None = None) -> dict[int, Scored]:
    """The current score of every graded submission (of ``user_ids`` if given), people's
    scores applied (as in detail)."""
    return {sc.submission.id: sc
            for each in load_scored(session, [assignment_id], user_ids).values() for sc in each}


def summary_out(session: Session, sub: Submission, mine: Standing, email: str | None = None,
                scored: Scored | None = None) -> S.SubmissionSummary:
    """``mine``: the standing of the submission's student (``standings_of``)."""
    w = window(session, sub.assignment, sub.user_id)
    tz = sub.assignment.course.timezone
    return S.SubmissionSummary(
        id=sub.id, assignment_id=sub.assignment_id, user_id=sub.user_id, email=email,
        attempt=sub.attempt, status=sub.status, error=sub.error_message,
        error_kind=sub.error_kind,  # type: ignore[arg-type]
        submitted_at=S.local(sub.submitted_at, tz),  # type: ignore[arg-type]
        score=scored.score if scored else None, max_score=scored.max_score if scored else None,
        **late_fields(sub, w.due_at, scored.score if scored else None, mine))  # type: ignore[arg-type]
