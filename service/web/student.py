"""A student's pages: a course's assignments, one assignment with its upload form and
history, and one submission's live progress and result.

Every page takes the API's own access dependency and calls the API's route
functions, so a page shows exactly what the API would answer to the same
person (hidden checks included), and refuses exactly when it would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from graders.errors import SubmissionError
from service import schemas as S
from service.deps import DB, AssignmentAccess, AssignmentMember, CourseMember, Ctx, SubmissionViewer
from service.grading import problem_order
from service.models import Assignment, utcnow
from service.routes.assignments import get_assignment, list_assignments, my_submissions, upload
from service.routes.submissions import get_submission
from service.services.errors import ServiceError
from service.services.gradebook import standings_of
from service.services.policy import allowed_attempts, window
from service.settings import Settings
from service.web.render import render

router = APIRouter(include_in_schema=False)
ACCEPT = ".py,.zip,.ipynb"


@dataclass(frozen=True)
class Row:
    """Where a student stands on one assignment."""

    state: str  # "not open yet" | "open" | "late" | "closed"
    attempts_left: int | None  # None: no limit
    latest: S.SubmissionSummary | None


@dataclass(frozen=True)
class Limits:
    """The upload limits from the settings, shown before upload and checked by upload.js."""

    max_files: int
    max_file_bytes: int
    max_upload_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.max_files, settings.max_file_bytes, settings.max_upload_bytes)


def _state(a: Assignment, opens: datetime, last: datetime, due: datetime, now: datetime) -> str:
    if a.course.archived_at is not None or now > last:
        return "closed"
    if now < opens:
        return "not open yet"
    return "late" if now > due else "open"


def _mine(aa: AssignmentAccess, session: DB) -> tuple[list[S.SubmissionSummary], Row | None]:
    """The student's submissions (oldest first) and the assignment's row; staff have none."""
    if aa.access.staff:
        return [], None
    a, me = aa.assignment, aa.access.user.id
    history = my_submissions(aa, session, Response(), limit=500, offset=0)
    w = window(session, a, me)
    allowed = allowed_attempts(session, a, me)
    return history, Row(state=_state(a, w.opens_at, w.last_accepted_at, w.due_at, utcnow()),
                        attempts_left=None if allowed is None else max(0, allowed - len(history)),
                        latest=history[-1] if history else None)


@router.get("/courses/{course_id}")
def course_page(request: Request, access: CourseMember, ctx: Ctx, session: DB) -> Response:
    request.state.user = access.user
    rows = []
    for out in list_assignments(access, ctx, session):
        a = session.get(Assignment, out.id)
        assert a is not None
        rows.append((out, _mine(AssignmentAccess(a, access), session)[1]))
    standing = None if access.staff else standings_of(
        session, access.course, [access.user.id])[access.user.id]
    return render(request, "student/course.html", course=access.course, staff=access.staff,
                  rows=rows, standing=standing)


def _assignment_page(request: Request, aa: AssignmentAccess, ctx: Ctx, session: DB,
                     error: str | None = None, status_code: int = 200) -> Response:
    request.state.user = aa.access.user
    out = get_assignment(aa, ctx, session)
    history, row = _mine(aa, session)
    return render(request, "student/assignment.html", status_code, a=out,
                  course=aa.assignment.course, staff=aa.access.staff, history=history, row=row,
                  limits=Limits.of(ctx.settings), accept=ACCEPT, error=error)


@router.get("/assignments/{assignment_id}")
def assignment_page(request: Request, aa: AssignmentMember, ctx: Ctx, session: DB) -> Response:
    return _assignment_page(request, aa, ctx, session)


@router.post("/assignments/{assignment_id}/upload")
def upload_form(request: Request, aa: AssignmentMember, ctx: Ctx, session: DB,
                files: Annotated[list[UploadFile], File()] = []) -> Response:  # noqa: B006
    """The upload form without JavaScript: the API's own upload, then the submission's page.
    A refusal shows the assignment page again with the reason (and the API's status)."""
    chosen = [f for f in files if f.filename]  # an empty file picker still sends one part
    try:
        sub = upload(aa, ctx, session, chosen)
    except ServiceError as exc:
        session.rollback()
        return _assignment_page(request, aa, ctx, session, exc.message, exc.status)
    except SubmissionError as exc:
        session.rollback()
        return _assignment_page(request, aa, ctx, session, str(exc), 422)
    return RedirectResponse(f"/submissions/{sub.id}", status_code=303)


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, sa: SubmissionViewer, ctx: Ctx, session: DB,
                    fragment: bool = False) -> Response:
    """``?fragment=1``: only the part that changes while grading, for progress.js."""
    request.state.user = sa.access.user
    out = get_submission(sa, ctx, session)
    sub = sa.submission
    a = sub.assignment
    values = dict(s=out, a=a, course=a.course, staff=sa.access.staff, owner=sub.user,
                  due=window(session, a, sub.user_id).due_at,
                  final=out.status in ("graded", "error"),
                  order=problem_order(ctx.grader, a.slug))
    if fragment:
        return render(request, "student/_result.html", **values)
    return render(request, "student/submission.html", **values)
