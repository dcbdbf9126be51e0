"""Retention: purge what is past its retention period from the database, and prove it.

Periods come from settings (``ENTITLE_RETENTION_*``, days). A purge runs in one transaction:
it verifies the audit chain first (a tampered chain is evidence and is not purged), deletes
desk decisions, expired overrides, old audit entries (keeping the rest of the chain verifiable
from an anchor), rate-limit events, expired sessions, and the per-subject data of old campaign
runs (decisions, checkpoints, letters past their validity); then it counts again what is left
older than each cut-off (zero, or the purge failed) and records itself in the audit chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from entitle.settings import RetentionPolicy
from entitle.store import audit
from entitle.store.models import (
    AuditEntry,
    AuditHead,
    CampaignChunk,
    CampaignDecision,
    CampaignLetter,
    CampaignRun,
    Override,
    RateEvent,
    StoredDecision,
    WebSession,
    utc,
)

FINISHED_RUN = ("draft", "approved", "issued", "rejected")


@dataclass
class PurgeLine:
    """What happened to one kind of record."""

    kind: str
    days: int
    cutoff: datetime
    purged: int
    left_older: int  # records older than the cut-off still there afterwards (must be 0)


@dataclass
class PurgeReport:
    """The outcome of one purge: one line per kind, the audit anchor, the run folders freed."""

    now: datetime
    dry_run: bool
    lines: list[PurgeLine] = field(default_factory=list)
    audit_first_id: int = 1
    run_folders: list[str] = field(default_factory=list)

    def line(self, kind: str) -> PurgeLine:
        """The line of one kind."""
        return next(line for line in self.lines if line.kind == kind)

    @property
    def proven(self) -> bool:
        """Nothing older than its cut-off is left (a dry run proves nothing)."""
        return not self.dry_run and all(line.left_older == 0 for line in self.lines)


class RetentionError(RuntimeError):
    """A purge that must not run (e.g. the audit chain does not verify)."""


@dataclass(frozen=True)
class _Kind:
    name: str
    days: Callable[[RetentionPolicy], int]
    older: Callable[[datetime], ColumnElement[bool]]
    model: Any


def _day(moment: datetime) -> date:
    return moment.date()


_KINDS = (
    _Kind(
        "decisions", lambda p: p.decisions, lambda cut: StoredDecision.created < cut, StoredDecision
    ),
    _Kind(
        "overrides",
        lambda p: p.overrides,
        lambda cut: Override.valid_until < _day(cut),
        Override,
    ),
    _Kind("rate_events", lambda p: p.rate_events, lambda cut: RateEvent.time < cut, RateEvent),
)


def _count(session: Session, statement: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(statement.subquery())) or 0)


def _old_runs(session: Session, cutoff: datetime) -> list[CampaignRun]:
    """Runs started before the cut-off (follow-up weeks' too), except the latest finished full
    run of each campaign (the next run compares with it)."""
    latest = (
        select(CampaignRun.campaign, func.max(CampaignRun.id).label("id"))
        .where(CampaignRun.status.in_(FINISHED_RUN), CampaignRun.week.is_(None))
        .group_by(CampaignRun.campaign)
        .subquery()
    )
    kept = select(latest.c.id)
    return list(
        session.scalars(
            select(CampaignRun)
            .where(CampaignRun.started < cutoff, CampaignRun.status != "running")
            .where(CampaignRun.id.not_in(kept))
            .order_by(CampaignRun.id)
        )
    )


def _letters_older(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        CampaignLetter.issued < cutoff,
        or_(CampaignLetter.valid_until.is_(None), CampaignLetter.valid_until < _day(cutoff)),
    )


def _purge_simple(
    session: Session, report: PurgeReport, policy: RetentionPolicy, now: datetime
) -> None:
    for kind in _KINDS:
        days = kind.days(policy)
        cutoff = now - timedelta(days=days)
        condition = kind.older(cutoff)
        found = _count(session, select(kind.model).where(condition))
        if not report.dry_run and found:
            session.execute(delete(kind.model).where(condition))
        left = _count(session, select(kind.model).where(condition))
        report.lines.append(PurgeLine(kind.name, days, cutoff, found, left))
    # expired sessions are worthless at once: no period
    expired = WebSession.expires < now
    found = _count(session, select(WebSession).where(expired))
    if not report.dry_run and found:
        session.execute(delete(WebSession).where(expired))
    left = _count(session, select(WebSession).where(expired))
    report.lines.append(PurgeLine("sessions", 0, now, found, left))


def _purge_campaigns(
    session: Session, report: PurgeReport, policy: RetentionPolicy, now: datetime
) -> None:
    cutoff = now - timedelta(days=policy.campaigns)
    runs = _old_runs(session, cutoff)
    ids = [run.id for run in runs]
    decisions = select(CampaignDecision).where(CampaignDecision.run_id.in_(ids))
    found = _count(session, decisions)
    letters = _count(session, select(CampaignLetter).where(_letters_older(cutoff)))
    if not report.dry_run:
        if ids:
            session.execute(delete(CampaignDecision).where(CampaignDecision.run_id.in_(ids)))
            session.execute(delete(CampaignChunk).where(CampaignChunk.run_id.in_(ids)))
        if letters:
            session.execute(delete(CampaignLetter).where(_letters_older(cutoff)))
    for run in runs:
        folder = (run.outputs or {}).get("folder")
        if folder:
            report.run_folders.append(str(folder))
        if not report.dry_run and not (run.outputs or {}).get("purged"):
            purged = {**(run.outputs or {}), "purged": now.isoformat(timespec="seconds")}
            session.execute(
                update(CampaignRun).where(CampaignRun.id == run.id).values(outputs=purged)
            )
    left = _count(session, decisions)
    report.lines.append(PurgeLine("campaign_decisions", policy.campaigns, cutoff, found, left))
    left_letters = _count(session, select(CampaignLetter).where(_letters_older(cutoff)))
    report.lines.append(
        PurgeLine("campaign_letters", policy.campaigns, cutoff, letters, left_letters)
    )


def _purge_audit(
    session: Session, report: PurgeReport, policy: RetentionPolicy, now: datetime
) -> int | None:
    """Delete the chain's entries older than the cut-off (a prefix: ids up to the newest old
    one) and move the anchor; returns the last id purged, None when nothing was."""
    cutoff = now - timedelta(days=policy.audit)
    head = session.execute(
        select(AuditHead.first_id, AuditHead.last_id).where(AuditHead.id == 1).with_for_update()
    ).one()
    through = session.scalar(
        select(func.max(AuditEntry.id)).where(
            AuditEntry.time < cutoff, AuditEntry.id <= head.last_id
        )
    )
    found = max(int(through) - int(head.first_id) + 1, 0) if through is not None else 0
    if through is None or report.dry_run or not found:
        left = _count(session, select(AuditEntry).where(AuditEntry.time < cutoff))
        report.lines.append(PurgeLine("audit", policy.audit, cutoff, found, left))
        report.audit_first_id = int(head.first_id)
        return None
    anchor = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == through))
    session.execute(delete(AuditEntry).where(AuditEntry.id <= through))
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(first_id=int(through) + 1, first_prev_hash=anchor)
    )
    left = _count(session, select(AuditEntry).where(AuditEntry.time < cutoff))
    report.lines.append(PurgeLine("audit", policy.audit, cutoff, found, left))
    report.audit_first_id = int(through) + 1
    return int(through)


def purge(
    session: Session,
    policy: RetentionPolicy,
    *,
    actor: str,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Purge (or, dry, count) everything past its retention period, in the caller's
    transaction; the caller commits. Raises RetentionError when the audit chain is broken."""
    moment = utc(now)
    checked = audit.verify(session)
    if not checked.ok:
        raise RetentionError(
            f"the audit log does not verify ({checked.problem}); nothing was purged — "
            "investigate first, the altered entries are evidence"
        )
    report = PurgeReport(moment, dry_run)
    _purge_simple(session, report, policy, moment)
    _purge_campaigns(session, report, policy, moment)
    through = _purge_audit(session, report, policy, moment)
    if dry_run:
        return report
    details: dict[str, Any] = {
        "purged": {line.kind: line.purged for line in report.lines},
        "days": {line.kind: line.days for line in report.lines},
        # what was purged, by age: `audit.verify` accepts records named by older entries missing
        "cutoffs": {line.kind: line.cutoff.isoformat() for line in report.lines},
    }
    if through is not None:
        anchor = session.scalar(select(AuditHead.first_prev_hash).where(AuditHead.id == 1))
        details.update(purged_through=through, anchor_hash=anchor)
    audit.append(
        session,
        kind=audit.RETENTION_KIND,
        actor=actor,
        purpose="retention",
        subject=None,
        outcome="purged",
        details=details,
        now=moment,
    )
    return report
