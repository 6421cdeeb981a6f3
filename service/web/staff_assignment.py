"""An assignment's staff pages: its settings, extensions and extra attempts, regrading,
the submissions table, and the statistics with their plots.

Pages and forms declare the API's ``AssignmentInstructor`` and call the API's
route functions, so they refuse whom the API refuses and show what it answers.
"""

from __future__ import annotations

from math import ceil
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from service import schemas as S
from service.deps import DB, AssignmentInstructor, Ctx
from service.grading import problem_order
from service.routes.assignments import (
    assignment_statistics,
    get_assignment,
    grant_extension,
    grant_extra_attempts,
    list_extensions,
    list_extra_attempts,
    list_submissions,
    regrade_assignment,
    revoke_extension,
    revoke_extra_attempts,
    update_assignment,
)
from service.routes.courses import roster
from service.services.submissions import status_counts
from service.web import flash, plots
from service.web.forms import REFUSALS, Fields, local_next, parse, refused, submit
from service.web.render import render
from service.web.staff_course import assignment_data

router = APIRouter(include_in_schema=False)
PAGE = 25


def _here(aa: AssignmentInstructor) -> str:
    return f"/assignments/{aa.assignment.id}/manage"


def _progress(aa: AssignmentInstructor, session: DB) -> dict[str, int]:
    counts = status_counts(session, aa.assignment.id)
    return {s: counts.get(s, 0) for s in ("queued", "running", "graded", "error")}


@router.get("/assignments/{assignment_id}/manage")
def manage_assignment(request: Request, aa: AssignmentInstructor, ctx: Ctx, session: DB,
                      fragment: Literal["progress"] | None = None) -> Response:
    """``?fragment=progress``: only the regrade's progress, for staff.js."""
    request.state.user = aa.access.user
    progress = _progress(aa, session)
    if fragment:
        return render(request, "staff/_progress.html", a=aa.assignment, progress=progress)
    students = [m for m in roster(aa.access, session) if m.role == "student"]
    return render(request, "staff/assignment.html", a=get_assignment(aa, ctx, session),
                  course=aa.assignment.course, students=students,
                  extensions=list_extensions(aa, session),
                  extra_attempts=list_extra_attempts(aa, session), progress=progress)


@router.post("/assignments/{assignment_id}/manage/settings")
def save_assignment(request: Request, aa: AssignmentInstructor, ctx: Ctx, session: DB,
                    fields: Fields) -> Response:
    return submit(request, session, _here(aa), "Assignment saved.", lambda: update_assignment(
        parse(S.AssignmentUpdate, assignment_data(fields)), aa, ctx, session))


@router.post("/assignments/{assignment_id}/manage/extensions")
def grant_extension_form(request: Request, aa: AssignmentInstructor, session: DB,
                         fields: Fields) -> Response:
    return submit(request, session, _here(aa), "Extension granted.", lambda: grant_extension(
        parse(S.ExtensionCreate, {"reason": "", **fields}, blank_is_none=False), aa, session))


@router.post("/assignments/{assignment_id}/manage/extensions/{user_id}/revoke")
def revoke_extension_form(request: Request, user_id: int, aa: AssignmentInstructor,
                          session: DB) -> Response:
    return submit(request, session, _here(aa), "Extension revoked: the assignment's own due "
                  "date applies again.", lambda: revoke_extension(user_id, aa, session))


@router.post("/assignments/{assignment_id}/manage/extra-attempts")
def extra_attempts_form(request: Request, aa: AssignmentInstructor, session: DB,
                        fields: Fields) -> Response:
    return submit(request, session, _here(aa), "Extra attempts granted.",
                  lambda: grant_extra_attempts(parse(
                      S.ExtraAttemptsCreate, {"reason": "", **fields}, blank_is_none=False),
                      aa, session))


@router.post("/assignments/{assignment_id}/manage/extra-attempts/{grant_id}/revoke")
def revoke_extra_attempts_form(request: Request, grant_id: int, aa: AssignmentInstructor,
                               session: DB) -> Response:
    return submit(request, session, _here(aa), "Extra attempts revoked: submissions already "
                  "made are kept.", lambda: revoke_extra_attempts(grant_id, aa, session))


@router.post("/assignments/{assignment_id}/manage/regrade")
def regrade_all_form(request: Request, aa: AssignmentInstructor, ctx: Ctx, session: DB,
                     fields: Fields) -> Response:
    back = local_next(fields.get("next"), _here(aa))
    try:
        done = regrade_assignment(parse(S.RegradeIn, fields, blank_is_none=False), aa, ctx,
                                  session)
    except REFUSALS as exc:
        return refused(request, session, back, exc)
    skipped = len(done["skipped_in_progress"])
    return flash.redirect(request, back, f"{len(done['queued'])} submissions queued for "
                          f"regrading" + (f"; {skipped} skipped (being graded)." if skipped
                                          else "."))


@router.get("/assignments/{assignment_id}/submissions")
def submissions_page(
        request: Request, aa: AssignmentInstructor, ctx: Ctx, session: DB,
        status: Literal["queued", "running", "graded", "error"] | None = None,
        user_id: Annotated[int | None, Query()] = None,
        problem: str | None = None, page: Annotated[int, Query(ge=1)] = 1) -> Response:
    """The API's list, filtered the same way, one page of ``PAGE`` at a time."""
    request.state.user = aa.access.user
    response = Response()
    rows = list_submissions(aa, session, response, user_id=user_id, status_=status,
                            latest_only=False, late=None, problem=problem or None,
                            limit=PAGE, offset=(page - 1) * PAGE)
    total = int(response.headers["X-Total-Count"])
    filters = {"status": status, "user_id": user_id, "problem": problem}
    return render(request, "staff/submissions.html", a=aa.assignment,
                  course=aa.assignment.course, rows=rows, total=total, page=page,
                  pages=max(1, ceil(total / PAGE)), filters=filters,
                  query=urlencode({k: v for k, v in filters.items() if v}),
                  students=[m for m in roster(aa.access, session) if m.role == "student"],
                  problems=problem_order(ctx.grader, aa.assignment.slug))


def pass_note(p: dict[str, Any]) -> str:
    """``50% of 2``, and how many a written problem still waits on: ``1 not scored yet``."""
    rate = "not scored yet" if p["pass_rate"] is None else (
        f"{round(p['pass_rate'] * 100)}% of {p['n']}")
    return rate + (f"; {p['unscored']} not scored yet" if p["unscored"] and p["n"] else "")


@router.get("/assignments/{assignment_id}/statistics")
def statistics_page(request: Request, aa: AssignmentInstructor, ctx: Ctx,
                    session: DB) -> Response:
    """The API's statistics, with plots drawn here (labels escaped in ``plots``)."""
    request.state.user = aa.access.user
    stats = assignment_statistics(aa, ctx, session)
    score = stats["score"]
    problems = stats["problems"]
    failing = sorted((c for c in stats["checks"] if c["pass_rate"] < 1),
                     key=lambda c: (c["pass_rate"], -c["n"], c["problem"], c["key"]))[:10]
    title = aa.assignment.title
    figures = {
        "histogram": plots.histogram([b["count"] for b in score["histogram"]],
                                     f"Counted scores of {title}"),
        "problems": plots.bars([plots.Bar(p["id"], p["pass_rate"] or 0, pass_note(p))
                                for p in problems], "Share of students passing each problem"),
        "checks": plots.bars([plots.Bar(f"{c['problem']}: {c['name']}", 1 - c["pass_rate"],
                                        f"{round((1 - c['pass_rate']) * c['n'])} of {c['n']} "
                                        "fail") for c in failing],
                             "The checks students fail most", plots.BAD),
        "timeline": plots.timeline([(d["day"], d["count"]) for d in stats["submissions_by_day"]],
                                   "Submissions per day, against the due date"),
    }
    return render(request, "staff/statistics.html", a=aa.assignment, course=aa.assignment.course,
                  stats=stats, failing=failing, figures=figures,
                  pass_notes={p["id"]: pass_note(p) for p in problems})
