"""People's scores for problems: a written (``manual``) problem's score, or an override.

A written score belongs to the student and the problem, so it can be given to a
student who handed in no code (the written part done on paper); an override
judges one submission's code and is always entered on it. Both routes that set
a score check it here, so they refuse the same things in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.grading import AssignmentInfo, ProblemInfo
from service.models import Assignment, Enrollment, ScoreAdjustment, Submission, User
from service.services.errors import Invalid, NotFound


def problem(info: AssignmentInfo | None, problem_id: str, points: float | None = None
            ) -> ProblemInfo:
    """The assignment's problem, with ``points`` (if given) within what it is worth."""
    spec = next((p for p in info.problems if p.id == problem_id), None) if info else None
    if spec is None:
        raise NotFound(f"no problem {problem_id!r} in this assignment", code="no_problem")
    if points is not None and points > spec.points:
        raise Invalid(f"{problem_id} is worth at most {spec.points:g} points",
                      code="too_many_points")
    return spec


def on_submission(session: Session, sub: Submission, spec: ProblemInfo, points: float,
                  reason: str, by: User) -> ScoreAdjustment:
    """A score entered on one submission: written (the student's), or an override (its own)."""
    adj = ScoreAdjustment(submission_id=sub.id, assignment_id=sub.assignment_id,
                          user_id=sub.user_id, problem_id=spec.id,
                          kind="manual" if spec.manual else "override",
                          points=points, reason=reason, created_by=by.id)
    session.add(adj)
    return adj


def _written(a: Assignment, info: AssignmentInfo | None, session: Session, user_id: int,
             problem_id: str, points: float | None = None) -> ProblemInfo:
    """Only a student of the course, and only a written problem: an override without the
    code it judges would mean nothing."""
    if session.scalar(select(Enrollment.id).where(
            Enrollment.course_id == a.course_id, Enrollment.user_id == user_id,
            Enrollment.role == "student")) is None:
        raise NotFound(f"user {user_id} is not a student of this course", code="not_a_student")
    spec = problem(info, problem_id, points)
    if not spec.manual:
        raise Invalid(f"{problem_id} is graded automatically: override it on one of the "
                      "student's submissions", code="not_written")
    return spec


def set_written(session: Session, a: Assignment, info: AssignmentInfo | None, user_id: int,
                problem_id: str, points: float, reason: str, by: User) -> ScoreAdjustment:
    """A student's written score, with or without a submission; the latest entered counts."""
    _written(a, info, session, user_id, problem_id, points)
    adj = ScoreAdjustment(submission_id=None, assignment_id=a.id, user_id=user_id,
                          problem_id=problem_id, kind="manual", points=points, reason=reason,
                          created_by=by.id)
    session.add(adj)
    return adj


def clear_written(session: Session, a: Assignment, info: AssignmentInfo | None, user_id: int,
                  problem_id: str) -> None:
    """Not scored yet, again: every written score of theirs for the problem goes, those
    entered on a submission too (otherwise an older one would come back)."""
    _written(a, info, session, user_id, problem_id)
    session.execute(delete(ScoreAdjustment).where(
        ScoreAdjustment.assignment_id == a.id, ScoreAdjustment.user_id == user_id,
        ScoreAdjustment.problem_id == problem_id, ScoreAdjustment.kind == "manual"))


Key = tuple[int, int, str]  # (assignment, student, problem)


def in_force(adjs: Iterable[ScoreAdjustment]) -> dict[Key, ScoreAdjustment]:
    """People's scores in force per (assignment, student, problem): the latest entered wins."""
    return {(a.assignment_id, a.user_id, a.problem_id): a
            for a in sorted(adjs, key=lambda a: (a.created_at, a.id))}


def written_scores(session: Session, assignment_ids: list[int],
                   user_ids: list[int] | None = None) -> dict[Key, ScoreAdjustment]:
    """The written scores in force on these assignments (of ``user_ids`` if given), in one
    query: a student's, whether or not they handed in code."""
    q = select(ScoreAdjustment).where(ScoreAdjustment.assignment_id.in_(assignment_ids),
                                      ScoreAdjustment.kind == "manual")
    if user_ids is not None:
        q = q.where(ScoreAdjustment.user_id.in_(user_ids))
    return in_force(session.scalars(q))


def written_of(session: Session, assignment_id: int, user_id: int) -> dict[str, ScoreAdjustment]:
    """A student's written scores in force on one assignment, by problem."""
    return {p: m for (_, _, p), m in written_scores(session, [assignment_id], [user_id]).items()}
