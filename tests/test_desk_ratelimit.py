"""The desk's rate limit (`entitle.store.ratelimit.allow`) against a reference sliding window.

`allow` counts the window and adds the event in one statement and clears expired events only now
and then; whatever the order of calls and however many expired events are still stored, it must
answer exactly as a sliding window of `limit` events per `per_seconds` would.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from entitle.store import db, ratelimit
from entitle.store.models import RateEvent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = 10
_runs = itertools.count()


@pytest.fixture
def engine(migrated_database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(migrated_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


calls = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["a", "b"])), min_size=1, max_size=40)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=st.integers(1, 4), steps=calls)
def test_allow_is_a_sliding_window(
    engine: Engine, limit: int, steps: list[tuple[int, str]]
) -> None:
    run = next(_runs)
    accepted: dict[str, list[float]] = {"a": [], "b": []}
    seconds = 0.0
    for pause, name in steps:
        seconds += pause * 2.5  # 0, 2.5 or 5 s later: events reach the window's edge exactly
        now = T0 + timedelta(seconds=seconds)
        key = f"run{run}:{name}"
        expected = sum(t > seconds - WINDOW for t in accepted[name]) < limit
        with engine.begin() as connection:
            assert ratelimit.allow(connection, key, limit, WINDOW, now=now) == expected
        if expected:
            accepted[name].append(seconds)


def test_expired_events_are_cleared_now_and_then(engine: Engine) -> None:
    key = f"clear{next(_runs)}"
    for i in range(2 * ratelimit.EXPIRE_EVERY):
        with engine.begin() as connection:
            assert ratelimit.allow(connection, key, 1, WINDOW, now=T0 + timedelta(seconds=i * 60))
    with engine.connect() as connection:
        stored = connection.scalar(
            select(func.count()).select_from(RateEvent).where(RateEvent.key == key)
        )
    assert stored is not None and stored <= ratelimit.EXPIRE_EVERY
