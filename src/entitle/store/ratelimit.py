"""Rate limits shared by every web worker: a sliding window of events per key, in the database.

Use one key per (who, what, window), e.g. `f"check:{username}:minute"` with (30, 60) and
`f"check:{username}:hour"` with (300, 3600): a key keeps only its own window's events.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from entitle.store.models import RateEvent, utc

# Built once, executed with fresh parameters. One statement counts the window and adds the event
# when there is room (its row count says which); expired events are cleared now and then.
_EVENTS: Table = RateEvent.__table__  # type: ignore[assignment]
_KEY = bindparam("k", type_=_EVENTS.c.key.type)
_CUTOFF = bindparam("cutoff", type_=_EVENTS.c.time.type)
_IN_WINDOW = (
    select(func.count())
    .select_from(_EVENTS)
    .where(_EVENTS.c.key == _KEY, _EVENTS.c.time > _CUTOFF)
    .scalar_subquery()
)
_ADD_IF_ROOM = (
    insert(_EVENTS)
    .from_select(
        ["key", "time"],
        select(_KEY, bindparam("moment", type_=_EVENTS.c.time.type)).where(
            bindparam("most") > _IN_WINDOW
        ),
    )
    .execution_options(preserve_rowcount=True)  # an INSERT's row count is not kept otherwise
)
_EXPIRE = delete(_EVENTS).where(_EVENTS.c.key == _KEY, _EVENTS.c.time <= _CUTOFF)
EXPIRE_EVERY = 64  # calls (per process) between clearings of a key's expired events
_calls = itertools.count(1)


def _lock_key(key: str) -> int:
    """A signed 64-bit advisory-lock id for `key`."""
    return int.from_bytes(
        hashlib.sha256(b"entitle-rate:" + key.encode()).digest()[:8], "big", signed=True
    )


def allow(
    session: Session | Connection,
    key: str,
    limit: int,
    per_seconds: int,
    *,
    now: datetime | None = None,
) -> bool:
    """Count one event for `key` if fewer than `limit` happened in the last `per_seconds`.

    Returns False (and counts nothing) when the limit is reached. Serialised per key: on
    PostgreSQL by a transaction-level advisory lock, on SQLite by the write lock every transaction
    takes; the lock is held until the caller commits.
    """
    if limit < 1 or per_seconds < 1:
        raise ValueError("limit and per_seconds must be positive")
    moment = utc(now)
    bind = session if isinstance(session, Connection) else session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(key)})
    cutoff = moment - timedelta(seconds=per_seconds)
    if next(_calls) % EXPIRE_EVERY == 0:
        session.execute(_EXPIRE, {"k": key, "cutoff": cutoff})
    added: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        _ADD_IF_ROOM, {"k": key, "moment": moment, "cutoff": cutoff, "most": limit}
    )
    return added.rowcount == 1
