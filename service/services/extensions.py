"""Extensions: one student's own due date for one assignment, listed and revoked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Assignment, Extension, User
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
