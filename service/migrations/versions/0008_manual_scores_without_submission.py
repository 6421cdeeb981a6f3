"""A written score needs no submission: a student may hand in nothing but paper.

``score_adjustments.submission_id`` becomes nullable. An override still
judges one submission's code, so a CHECK keeps it tied to one; a manual score
may stand alone. Going down deletes the manual scores that have no
submission (the old schema cannot hold them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_score_adjustments_override_has_submission"


def upgrade() -> None:
    with op.batch_alter_table("score_adjustments") as batch_op:
        batch_op.alter_column("submission_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(
            batch_op.f(CHECK), "kind = 'manual' OR submission_id IS NOT NULL")


def downgrade() -> None:
    op.execute("DELETE FROM score_adjustments WHERE submission_id IS NULL")
    with op.batch_alter_table("score_adjustments") as batch_op:
        batch_op.drop_constraint(batch_op.f(CHECK), type_="check")
        batch_op.alter_column("submission_id", existing_type=sa.Integer(), nullable=False)
