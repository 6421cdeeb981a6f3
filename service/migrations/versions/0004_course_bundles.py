"""Courses publish their own assignment bundles, each version checked before use.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "course_bundles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("progress", sa.String(length=200), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"],
                                name=op.f("fk_course_bundles_course_id_courses"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"],
                                name=op.f("fk_course_bundles_uploaded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_bundles")),
        sa.UniqueConstraint("course_id", "slug", "version",
                            name=op.f("uq_course_bundles_course_id")),
    )
    op.create_index(op.f("ix_course_bundles_course_id"), "course_bundles", ["course_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_course_bundles_course_id"), table_name="course_bundles")
    op.drop_table("course_bundles")
