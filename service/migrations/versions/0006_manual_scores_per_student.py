"""A manual score belongs to the student and the problem, not to one submission.

Each adjustment now names its assignment and student, copied from the
submission it was entered on (which it keeps, for the record). A written
problem's grade then survives a later upload and a switch to "last
submission counts"; an override of the grader still applies to its own
submission only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("score_adjustments") as batch_op:
        batch_op.add_column(sa.Column("assignment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE score_adjustments SET "
        "assignment_id = (SELECT s.assignment_id FROM submissions s "
        "WHERE s.id = score_adjustments.submission_id), "
        "user_id = (SELECT s.user_id FROM submissions s "
        "WHERE s.id = score_adjustments.submission_id)")
    with op.batch_alter_table("score_adjustments") as batch_op:
        batch_op.alter_column("assignment_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_score_adjustments_assignment_id_assignments"), "assignments",
            ["assignment_id"], ["id"], ondelete="CASCADE")
        batch_op.create_foreign_key(
            batch_op.f("fk_score_adjustments_user_id_users"), "users",
            ["user_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index(batch_op.f("ix_score_adjustments_assignment_id"),
                              ["assignment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("score_adjustments") as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_adjustments_assignment_id"))
        batch_op.drop_constraint(batch_op.f("fk_score_adjustments_user_id_users"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_score_adjustments_assignment_id_assignments"),
                                 type_="foreignkey")
        batch_op.drop_column("user_id")
        batch_op.drop_column("assignment_id")
