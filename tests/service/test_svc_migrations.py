"""Alembic migrations build the models' schema on PostgreSQL and SQLite, and go back down."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

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
