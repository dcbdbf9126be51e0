"""Rate limits shared by every web worker: a sliding window of events per key, in the database.

Use one key per (who, what, window), e.g. `f"check:{username}:minute"` with (30, 60) and
`f"check:{username}:hour"` with (300, 3600): a key keeps only its own window's events.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from entitle.store.models import RateEvent, utc


def _lock_key(key: str) -> int:
    """A signed 64-bit advisory-lock id for `key`."""
    return int.from_bytes(
        hashlib.sha256(b"entitle-rate:" + key.encode()).digest()[:8], "big", signed=True
    )


def allow(
    session: Session, key: str, limit: int, per_seconds: int, *, now: datetime | None = None
) -> bool:
    """Count one event for `key` if fewer than `limit` happened in the last `per_seconds`.

    Returns False (and counts nothing) when the limit is reached. Serialised per key: on
    PostgreSQL by a transaction-level advisory lock, on SQLite by the write lock every transaction
    takes; the lock is held until the caller commits.
    """
    if limit < 1 or per_seconds < 1:
        raise ValueError("limit and per_seconds must be positive")
    moment = utc(now)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(key)})
    cutoff = moment - timedelta(seconds=per_seconds)
    session.execute(delete(RateEvent).where(RateEvent.key == key, RateEvent.time <= cutoff))
    used = session.scalar(select(func.count()).select_from(RateEvent).where(RateEvent.key == key))
    if (used or 0) >= limit:
        return False
    session.add(RateEvent(key=key, time=moment))
    session.flush()
    return True
