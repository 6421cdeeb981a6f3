"""When a bundle's strength check began, not only when the bundle was uploaded.

A check waits on the ``regrade`` queue, perhaps behind a whole assignment's
regrade: measured from the upload, a check still waiting could be judged dead
and its version published a second time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("course_bundles") as batch_op:
        batch_op.add_column(sa.Column("check_started_at", sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("course_bundles") as batch_op:
        batch_op.drop_column("check_started_at")
