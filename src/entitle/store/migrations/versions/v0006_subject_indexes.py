"""Subject indexes: a person's campaign decisions and letters without reading every run.

The subject-access report (GDPR art. 15) and the desk's letter status look campaign decisions and
letters up by the subject's pseudonym; the unique constraints lead with the run or the campaign,
so without these indexes every lookup read the whole table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_campaign_decisions_subject", "campaign_decisions", ["subject_pseudonym"])
    op.create_index("ix_campaign_letters_subject", "campaign_letters", ["subject_pseudonym"])


def downgrade() -> None:
    op.drop_index("ix_campaign_letters_subject", table_name="campaign_letters")
    op.drop_index("ix_campaign_decisions_subject", table_name="campaign_decisions")
