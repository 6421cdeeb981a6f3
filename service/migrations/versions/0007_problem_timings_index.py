"""An index for a problem's latest results, which the job planner reads on every upload.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_problem_results_problem_id_id", "problem_results", ["problem_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_problem_results_problem_id_id", table_name="problem_results")
