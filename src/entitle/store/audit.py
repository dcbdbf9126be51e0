"""The audit log: append-only and hash-chained.

Every check, override, sign-in and export is one entry: purpose, actor, subject pseudonym, time,
outcome (and small details, never raw personal values). Entry `n` stores `prev_hash` (entry
`n-1`'s hash, or 64 zeros for the first) and `hash = sha256(prev_hash + canonical JSON of the
entry)`; ids run 1, 2, 3, … without gaps. The chain head (last id and hash) sits in its own row,
updated in the same transaction as each append, so `verify` notices an edited entry, a deleted
entry, and deleted last entries. The entry of a check or an override holds the SHA-256 of the
decision or override it stored (`decision_sha256`, `override_sha256`): `verify` notices those
edited or deleted too (`RecordCheck`). Whoever can rewrite the whole table *and* the head can
still cut or forge a consistent chain: signed checkpoints kept elsewhere
(`entitle.store.checkpoint`) anchor it.

Concurrency: an append locks the head row (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the
engine's `BEGIN IMMEDIATE` already holds the write lock), so parallel workers never fork the
chain. The lock is held until the caller commits: commit promptly.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from entitle.insz import INSZ_WRITTEN
from entitle.store.models import (
    GENESIS_HASH,
    AuditEntry,
    AuditHead,
    Override,
    StoredDecision,
    utc,
)
from entitle.store.ratelimit import allow as allow

# Every kind of audit entry, in the order the auditor's filter lists them.
KIND_ORDER = (
    "check",
    "api_check",
    "check_refused",  # a check refused by a curiosity limit
    "decision_read",  # a stored decision was read (the API)
    "override",
    "session",  # sessions ended by their user, a password changed
    "login",
    "login_failed",
    "logout",
    "export",
    "audit_search",  # an auditor searched the log
    "subject_report",  # a subject-access report was produced
    "admin",  # account and token administration
    "retention",  # a retention purge (it names the chain's new anchor)
    "inscription",  # KSZ directory inscriptions: a sync (counts) or one from the desk
)
KINDS = frozenset(KIND_ORDER)
CHECK_KINDS = ("check", "api_check")


def looks_like_insz(value: str) -> bool:
    """Whether `value` is (formatted like) an INSZ / bis number: such values must be
    pseudonymised before they are stored."""
    return INSZ_WRITTEN.fullmatch(value.strip()) is not None


def _check_no_insz(value: Any, where: str) -> None:
    if isinstance(value, str):
        if looks_like_insz(value):
            raise ValueError(f"{where} looks like an INSZ: store its pseudonym instead")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_no_insz(str(key), where)
            _check_no_insz(item, where)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_no_insz(item, where)


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _record(
    entry_id: int,
    time: datetime,
    kind: str,
    actor: str,
    purpose: str | None,
    subject: str | None,
    outcome: str | None,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "id": entry_id,
        "time": utc(time).isoformat(timespec="microseconds"),
        "kind": kind,
        "actor": actor,
        "purpose": purpose,
        "subject": subject,
        "outcome": outcome,
        "details": details,
    }


def chain_hash(prev_hash: str, record: dict[str, Any]) -> str:
    """The hash of one entry: sha256(prev_hash + canonical JSON of the entry)."""
    return hashlib.sha256((prev_hash + canonical(record)).encode()).hexdigest()


# Built once: a statement executed with fresh parameters skips SQLAlchemy's per-call rebuild.
_AUDIT_TABLE: Table = AuditEntry.__table__  # type: ignore[assignment]
_INSERT_ENTRY = insert(_AUDIT_TABLE)
_HEAD_FOR_UPDATE = (
    select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1).with_for_update()
)
_MOVE_HEAD = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(last_id=bindparam("new_id"), last_hash=bindparam("new_hash"))
)


def append(
    session: Session | Connection,
    *,
    kind: str,
    actor: str,
    purpose: str | None,
    subject: str | None,
    outcome: str | None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """Append one entry to the chain (flushed; committed with the caller's transaction).

    `subject` is a pseudonym (`entitle.sources.access.Pseudonymiser`), never an INSZ; `details`
    is small JSON (e.g. `{"benefit": …, "decision_id": …}`), never raw personal values.
    Returns the entry id.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind!r}; one of {', '.join(sorted(KINDS))}")
    if not actor:
        raise ValueError("an audit entry needs an actor")
    _check_no_insz(subject, "subject")
    _check_no_insz(details, "details")
    stored_details = json.loads(canonical(details)) if details is not None else None
    head = session.execute(_HEAD_FOR_UPDATE).one_or_none()
    if head is None:
        raise RuntimeError("audit chain head is missing: was the database migrated?")
    entry_id = int(head.last_id) + 1
    moment = utc(now)
    record = _record(entry_id, moment, kind, actor, purpose, subject, outcome, stored_details)
    digest = chain_hash(head.last_hash, record)
    session.execute(  # Core insert: no unit of work for a row nobody reads back
        _INSERT_ENTRY,
        {
            "id": entry_id,
            "time": moment,
            "kind": kind,
            "actor": actor,
            "purpose": purpose,
            "subject": subject,
            "outcome": outcome,
            "details": stored_details,
            "prev_hash": head.last_hash,
            "hash": digest,
        },
    )
    session.execute(_MOVE_HEAD, {"new_id": entry_id, "new_hash": digest})
    return entry_id


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    entries: int  # entries checked and found intact
    first_bad: int | None  # id of the first entry that is altered, missing or out of place
    problem: str | None
    head_hash: str | None = None  # the verified chain head (anchor it elsewhere)
    first_id: int = 1  # the first entry kept (entries before it were purged by retention)


_ENTRY_COLUMNS = (
    AuditEntry.id,
    AuditEntry.time,
    AuditEntry.kind,
    AuditEntry.actor,
    AuditEntry.purpose,
    AuditEntry.subject,
    AuditEntry.outcome,
    AuditEntry.details,
    AuditEntry.prev_hash,
    AuditEntry.hash,
)


def _head(session: Session) -> Any:
    return session.execute(
        select(
            AuditHead.last_id, AuditHead.last_hash, AuditHead.first_id, AuditHead.first_prev_hash
        ).where(AuditHead.id == 1)
    ).one_or_none()


RETENTION_KIND = "retention"


def _anchor_recorded(session: Session, first_id: int, first_prev_hash: str) -> bool:
    """Whether a retention entry of the chain names this anchor (purged through first_id - 1,
    linking to first_prev_hash): an anchor moved without one means entries were cut."""
    rows = session.execute(
        select(AuditEntry.details).where(
            AuditEntry.kind == RETENTION_KIND, AuditEntry.id >= first_id
        )
    )
    for (details,) in rows:
        if (
            isinstance(details, dict)
            and details.get("purged_through") == first_id - 1
            and details.get("anchor_hash") == first_prev_hash
        ):
            return True
    return False


class RecordCheck:
    """The decisions and overrides the chain's entries name by hash (`decision_sha256`,
    `override_sha256`): each must still be stored as it was written. One missing is fine only
    when a retention entry of the chain purged records of its age."""

    BATCH = 500

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: dict[str, dict[int, tuple[int, str, Any]]] = {"decision": {}, "override": {}}
        self.missing: list[tuple[str, int, int, Any]] = []  # kind, record id, entry id, age
        self.cutoffs: dict[str, str] = {}  # retention: the latest cut-off per kind

    def add(self, entry_id: int, time: datetime, kind: str, details: Any) -> tuple[int, str] | None:
        """Note what one entry names; checks a batch when enough are noted."""
        if not isinstance(details, dict):
            return None
        if kind == RETENTION_KIND:
            for name, cutoff in (details.get("cutoffs") or {}).items():
                if isinstance(cutoff, str) and cutoff > self.cutoffs.get(name, ""):
                    self.cutoffs[name] = cutoff
        for what, age in (("decision", utc(time)), ("override", details.get("valid_until"))):
            digest, ref = details.get(f"{what}_sha256"), details.get(what)
            if isinstance(digest, str) and isinstance(ref, int):
                self.pending[what][ref] = (entry_id, digest, age)
                if len(self.pending[what]) >= self.BATCH:
                    bad = self._check(what)
                    if bad is not None:
                        return bad
        return None

    def _check(self, what: str) -> tuple[int, str] | None:
        from entitle.store import decisions  # late: decisions imports this module

        pending, self.pending[what] = self.pending[what], {}
        model: Any = StoredDecision if what == "decision" else Override
        fields = decisions.DECISION_FIELDS if what == "decision" else decisions.OVERRIDE_FIELDS
        found = {
            row.id: row for row in self.session.scalars(select(model).where(model.id.in_(pending)))
        }
        for ref, (entry_id, digest, age) in sorted(pending.items(), key=lambda i: i[1][0]):
            row = found.get(ref)
            if row is None:
                self.missing.append((what, ref, entry_id, age))
            elif decisions.record_digest(row, fields) != digest:
                return entry_id, (
                    f"{what} {ref} was altered after entry {entry_id} recorded it "
                    "(its content does not match the hash in the entry)"
                )
        return None

    def _purged(self, what: str, age: Any) -> bool:
        cutoff = self.cutoffs.get("decisions" if what == "decision" else "overrides")
        if cutoff is None:
            return False
        if isinstance(age, datetime):  # a decision: stored just before its entry
            return age - timedelta(seconds=1) < datetime.fromisoformat(cutoff)
        return isinstance(age, str) and age < cutoff[:10]  # an override: by its validity

    def finish(self) -> tuple[int, str] | None:
        """Check what is left; then the missing records."""
        for what in ("decision", "override"):
            bad = self._check(what)
            if bad is not None:
                return bad
        for what, ref, entry_id, age in sorted(self.missing, key=lambda m: m[2]):
            if not self._purged(what, age):
                return entry_id, f"{what} {ref} recorded by entry {entry_id} is missing (deleted?)"
        return None


def _span(first: int, last: int) -> str:
    return f"{first}" if first == last else f"{first}–{last}"


def verify(session: Session) -> VerifyReport:
    """Walk the whole chain: ids without gaps, each link, each hash, and the recorded head.

    Safe while other workers append: the head is read first and the entries up to it are checked
    (an append writes its entry and the head in one transaction).
    """
    head = _head(session)
    if head is None:
        return VerifyReport(False, 0, None, "the chain head row is missing (deleted?)")
    records = RecordCheck(session)
    first = int(head.first_id)
    prev = head.first_prev_hash if first > 1 else GENESIS_HASH
    expected = first
    rows = session.execute(
        select(*_ENTRY_COLUMNS)
        .where(AuditEntry.id >= first, AuditEntry.id <= head.last_id)
        .order_by(AuditEntry.id)
    ).yield_per(1000)
    try:
        for row in rows:
            if row.id != expected:
                if row.id > expected:
                    problem = (
                        f"entry {_span(expected, row.id - 1)} missing (deleted?) "
                        f"before entry {row.id}"
                    )
                else:
                    problem = f"entry {row.id} out of sequence"
                return VerifyReport(False, expected - 1, expected, problem)
            if row.prev_hash != prev:
                problem = (
                    f"entry {row.id} does not link to entry {row.id - 1} "
                    f"(its prev_hash differs: one of them was altered)"
                )
                return VerifyReport(False, expected - 1, row.id, problem)
            record = _record(
                row.id,
                row.time,
                row.kind,
                row.actor,
                row.purpose,
                row.subject,
                row.outcome,
                row.details,
            )
            if chain_hash(prev, record) != row.hash:
                problem = f"entry {row.id} was altered (its content does not match its hash)"
                return VerifyReport(False, expected - 1, row.id, problem)
            bad = records.add(row.id, row.time, row.kind, row.details)
            if bad is not None:
                return VerifyReport(False, bad[0] - 1, bad[0], bad[1])
            prev = row.hash
            expected += 1
    finally:
        rows.close()
    count = expected - 1
    bad = records.finish()
    if bad is not None:
        return VerifyReport(False, bad[0] - 1, bad[0], bad[1])
    if first > 1 and not _anchor_recorded(session, first, head.first_prev_hash):
        problem = (
            f"the chain starts at entry {first} but no retention entry records that purge "
            f"(entries cut?)"
        )
        return VerifyReport(False, first - 1, first, problem)
    if count < head.last_id:
        problem = (
            f"entry {_span(count + 1, head.last_id)} missing at the end (deleted?): "
            f"the chain head records {head.last_id} entries"
        )
        return VerifyReport(False, count, count + 1, problem)
    if head.last_hash != prev:
        problem = f"entry {count} does not match the recorded chain head"
        return VerifyReport(False, max(count - 1, 0), max(count, 1), problem)
    # Entries written without moving the head (read the max first: a concurrent append moves
    # both, so the head read afterwards is at least as far).
    highest = session.scalar(select(func.max(AuditEntry.id))) or 0
    later = _head(session)
    if later is None or highest > later.last_id:
        recorded = later.last_id if later is not None else count
        problem = f"entry {recorded + 1} lies beyond the recorded chain head ({recorded})"
        return VerifyReport(False, count, recorded + 1, problem)
    return VerifyReport(True, count, None, None, prev, first)


def _entry(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "time": utc(row.time).isoformat(),
        "kind": row.kind,
        "actor": row.actor,
        "purpose": row.purpose,
        "subject": row.subject,
        "outcome": row.outcome,
        "details": row.details,
    }


def search(
    session: Session,
    *,
    actor: str | None = None,
    subject: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Entries matching every given filter (`since` inclusive, `until` exclusive), newest first,
    JSON-ready. For auditors: append an `audit_search` entry for the search itself."""
    query = select(*_ENTRY_COLUMNS)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    if kind is not None:
        query = query.where(AuditEntry.kind == kind)
    if since is not None:
        query = query.where(AuditEntry.time >= utc(since))
    if until is not None:
        query = query.where(AuditEntry.time < utc(until))
    query = query.order_by(AuditEntry.id.desc()).limit(max(0, limit))
    return [_entry(row) for row in session.execute(query)]


def _decision_ref(entry: dict[str, Any]) -> int | None:
    """The stored decision an entry names in its details (`decision_id` or `decision`)."""
    details = entry["details"]
    if not isinstance(details, dict):
        return None
    for key in ("decision_id", "decision"):
        value = details.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def subject_report(session: Session, subject_pseudonym: str) -> list[dict[str, Any]]:
    """Every entry about one person, oldest first (a GDPR access request): who looked, when, for
    what purpose, with what outcome. An entry whose details name a stored decision
    (`decision_id` or `decision`: its id) carries that decision under `decision`."""
    rows = session.execute(
        select(*_ENTRY_COLUMNS)
        .where(AuditEntry.subject == subject_pseudonym)
        .order_by(AuditEntry.id)
    )
    entries = [_entry(row) for row in rows]
    ids = {i for i in map(_decision_ref, entries) if i is not None}
    if ids:
        from entitle.store.decisions import decision_dict

        decisions = {
            d.id: decision_dict(d)
            for d in session.scalars(select(StoredDecision).where(StoredDecision.id.in_(ids)))
            if d.subject_pseudonym == subject_pseudonym
        }
        for e in entries:
            ref = _decision_ref(e)
            if ref in decisions:
                e["decision"] = decisions[ref]
    return entries


def unusual_activity(
    session: Session,
    *,
    now: datetime | None = None,
    hours: int = 24,
    max_per_hour: int = 60,
    factor: float = 3.0,
    min_checks: int = 20,
    baseline_days: int = 30,
) -> list[dict[str, Any]]:
    """Volume alerts per officer (or API client), per clock hour (UTC) of the last `hours`.

    An hour is unusual when the actor ran more than `max_per_hour` checks in it, or more than
    `factor` × their median hourly volume (over the hours they worked in the `baseline_days`
    before) and at least `min_checks`. Newest first, JSON-ready, for auditors.
    """
    moment = utc(now)
    current = moment.replace(minute=0, second=0, microsecond=0)
    start = current - timedelta(hours=hours - 1)
    baseline_start = start - timedelta(days=baseline_days)
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.time, AuditEntry.subject).where(
            AuditEntry.kind.in_(CHECK_KINDS),
            AuditEntry.time >= baseline_start,
            AuditEntry.time <= moment,
        )
    )
    recent: dict[tuple[str, datetime], list[str | None]] = defaultdict(list)
    history: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    for actor, time, subject in rows:
        hour = utc(time).replace(minute=0, second=0, microsecond=0)
        if hour >= start:
            recent[(actor, hour)].append(subject)
        else:
            history[actor][hour] += 1
    alerts: list[dict[str, Any]] = []
    for (actor, hour), subjects in recent.items():
        checks = len(subjects)
        worked = list(history[actor].values()) if actor in history else []
        median = statistics.median(worked) if worked else None
        reasons: list[str] = []
        if checks > max_per_hour:
            reasons.append(f"more than {max_per_hour} checks in one hour")
        if median is not None and checks >= min_checks and checks > factor * median:
            reasons.append(f"more than {factor:g}× the usual {median:g} checks per hour")
        if reasons:
            alerts.append(
                {
                    "actor": actor,
                    "hour": hour.isoformat(),
                    "checks": checks,
                    "distinct_subjects": len({s for s in subjects if s is not None}),
                    "baseline_median": median,
                    "reasons": reasons,
                }
            )
    alerts.sort(key=lambda a: (a["hour"], a["checks"]), reverse=True)
    return alerts
