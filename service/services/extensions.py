"""Extensions and extra attempts: what one student is allowed beyond the assignment's own
rules, granted, listed and revoked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Assignment, Extension, ExtraAttempts, User
from service.services.errors import NotFound


def list_extensions(session: Session, a: Assignment) -> list[tuple[Extension, str]]:
    """Every extension of the assignment with its student's email, earliest due date first."""
    rows = session.execute(select(Extension, User.email).join(User, Extension.user_id == User.id)
                           .where(Extension.assignment_id == a.id)
                           .order_by(Extension.due_at, User.email))
    return [(e, email) for e, email in rows]


def revoke(session: Session, a: Assignment, user_id: int) -> None:
    """The student's due date is the assignment's again; what they submitted stays, and
    lateness is counted against the assignment's dates from now on."""
    ext = session.scalars(select(Extension).where(Extension.assignment_id == a.id,
                                                  Extension.user_id == user_id)).first()
    if ext is None:
        raise NotFound(f"user {user_id} has no extension for this assignment",
                       code="no_extension")
    session.delete(ext)
    session.commit()


def grant_attempts(session: Session, a: Assignment, user_id: int, count: int, reason: str,
                   by: int) -> ExtraAttempts:
    """One more grant: grants add up, so each can be revoked on its own later."""
    grant = ExtraAttempts(assignment_id=a.id, user_id=user_id, count=count, granted_by=by,
                          reason=reason)
    session.add(grant)
    session.commit()
    return grant


def list_attempts(session: Session, a: Assignment) -> list[tuple[ExtraAttempts, str]]:
    """Every grant of extra attempts with its student's email, by student, oldest first."""
    rows = session.execute(select(ExtraAttempts, User.email)
                           .join(User, ExtraAttempts.user_id == User.id)
                           .where(ExtraAttempts.assignment_id == a.id)
                           .order_by(User.email, ExtraAttempts.created_at, ExtraAttempts.id))
    return [(g, email) for g, email in rows]


def revoke_attempts(session: Session, a: Assignment, grant_id: int) -> None:
    """Take one grant back: the student's limit drops by its count. Submissions already
    made stay and are graded; only new ones are refused once the limit is reached."""
    grant = session.get(ExtraAttempts, grant_id)
    if grant is None or grant.assignment_id != a.id:
        raise NotFound(f"no grant {grant_id} of extra attempts for this assignment",
                       code="no_extra_attempts")
    session.delete(grant)
    session.commit()
