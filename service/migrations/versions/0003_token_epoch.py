"""Users have a token epoch: a password change or a disabled account revokes earlier tokens.

Access tokens carry the epoch they were issued in and are refused once it
has moved on. Existing users start at 0, as do tokens issued before this
revision (they carry no epoch), so upgrading signs nobody out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("token_epoch", sa.Integer(), server_default="0",
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("token_epoch")
