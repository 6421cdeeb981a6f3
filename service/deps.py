"""Who is asking and what they may touch, as dependencies the routes declare."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.context import Context
from service.models import ApiToken, Assignment, Course, Enrollment, Submission, User, utcnow
from service.security import API_TOKEN_PREFIX, decode_access_token, hash_api_token
from service.web import session as web_session
from service.web.session import PageSession

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


Ctx = Annotated[Context, Depends(get_ctx)]


def get_session(ctx: Ctx) -> Iterator[Session]:
    with ctx.sessions() as session:
        yield session


DB = Annotated[Session, Depends(get_session)]

_UNAUTHORIZED = HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated",
                              headers={"WWW-Authenticate": "Bearer"})


async def page_session(request: Request, ctx: Ctx) -> PageSession | None:
    """A browser's session cookie; a request that changes something must also carry its
    CSRF token, or it is refused (a bearer token, when present, wins and needs none)."""
    if request.headers.get("authorization"):
        return None
    found = web_session.read(request, ctx.secret, ctx.settings.session_hours)
    if found is None or request.method in web_session.SAFE_METHODS:
        return found
    if not web_session.same(await web_session.sent_token(request), found.csrf):
        raise web_session.CSRF_REFUSED
    return found


def current_user(ctx: Ctx, session: DB, token: Annotated[str | None, Depends(oauth2)],
                 page: Annotated[PageSession | None, Depends(page_session)]) -> User:
    """A short-lived JWT from /auth/token, a long-lived ``dlg_`` API token, or the pages'
    session cookie (with its CSRF token on anything but a read)."""
    if not token and page is None:
        raise _UNAUTHORIZED
    user: User | None = None
    if not token:
        assert page is not None
        user = session.get(User, page.user_id)
        if user is not None and user.token_epoch != page.epoch:
            user = None  # a password change or a disabled account ends every session
    elif token.startswith(API_TOKEN_PREFIX):
        row = session.scalars(select(ApiToken).where(
            ApiToken.token_hash == hash_api_token(token), ApiToken.revoked_at.is_(None))).first()
        if row is not None:
            row.last_used_at = utcnow()
            session.commit()
            user = row.user
    else:
        claims = decode_access_token(token, ctx.secret)
        if claims is not None:
            user = session.get(User, claims[0])
            if user is not None and user.token_epoch != claims[1]:
                user = None  # issued before a password change or the account being disabled
    if user is None or not user.is_active:
        raise _UNAUTHORIZED
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def forbidden(msg: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, msg)


def require_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise forbidden("only an administrator may do this")
    return user


def require_staff(user: CurrentUser) -> User:
    if user.role not in ("admin", "instructor"):
        raise forbidden("only instructors may do this")
    return user


@dataclass
class Access:
    """A user's standing in one course; admins are instructors everywhere."""

    user: User
    course: Course
    role: str

    @property
    def staff(self) -> bool:
        return self.role == "instructor"


def _access(session: Session, user: User, course_id: int) -> Access:
    course = session.get(Course, course_id)
    if course is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no course {course_id}")
    if user.role == "admin":
        return Access(user, course, "instructor")
    role = session.scalar(select(Enrollment.role).where(Enrollment.course_id == course_id,
                                                        Enrollment.user_id == user.id))
    if role is None:
        raise forbidden("you are not enrolled in this course")
    return Access(user, course, role)


def course_member(course_id: int, user: CurrentUser, session: DB) -> Access:
    return _access(session, user, course_id)


def course_instructor(access: Annotated[Access, Depends(course_member)]) -> Access:
    if not access.staff:
        raise forbidden("only the course's instructors may do this")
    return access


CourseMember = Annotated[Access, Depends(course_member)]
CourseInstructor = Annotated[Access, Depends(course_instructor)]


@dataclass
class AssignmentAccess:
    assignment: Assignment
    access: Access


def assignment_member(assignment_id: int, user: CurrentUser, session: DB) -> AssignmentAccess:
    """A draft (not ``visible``) does not exist for a student: the same 404 as none."""
    a = session.get(Assignment, assignment_id)
    if a is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no assignment {assignment_id}")
    access = _access(session, user, a.course_id)
    if not a.visible and not access.staff:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no assignment {assignment_id}")
    return AssignmentAccess(a, access)


def assignment_instructor(
        aa: Annotated[AssignmentAccess, Depends(assignment_member)]) -> AssignmentAccess:
    if not aa.access.staff:
        raise forbidden("only the course's instructors may do this")
    return aa


AssignmentMember = Annotated[AssignmentAccess, Depends(assignment_member)]
AssignmentInstructor = Annotated[AssignmentAccess, Depends(assignment_instructor)]


@dataclass
class SubmissionAccess:
    submission: Submission
    access: Access


def submission_viewer(submission_id: int, user: CurrentUser, session: DB) -> SubmissionAccess:
    """The student who submitted it, or an instructor of its course; to a student, the
    submissions of a draft assignment do not exist, as the draft does not."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no submission {submission_id}")
    access = _access(session, user, sub.assignment.course_id)
    if not access.staff and not sub.assignment.visible:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no submission {submission_id}")
    if not access.staff and sub.user_id != user.id:
        raise forbidden("this is not your submission")
    return SubmissionAccess(sub, access)


def submission_instructor(
        sa: Annotated[SubmissionAccess, Depends(submission_viewer)]) -> SubmissionAccess:
    if not sa.access.staff:
        raise forbidden("only the course's instructors may do this")
    return sa


SubmissionViewer = Annotated[SubmissionAccess, Depends(submission_viewer)]
SubmissionInstructor = Annotated[SubmissionAccess, Depends(submission_instructor)]


def bundle_publisher(access: CourseInstructor, ctx: Ctx) -> Access:
    """Admins; a course's instructors only where the settings allow (a bundle is code that
    runs in the grader, with the grader's rights)."""
    if access.user.role != "admin" and not ctx.settings.instructors_publish_bundles:
        raise forbidden("only an administrator may publish a bundle (it is code that runs "
                        "in the grader); DLGRADE_INSTRUCTORS_PUBLISH_BUNDLES lets a course's "
                        "instructors publish for their course")
    return access


BundlePublisher = Annotated[Access, Depends(bundle_publisher)]
