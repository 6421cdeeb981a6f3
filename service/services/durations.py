"""How long an assignment's problems have recently taken, from the results already stored.

The job planner uses this to decide whether training problems are worth a job of
their own: what is measured on this deployment, not what a spec author guessed.
"""

from __future__ import annotations

import statistics

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Assignment, GradingRun, ProblemResult, Submission

RECENT = 20


def recent_seconds(session: Session, slug: str, problem_id: str) -> float | None:
    """Median time of the problem's last few automatic gradings, or None if never graded."""
    rows = session.scalars(
        select(ProblemResult.duration_s)
        .join(GradingRun, GradingRun.id == ProblemResult.run_id)
        .join(Submission, Submission.id == GradingRun.submission_id)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Assignment.slug == slug, ProblemResult.problem_id == problem_id,
               ProblemResult.manual.is_(False))
        .order_by(ProblemResult.id.desc())
        .limit(RECENT)).all()
    return statistics.median(rows) if rows else None


def worth_a_job_of_their_own(session: Session, slug: str, problems: list[str],
                             over_s: float) -> bool:
    """True when these problems' recent time together reaches over_s (0: always), or is unknown."""
    total = 0.0
    for problem_id in problems:
        seconds = recent_seconds(session, slug, problem_id)
        if seconds is None:
            return True
        total += seconds
    return total >= over_s
