"""Alembic migrations build the models' schema on PostgreSQL and SQLite, and go back down."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from service.db import alembic_config, migrate
from service.models import Base


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
