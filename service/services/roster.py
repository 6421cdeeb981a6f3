"""Enrolling a class from a CSV export (``email,name[,role]``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Course, Enrollment, User
from service.security import generate_password, hash_password
from service.services.errors import Conflict, Invalid, NotFound


@dataclass
class RosterResult:
    created: list[dict[str, str]] = field(default_factory=list)
    enrolled: int = 0
    already_enrolled: int = 0
    errors: list[str] = field(default_factory=list)


MAX_EMAIL, MAX_NAME = 320, 200  # the users table's columns: longer aborts the whole import

def import_roster(session: Session, course: Course, data: bytes) -> RosterResult:
    """Create missing accounts (with a one-time password to hand out) and enroll everyone.

    Bad lines are reported, not fatal: one typo should not block a class of 300.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the roster is not UTF-8 text", code="bad_roster") from exc
    # newline="": the csv module does its own line splitting, so a stray carriage return
    # (a spreadsheet export, a pasted cell) is a line end rather than an error.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, raw) for raw in reader]
    except csv.Error as exc:  # an overlong field, a NUL byte: refuse the file, keep nothing
        raise Invalid(f"the roster is not readable CSV after line {reader.line_num}: {exc}; "
                      "nobody was enrolled", code="bad_roster") from exc
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise Invalid("the roster CSV needs a header row with an 'email' column",
                      code="bad_roster")
    out = RosterResult()
    for lineno, raw in rows:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        email, role = row.get("email", "").lower(), row.get("role") or "student"
        name = row.get("name", "")
        if "@" not in email or len(email) > MAX_EMAIL:
            out.errors.append(f"line {lineno}: {email[:80]!r} is not an email address")
            continue
        if len(name) > MAX_NAME:
            out.errors.append(f"line {lineno}: the name is longer than {MAX_NAME} characters")
            continue
        if role not in ("student", "instructor"):
            out.errors.append(f"line {lineno}: role {role!r} is not student or instructor")
            continue
        _, password, new = enroll(session, course, email, name, role)
        if password is not None:
            out.created.append({"email": email, "initial_password": password})
        if new:
            out.enrolled += 1
        else:
            out.already_enrolled += 1
    session.commit()
    return out


def enroll(session: Session, course: Course, email: str, name: str,
           role: str) -> tuple[Enrollment, str | None, bool]:
    """(enrollment, one-time password if an account was made, whether it is new).

    A missing account is created as a student account, whatever its role in this
    course, so that an instructor never makes an account with rights elsewhere.
    """
    email = email.strip().lower()
    user = session.scalars(select(User).where(User.email == email)).first()
    password = None
    if user is None:
        password = generate_password()
        user = User(email=email, name=name, role="student", password_hash=hash_password(password))
        session.add(user)
        session.flush()
    exists = session.scalars(select(Enrollment).where(
        Enrollment.course_id == course.id, Enrollment.user_id == user.id)).first()
    if exists is not None:
        return exists, password, False
    e = Enrollment(course_id=course.id, user_id=user.id, role=role)
    e.user = user
    session.add(e)
    session.flush()
    return e, password, True


def drop(session: Session, course: Course, user_id: int, by: User) -> None:
    """Take someone off the course; their submissions, results and grades are kept (enrolling
    them again brings everything back)."""
    e = session.scalars(select(Enrollment).where(Enrollment.course_id == course.id,
                                                 Enrollment.user_id == user_id)).first()
    if e is None:
        raise NotFound(f"user {user_id} is not enrolled in {course.code}", code="not_enrolled")
    if user_id == by.id:
        raise Conflict("you cannot drop yourself from a course", code="drop_self")
    session.delete(e)
    session.commit()
