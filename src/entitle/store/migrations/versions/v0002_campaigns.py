"""Campaigns: runs, chunk checkpoints, decisions per run, approvals, issued letters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign", sa.String(100), nullable=False),
        sa.Column("benefit", sa.String(200), nullable=False),
        sa.Column("benefit_version", sa.String(50), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("active_key", sa.String(100), nullable=True),
        sa.Column("scheduled_for", sa.String(40), nullable=True),
        sa.Column("previous_run_id", sa.Integer(), nullable=True),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=False),
        sa.Column("subjects_total", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("approvals_required", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("started_by", sa.String(150), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=False),
        sa.Column("finished", sa.DateTime(), nullable=True),
        sa.Column("decided", sa.DateTime(), nullable=True),
        sa.Column("issued", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_runs"),
        sa.UniqueConstraint("active_key", name="uq_campaign_runs_active_key"),
    )
    op.create_index("ix_campaign_runs_campaign_as_of", "campaign_runs", ["campaign", "as_of"])
    op.create_table(
        "campaign_chunks",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("finished", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["campaign_runs.id"],
            name="fk_campaign_chunks_run_id_campaign_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "chunk_no", name="pk_campaign_chunks"),
    )
    op.create_table(
        "campaign_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("subject_pseudonym", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("band", sa.String(64), nullable=True),
        sa.Column("previous_band", sa.String(64), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("facts_used", sa.JSON(), nullable=False),
        sa.Column("facts_missing", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["campaign_runs.id"],
            name="fk_campaign_decisions_run_id_campaign_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_decisions"),
        sa.UniqueConstraint("run_id", "subject_pseudonym", name="uq_campaign_decisions_run_id"),
    )
    op.create_table(
        "campaign_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(150), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["campaign_runs.id"],
            name="fk_campaign_approvals_run_id_campaign_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_approvals"),
        sa.UniqueConstraint("run_id", "actor", name="uq_campaign_approvals_run_id"),
    )
    op.create_table(
        "campaign_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("campaign", sa.String(100), nullable=False),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("subject_pseudonym", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("code", sa.String(32), nullable=True),
        sa.Column("band", sa.String(64), nullable=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("issued", sa.DateTime(), nullable=False),
        sa.Column("used", sa.DateTime(), nullable=True),
        sa.Column("used_by", sa.String(150), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["campaign_runs.id"],
            name="fk_campaign_letters_run_id_campaign_runs",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_letters"),
        sa.UniqueConstraint(
            "campaign", "period", "subject_pseudonym", "kind", name="uq_campaign_letters_campaign"
        ),
        sa.UniqueConstraint("code", name="uq_campaign_letters_code"),
    )
    op.create_index("ix_campaign_letters_run_id_seq", "campaign_letters", ["run_id", "seq"])


def downgrade() -> None:
    for table in (
        "campaign_letters",
        "campaign_approvals",
        "campaign_decisions",
        "campaign_chunks",
        "campaign_runs",
    ):
        op.drop_table(table)
