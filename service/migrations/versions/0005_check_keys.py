"""Every stored check gets a stable key, so statistics group one check across runs.

A check's name may show the values its run drew (``Linear.step(0.159) → W``);
the key is the same in every run. Rows graded before this revision get their
name with its numbers replaced by ``#``, as ``graders.results.stable_key``
derives it for checks that set no key of their own.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 16:40:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of graders.results._NUMBER as it was: a migration must not change with the code.
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
_BATCH = 1000

checks = sa.table("check_results", sa.column("id", sa.Integer()), sa.column("name", sa.Text()),
                  sa.column("key", sa.Text()))


def upgrade() -> None:
    with op.batch_alter_table("check_results") as batch_op:
        batch_op.add_column(sa.Column("key", sa.Text(), server_default="", nullable=False))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.select(checks.c.id, checks.c.name).where(checks.c.id > last)
                            .order_by(checks.c.id).limit(_BATCH)).all()
        if not rows:
            break
        conn.execute(checks.update().where(checks.c.id == sa.bindparam("row_id"))
                     .values(key=sa.bindparam("new_key")),
                     [{"row_id": i, "new_key": _NUMBER.sub("#", name)} for i, name in rows])
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("check_results") as batch_op:
        batch_op.drop_column("key")
