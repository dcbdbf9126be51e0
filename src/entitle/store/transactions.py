"""One database and its short transactions, for a process that serves many requests.

On SQLite every transaction takes the database's write lock (``BEGIN IMMEDIATE``); the threads and
worker processes queue for it on `db.WriterLock` instead of in SQLite's busy handler, which sleeps
in steps of up to 100 ms.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from entitle.store import db

R = TypeVar("R")


class Transactions:
    """Runs work in one transaction each (committed on success, rolled back on an error).

    `url`: the database (None: `db.database_url()`); `migrate`: bring its schema up to date
    first; `clock`: a fixed time for the records (tests; None: the store's own).
    """

    def __init__(
        self,
        url: str | None,
        *,
        migrate: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = url or db.database_url()
        self.clock = clock
        if migrate:
            db.migrate(self.url)
        self.engine = db.make_engine(self.url)
        self.factory: sessionmaker[Session] = db.session_factory(self.engine)
        self._writer = db.writer_lock(self.url)
        self._serial: AbstractContextManager[Any] = self._writer or nullcontext()

    def now(self) -> datetime | None:
        """The time given to the store: the fixed clock's (tests), else None (the store's)."""
        return self.clock() if self.clock is not None else None

    def run(self, work: Callable[[Session], R]) -> R:
        """`work` in an ORM session, committed when it returns."""
        with self._serial, self.factory() as session:
            try:
                result = work(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return result

    def run_core(self, work: Callable[[Connection], R]) -> R:
        """Like `run`, on a plain connection (Core statements, no ORM session): the hot path."""
        with self._serial, self.engine.begin() as connection:
            return work(connection)

    def close(self) -> None:
        self.engine.dispose()
        if self._writer is not None:
            self._writer.close()
