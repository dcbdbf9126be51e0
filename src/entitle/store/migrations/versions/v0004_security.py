"""Security: idle sessions, sign-in delays, stored alerts.

`web_sessions.last_seen` (the idle timeout), `login_throttle` (failed sign-ins per username and
per client address: growing delays instead of a lock-out), `security_alerts` (alerts for the
auditors, e.g. a curiosity limit reached).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("last_seen", sa.DateTime(), nullable=True))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", sa.DateTime(), nullable=False),
        sa.Column("next_allowed", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
    )
    op.create_table(
        "security_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(150), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("sent_to", sa.String(200), nullable=True),
        sa.Column("send_error", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_security_alerts"),
    )
    op.create_index("ix_security_alerts_time", "security_alerts", ["time"])
    op.create_index("ix_security_alerts_actor_kind", "security_alerts", ["actor", "kind", "time"])


def downgrade() -> None:
    op.drop_index("ix_security_alerts_actor_kind", table_name="security_alerts")
    op.drop_index("ix_security_alerts_time", table_name="security_alerts")
    op.drop_table("security_alerts")
    op.drop_table("login_throttle")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("last_seen")
