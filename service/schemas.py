"""What crosses the HTTP edge. Times go out in the course's time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

Role = Literal["admin", "instructor", "student"]


def local(dt: datetime | None, tz: str) -> datetime | None:
    return None if dt is None else dt.astimezone(ZoneInfo(tz))


def _plausible(dt: datetime) -> datetime:
    """Course dates far from now are typos, and near year 1 or 9999 time-zone arithmetic
    overflows; refuse them here rather than fail later on every read."""
    if not 1970 <= dt.year <= 2199:
        raise ValueError(f"{dt.isoformat()} is outside 1970-2199; check the year")
    return dt


CourseTime = Annotated[datetime, AfterValidator(_plausible)]


# Upper bounds for numbers a course sets: past them a value is a typo, and some (an
# interval of 10^12 s) would overflow a date when applied, or the database's integers.
MAX_LATE_DAYS = 365
MAX_ATTEMPTS = 10_000
MAX_INTERVAL_S = 7 * 86400
MAX_ID = 2**31 - 1


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    name: str
    role: Role
    is_active: bool = True


class UserUpdate(BaseModel):
    is_active: bool | None = Field(
        None, description="false disables the account and revokes every token it holds")


class UserCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = ""
    role: Role = "student"
    password: str = Field(min_length=8)


class PasswordChange(BaseModel):
    current_password: str
    new_password: str = Field(min_length=8)


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class ApiTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="shown once; only its hash is stored")


def _known_timezone(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {v!r} (use an IANA name like Europe/Amsterdam)"
                         ) from exc
    return v


class CourseCreate(BaseModel):
    code: str = Field(min_length=1, max_length=50)
    title: str = Field(min_length=1, max_length=200)
    timezone: str = "UTC"
    late_day_budget: int = Field(0, ge=0, le=MAX_LATE_DAYS)

    _tz = field_validator("timezone")(_known_timezone)


class CourseUpdate(BaseModel):
    """Only the fields sent change. ``archived`` true makes the course read-only for students."""

    title: str | None = Field(None, min_length=1, max_length=200)
    timezone: str | None = None
    late_day_budget: int | None = Field(None, ge=0, le=MAX_LATE_DAYS)
    archived: bool | None = None

    _tz = field_validator("timezone")(_known_timezone)


class CourseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    title: str
    timezone: str
    late_day_budget: int
    archived_at: datetime | None = None
    my_role: str | None = None


class MemberOut(BaseModel):
    user_id: int
    email: str
    name: str
    role: str
    late_day_budget: int | None = Field(
        description="late days of this student; null means the course's budget")


class MemberUpdate(BaseModel):
    late_day_budget: int | None = Field(
        ge=0, le=MAX_LATE_DAYS,
        description="this student's own budget of late days; null restores the course's")


class EnrollIn(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field("", max_length=200)
    role: Literal["student", "instructor"] = "student"


class Enrolled(BaseModel):
    member: MemberOut
    initial_password: str | None = Field(
        description="a new account's one-time password to hand out; null if the account "
                    "existed")


class RosterImported(BaseModel):
    created: list[dict[str, str]] = Field(
        description="new accounts with a one-time initial password to hand out")
    enrolled: int
    already_enrolled: int
    errors: list[str]


class AssignmentBase(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    opens_at: CourseTime
    due_at: CourseTime
    last_accepted_at: CourseTime | None = None
    late_penalty_per_day: float = Field(0.0, ge=0, le=1)
    max_submissions: int | None = Field(None, ge=1, le=MAX_ATTEMPTS)
    min_interval_seconds: int = Field(0, ge=0, le=MAX_INTERVAL_S)
    show_hidden_details: bool = False
    counts: Literal["best", "last"] = "best"
    visible: bool = Field(True, description="students list and reach it; false: a draft "
                                            "only the course's staff see")


class AssignmentCreate(AssignmentBase):
    slug: str = Field(description="a grader in the registry, e.g. radboud-dl-a1, or the slug "
                                  "of one of this course's ready bundles")
    bundle_version: str | None = Field(
        None, description="for a course bundle: the version to grade with (default: the "
                          "newest ready one)")


class AssignmentUpdate(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    bundle_version: str | None = Field(
        None, description="switch a bundle assignment to another ready version of its bundle; "
                          "existing results keep the version they were graded with until "
                          "regraded")
    opens_at: CourseTime | None = None
    due_at: CourseTime | None = None
    last_accepted_at: CourseTime | None = None
    late_penalty_per_day: float | None = Field(None, ge=0, le=1)
    max_submissions: int | None = Field(None, ge=1, le=MAX_ATTEMPTS)
    min_interval_seconds: int | None = Field(None, ge=0, le=MAX_INTERVAL_S)
    show_hidden_details: bool | None = None
    counts: Literal["best", "last"] | None = None
    visible: bool | None = None


class WrittenScoreOut(BaseModel):
    """A student's score for a written problem: theirs on every submission, or alone."""

    user_id: int
    problem_id: str
    points: float
    max_points: float
    reason: str = Field(description="shown to the student")
    by: int
    at: datetime
    submission_id: int | None = Field(
        None, description="the submission it was entered on; none if entered for the student")


class ProblemSpecOut(BaseModel):
    id: str
    points: float
    manual: bool
    training: bool
    dataset: str | None = None


class AssignmentOut(AssignmentBase):
    id: int
    course_id: int
    slug: str
    problems: list[ProblemSpecOut] = []
    my_due_at: datetime | None = None
    late_days_used: int | None = Field(
        None, description="for a student: late days this assignment's counted submission "
                          "spends")
    late_days_left: int | None = Field(
        None, description="for a student: late days left in the course")
    my_written_scores: list[WrittenScoreOut] = Field(
        [], description="for a student: the written problems the course staff has scored, "
                        "whether or not they handed in code")
    warnings: list[str] = Field(
        [], description="on creation: what will not grade as expected, such as data sets "
                        "not installed on the workers")


class ExtensionCreate(BaseModel):
    user_id: int = Field(ge=1, le=MAX_ID)
    due_at: CourseTime
    reason: str = ""


class ExtensionOut(BaseModel):
    user_id: int
    email: str | None = None
    due_at: datetime
    reason: str
    granted_by: int


class ExtraAttemptsCreate(BaseModel):
    user_id: int = Field(ge=1, le=MAX_ID)
    count: int = Field(ge=1, le=100)
    reason: str = ""


class ExtraAttemptsOut(BaseModel):
    """One grant; a student's grants add up, and each is revoked by its ``id``."""

    id: int
    user_id: int
    email: str | None = None
    count: int
    reason: str
    granted_by: int
    created_at: datetime


class ScoreIn(BaseModel):
    points: float = Field(ge=0)
    reason: str = Field(min_length=1, description="shown to the student")


class RegradeIn(BaseModel):
    reason: str = Field(min_length=1, description="shown to the student")
    new_seed: bool = False


class FileOut(BaseModel):
    id: int
    name: str
    size: int
    sha256: str


class CheckOut(BaseModel):
    name: str
    key: str = Field(description="the same check in every run, whatever values its name "
                                 "shows; statistics group checks by it")
    status: str
    message: str
    hidden: bool


class AdjustmentOut(BaseModel):
    kind: str
    points: float
    reason: str
    by: int
    at: datetime


class ProblemOut(BaseModel):
    id: str
    score: float
    max_score: float
    status: str
    message: str
    manual: bool
    autograded_score: float
    adjustment: AdjustmentOut | None = None
    checks: list[CheckOut]


class RegradeOut(BaseModel):
    run: int
    at: datetime | None
    reason: str
    status: str
    score_from: float | None
    score_to: float | None
    changes: list[dict[str, Any]]


class LateFields(BaseModel):
    """What lateness costs, as the gradebook counts it."""

    days_late: int = Field(description="started 24-hour periods after the student's due date")
    late_days_used: int = Field(
        description="late days this submission spends if it is the one that counts")
    late_days_left: int = Field(
        description="the student's late days left in the course, as the gradebook counts them")
    penalty: float = Field(description="share of the score the late penalty takes off, after "
                                       "late days (0.25: a quarter)")
    score_after_penalty: float | None = Field(
        description="the score as the gradebook counts it, late penalty applied")
    counted: bool = Field(description="this is the submission the gradebook counts")


class SubmissionOut(LateFields):
    id: int
    assignment_id: int
    user_id: int
    attempt: int
    status: Literal["queued", "running", "graded", "error"]
    queue_position: int | None = Field(
        None, description="while queued: 1 when a worker takes it next, 2 with one ahead, ...")
    error: str | None = None
    error_kind: Literal["infrastructure"] | None = Field(
        None, description="infrastructure: the grader, not the code, failed; a regrade helps")
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    score: float | None = Field(description="before any late penalty")
    max_score: float | None
    grader_version: str | None
    seed: int | None
    files: list[FileOut]
    problems: list[ProblemOut]
    history: list[RegradeOut]


class SubmissionSummary(LateFields):
    id: int
    assignment_id: int
    user_id: int
    email: str | None = None
    attempt: int
    status: str
    error: str | None = None
    error_kind: Literal["infrastructure"] | None = None
    submitted_at: datetime
    score: float | None = Field(description="before any late penalty")
    max_score: float | None


class GradebookCell(BaseModel):
    submission_id: int | None
    raw: float | None
    score: float | None
    max_score: float
    days_late: int
    late_days_used: int
    penalty: float


class GradebookRow(BaseModel):
    user_id: int
    email: str
    name: str
    total: float
    assignments: dict[str, GradebookCell]


class Gradebook(BaseModel):
    course_id: int
    assignments: list[dict[str, Any]]
    students: list[GradebookRow]


class BundleOut(BaseModel):
    id: int
    course_id: int
    slug: str
    version: str
    title: str
    sha256: str
    status: Literal["checking", "ready", "rejected"]
    progress: str = Field(description="how far the strength check has come")
    report: str = Field(description="the strength report (Markdown) once checked")
    created_at: datetime
    checked_at: datetime | None
