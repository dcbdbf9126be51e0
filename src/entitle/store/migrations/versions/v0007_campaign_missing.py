"""Campaign decisions keep whose facts are missing and the certain minimum of open outputs.

`campaign_decisions.missing`: per missing fact, whose it is (the subject, the household or a
member by place and position in the household), what it would settle and the kind of reason;
`campaign_decisions.at_least`: the certain minimum of a partial decision's open outputs. Rows
decided before this revision keep both empty (their flattened `facts_missing` stays).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_decisions") as batch:
        batch.add_column(sa.Column("at_least", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("missing", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign_decisions") as batch:
        batch.drop_column("missing")
        batch.drop_column("at_least")
