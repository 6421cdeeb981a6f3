"""The database is the source of truth: what was submitted, what is queued, what was graded.

Times are stored in UTC (``UTCDateTime``) and converted to the course's time
zone only at the API edge. Grading is split into *runs* (the first grading
and every regrade, each with its seed and grader version) and *jobs* (the
queue units of a run: quick problems and training problems may go to
different queues). Jobs carry the lease; the outbox carries pending sends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the zone, PostgreSQL keeps it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="student")  # admin|instructor|student
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Access tokens carry the epoch they were issued in; raising it (a password change, the
    # account disabled) makes every earlier one invalid before it expires.
    token_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """Long-lived tokens for scripts; only a hash is kept, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    late_day_budget: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An archived course is read-only for students and hidden from default listings;
    # its submissions, results and gradebook are kept.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # instructor|student
    late_day_budget: Mapped[int | None] = mapped_column(Integer)  # overrides the course's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Assignment(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100))  # the grader in the registry
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_penalty_per_day: Mapped[float] = mapped_column(Float, default=0.0)
    max_submissions: Mapped[int | None] = mapped_column(Integer)
    min_interval_seconds: Mapped[int] = mapped_column(Integer, default=0)
    show_hidden_details: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[str] = mapped_column(String(10), default="best")  # best|last
    # False: a draft its course's staff prepare; students neither list nor reach it.
    visible: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship()


class CourseBundle(Base):
    """A course's own assignment bundle, one row per uploaded version.

    The zip is kept in shared storage under its content hash; an assignment
    graded with it stores ``grader_key`` (``slug@hash``) as its slug, so every
    worker loads exactly the version the assignment names. It is usable only
    once its strength check has passed (``status == "ready"``).
    """

    __tablename__ = "course_bundles"
    __table_args__ = (UniqueConstraint("course_id", "slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    slug: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="checking")  # checking|ready|rejected
    progress: Mapped[str] = mapped_column(String(200), default="")
    report: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a worker (or the embedded API) began its check; unset while it waits in the queue.
    check_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def grader_key(self) -> str:
        return f"{self.slug}@{self.sha256[:16]}"


class Extension(Base):
    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExtraAttempts(Base):
    __tablename__ = "extra_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(Integer)
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("assignment_id", "user_id", "attempt"),
        Index("ix_submissions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued|running|graded|error
    error_kind: Mapped[str | None] = mapped_column(String(20))  # infrastructure
    error_message: Mapped[str | None] = mapped_column(Text)
    storage_key: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("grading_runs.id", use_alter=True, ondelete="SET NULL"))

    assignment: Mapped[Assignment] = relationship()
    user: Mapped[User] = relationship()
    files: Mapped[list[SubmissionFile]] = relationship(order_by="SubmissionFile.id")


class SubmissionFile(Base):
    """A file exactly as uploaded; the bytes live on disk under the data dir."""

    __tablename__ = "submission_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")


class GradingRun(Base):
    """One grading of a submission: the first, or a regrade with who asked and why."""

    __tablename__ = "grading_runs"
    # Two regrades racing for the same submission cannot both become run n.
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued|running|done|error
    seed: Mapped[int] = mapped_column(Integer)
    grader_version: Mapped[str | None] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    previous_run_id: Mapped[int | None] = mapped_column(ForeignKey("grading_runs.id"))
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    jobs: Mapped[list[GradingJob]] = relationship(order_by="GradingJob.id")
    problems: Mapped[list[ProblemResult]] = relationship(order_by="ProblemResult.id")


class GradingJob(Base):
    """A queue unit: some problems of a run, with the lease of whoever grades them."""

    __tablename__ = "grading_jobs"
    __table_args__ = (
        UniqueConstraint("run_id", "part"),
        Index("ix_grading_jobs_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grading_runs.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    part: Mapped[str] = mapped_column(String(20))  # all|quick|training
    queue: Mapped[str] = mapped_column(String(100))
    problems: Mapped[list[str] | None] = mapped_column(JSON)  # None: every problem
    # queued|running|done|error|cancelled (superseded by a newer run)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    sends: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Outbox(Base):
    """Sends decided in a transaction, made to the broker after it commits."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_sent_at", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("grading_jobs.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ProblemResult(Base):
    __tablename__ = "problem_results"
    # The job planner reads a problem's latest timings (service/services/durations.py).
    __table_args__ = (UniqueConstraint("run_id", "problem_id"),
                      Index("ix_problem_results_problem_id_id", "problem_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grading_runs.id", ondelete="CASCADE"))
    problem_id: Mapped[str] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text, default="")
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    grader_version: Mapped[str] = mapped_column(String(50))
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    checks: Mapped[list[CheckResult]] = relationship(order_by="CheckResult.position")


class CheckResult(Base):
    __tablename__ = "check_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_result_id: Mapped[int] = mapped_column(
        ForeignKey("problem_results.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    # The same check in every run (the name may show a run's random values): statistics
    # group on it.
    key: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text, default="")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    fraction: Mapped[float] = mapped_column(Float, default=0.0)


class ScoreAdjustment(Base):
    """A person's score for a problem: ``manual`` problems, or an ``override`` of the grader.

    A manual score belongs to the student and the problem: every submission of
    theirs to the assignment shows it, so a later upload or a switch to "last
    counts" keeps the written grade. An override judges one submission's code and
    applies to that submission only. ``submission_id`` is where it was entered: none for
    a written score given to a student who handed in no code (an override always has one).
    """

    __tablename__ = "score_adjustments"
    __table_args__ = (CheckConstraint("kind = 'manual' OR submission_id IS NOT NULL",
                                      name="override_has_submission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    problem_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # manual|override
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
