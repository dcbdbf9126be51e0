"""Properties of the inscription sync's plan (the ledger) and of the simulator's repertory."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from entitle.decide.inscriptions import InscriptionLedger, plan_sync
from entitle.registry.repertory import Repertory
from entitle.store.db import make_engine, migrate, session_factory
from entitle.store.models import Inscription

PEOPLE = [f"{n:011d}" for n in range(12)]
START, END = date(2026, 1, 1), date(2026, 12, 31)
persons = st.sets(st.sampled_from(PEOPLE))


@settings(max_examples=60, deadline=None)
@given(held=persons, other=persons, short=persons, wanted=persons)
def test_applying_the_plan_holds_exactly_what_is_wanted(
    held: set[str], other: set[str], short: set[str], wanted: set[str]
) -> None:
    engine = create_engine("sqlite://")  # one in-memory database per example
    Inscription.__table__.create(engine)
    ledger = InscriptionLedger(session_factory(engine))
    ledger.record("p", "C", sorted(held - short), START, END)
    ledger.record("p", "C", sorted(held & short), START, END - timedelta(days=30))
    ledger.record("q", "C", sorted(other), START, END)  # another purpose, same capacity
    plan = plan_sync(ledger, purpose="p", capacity="C", wanted=wanted, start=START, end=END)
    # an inscription is per capacity: those q holds for the whole period are only adopted
    assert set(plan.inscribe) == wanted - held - other
    assert set(plan.extend) == (wanted & held & short) - other
    assert set(plan.adopt) == (wanted - (held - short)) & other
    assert set(plan.deregister) | set(plan.release) == held - wanted
    assert set(plan.release) == (held - wanted) & other  # still needed by q: only forgotten
    assert plan.kept == len(wanted & (held - short))
    # what a sync does when every call succeeds
    ledger.record("p", "C", [*plan.inscribe, *plan.extend, *plan.adopt], START, END)
    ledger.forget("p", "C", [*plan.deregister, *plan.release])
    assert set(ledger.held("p", "C")) == wanted
    assert set(ledger.held("q", "C")) == other
    again = plan_sync(ledger, purpose="p", capacity="C", wanted=wanted, start=START, end=END)
    assert again.calls == 0 and not again.release and again.kept == len(wanted)


def test_the_ledger_in_the_store(migrated_database_url: str) -> None:
    """The ledger is the store's ``inscriptions`` table, on SQLite and PostgreSQL: a newer
    period replaces the older, a batch's deregistrations drop in the same call, counts only."""
    engine = make_engine(migrated_database_url)
    try:
        ledger = InscriptionLedger(session_factory(engine))
        ledger.record("p", "C", PEOPLE[:4], START, END - timedelta(days=30))
        ledger.record("p", "C", PEOPLE[2:6], START, END, drop=PEOPLE[:1])
        ledger.record("q", "C", PEOPLE[5:7], START, END)
        held = ledger.held("p", "C")
        assert sorted(held) == PEOPLE[1:6]
        assert held[PEOPLE[1]].end == END - timedelta(days=30) and held[PEOPLE[2]].end == END
        assert ledger.needed_elsewhere("p", "C", PEOPLE) == {PEOPLE[5], PEOPLE[6]}
        assert ledger.needed_elsewhere("p", "OTHER", PEOPLE) == set()
        ledger.forget("p", "C", PEOPLE[4:])
        assert ledger.purposes() == {"p": 3, "q": 2}
        many = [f"{n:011d}" for n in range(100, 1300)]  # more than one IN (...) list
        ledger.record("r", "C", many, START, END)
        ledger.forget("r", "C", many[:1100])
        assert sorted(ledger.held("r", "C")) == many[1100:]
    finally:
        engine.dispose()


days = st.integers(min_value=0, max_value=60)


@settings(max_examples=100, deadline=None)
@given(periods=st.lists(st.tuples(days, days), max_size=6), probe=days)
def test_the_repertory_holds_the_union_of_its_periods(
    periods: list[tuple[int, int]], probe: int
) -> None:
    base = date(2026, 1, 1)
    repertory = Repertory()
    for a, b in periods:
        first, last = min(a, b), max(a, b)
        repertory.inscribe("c", "h", "x", base + timedelta(first), base + timedelta(last))
    covered = any(min(a, b) <= probe <= max(a, b) for a, b in periods)
    assert repertory.inscribed("c", "h", "x", base + timedelta(probe)) == covered
    assert not repertory.inscribed("c", "other", "x", base + timedelta(probe))
    entries = repertory.entries()
    assert all(e[4] < f[3] - timedelta(1) for e, f in pairwise(entries))  # merged, apart


def test_the_upgrade_imports_the_old_ledger_file(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0005 copies ``<data dir>/inscriptions.sqlite`` (the ledger before it was in the
    store) into the table, so its persons are still deregistered when they leave a target."""
    monkeypatch.setenv("ENTITLE_DATA_DIR", str(tmp_path))
    old = tmp_path / "inscriptions.sqlite"
    with sqlite3.connect(old) as db:
        db.execute(
            "CREATE TABLE inscriptions (purpose TEXT, capacity TEXT, insz TEXT, start TEXT, "
            "end TEXT, PRIMARY KEY (purpose, capacity, insz))"
        )
        db.executemany(
            "INSERT INTO inscriptions VALUES (?, ?, ?, ?, ?)",
            [("p", "C", i, START.isoformat(), END.isoformat()) for i in PEOPLE[:3]],
        )
    db.close()
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        held = InscriptionLedger(session_factory(engine)).held("p", "C")
        assert sorted(held) == PEOPLE[:3] and held[PEOPLE[0]].end == END
    finally:
        engine.dispose()
    assert not old.exists() and (tmp_path / "inscriptions.sqlite.imported").is_file()
