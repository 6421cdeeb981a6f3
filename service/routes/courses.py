"""Courses, their roster and their gradebook."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, HTTPException, UploadFile, status
from fastapi.responses import Response
from sqlalchemy import select

from service import schemas as S
from service.context import Context
from service.deps import DB, CourseInstructor, CourseMember, Ctx, CurrentUser, require_staff
from service.grading import full_points, problem_order
from service.models import Course, Enrollment, User, utcnow
from service.services import gradebook as book
from service.services import roster as rosters
from service.services.errors import Conflict

router = APIRouter(tags=["courses"])


def course_out(c: Course, role: str | None) -> S.CourseOut:
    return S.CourseOut(id=c.id, code=c.code, title=c.title, timezone=c.timezone,
                       late_day_budget=c.late_day_budget, archived_at=c.archived_at,
                       my_role=role)


def member_out(e: Enrollment, u: User) -> S.MemberOut:
    return S.MemberOut(user_id=u.id, email=u.email, name=u.name, role=e.role,
                       late_day_budget=e.late_day_budget)


@router.post("/courses", response_model=S.CourseOut, status_code=201)
def create_course(body: S.CourseCreate, user: Annotated[User, Depends(require_staff)],
                  session: DB) -> S.CourseOut:
    """Create a course (instructors and administrators); you become its instructor."""
    if session.scalars(select(Course).where(Course.code == body.code)).first():
        raise HTTPException(status.HTTP_409_CONFLICT, f"course code {body.code!r} is taken")
    course = Course(**body.model_dump())
    session.add(course)
    session.flush()
    session.add(Enrollment(course_id=course.id, user_id=user.id, role="instructor"))
    session.commit()
    return course_out(course, "instructor")


@router.get("/courses", response_model=list[S.CourseOut])
def list_courses(user: CurrentUser, session: DB, archived: bool = False) -> list[S.CourseOut]:
    """Current courses; ``?archived=true`` lists the archived ones as well."""
    shown = select(Course).order_by(Course.id)
    if not archived:
        shown = shown.where(Course.archived_at.is_(None))
    if user.role == "admin":
        return [course_out(c, "instructor") for c in session.scalars(shown)]
    rows = session.execute(shown.add_columns(Enrollment.role).join(Enrollment)
                           .where(Enrollment.user_id == user.id))
    return [course_out(c, role) for c, role in rows]


@router.get("/courses/{course_id}", response_model=S.CourseOut)
def get_course(access: CourseMember) -> S.CourseOut:
    """One course you are enrolled in, with your role in it."""
    return course_out(access.course, access.role)


@router.patch("/courses/{course_id}", response_model=S.CourseOut)
def update_course(body: S.CourseUpdate, access: CourseInstructor, session: DB) -> S.CourseOut:
    """Rename, move time zone, change the late-day budget, or archive and restore."""
    course = access.course
    changes = body.model_dump(exclude_unset=True)
    nulls = sorted(k for k, v in changes.items() if v is None)
    if nulls:
        raise HTTPException(422, f"{', '.join(nulls)} cannot be null")
    archived = changes.pop("archived", None)
    for k, v in changes.items():
        setattr(course, k, v)
    if archived is not None and archived != (course.archived_at is not None):
        course.archived_at = utcnow() if archived else None
    session.commit()
    return course_out(course, access.role)


@router.get("/courses/{course_id}/roster", response_model=list[S.MemberOut])
def roster(access: CourseInstructor, session: DB) -> list[S.MemberOut]:
    """Everyone enrolled in the course, by email, with their role and own late-day budget."""
    rows = session.execute(select(Enrollment, User).join(User)
                           .where(Enrollment.course_id == access.course.id).order_by(User.email))
    return [member_out(e, u) for e, u in rows]


@router.patch("/courses/{course_id}/roster/{user_id}", response_model=S.MemberOut)
def update_member(user_id: int, body: S.MemberUpdate, access: CourseInstructor,
                  session: DB) -> S.MemberOut:
    """Give one student their own late-day budget (null: the course's again)."""
    row = session.execute(select(Enrollment, User).join(User).where(
        Enrollment.course_id == access.course.id, Enrollment.user_id == user_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"user {user_id} is not enrolled in {access.course.code}")
    enrollment, member = row
    if enrollment.role != "student":
        raise HTTPException(422, "late days are a student's; this member is an instructor")
    enrollment.late_day_budget = body.late_day_budget
    session.commit()
    return member_out(enrollment, member)


@router.delete("/courses/{course_id}/roster/{user_id}", status_code=204)
def drop_member(user_id: int, access: CourseInstructor, session: DB) -> None:
    """Drop a student (or an instructor) from the course: they lose access to it and leave
    the gradebook. Their submissions, results and grades are kept, and enrolling them again
    brings everything back. You cannot drop yourself."""
    rosters.drop(session, access.course, user_id, access.user)


@router.post("/courses/{course_id}/enrollments", response_model=S.Enrolled, status_code=201,
             responses={409: {"description": "already enrolled"}})
def enroll_one(body: S.EnrollIn, access: CourseInstructor, session: DB) -> S.Enrolled:
    """Enroll one person by email, without an administrator: an account that does not exist
    is created (a student account) and its one-time password is in the answer, to hand out.
    ``role`` is their role in this course: ``instructor`` makes a TA."""
    e, password, new = rosters.enroll(session, access.course, body.email, body.name, body.role)
    if not new:
        session.rollback()
        raise Conflict(f"{body.email} is already enrolled in {access.course.code}",
                       code="already_enrolled")
    session.commit()
    return S.Enrolled(member=member_out(e, e.user), initial_password=password)


@router.post("/courses/{course_id}/roster", response_model=S.RosterImported)
def import_roster(access: CourseInstructor, session: DB,
                  file: Annotated[UploadFile, File(description="CSV: email,name[,role]")]
                  ) -> S.RosterImported:
    """Enroll everyone in the CSV; new accounts get a one-time password in the answer."""
    result = rosters.import_roster(session, access.course, file.file.read(5 * 1024 * 1024))
    return S.RosterImported(**vars(result))


def full_points_of(ctx: Context) -> book.FullPoints:
    return lambda a: full_points(ctx.grader, a.slug)


@router.get("/courses/{course_id}/gradebook", response_model=S.Gradebook)
def gradebook_json(access: CourseInstructor, ctx: Ctx, session: DB) -> S.Gradebook:
    """Every student's counted score per assignment (best or last, late penalty and late
    days applied, people's scores included) and their total. A student with no graded
    submission but written scores counts those (``submission_id`` null, nothing late)."""
    assignments, rows = book.gradebook(session, access.course, full_points_of(ctx))
    return S.Gradebook(
        course_id=access.course.id,
        assignments=[{"id": a.id, "title": a.title, "counts": a.counts} for a in assignments],
        students=[S.GradebookRow(
            user_id=r.user_id, email=r.email, name=r.name, total=r.total,
            assignments={str(k): S.GradebookCell(**vars(c)) for k, c in r.cells.items()})
            for r in rows])


@router.get("/courses/{course_id}/gradebook.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def gradebook_csv(access: CourseInstructor, ctx: Ctx, session: DB) -> Response:
    """One row per student: the counted score of each assignment after penalties, its
    problems' points, days late and penalty, and the total. Cells that a spreadsheet would
    read as a formula start with ``'``."""
    name = f"gradebook-{access.course.code}.csv"
    # HTTP headers are Latin-1: an ASCII fallback, and the real name per RFC 6266
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in name)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    orders = {a.id: problem_order(ctx.grader, a.slug)
              for a in book.course_assignments(session, access.course)}
    return Response(book.gradebook_csv(session, access.course, orders, full_points_of(ctx)),
                    media_type="text/csv",
                    headers={"Content-Disposition": disposition})
