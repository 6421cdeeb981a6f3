"""A course's staff pages: a new course, its settings, assignments, roster, and gradebook.

Each page and form declares the API's ``CourseInstructor`` (a new course: the
API's ``require_staff``) and calls the API's route functions: staff of another
course, and students, are refused exactly as the API refuses them, before any
form field is read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response

from service import schemas as S
from service.deps import (
    DB,
    AssignmentInstructor,
    CourseInstructor,
    Ctx,
    SubmissionInstructor,
    require_staff,
)
from service.grading import known_slug, problem_order
from service.models import User
from service.routes.assignments import create_assignment, list_assignments, set_written_score
from service.routes.courses import (
    create_course,
    drop_member,
    enroll_one,
    full_points_of,
    gradebook_csv,
    import_roster,
    roster,
    update_course,
)
from service.routes.submissions import set_score
from service.services import gradebook as book
from service.services.scores import written_scores
from service.web import flash
from service.web.forms import REFUSALS, Fields, parse, refused, submit
from service.web.render import render

router = APIRouter(include_in_schema=False)


def assignment_data(fields: dict[str, str]) -> dict[str, str | None]:
    """The assignment form as the API's schema has it: the penalty is typed in percent, and
    an unticked box is not sent by a browser at all."""
    data: dict[str, str | None] = dict(fields)
    percent = (fields.get("late_penalty_percent") or "").strip()
    data["late_penalty_per_day"] = str(float(percent) / 100) if percent else "0"
    data["show_hidden_details"] = "true" if "show_hidden_details" in fields else "false"
    data["visible"] = "true" if "visible" in fields else "false"
    if not (fields.get("min_interval_seconds") or "").strip():
        data["min_interval_seconds"] = "0"
    return data


Staff = Annotated[User, Depends(require_staff)]


@router.get("/courses/new")
def new_course_page(request: Request, user: Staff) -> Response:
    """Only whom the API lets create a course (instructors and administrators) sees the form."""
    request.state.user = user
    return render(request, "staff/new_course.html")


@router.post("/courses/new")
def new_course(request: Request, user: Staff, session: DB, fields: Fields) -> Response:
    """Created: on to the new course's staff page (its creator is its instructor)."""
    try:
        out = create_course(parse(S.CourseCreate, fields), user, session)
    except REFUSALS as exc:
        return refused(request, session, "/courses/new", exc)
    return flash.redirect(request, f"/courses/{out.id}/manage",
                          f"{out.code} created; you are its instructor.")


def _manage(request: Request, access: CourseInstructor, ctx: Ctx, session: DB,
            imported: S.RosterImported | None = None, enrolled: S.Enrolled | None = None,
            status_code: int = 200) -> Response:
    request.state.user = access.user
    return render(request, "staff/course.html", status_code, course=access.course,
                  assignments=list_assignments(access, ctx, session),
                  members=roster(access, session), slugs=sorted(ctx.grader.slugs()),
                  imported=imported, enrolled=enrolled)


@router.get("/courses/{course_id}/manage")
def manage_course(request: Request, access: CourseInstructor, ctx: Ctx, session: DB) -> Response:
    return _manage(request, access, ctx, session)


def _here(access: CourseInstructor) -> str:
    return f"/courses/{access.course.id}/manage"


@router.post("/courses/{course_id}/manage/course")
def save_course(request: Request, access: CourseInstructor, session: DB,
                fields: Fields) -> Response:
    return submit(request, session, _here(access), "Course settings saved.",
                  lambda: update_course(parse(S.CourseUpdate, fields), access, session))


@router.post("/courses/{course_id}/manage/assignments")
def new_assignment(request: Request, access: CourseInstructor, ctx: Ctx, session: DB,
                   fields: Fields) -> Response:
    """Created: on to the new assignment's page; refused: back, saying why."""
    try:
        out = create_assignment(parse(S.AssignmentCreate, assignment_data(fields)), access, ctx,
                                session)
    except REFUSALS as exc:
        return refused(request, session, _here(access), exc)
    return flash.redirect(request, f"/assignments/{out.id}/manage",
                          f"{out.title} created." + "".join(f" {w}" for w in out.warnings))


@router.post("/courses/{course_id}/manage/roster")
def import_roster_form(request: Request, access: CourseInstructor, ctx: Ctx, session: DB,
                       file: Annotated[UploadFile, File()]) -> Response:
    """Answered with the page itself, not a redirect: new accounts' one-time passwords are
    shown once, here, and never put in a cookie."""
    try:
        result = import_roster(access, session, file)
    except REFUSALS as exc:
        return refused(request, session, _here(access), exc)
    return _manage(request, access, ctx, session, imported=result)


@router.post("/courses/{course_id}/manage/enroll")
def enroll_form(request: Request, access: CourseInstructor, ctx: Ctx, session: DB,
                fields: Fields) -> Response:
    try:
        done = enroll_one(parse(S.EnrollIn, fields, blank_is_none=False), access, session)
    except REFUSALS as exc:
        return refused(request, session, _here(access), exc)
    return _manage(request, access, ctx, session, enrolled=done)


@router.post("/courses/{course_id}/manage/drop/{user_id}")
def drop_form(request: Request, user_id: int, access: CourseInstructor,
              session: DB) -> Response:
    return submit(request, session, _here(access), "Dropped from the course; their "
                  "submissions and grades are kept.",
                  lambda: drop_member(user_id, access, session))


@router.get("/courses/{course_id}/gradebook")
def gradebook_page(request: Request, access: CourseInstructor, ctx: Ctx,
                   session: DB) -> Response:
    """Per assignment: the counted score, each problem's points, days late and penalty."""
    request.state.user = access.user
    assignments, rows = book.gradebook(session, access.course, full_points_of(ctx))
    infos = {a.id: known_slug(ctx.grader, a.slug) for a in assignments}
    return render(request, "staff/gradebook.html", course=access.course,
                  assignments=assignments, rows=rows,
                  orders={a.id: problem_order(ctx.grader, a.slug) for a in assignments},
                  points=book.problem_points(session, assignments),
                  written={aid: {p.id: p.points for p in info.problems if p.manual}
                           for aid, info in infos.items() if info},
                  manual=written_scores(session, [a.id for a in assignments]))


@router.post("/submissions/{submission_id}/gradebook/score/{problem_id}")
def gradebook_score_form(request: Request, problem_id: str, sa: SubmissionInstructor, ctx: Ctx,
                         session: DB, fields: Fields) -> Response:
    """A written score typed in the gradebook: the review's ``set_score``, back to the row.

    Entered on the counted submission, as the review does; a student without one has the
    form below, which needs none."""
    sub = sa.submission
    back = f"/courses/{sub.assignment.course_id}/gradebook#student-{sub.user_id}"
    return submit(request, session, back, f"Score for {problem_id} of {sub.user.email} saved.",
                  lambda: set_score(problem_id, parse(S.ScoreIn, fields), sa, ctx, session))


@router.post("/assignments/{assignment_id}/gradebook/score/{user_id}/{problem_id}")
def gradebook_written_form(request: Request, user_id: int, problem_id: str,
                           aa: AssignmentInstructor, ctx: Ctx, session: DB,
                           fields: Fields) -> Response:
    """A written score for a student with no graded submission (the written part handed in
    on paper): the API's ``set_written_score``, back to the row."""
    back = f"/courses/{aa.assignment.course_id}/gradebook#student-{user_id}"
    student = session.get(User, user_id)
    who = student.email if student else f"user {user_id}"
    return submit(request, session, back, f"Score for {problem_id} of {who} saved.",
                  lambda: set_written_score(user_id, problem_id, parse(S.ScoreIn, fields), aa,
                                            ctx, session))


@router.get("/courses/{course_id}/gradebook.csv")
def gradebook_download(access: CourseInstructor, ctx: Ctx, session: DB) -> Response:
    return gradebook_csv(access, ctx, session)


