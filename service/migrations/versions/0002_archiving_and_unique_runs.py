"""Courses can be archived; a submission's runs are numbered uniquely.

Archived courses are read-only for students and kept for the record. The
unique run number makes two regrades racing for one submission a conflict
instead of two gradings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses") as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("grading_runs") as batch_op:
        batch_op.create_unique_constraint(
            op.f("uq_grading_runs_submission_id"), ["submission_id", "number"])


def downgrade() -> None:
    with op.batch_alter_table("grading_runs") as batch_op:
        batch_op.drop_constraint(op.f("uq_grading_runs_submission_id"), type_="unique")
    with op.batch_alter_table("courses") as batch_op:
        batch_op.drop_column("archived_at")
