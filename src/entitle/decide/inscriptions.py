"""Inscriptions in the KSZ reference directory: who Entitle inscribed, for which purpose, and the
sync that keeps that equal to what the purposes need.

The Crossroads Bank gives a consumer a person's social-security data only while the person is
inscribed for the consumer's capacity over the date asked. `sync_inscriptions` makes the
directory hold exactly the persons a purpose needs (a campaign's target, or the desk's list):

- inscribes those not inscribed yet for the period, and extends those whose inscription ends
  before the period does;
- deregisters those Entitle inscribed for the purpose who are no longer needed (moved out, died)
  — unless another purpose with the same capacity still needs them (data minimisation: nobody
  stays inscribed without a purpose, nobody is cut off from a purpose that still needs them).

`InscriptionLedger` (the store's ``inscriptions`` table, SQLite or PostgreSQL) records each
inscription once MAGDA confirmed it, batch by batch, each batch in its own transaction: a sync
killed half-way and run again sends nothing for the persons already done. `not_inscribed` is
the pre-check a campaign run (or its preflight) calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from entitle.sources.magda import MagdaClient, MagdaConfigError
from entitle.sources.magda.envelope import Criteria
from entitle.sources.magda.repertorium import UitschrijvingCriteria, inscription_criteria
from entitle.store.models import Inscription

__all__ = [
    "InscriptionLedger",
    "InscriptionPeriodError",
    "SyncPlan",
    "SyncResult",
    "check_period",
    "not_inscribed",
    "plan_sync",
    "sync_inscriptions",
]


class InscriptionPeriodError(MagdaConfigError):
    """An inscription period that cannot be asked (over already, or ending before it starts)."""


def check_period(start: date, end: date, today: date) -> None:
    """`InscriptionPeriodError` for a period that ends before it starts or before today."""
    if end < start:
        raise InscriptionPeriodError(
            f"inscription period {start}..{end} ends before it starts (--start/--end)"
        )
    if end < today:
        raise InscriptionPeriodError(
            f"inscription period {start}..{end} is in the past (today is {today}): the KSZ "
            "inscribes for now and later only (--end, or the campaign's --as-of)"
        )


@dataclass(frozen=True)
class Held:
    """One inscription Entitle holds."""

    capacity: str
    start: date
    end: date


class InscriptionLedger:
    """What Entitle inscribed, per (purpose, capacity, INSZ), once MAGDA confirmed it: the
    store's ``inscriptions`` table. Each call is one transaction."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def held(self, purpose: str, capacity: str) -> dict[str, Held]:
        """The inscriptions held for a purpose under a capacity, by INSZ."""
        query = select(_ROW.insz, _ROW.start, _ROW.end).where(
            _ROW.purpose == purpose, _ROW.capacity == capacity
        )
        with self.factory() as session:
            rows = session.execute(query).all()
        return {insz: Held(capacity, start, end) for insz, start, end in rows}

    def needed_elsewhere(self, purpose: str, capacity: str, insz: Iterable[str]) -> set[str]:
        """Those of ``insz`` another purpose holds inscribed for the same capacity."""
        found: set[str] = set()
        with self.factory() as session:
            for part in _parts(list(dict.fromkeys(insz))):
                query = (
                    select(_ROW.insz)
                    .distinct()
                    .where(_ROW.purpose != purpose, _ROW.capacity == capacity, _ROW.insz.in_(part))
                )
                found.update(session.scalars(query))
        return found

    def covered_elsewhere(self, purpose: str, capacity: str, start: date, end: date) -> set[str]:
        """The persons another purpose holds inscribed for the same capacity over all of
        ``start``..``end`` (the KSZ already gives their data to that capacity then)."""
        query = select(_ROW.insz).where(
            _ROW.purpose != purpose,
            _ROW.capacity == capacity,
            _ROW.start <= start,
            _ROW.end >= end,
        )
        with self.factory() as session:
            return set(session.scalars(query))

    def record(
        self,
        purpose: str,
        capacity: str,
        insz: Sequence[str],
        start: date,
        end: date,
        *,
        drop: Sequence[str] = (),
    ) -> None:
        """Note confirmed inscriptions (a newer period replaces the older one) and, in the same
        transaction, drop the confirmed deregistrations ``drop``."""
        unique = list(dict.fromkeys(insz))
        if not unique and not drop:
            return
        with self.factory() as session, session.begin():
            for part in _parts([*unique, *drop]):
                session.execute(_where(delete(Inscription), purpose, capacity, part))
            if not unique:
                return
            session.execute(
                insert(Inscription),
                [
                    {
                        "purpose": purpose,
                        "capacity": capacity,
                        "insz": i,
                        "start": start,
                        "end": end,
                    }
                    for i in unique
                ],
            )

    def forget(self, purpose: str, capacity: str, insz: Sequence[str]) -> None:
        """Drop inscriptions of a purpose (after deregistration, or kept by another purpose)."""
        if not insz:
            return
        with self.factory() as session, session.begin():
            for part in _parts(list(insz)):
                session.execute(_where(delete(Inscription), purpose, capacity, part))

    def purposes(self) -> dict[str, int]:
        """Persons held per purpose (counts only)."""
        query = select(_ROW.purpose, func.count()).group_by(_ROW.purpose)
        with self.factory() as session:
            return {purpose: int(count) for purpose, count in session.execute(query).all()}


_ROW = Inscription.__table__.c
_PART = 500  # INSZ per IN (...) list: well below every backend's parameter limit


def _parts(values: list[str]) -> Iterable[list[str]]:
    for offset in range(0, len(values), _PART):
        yield values[offset : offset + _PART]


def _where(statement: Any, purpose: str, capacity: str, insz: list[str]) -> Any:
    return statement.where(_ROW.purpose == purpose, _ROW.capacity == capacity, _ROW.insz.in_(insz))


@dataclass(frozen=True)
class SyncPlan:
    """What a sync has to do: INSZ to inscribe (new), to extend, and to deregister (for the
    purpose's current capacity; inscriptions under a capacity the purpose no longer has are left
    to end with their period). An inscription is per capacity, not per purpose: a person
    another purpose already holds for the capacity over the whole period is only adopted (noted
    for this purpose, no call)."""

    inscribe: tuple[str, ...]
    extend: tuple[str, ...]
    deregister: tuple[str, ...]
    release: tuple[str, ...]  # not needed here, still needed by another purpose: forget only
    kept: int
    adopt: tuple[str, ...] = ()  # inscribed for the capacity by another purpose: note only

    @property
    def calls(self) -> int:
        return len(self.inscribe) + len(self.extend) + len(self.deregister)


def plan_sync(
    ledger: InscriptionLedger,
    *,
    purpose: str,
    capacity: str,
    wanted: Iterable[str],
    start: date,
    end: date,
) -> SyncPlan:
    """Compare what the purpose needs with what the ledger holds for it."""
    held = ledger.held(purpose, capacity)
    need = list(dict.fromkeys(wanted))
    needed = set(need)
    inscribe: list[str] = []
    extend: list[str] = []
    kept = 0
    for insz in need:
        have = held.get(insz)
        if have is None:
            inscribe.append(insz)
        elif have.start > start or have.end < end:
            extend.append(insz)
        else:
            kept += 1
    covered = (
        ledger.covered_elsewhere(purpose, capacity, start, end) if inscribe or extend else set()
    )
    leavers = [i for i in held if i not in needed]
    elsewhere = ledger.needed_elsewhere(purpose, capacity, leavers)
    return SyncPlan(
        inscribe=tuple(i for i in inscribe if i not in covered),
        extend=tuple(i for i in extend if i not in covered),
        deregister=tuple(i for i in leavers if i not in elsewhere),
        release=tuple(i for i in leavers if i in elsewhere),
        kept=kept,
        adopt=tuple(i for i in [*inscribe, *extend] if i in covered),
    )


@dataclass
class SyncResult:
    """Counts only (what the audit log and the operator see)."""

    inscribed: int = 0
    extended: int = 0
    deregistered: int = 0
    kept: int = 0
    adopted: int = 0  # already inscribed for the capacity by another purpose: no call
    calls: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, object]:
        return {
            "inscribed": self.inscribed,
            "extended": self.extended,
            "deregistered": self.deregistered,
            "kept": self.kept,
            "adopted": self.adopted,
            "calls": self.calls,
            "failed": dict(self.failed),
        }


Progress = Callable[[int], None]


def sync_inscriptions(
    client: MagdaClient,
    ledger: InscriptionLedger,
    *,
    purpose: str,
    wanted: Iterable[str],
    start: date,
    end: date,
    today: date,
    batch_size: int = 200,
    on_plan: Callable[[SyncPlan], None] | None = None,
    on_progress: Progress | None = None,
) -> SyncResult:
    """Make the directory hold exactly ``wanted`` for ``purpose`` over ``start``..``end``.

    Batches of ``batch_size`` persons go out (each request one person, ``max_concurrency`` in
    flight); each batch's confirmed changes are recorded before the next starts. Raises
    `InscriptionPeriodError` (nothing sent) for a period in the past, and lets a
    `MagdaConfigError` (a refused signature, no capacity) stop the sync — what was confirmed
    stays recorded."""
    check_period(start, end, today)
    settings = client.settings
    capacity = settings.capacity(purpose)
    plan = plan_sync(
        ledger, purpose=purpose, capacity=capacity, wanted=wanted, start=start, end=end
    )
    if on_plan is not None:
        on_plan(plan)
    result = SyncResult(kept=plan.kept, adopted=len(plan.adopt))
    if plan.release:
        ledger.forget(purpose, capacity, plan.release)
    if plan.adopt:
        ledger.record(purpose, capacity, plan.adopt, start, end)
    version = settings.inscription_version

    def inscription(insz: str) -> Criteria:
        return inscription_criteria(
            version, insz, consumer=settings.sender, capacity=capacity, start=start, end=end
        )

    work: list[tuple[str, str]] = [
        *(("inscribe", i) for i in plan.inscribe),
        *(("extend", i) for i in plan.extend),
        *(("deregister", i) for i in plan.deregister),
    ]
    for offset in range(0, len(work), batch_size):
        batch = work[offset : offset + batch_size]
        criteria: list[Criteria] = [
            UitschrijvingCriteria(insz, consumer=settings.sender, capacity=capacity)
            if action == "deregister"
            else inscription(insz)
            for action, insz in batch
        ]
        answers = client.ask(criteria, purpose=purpose)
        result.calls += sum(a.attempts for a in answers)
        done: dict[str, list[str]] = {"inscribe": [], "extend": [], "deregister": []}
        for (action, insz), answer in zip(batch, answers, strict=True):
            if answer.outcome == "ok":
                done[action].append(insz)
            else:
                result.failed[answer.outcome] += 1
        ledger.record(
            purpose,
            capacity,
            done["inscribe"] + done["extend"],
            start,
            end,
            drop=done["deregister"],
        )  # one transaction per batch: a rerun after a kill resends nothing confirmed
        result.inscribed += len(done["inscribe"])
        result.extended += len(done["extend"])
        result.deregistered += len(done["deregister"])
        if on_progress is not None:
            on_progress(len(batch))
    return result


def not_inscribed(
    ledger: InscriptionLedger,
    *,
    purpose: str,
    capacity: str,
    insz: Iterable[str],
    on: date,
) -> list[str]:
    """Those of ``insz`` Entitle holds no inscription for, for the purpose and capacity, on the
    date: their KSZ facts will come back as "no data" (the campaign pre-check)."""
    held = ledger.held(purpose, capacity)
    missing: list[str] = []
    for person in dict.fromkeys(insz):
        have = held.get(person)
        if have is None or not have.start <= on <= have.end:
            missing.append(person)
    return missing
