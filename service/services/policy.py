"""Deadlines, lateness and attempt limits: the rules students meet at upload time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Assignment, Extension, ExtraAttempts, Submission
from service.services.errors import Conflict, Forbidden, TooSoon

DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Window:
    """One student's dates for one assignment, extension applied."""

    opens_at: datetime
    due_at: datetime
    last_accepted_at: datetime


def window(session: Session, a: Assignment, user_id: int) -> Window:
    """An extension moves the due date and shifts the last accepted date by the same amount."""
    last = a.last_accepted_at or a.due_at
    ext = session.scalars(select(Extension).where(Extension.assignment_id == a.id,
                                                  Extension.user_id == user_id)).first()
    if ext is None:
        return Window(a.opens_at, a.due_at, last)
    shift = ext.due_at - a.due_at
    return Window(a.opens_at, ext.due_at, max(last + shift, ext.due_at))


def days_late(submitted_at: datetime, due_at: datetime) -> int:
    """Started 24-hour periods after the due date: one second late is one day."""
    late = (submitted_at - due_at).total_seconds()
    return 0 if late <= 0 else math.ceil(late / DAY.total_seconds())


def penalty_factor(per_day: float, days: int) -> float:
    return max(0.0, 1.0 - per_day * days)


def allowed_attempts(session: Session, a: Assignment, user_id: int) -> int | None:
    if a.max_submissions is None:
        return None
    extra = session.scalar(select(func.coalesce(func.sum(ExtraAttempts.count), 0)).where(
        ExtraAttempts.assignment_id == a.id, ExtraAttempts.user_id == user_id)) or 0
    return a.max_submissions + int(extra)


def check_can_submit(session: Session, a: Assignment, user_id: int, now: datetime) -> int:
    """Raise with the reason a student may not submit now; else the next attempt number."""
    if a.course.archived_at is not None:
        raise Forbidden(f"the course {a.course.code} was archived on "
                        f"{a.course.archived_at.date().isoformat()} and accepts no submissions",
                        code="course_archived")
    w = window(session, a, user_id)
    if now < w.opens_at:
        raise Forbidden(f"the assignment opens at {w.opens_at.isoformat()}", code="not_open")
    if now > w.last_accepted_at:
        raise Forbidden(f"the assignment closed at {w.last_accepted_at.isoformat()}",
                        code="closed")
    count, last = session.execute(
        select(func.count(Submission.id), func.max(Submission.submitted_at))
        .where(Submission.assignment_id == a.id, Submission.user_id == user_id)).one()
    limit = allowed_attempts(session, a, user_id)
    if limit is not None and count >= limit:
        raise Conflict(f"submission limit reached: {count} of {limit} used",
                       code="limit_reached")
    if last is not None and a.min_interval_seconds:
        if last.tzinfo is None:  # SQLite aggregates bypass the column type
            from datetime import UTC

            last = last.replace(tzinfo=UTC)
        wait = (last + timedelta(seconds=a.min_interval_seconds) - now).total_seconds()
        if wait > 0:
            raise TooSoon(f"submitted too recently: wait {math.ceil(wait)} s before the next "
                          f"submission (minimum interval {a.min_interval_seconds} s)",
                          headers={"Retry-After": str(math.ceil(wait))})
    return int(count) + 1
