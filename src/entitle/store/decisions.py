"""Stored decisions and officers' overrides.

A stored decision keeps what officers see — outcome, outputs (e.g. the benefit's amount or tariff
band), each condition's true/false/unknown, the names of the facts used and missing, and why
missing facts were missing — and never raw sensitive values (incomes, allowance amounts,
disability points) nor the INSZ: the subject is a pseudonym. The explanation trace is not stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, CursorResult, Table, bindparam, insert, select
from sqlalchemy.orm import Session

from entitle.insz import INSZ_WRITTEN
from entitle.rules.decision import Decision
from entitle.rules.logic import Outcome
from entitle.store import freetext
from entitle.store.audit import looks_like_insz
from entitle.store.models import Override, StoredDecision, utc

OVERRIDE_REASONS = ("registry_lag", "household_situation", "document_shown", "other")
OUTCOMES = tuple(str(o) for o in Outcome)
MAX_REASON_CHARS = 300
MAX_NOTE_CHARS = 2000

_INSZ_IN_TEXT = re.compile(rf"(?<!\d){INSZ_WRITTEN.pattern}(?!\d)")  # not inside a longer number


def redact(text: str, limit: int) -> str:
    """`text` with INSZ-like numbers blanked out, cut to `limit` characters."""
    cleaned = _INSZ_IN_TEXT.sub("[INSZ]", text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _pseudonym(value: str) -> str:
    if not value or looks_like_insz(value):
        raise ValueError("subject_pseudonym must be a pseudonym, never an INSZ")
    return value


def _output(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    raise ValueError(f"output {name!r}: only plain values are stored, not {type(value).__name__}")


def _condition(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"condition {name!r}: only true/false/unknown is stored")


_DECISIONS: Table = StoredDecision.__table__  # type: ignore[assignment]
_INSERT_DECISION = insert(_DECISIONS)  # built once, executed with fresh parameters


def decision_values(
    decision: Decision,
    *,
    actor: str,
    purpose: str,
    subject_pseudonym: str,
    reasons: dict[str, str],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The row a decision is stored as (minimised, see the module doc)."""
    return {
        "benefit": decision.benefit,
        "version": decision.version,
        "subject_kind": decision.subject_kind,
        "subject_pseudonym": _pseudonym(subject_pseudonym),
        "as_of": decision.as_of,
        "outcome": str(decision.outcome),
        "outputs": {str(k): _output(str(k), v) for k, v in decision.outputs.items()},
        "conditions": {str(k): _condition(str(k), v) for k, v in decision.conditions.items()},
        "facts_used": [str(f) for f in decision.facts_used],
        "facts_missing": [str(f) for f in decision.facts_missing],
        "reasons": {str(k): redact(str(v), MAX_REASON_CHARS) for k, v in reasons.items()},
        "valid_until": decision.valid_until,
        "actor": actor,
        "purpose": purpose,
        "created": utc(now),
    }


def insert_decision(session: Session | Connection, values: dict[str, Any]) -> int:
    """Insert a row made by `decision_values`; returns its id. Flushed, not committed."""
    result: CursorResult[Any] = session.execute(_INSERT_DECISION, values)  # type: ignore[assignment]
    inserted = result.inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


def save_decision(
    session: Session | Connection,
    decision: Decision,
    *,
    actor: str,
    purpose: str,
    subject_pseudonym: str,
    reasons: dict[str, str],
    now: datetime | None = None,
) -> int:
    """Store a decision (minimised, see the module doc); returns its id. Flushed, not committed.

    `reasons`: fact name → why it is missing (`CheckResult.reasons`); INSZ-like numbers in it are
    blanked out and each text is cut to MAX_REASON_CHARS.
    """
    values = decision_values(
        decision,
        actor=actor,
        purpose=purpose,
        subject_pseudonym=subject_pseudonym,
        reasons=reasons,
        now=now,
    )
    return insert_decision(session, values)


# The audit entry of a check or an override holds the SHA-256 of the record it wrote, so that
# `entitle audit verify` notices a decision or override edited (or deleted) afterwards.
DECISION_FIELDS = (
    "benefit",
    "version",
    "subject_kind",
    "subject_pseudonym",
    "as_of",
    "outcome",
    "outputs",
    "conditions",
    "facts_used",
    "facts_missing",
    "reasons",
    "valid_until",
    "actor",
    "purpose",
    "created",
)
OVERRIDE_FIELDS = (
    "benefit",
    "subject_pseudonym",
    "outcome",
    "reason",
    "note",
    "valid_until",
    "actor",
    "created",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def record_digest(values: dict[str, Any] | Any, fields: tuple[str, ...]) -> str:
    """SHA-256 of the record's fields in canonical JSON (a dict of values or an ORM row)."""
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    plain = {name: _plain(get(name)) for name in fields}
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def decision_dict(row: StoredDecision) -> dict[str, Any]:
    """A stored decision, JSON-ready."""
    return {
        "id": row.id,
        "benefit": row.benefit,
        "version": row.version,
        "subject": {"kind": row.subject_kind, "pseudonym": row.subject_pseudonym},
        "as_of": row.as_of.isoformat(),
        "outcome": row.outcome,
        "outputs": row.outputs,
        "conditions": row.conditions,
        "facts_used": row.facts_used,
        "facts_missing": row.facts_missing,
        "reasons": row.reasons,
        "valid_until": row.valid_until.isoformat() if row.valid_until else None,
        "actor": row.actor,
        "purpose": row.purpose,
        "created": utc(row.created).isoformat(),
    }


def get_decision(session: Session, decision_id: int) -> dict[str, Any] | None:
    """One stored decision, JSON-ready; None if unknown."""
    row = session.get(StoredDecision, decision_id)
    return decision_dict(row) if row else None


class OverrideTargetError(ValueError):
    """An override that names a decision of another benefit or subject (or none at all)."""


@dataclass(frozen=True)
class OverrideView:
    id: int
    benefit: str
    subject_pseudonym: str
    outcome: str
    reason: str  # registry_lag | household_situation | document_shown | other
    note: str
    valid_until: date
    actor: str
    created: datetime  # aware, UTC

    @property
    def digest(self) -> str:
        """SHA-256 of the stored override (the audit entry of the override holds it)."""
        return record_digest(self.__dict__, OVERRIDE_FIELDS)


def _override_view(row: Any) -> OverrideView:
    """An override from its ORM row or a result row of its columns."""
    return OverrideView(
        id=row.id,
        benefit=row.benefit,
        subject_pseudonym=row.subject_pseudonym,
        outcome=row.outcome,
        reason=row.reason,
        note=row.note,
        valid_until=row.valid_until,
        actor=row.actor,
        created=utc(row.created),
    )


def add_override(
    session: Session,
    *,
    benefit: str,
    subject_pseudonym: str,
    outcome: str,
    reason: str,
    note: str,
    valid_until: date,
    actor: str,
    now: datetime | None = None,
    decision_id: int | None = None,
) -> OverrideView:
    """Record an officer's override; it applies to later checks up to and including
    `valid_until`. The note is free text: refused with control or invisible characters
    (`FreeTextError`), scrubbed of amounts, dates, INSZ numbers, IBANs and e-mail addresses. With
    `decision_id`, the override must be of that stored decision: same benefit, same subject
    (`OverrideTargetError` otherwise)."""
    if decision_id is not None:
        target = session.get(StoredDecision, decision_id)
        if target is None:
            raise OverrideTargetError(f"no decision {decision_id}")
        if target.benefit != benefit or target.subject_pseudonym != subject_pseudonym:
            raise OverrideTargetError(
                f"decision {decision_id} is not a decision of {benefit!r} about this subject"
            )
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
    if reason not in OVERRIDE_REASONS:
        raise ValueError(f"unknown reason {reason!r}; one of {', '.join(OVERRIDE_REASONS)}")
    if reason == "other" and not note.strip():
        raise ValueError("reason 'other' needs a note")
    moment = utc(now)
    if valid_until < moment.date():
        raise ValueError("valid_until lies in the past")
    row = Override(
        benefit=benefit,
        subject_pseudonym=_pseudonym(subject_pseudonym),
        outcome=outcome,
        reason=reason,
        note=redact(freetext.clean(note, len(note)), MAX_NOTE_CHARS),
        valid_until=valid_until,
        actor=actor,
        created=moment,
    )
    session.add(row)
    session.flush()
    return _override_view(row)


_ACTIVE_OVERRIDE = (
    select(
        Override.id,
        Override.benefit,
        Override.subject_pseudonym,
        Override.outcome,
        Override.reason,
        Override.note,
        Override.valid_until,
        Override.actor,
        Override.created,
    )
    .where(
        Override.benefit == bindparam("benefit"),
        Override.subject_pseudonym == bindparam("subject"),
        Override.valid_until >= bindparam("on"),
    )
    .order_by(Override.created.desc(), Override.id.desc())
    .limit(1)
)


def active_override(
    session: Session | Connection, benefit: str, subject_pseudonym: str, on: date
) -> OverrideView | None:
    """The newest override for this benefit and subject still valid on `on`, if any."""
    row = session.execute(
        _ACTIVE_OVERRIDE, {"benefit": benefit, "subject": subject_pseudonym, "on": on}
    ).first()
    return _override_view(row) if row else None


def overrides_for(session: Session, subject_pseudonym: str) -> list[OverrideView]:
    """Every override about one subject (any benefit, expired ones too), newest first."""
    rows = session.scalars(
        select(Override)
        .where(Override.subject_pseudonym == subject_pseudonym)
        .order_by(Override.created.desc(), Override.id.desc())
    )
    return [_override_view(r) for r in rows]
