"""First start of an empty database: an admin, a demo course, a demo student and assignment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from service.context import Context
from service.grading import known_slug
from service.models import Assignment, Course, Enrollment, User, utcnow
from service.security import generate_password, hash_password


@dataclass(frozen=True)
class FirstStart:
    admin_email: str
    admin_password: str
    student_email: str
    student_password: str
    course_id: int
    assignment_id: int | None


def bootstrap(ctx: Context, demo: bool = True) -> FirstStart | None:
    """Only when there are no users at all; returns the passwords to print once."""
    with ctx.sessions() as s:
        if s.scalar(select(func.count()).select_from(User)):
            return None
        admin_pw, student_pw = generate_password(), generate_password()
        admin = User(email="admin@localhost", name="Administrator", role="admin",
                     password_hash=hash_password(admin_pw))
        student = User(email="student@localhost", name="Demo Student", role="student",
                       password_hash=hash_password(student_pw))
        s.add_all([admin, student])
        course = Course(code="DEMO", title="Demo course", timezone="UTC", late_day_budget=2)
        s.add(course)
        s.flush()
        s.add_all([Enrollment(course_id=course.id, user_id=admin.id, role="instructor"),
                   Enrollment(course_id=course.id, user_id=student.id, role="student")])
        assignment_id = None
        slugs = ctx.grader.slugs() if demo else []
        slug = ctx.settings.demo_assignment if ctx.settings.demo_assignment in slugs else (
            slugs[0] if slugs else None)
        info = known_slug(ctx.grader, slug) if slug else None
        if info is not None:
            now = utcnow()
            a = Assignment(course_id=course.id, slug=info.slug, title=info.title[:200],
                           opens_at=now - timedelta(minutes=1), due_at=now + timedelta(days=14),
                           last_accepted_at=now + timedelta(days=21), late_penalty_per_day=0.1,
                           counts="best")
            s.add(a)
            s.flush()
            assignment_id = a.id
        s.commit()
        return FirstStart(admin.email, admin_pw, student.email, student_pw, course.id,
                          assignment_id)
