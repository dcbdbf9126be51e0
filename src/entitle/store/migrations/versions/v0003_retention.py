"""Retention: the audit chain may start after entry 1 once old entries are purged.

`audit_head.first_id` is the first entry kept and `first_prev_hash` the hash of the last purged
one, so `entitle audit verify` checks the kept part of the chain from there (the purge itself is
an entry of the chain, naming the same anchor).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(
            sa.Column("first_id", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch.add_column(
            sa.Column("first_prev_hash", sa.String(64), nullable=False, server_default="0" * 64)
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("first_prev_hash")
        batch.drop_column("first_id")
