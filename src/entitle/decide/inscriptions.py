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

`InscriptionLedger` (SQLite, ``<data dir>/inscriptions.sqlite``) records each inscription once
MAGDA confirmed it, batch by batch: a sync killed half-way and run again sends nothing for the
persons already done. `not_inscribed` is the pre-check a campaign run (or its preflight) calls.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from entitle.sources.magda import MagdaClient, MagdaConfigError
from entitle.sources.magda.envelope import Criteria
from entitle.sources.magda.repertorium import UitschrijvingCriteria, inscription_criteria

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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inscriptions (
    purpose TEXT NOT NULL,
    capacity TEXT NOT NULL,
    insz TEXT NOT NULL,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    PRIMARY KEY (purpose, capacity, insz)
)
"""


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
    """What Entitle inscribed, per (purpose, capacity, INSZ), once MAGDA confirmed it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def held(self, purpose: str, capacity: str) -> dict[str, Held]:
        """The inscriptions held for a purpose under a capacity, by INSZ."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT insz, capacity, start, end FROM inscriptions "
                "WHERE purpose = ? AND capacity = ?",
                (purpose, capacity),
            ).fetchall()
        return {
            insz: Held(capacity, date.fromisoformat(start), date.fromisoformat(end))
            for insz, capacity, start, end in rows
        }

    def needed_elsewhere(self, purpose: str, capacity: str, insz: Iterable[str]) -> set[str]:
        """Those of ``insz`` another purpose holds inscribed for the same capacity."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT DISTINCT insz FROM inscriptions WHERE purpose != ? AND capacity = ?",
                (purpose, capacity),
            ).fetchall()
        others = {row[0] for row in rows}
        return {i for i in insz if i in others}

    def record(
        self, purpose: str, capacity: str, insz: Sequence[str], start: date, end: date
    ) -> None:
        """Note confirmed inscriptions (a newer period replaces the older one)."""
        with self._connect() as db:
            db.executemany(
                "INSERT INTO inscriptions (purpose, capacity, insz, start, end) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (purpose, capacity, insz) DO UPDATE SET "
                "start = excluded.start, end = excluded.end",
                [(purpose, capacity, i, start.isoformat(), end.isoformat()) for i in insz],
            )

    def forget(self, purpose: str, capacity: str, insz: Sequence[str]) -> None:
        """Drop inscriptions of a purpose (after deregistration, or kept by another purpose)."""
        with self._connect() as db:
            db.executemany(
                "DELETE FROM inscriptions WHERE purpose = ? AND capacity = ? AND insz = ?",
                [(purpose, capacity, i) for i in insz],
            )

    def purposes(self) -> dict[str, int]:
        """Persons held per purpose (counts only)."""
        with self._connect() as db:
            rows = db.execute("SELECT purpose, COUNT(*) FROM inscriptions GROUP BY purpose")
            return {purpose: int(count) for purpose, count in rows.fetchall()}


@dataclass(frozen=True)
class SyncPlan:
    """What a sync has to do: INSZ to inscribe (new), to extend, and to deregister (for the
    purpose's current capacity; inscriptions under a capacity the purpose no longer has are left
    to end with their period)."""

    inscribe: tuple[str, ...]
    extend: tuple[str, ...]
    deregister: tuple[str, ...]
    release: tuple[str, ...]  # not needed here, still needed by another purpose: forget only
    kept: int

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
    leavers = [i for i in held if i not in needed]
    elsewhere = ledger.needed_elsewhere(purpose, capacity, leavers)
    return SyncPlan(
        inscribe=tuple(inscribe),
        extend=tuple(extend),
        deregister=tuple(i for i in leavers if i not in elsewhere),
        release=tuple(i for i in leavers if i in elsewhere),
        kept=kept,
    )


@dataclass
class SyncResult:
    """Counts only (what the audit log and the operator see)."""

    inscribed: int = 0
    extended: int = 0
    deregistered: int = 0
    kept: int = 0
    calls: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, object]:
        return {
            "inscribed": self.inscribed,
            "extended": self.extended,
            "deregistered": self.deregistered,
            "kept": self.kept,
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
    result = SyncResult(kept=plan.kept)
    if plan.release:
        ledger.forget(purpose, capacity, plan.release)
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
        ledger.record(purpose, capacity, done["inscribe"] + done["extend"], start, end)
        ledger.forget(purpose, capacity, done["deregister"])
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
