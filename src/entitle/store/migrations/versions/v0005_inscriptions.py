"""KSZ inscriptions in the store: what Entitle inscribed, per purpose, capacity and INSZ.

Before, the ledger was a SQLite file of its own (``<data dir>/inscriptions.sqlite``); in the
store it shares the database's backups and transactions, and PostgreSQL installations keep it
there too. The upgrade copies that file's rows into the table (so persons inscribed before are
still deregistered when they leave a target) and renames it ``inscriptions.sqlite.imported``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlite3
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    table = op.create_table(
        "inscriptions",
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("capacity", sa.String(100), nullable=False),
        sa.Column("insz", sa.String(11), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("purpose", "capacity", "insz", name="pk_inscriptions"),
    )
    op.create_index("ix_inscriptions_capacity_insz", "inscriptions", ["capacity", "insz"])
    _import_the_old_file(table)


def _import_the_old_file(table: sa.Table) -> None:
    from entitle.datadir import data_dir

    old = data_dir() / "inscriptions.sqlite"
    if not old.is_file():
        return
    with sqlite3.connect(old) as db:
        rows = db.execute("SELECT purpose, capacity, insz, start, end FROM inscriptions").fetchall()
    db.close()
    op.bulk_insert(
        table,
        [
            {"purpose": p, "capacity": c, "insz": i}
            | {"start": date.fromisoformat(s), "end": date.fromisoformat(e)}
            for p, c, i, s, e in rows
        ],
    )
    old.rename(old.with_name(old.name + ".imported"))


def downgrade() -> None:
    op.drop_index("ix_inscriptions_capacity_insz", table_name="inscriptions")
    op.drop_table("inscriptions")
