"""Properties of the inscription sync's plan (the ledger) and of the simulator's repertory."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from entitle.decide.inscriptions import InscriptionLedger, plan_sync
from entitle.registry.repertory import Repertory

PEOPLE = [f"{n:011d}" for n in range(12)]
START, END = date(2026, 1, 1), date(2026, 12, 31)
persons = st.sets(st.sampled_from(PEOPLE))


@settings(max_examples=60, deadline=None)
@given(held=persons, other=persons, short=persons, wanted=persons)
def test_applying_the_plan_holds_exactly_what_is_wanted(
    held: set[str], other: set[str], short: set[str], wanted: set[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = InscriptionLedger(Path(tmp) / "l.sqlite")
        ledger.record("p", "C", sorted(held - short), START, END)
        ledger.record("p", "C", sorted(held & short), START, END - timedelta(days=30))
        ledger.record("q", "C", sorted(other), START, END)  # another purpose, same capacity
        plan = plan_sync(ledger, purpose="p", capacity="C", wanted=wanted, start=START, end=END)
        assert set(plan.inscribe) == wanted - held
        assert set(plan.extend) == wanted & held & short
        assert set(plan.deregister) | set(plan.release) == held - wanted
        assert set(plan.release) == (held - wanted) & other  # still needed by q: only forgotten
        assert plan.kept == len(wanted & (held - short))
        # what a sync does when every call succeeds
        ledger.record("p", "C", [*plan.inscribe, *plan.extend], START, END)
        ledger.forget("p", "C", [*plan.deregister, *plan.release])
        assert set(ledger.held("p", "C")) == wanted
        assert set(ledger.held("q", "C")) == other
        again = plan_sync(ledger, purpose="p", capacity="C", wanted=wanted, start=START, end=END)
        assert again.calls == 0 and not again.release and again.kept == len(wanted)


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
