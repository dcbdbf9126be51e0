"""Sample indexes: a run page's few decisions per outcome and change without reading the run.

The run page shows up to ten decisions per outcome and per change, in pseudonym order. The
unique constraint leads with (run, pseudonym), so a sample of an outcome or change that few or
no subjects have (pending, ended) read every decision of the run: 0.6 s per sample on the
default city. With (run, outcome, pseudonym) and (run, change, pseudonym) each is a short range.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(
        "ix_campaign_decisions_run_outcome",
        "campaign_decisions",
        ["run_id", "outcome", "subject_pseudonym"],
    )
    op.create_index(
        "ix_campaign_decisions_run_change",
        "campaign_decisions",
        ["run_id", "change", "subject_pseudonym"],
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_decisions_run_change", table_name="campaign_decisions")
    op.drop_index("ix_campaign_decisions_run_outcome", table_name="campaign_decisions")
