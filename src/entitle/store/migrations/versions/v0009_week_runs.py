"""Weekly follow-up weeks as campaign runs: `campaign_runs.week`.

Each week of a campaign's weekly follow-up (`entitle watch run`) is stored as a run row of its
own, numbered by its week: the week's decisions, its letters (under that row, not the standing
run's) and its counts. NULL for a full run. One row per campaign and week (a unique index; NULLs
never collide). Runs stored before this revision are full runs.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_runs") as batch:
        batch.add_column(sa.Column("week", sa.Integer(), nullable=True))
    op.create_index(
        "ix_campaign_runs_campaign_week", "campaign_runs", ["campaign", "week"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_runs_campaign_week", table_name="campaign_runs")
    with op.batch_alter_table("campaign_runs") as batch:
        batch.drop_column("week")
