"""KSZ inscriptions in the store: what Entitle inscribed, per purpose, capacity and INSZ.

Before, the ledger was a SQLite file of its own (``<data dir>/inscriptions.sqlite``); in the
store it shares the database's backups and transactions, and PostgreSQL installations keep it
there too.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "inscriptions",
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("capacity", sa.String(100), nullable=False),
        sa.Column("insz", sa.String(11), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("purpose", "capacity", "insz", name="pk_inscriptions"),
    )
    op.create_index("ix_inscriptions_capacity_insz", "inscriptions", ["capacity", "insz"])


def downgrade() -> None:
    op.drop_index("ix_inscriptions_capacity_insz", table_name="inscriptions")
    op.drop_table("inscriptions")
