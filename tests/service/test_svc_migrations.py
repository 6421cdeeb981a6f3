"""Alembic migrations build the models' schema on PostgreSQL and SQLite, and go back down."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import PG_ADMIN
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import alembic_config, migrate
from service.models import Assignment, Base, Course, ScoreAdjustment, Submission, User, utcnow


def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(mc, Base.metadata)
    engine.dispose()
    return diff


def test_postgres_schema_matches_models(pg_url: str) -> None:
    assert _diff(pg_url) == []


def test_sqlite_migrates_up_and_down(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate(url)
    assert _diff(url) == []
    command.downgrade(alembic_config(url), "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate(url)


def test_checks_graded_before_keys_existed_get_their_name_without_numbers(tmp_path: Path
                                                                          ) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    command.upgrade(alembic_config(url), "0004")
    engine = create_engine(url)
    with engine.begin() as conn:  # the foreign keys are not enforced by SQLite here
        conn.execute(text("INSERT INTO check_results (id, problem_result_id, position, name, "
                          "status, message, hidden, weight, fraction) VALUES "
                          "(1, 1, 0, 'Linear.step(0.159) → W', 'passed', '', 0, 1, 1)"))
    migrate(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT key FROM check_results")).scalar() == "Linear.step(#) → W"
    engine.dispose()


def test_scores_entered_before_0006_belong_to_their_submissions_student(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    command.upgrade(alembic_config(url), "0005")
    engine = create_engine(url)
    with engine.begin() as conn:  # SQLite does not enforce the foreign keys here
        conn.execute(text("INSERT INTO submissions (id, assignment_id, user_id, attempt, status, "
                          "storage_key, submitted_at) VALUES (5, 7, 9, 1, 'graded', 'k', "
                          "'2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO score_adjustments (submission_id, problem_id, kind, "
                          "points, reason, created_by, created_at) VALUES "
                          "(5, 'm1', 'manual', 3, 'clear plot', 1, '2026-01-02 00:00:00')"))
    migrate(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT assignment_id, user_id FROM score_adjustments")
                            ).one() == (7, 9)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: these tests go down and up again, which the session's cannot."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'x.db'}"
        return
    name = f"dlgrade_mig_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_written_score_needs_no_submission_but_an_override_does(empty_db: str) -> None:
    migrate(empty_db)
    engine = create_engine(empty_db)
    with Session(engine) as s:
        u = User(email="a@example.org", role="student")
        c = Course(code="C", title="c", timezone="UTC")
        s.add_all([u, c])
        s.flush()
        a = Assignment(course_id=c.id, slug="fake-a1", title="a1", opens_at=utcnow(),
                       due_at=utcnow())
        s.add(a)
        s.flush()
        sub = Submission(assignment_id=a.id, user_id=u.id, attempt=1, storage_key="k")
        s.add(sub)
        s.flush()
        common = {"assignment_id": a.id, "user_id": u.id, "reason": "r", "created_by": u.id}
        s.add_all([ScoreAdjustment(submission_id=None, problem_id="m1", kind="manual",
                                   points=3, **common),
                   ScoreAdjustment(submission_id=sub.id, problem_id="m2", kind="manual",
                                   points=1, **common),
                   ScoreAdjustment(submission_id=sub.id, problem_id="p1", kind="override",
                                   points=2, **common)])
        s.commit()
        s.add(ScoreAdjustment(submission_id=None, problem_id="p1", kind="override", points=2,
                              **common))
        with pytest.raises(IntegrityError):
            s.commit()
    command.downgrade(alembic_config(empty_db), "0007")
    with engine.connect() as conn:  # the old schema cannot hold a score without a submission
        assert sorted(conn.execute(text("SELECT problem_id FROM score_adjustments")
                                   ).scalars()) == ["m2", "p1"]
        columns = {c["name"]: c for c in inspect(conn).get_columns("score_adjustments")}
        assert columns["submission_id"]["nullable"] is False
    migrate(empty_db)
    assert _diff(empty_db) == []
    engine.dispose()
