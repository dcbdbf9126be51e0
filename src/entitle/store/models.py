"""Tables. Times are stored as naive UTC and read back as aware UTC datetimes.

The initial migration (`migrations/versions/v0001_initial.py`) creates exactly these tables; a
test compares both on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

GENESIS_HASH = "0" * 64

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc(value: datetime | None = None) -> datetime:
    """`value` as an aware UTC datetime (naive means UTC); now when None."""
    if value is None:
        return datetime.now(UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC on every backend, returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """An account. Local accounts have a password hash; an OIDC account would have
    `auth_provider` = the issuer and `external_id` = its subject claim instead."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("auth_provider", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    auth_provider: Mapped[str] = mapped_column(String(200), default="local")
    external_id: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    failed_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A machine client's bearer token (stored as its SHA-256: tokens are 256-bit random)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client: Mapped[str] = mapped_column(String(150), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    benefits: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser session (the id is stored as its SHA-256)."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # the last request (v0004): a session idle longer than the idle timeout ends
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoredDecision(Base):
    """A decision as shown to officers: outcomes, outputs, condition values, fact names."""

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_benefit_subject", "benefit", "subject_pseudonym"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benefit: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(50))
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20))
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)
    facts_used: Mapped[list[str]] = mapped_column(JSON)
    facts_missing: Mapped[list[str]] = mapped_column(JSON)
    reasons: Mapped[dict[str, str]] = mapped_column(JSON)
    valid_until: Mapped[date | None] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(150))
    purpose: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(UTCDateTime)


class Override(Base):
    """An officer's override of an outcome, with a reason category, a note and a validity."""

    __tablename__ = "overrides"
    __table_args__ = (
        Index("ix_overrides_benefit_subject", "benefit", "subject_pseudonym", "valid_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benefit: Mapped[str] = mapped_column(String(200))
    subject_pseudonym: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    valid_until: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(150))
    created: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One link of the hash chain. `id` is assigned by `audit.append` (1, 2, 3, … no gaps)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor_time", "actor", "time"),
        Index("ix_audit_log_kind_time", "kind", "time"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(150))
    purpose: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    outcome: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's head (one row, id 1), updated in the same transaction as each append: it
    detects deleted last entries and is the row appends lock."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    # the first entry kept after a retention purge, and the hash it links to (v0003)
    first_id: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    first_prev_hash: Mapped[str] = mapped_column(String(64), server_default=GENESIS_HASH)


class RateEvent(Base):
    """One counted action for a rate-limit key (sliding window)."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_key_time", "key", "time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    time: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed sign-ins per username or client address (v0004): each failure past a few makes
    the next attempt wait longer (`entitle.store.throttle`)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure: Mapped[datetime] = mapped_column(UTCDateTime)
    next_allowed: Mapped[datetime] = mapped_column(UTCDateTime)


class SecurityAlert(Base):
    """An alert for the auditors (v0004): e.g. an officer reached a curiosity limit. Kept here,
    shown on the auditors' start page, and sent to the configured webhook or mail address."""

    __tablename__ = "security_alerts"
    __table_args__ = (Index("ix_security_alerts_actor_kind", "actor", "kind", "time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(150))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    sent_to: Mapped[str | None] = mapped_column(String(200))  # where it was delivered
    send_error: Mapped[str | None] = mapped_column(String(200))


# --------------------------------------------------------------------------- campaigns (v0002)


class CampaignRun(Base):
    """One run of a campaign: running → draft → approved / rejected → issued.

    `active_key` holds the campaign name while the run is running and is NULL otherwise: the
    unique constraint allows at most one running run per campaign (NULLs never collide).
    A week of weekly follow-up is a run too (v0009): `week` holds its number (NULL for a full
    run) and `status` its batch's (`entitle.store.weeks`).
    """

    __tablename__ = "campaign_runs"
    __table_args__ = (
        Index("ix_campaign_runs_campaign_as_of", "campaign", "as_of"),
        Index("ix_campaign_runs_campaign_week", "campaign", "week", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign: Mapped[str] = mapped_column(String(100))
    benefit: Mapped[str] = mapped_column(String(200))
    benefit_version: Mapped[str] = mapped_column(String(50))
    as_of: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    active_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    scheduled_for: Mapped[str | None] = mapped_column(String(40))
    previous_run_id: Mapped[int | None] = mapped_column(Integer)
    chunk_size: Mapped[int] = mapped_column(Integer)
    chunks_total: Mapped[int] = mapped_column(Integer)
    subjects_total: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    approvals_required: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_by: Mapped[str] = mapped_column(String(150))
    started: Mapped[datetime] = mapped_column(UTCDateTime)
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued: Mapped[datetime | None] = mapped_column(UTCDateTime)
    week: Mapped[int | None] = mapped_column(Integer)  # a follow-up week's number (v0009)


class CampaignChunk(Base):
    """A checkpoint: this chunk of subjects is decided and its decisions are stored."""

    __tablename__ = "campaign_chunks"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_runs.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    subjects: Mapped[int] = mapped_column(Integer)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON)
    finished: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignDecision(Base):
    """One subject's decision in a run, compared with the previous run (`change`).

    Minimised like desk decisions: outcome, band, outputs, condition values, fact names and why
    facts were missing; the subject is a pseudonym, never an INSZ or a raw value.
    """

    __tablename__ = "campaign_decisions"
    __table_args__ = (
        UniqueConstraint("run_id", "subject_pseudonym"),
        # a subject-access report finds one person's decisions without reading every run
        Index("ix_campaign_decisions_subject", "subject_pseudonym"),
        # a run page's sample per outcome and per change, without reading the whole run
        Index("ix_campaign_decisions_run_outcome", "run_id", "outcome", "subject_pseudonym"),
        Index("ix_campaign_decisions_run_change", "run_id", "change", "subject_pseudonym"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_runs.id", ondelete="CASCADE"))
    chunk_no: Mapped[int] = mapped_column(Integer)
    subject_pseudonym: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    change: Mapped[str] = mapped_column(String(20))
    band: Mapped[str | None] = mapped_column(String(64))
    previous_band: Mapped[str | None] = mapped_column(String(64))
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)
    facts_used: Mapped[list[str]] = mapped_column(JSON)
    facts_missing: Mapped[list[str]] = mapped_column(JSON)
    reasons: Mapped[dict[str, str]] = mapped_column(JSON)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # a partial decision's certain minimum per open output with levels (e.g. tariff: reduced)
    at_least: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # per missing fact: whose (role and place in the household), what it settles, the reason's
    # kind (see `decide.campaign.missing`); never a value or an identifier
    missing: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class CampaignApproval(Base):
    """A campaign manager's verdict on a draft run (one per person: four eyes)."""

    __tablename__ = "campaign_approvals"
    __table_args__ = (UniqueConstraint("run_id", "actor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_runs.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(150))
    verdict: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text)
    time: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignLetter(Base):
    """A letter issued to a subject: at most one of each kind per campaign period (the unique
    constraint makes issuing idempotent); coupon letters carry a unique, verifiable code."""

    __tablename__ = "campaign_letters"
    __table_args__ = (
        UniqueConstraint("campaign", "period", "subject_pseudonym", "kind"),
        Index("ix_campaign_letters_run_id_seq", "run_id", "seq"),
        Index("ix_campaign_letters_subject", "subject_pseudonym"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_runs.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    campaign: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(40))
    subject_pseudonym: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    band: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_until: Mapped[date | None] = mapped_column(Date)
    issued: Mapped[datetime] = mapped_column(UTCDateTime)
    used: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[str | None] = mapped_column(String(150))


class Inscription(Base):
    """A person Entitle holds inscribed in the KSZ directory for a purpose under a capacity, over
    a period, recorded once MAGDA confirmed it (`entitle.decide.inscriptions`). The INSZ is kept:
    deregistering the person later needs it."""

    __tablename__ = "inscriptions"
    __table_args__ = (Index("ix_inscriptions_capacity_insz", "capacity", "insz"),)

    purpose: Mapped[str] = mapped_column(String(100), primary_key=True)
    capacity: Mapped[str] = mapped_column(String(100), primary_key=True)
    insz: Mapped[str] = mapped_column(String(11), primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
