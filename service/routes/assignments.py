"""Assignments: instructors set them up and watch them; students submit to them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, HTTPException, Query, Response, UploadFile, status
from sqlalchemy import func, select

from service import schemas as S
from service.deps import (
    DB,
    AssignmentInstructor,
    AssignmentMember,
    CourseInstructor,
    CourseMember,
    Ctx,
)
from service.grading import known_slug, problem_order
from service.models import (
    Assignment,
    Enrollment,
    Extension,
    ExtraAttempts,
    Submission,
    User,
    utcnow,
)
from service.services import bundles, extensions, scores
from service.services import submissions as subs
from service.services.errors import Conflict
from service.services.gradebook import Scored, standings_of, statistics_for
from service.services.policy import days_late, window
from service.services.queue import relay
from service.services.workers import WorkerView, dataset_warnings
from service.views import (
    assignment_out,
    scores_by_submission,
    submission_out,
    summary_out,
    written_out,
)

router = APIRouter(tags=["assignments"])
CLEARABLE = {"last_accepted_at", "max_submissions"}  # null means: same as due_at, unlimited


def utc(dt: datetime | None, tz: str) -> datetime | None:
    """Times without a zone are read in the course's time zone; one the clocks skip is refused.

    Without the check, 02:30 on the night clocks go forward would silently become
    03:30: a deadline other than the one the instructor typed.
    """
    if dt is None:
        return None
    if dt.tzinfo is None:
        zone = ZoneInfo(tz)
        aware = dt.replace(tzinfo=zone)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != dt:
            raise HTTPException(422, f"{dt.isoformat()} does not exist in {tz}: the clocks skip "
                                     "it; give another time or one with a UTC offset")
        dt = aware
    return dt.astimezone(UTC)


def _problems(ctx: Ctx, slug: str) -> list[S.ProblemSpecOut]:
    info = known_slug(ctx.grader, slug)
    return [] if info is None else [S.ProblemSpecOut(**vars(p)) for p in info.problems]


def _check_dates(a: Assignment) -> None:
    if a.due_at < a.opens_at:
        raise HTTPException(422, "due_at is before opens_at")
    if a.last_accepted_at is not None and a.last_accepted_at < a.due_at:
        raise HTTPException(422, "last_accepted_at is before due_at")


def _student(session: DB, course_id: int, user_id: int) -> User:
    e = session.scalars(select(Enrollment).where(Enrollment.course_id == course_id,
                                                 Enrollment.user_id == user_id,
                                                 Enrollment.role == "student")).first()
    if e is None:
        raise HTTPException(404, f"user {user_id} is not a student of this course")
    return e.user


@router.post("/courses/{course_id}/assignments", response_model=S.AssignmentOut, status_code=201)
def create_assignment(body: S.AssignmentCreate, access: CourseInstructor, ctx: Ctx,
                      session: DB) -> S.AssignmentOut:
    """Create an assignment graded by a registry grader or one of the course's ready
    bundles; dates without a zone are read in the course's time zone."""
    if access.course.archived_at is not None:
        raise Conflict(f"{access.course.code} is archived; restore it to add assignments",
                       code="course_archived")
    data = body.model_dump()
    version = data.pop("bundle_version")
    bundles.refuse_foreign_key(body.slug)
    bundle = bundles.ready_bundle(session, access.course.id, body.slug, version)
    if bundle is not None:
        data["slug"] = bundle.grader_key
    elif known_slug(ctx.grader, body.slug) is None:
        raise HTTPException(422, f"no grader named {body.slug!r}; known: "
                                 f"{', '.join(sorted(ctx.grader.slugs())) or 'none'}")
    tz = access.course.timezone
    for k in ("opens_at", "due_at", "last_accepted_at"):
        data[k] = utc(data[k], tz)
    a = Assignment(course_id=access.course.id, **data)
    a.course = access.course
    _check_dates(a)
    session.add(a)
    session.commit()
    out = assignment_out(a, _problems(ctx, a.slug))
    info = known_slug(ctx.grader, a.slug)
    view = ctx.broker if isinstance(ctx.broker, WorkerView) else None
    out.warnings = dataset_warnings(view, info.problems if info else [])
    return out


@router.get("/courses/{course_id}/assignments", response_model=list[S.AssignmentOut])
def list_assignments(access: CourseMember, ctx: Ctx, session: DB) -> list[S.AssignmentOut]:
    """The course's assignments by due date; a student also sees their own due date and late
    days, and not the drafts (``visible`` false)."""
    query = select(Assignment).where(Assignment.course_id == access.course.id)
    if not access.staff:
        query = query.where(Assignment.visible)
    rows = session.scalars(query.order_by(Assignment.due_at))
    mine = None if access.staff else standings_of(session, access.course,
                                                  [access.user.id])[access.user.id]
    return [assignment_out(a, _problems(ctx, a.slug),
                           None if access.staff else window(session, a, access.user.id).due_at,
                           mine)
            for a in rows]


@router.get("/assignments/{assignment_id}", response_model=S.AssignmentOut)
def get_assignment(aa: AssignmentMember, ctx: Ctx, session: DB) -> S.AssignmentOut:
    """One assignment and its problems; a student also sees their own due date (extension
    applied), late days used on it, late days left, and their written scores (given with or
    without a submission)."""
    a, me = aa.assignment, aa.access.user.id
    problems = _problems(ctx, a.slug)
    if aa.access.staff:
        return assignment_out(a, problems)
    out = assignment_out(a, problems, window(session, a, me).due_at,
                         standings_of(session, a.course, [me])[me])
    worth = {p.id: p.points for p in problems}
    written = scores.written_of(session, a.id, me)
    out.my_written_scores = [written_out(written[p], worth[p], a.course.timezone)
                             for p in worth if p in written]
    return out


@router.patch("/assignments/{assignment_id}", response_model=S.AssignmentOut)
def update_assignment(body: S.AssignmentUpdate, aa: AssignmentInstructor, ctx: Ctx,
                      session: DB) -> S.AssignmentOut:
    """Change an assignment's dates, rules or bundle version; only the fields sent change,
    and only the optional settings can be cleared with null."""
    a = aa.assignment
    changes = body.model_dump(exclude_unset=True)
    nulls = sorted(k for k, v in changes.items() if v is None and k not in CLEARABLE)
    if nulls:  # only the optional settings can be cleared; the rest keep a value
        raise HTTPException(422, f"{', '.join(nulls)} cannot be null")
    if "bundle_version" in changes:
        slug = a.slug.partition("@")[0]
        if "@" not in a.slug:
            raise HTTPException(422, f"{a.slug} is a built-in assignment, not a course bundle")
        bundle = bundles.ready_bundle(session, a.course_id, slug, changes.pop("bundle_version"))
        assert bundle is not None
        a.slug = bundle.grader_key
    for k, v in changes.items():
        setattr(a, k, utc(v, a.course.timezone) if isinstance(v, datetime) else v)
    _check_dates(a)
    session.commit()
    return assignment_out(a, _problems(ctx, a.slug))


@router.get("/assignments/{assignment_id}/statistics")
def assignment_statistics(aa: AssignmentInstructor, ctx: Ctx, session: DB) -> dict[str, Any]:
    """Counted scores (histogram, mean, median), pass rates per problem and per check
    (checks grouped by their stable key), and the median grading time. A problem passes
    with full points, a person's score counting where one was given; a written problem's
    rate is over the students scored on it (on paper without a submission too), the
    students with a submission not scored yet counted as ``unscored``."""
    info = known_slug(ctx.grader, aa.assignment.slug)
    return statistics_for(session, aa.assignment, info.problems if info else [])


@router.post("/assignments/{assignment_id}/extensions", response_model=S.ExtensionOut,
             status_code=201)
def grant_extension(body: S.ExtensionCreate, aa: AssignmentInstructor,
                    session: DB) -> S.ExtensionOut:
    """Give one student their own due date; the last accepted date moves by as much.
    Granting again replaces the earlier extension."""
    a = aa.assignment
    _student(session, a.course_id, body.user_id)
    due = utc(body.due_at, a.course.timezone)
    assert due is not None
    ext = session.scalars(select(Extension).where(Extension.assignment_id == a.id,
                                                  Extension.user_id == body.user_id)).first()
    if ext is None:
        ext = Extension(assignment_id=a.id, user_id=body.user_id, due_at=due,
                        granted_by=aa.access.user.id, reason=body.reason)
        session.add(ext)
    else:
        ext.due_at, ext.reason, ext.granted_by = due, body.reason, aa.access.user.id
    session.commit()
    return S.ExtensionOut(user_id=ext.user_id, due_at=S.local(due, a.course.timezone),  # type: ignore[arg-type]
                          reason=ext.reason, granted_by=ext.granted_by)


@router.get("/assignments/{assignment_id}/extensions", response_model=list[S.ExtensionOut])
def list_extensions(aa: AssignmentInstructor, session: DB) -> list[S.ExtensionOut]:
    """Every student's own due date for this assignment, in the course's time zone."""
    tz = aa.assignment.course.timezone
    return [S.ExtensionOut(user_id=e.user_id, email=email, due_at=S.local(e.due_at, tz),  # type: ignore[arg-type]
                           reason=e.reason, granted_by=e.granted_by)
            for e, email in extensions.list_extensions(session, aa.assignment)]


@router.delete("/assignments/{assignment_id}/extensions/{user_id}", status_code=204)
def revoke_extension(user_id: int, aa: AssignmentInstructor, session: DB) -> None:
    """Take back a student's extension: their due date is the assignment's again. What they
    submitted is kept; lateness is counted against the assignment's own dates."""
    extensions.revoke(session, aa.assignment, user_id)


@router.post("/assignments/{assignment_id}/extra-attempts", response_model=S.ExtraAttemptsOut,
             status_code=201)
def grant_extra_attempts(body: S.ExtraAttemptsCreate, aa: AssignmentInstructor,
                         session: DB) -> S.ExtraAttemptsOut:
    """Let one student submit more times than the assignment's limit. Grants add up; each
    can be revoked on its own by its ``id``."""
    a = aa.assignment
    _student(session, a.course_id, body.user_id)
    g = extensions.grant_attempts(session, a, body.user_id, body.count, body.reason,
                                  by=aa.access.user.id)
    return _grant_out(g, None, a.course.timezone)


def _grant_out(g: ExtraAttempts, email: str | None, tz: str) -> S.ExtraAttemptsOut:
    return S.ExtraAttemptsOut(id=g.id, user_id=g.user_id, email=email, count=g.count,
                              reason=g.reason, granted_by=g.granted_by,
                              created_at=S.local(g.created_at, tz))  # type: ignore[arg-type]


@router.get("/assignments/{assignment_id}/extra-attempts",
            response_model=list[S.ExtraAttemptsOut])
def list_extra_attempts(aa: AssignmentInstructor, session: DB) -> list[S.ExtraAttemptsOut]:
    """Every grant of extra attempts for this assignment, by student, with who granted it
    and why; a student's limit is the assignment's plus the sum of their grants."""
    tz = aa.assignment.course.timezone
    return [_grant_out(g, email, tz)
            for g, email in extensions.list_attempts(session, aa.assignment)]


@router.delete("/assignments/{assignment_id}/extra-attempts/{grant_id}", status_code=204)
def revoke_extra_attempts(grant_id: int, aa: AssignmentInstructor, session: DB) -> None:
    """Take back one grant of extra attempts. What the student already submitted is kept
    and counted; new uploads are refused once they are at the lowered limit."""
    extensions.revoke_attempts(session, aa.assignment, grant_id)


@router.put("/assignments/{assignment_id}/students/{user_id}/problems/{problem_id}/score",
            response_model=S.WrittenScoreOut)
def set_written_score(user_id: int, problem_id: str, body: S.ScoreIn, aa: AssignmentInstructor,
                      ctx: Ctx, session: DB) -> S.WrittenScoreOut:
    """A student's score for a written (``manual``) problem, whether or not they handed in
    any code: it counts on every submission of theirs, and alone in the gradebook when they
    have none (nothing late, so no penalty). Autograded problems are overridden on a
    submission instead."""
    info = known_slug(ctx.grader, aa.assignment.slug)
    adj = scores.set_written(session, aa.assignment, info, user_id, problem_id, body.points,
                             body.reason, aa.access.user)
    session.commit()
    return written_out(adj, scores.problem(info, problem_id).points,
                       aa.assignment.course.timezone)


@router.delete("/assignments/{assignment_id}/students/{user_id}/problems/{problem_id}/score",
               status_code=204)
def clear_written_score(user_id: int, problem_id: str, aa: AssignmentInstructor, ctx: Ctx,
                        session: DB) -> None:
    """Take a student's written score for a problem back: it is not scored again, on
    every submission of theirs too."""
    scores.clear_written(session, aa.assignment, known_slug(ctx.grader, aa.assignment.slug),
                         user_id, problem_id)
    session.commit()


@router.post("/assignments/{assignment_id}/regrade", status_code=202)
def regrade_assignment(body: S.RegradeIn, aa: AssignmentInstructor, ctx: Ctx,
                       session: DB) -> dict[str, Any]:
    """Every finished submission gets a new run on the regrade queue; busy ones are skipped."""
    queued, skipped = [], []
    for sub in session.scalars(select(Submission).where(
            Submission.assignment_id == aa.assignment.id).order_by(Submission.id)):
        try:
            subs.regrade(ctx, session, sub, by=aa.access.user, reason=body.reason, bulk=True,
                         new_seed=body.new_seed)
        except Conflict:  # queued, running, or just regraded by a concurrent request
            skipped.append(sub.id)
            continue
        queued.append(sub.id)
    session.commit()
    relay(ctx)
    return {"queued": queued, "skipped_in_progress": skipped}


PAGED = {200: {"headers": {"X-Total-Count": {
    "description": "how many submissions match, over all pages", "schema": {"type": "integer"}}}}}
Limit = Annotated[int, Query(ge=1, le=500, description="at most this many in one answer")]
Offset = Annotated[int, Query(ge=0, description="skip this many (for the next page)")]


@router.get("/assignments/{assignment_id}/submissions", response_model=list[S.SubmissionSummary],
            responses=PAGED)
def list_submissions(
        aa: AssignmentInstructor, session: DB, response: Response,
        user_id: int | None = None,
        status_: Annotated[Literal["queued", "running", "graded", "error"] | None,
                           Query(alias="status")] = None,
        latest_only: bool = False,
        late: bool | None = None,
        problem: Annotated[str | None, Query(
            description="only graded submissions that lost points on this problem")] = None,
        limit: Limit = 100, offset: Offset = 0) -> list[S.SubmissionSummary]:
    """Submissions to this assignment by student and attempt, filtered, one page at a time:
    ``X-Total-Count`` says how many match; ``offset`` pages on."""
    q = (select(Submission, User.email).join(User, Submission.user_id == User.id)
         .where(Submission.assignment_id == aa.assignment.id))
    if user_id is not None:
        q = q.where(Submission.user_id == user_id)
    if status_ is not None:
        q = q.where(Submission.status == status_)
    rows = [(s, email) for s, email in
            session.execute(q.order_by(Submission.user_id, Submission.attempt))]
    if latest_only:
        rows = list({s.user_id: (s, email) for s, email in rows}.values())
    if late is not None:
        dues = {u: window(session, aa.assignment, u).due_at for u in {s.user_id for s, _ in rows}}
        rows = [(s, email) for s, email in rows
                if (days_late(s.submitted_at, dues[s.user_id]) > 0) == late]
    if problem is not None:
        every = scores_by_submission(session, aa.assignment.id)
        rows = [(s, email) for s, email in rows if _lost_points(every, s.id, problem)]
    response.headers["X-Total-Count"] = str(len(rows))
    page = rows[offset:offset + limit]
    users = list({s.user_id for s, _ in page})
    scores = scores_by_submission(session, aa.assignment.id, users)
    standing = standings_of(session, aa.assignment.course, users)
    return [summary_out(session, s, standing[s.user_id], email, scores.get(s.id))
            for s, email in page]


def _lost_points(scores: dict[int, Scored], submission_id: int, problem: str) -> bool:
    sc = scores.get(submission_id)
    p = next((p for p in sc.problems if p.problem_id == problem), None) if sc else None
    if sc is None or p is None:
        return False
    adj = sc.adjusted.get(problem)
    return (adj.points if adj else p.score) < p.max_score


@router.get("/assignments/{assignment_id}/my-submissions",
            response_model=list[S.SubmissionSummary], responses=PAGED)
def my_submissions(aa: AssignmentMember, session: DB, response: Response,
                   limit: Limit = 100, offset: Offset = 0) -> list[S.SubmissionSummary]:
    """Your own submissions to this assignment, oldest first, with each one's score, late
    penalty and whether it is the one that counts; ``X-Total-Count`` says how many."""
    q = select(Submission).where(Submission.assignment_id == aa.assignment.id,
                                 Submission.user_id == aa.access.user.id)
    response.headers["X-Total-Count"] = str(session.scalar(
        select(func.count()).select_from(q.subquery())))
    rows = session.scalars(q.order_by(Submission.attempt).offset(offset).limit(limit))
    me = aa.access.user.id
    scores = scores_by_submission(session, aa.assignment.id, [me])
    mine = standings_of(session, aa.assignment.course, [me])[me]
    return [summary_out(session, s, mine, scored=scores.get(s.id)) for s in rows]


@router.post("/assignments/{assignment_id}/submissions", response_model=S.SubmissionOut,
             status_code=status.HTTP_201_CREATED,
             responses={403: {"description": "not open yet, or closed"},
                        409: {"description": "submission limit reached"},
                        413: {"description": "too many or too large files"},
                        429: {"description": "minimum interval between submissions, too many "
                                             "refused uploads, or one still being checked"},
                        503: {"description": "every upload reader busy; nothing was kept"}})
def upload(aa: AssignmentMember, ctx: Ctx, session: DB,
           files: Annotated[list[UploadFile], File(description="one or more files")]
           ) -> S.SubmissionOut:
    """Hand in one or more files (.py, .ipynb, zip) as a student; grading is queued: follow
    it with ``/submissions/{id}/wait`` or ``/events``. Files that cannot earn a point are
    refused without using an attempt."""
    if aa.access.role != "student":
        raise HTTPException(403, "only students of the course submit")
    sub = subs.accept_upload(ctx, session, aa.assignment, aa.access.user,
                             [(f.filename or "", f.content_type or "", f.file) for f in files])
    return submission_out(session, sub, staff=False, now=utcnow(),
                          order=problem_order(ctx.grader, aa.assignment.slug))
