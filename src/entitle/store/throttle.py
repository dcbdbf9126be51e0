"""Growing delays after failed sign-ins, per username and per client address.

There is no lock-out anyone could trigger against an officer: after a few free failures each
further failure makes the next attempt for that key wait longer (1, 2, 4, … seconds, up to a
cap), and an attempt made too early is refused like a wrong password, without checking it.
Failures are forgotten an hour after the last one; a successful sign-in clears its username.
Keys are hashed, so the table holds neither usernames typed by mistake nor addresses in clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from entitle.store.models import LoginThrottle, utc

FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Policy:
    """`free` failures cost nothing; then the delay doubles from 1 s up to `cap_seconds`."""

    free: int
    cap_seconds: int

    def delay(self, failures: int) -> int:
        """Seconds the next attempt must wait after `failures` failures."""
        if failures < self.free:
            return 0
        return int(min(2 ** min(failures - self.free, 30), self.cap_seconds))


USERNAME = Policy(free=3, cap_seconds=60)
ADDRESS = Policy(free=10, cap_seconds=300)


def username_key(username: str) -> str:
    return "user:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:40]


def address_key(address: str) -> str:
    return "addr:" + hashlib.sha256(address.encode()).hexdigest()[:40]


def wait_seconds(session: Session, keys: list[str], *, now: datetime | None = None) -> float:
    """How long the next attempt for any of `keys` must still wait (0: it may go ahead)."""
    moment = utc(now)
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys))).all()
    waits = [
        (utc(row.next_allowed) - moment).total_seconds()
        for row in rows
        if moment - utc(row.last_failure) < FORGET_AFTER
    ]
    return max([0.0, *waits])


def record_failure(
    session: Session, key: str, policy: Policy, *, now: datetime | None = None
) -> int:
    """Count a failure for `key`; returns the seconds the next attempt must wait."""
    moment = utc(now)
    row = session.get(LoginThrottle, key, with_for_update=True)
    if row is None:  # two first failures at once: one insert wins, the other counts on it
        try:
            with session.begin_nested():
                session.add(
                    LoginThrottle(key=key, failures=0, last_failure=moment, next_allowed=moment)
                )
        except IntegrityError:
            pass
        row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
        assert row is not None
    if moment - utc(row.last_failure) >= FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure = moment
    delay = policy.delay(row.failures)
    row.next_allowed = moment + timedelta(seconds=delay)
    session.flush()
    return delay


def clear(session: Session, key: str) -> None:
    """Forget the failures of `key` (after a successful sign-in)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
