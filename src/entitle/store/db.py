"""Engines, sessions and migrations.

SQLite: every transaction starts with `BEGIN IMMEDIATE` (it takes the write lock up front), so two
workers appending to the audit chain serialise instead of failing or forking it; WAL journal,
foreign keys on, a generous busy timeout. PostgreSQL: psycopg 3, pre-ping; appends lock the chain
head row (`SELECT … FOR UPDATE`). Keep transactions short (commit before calling a registry).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: threads of one process only
    fcntl = None  # type: ignore[assignment]

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from entitle.datadir import data_dir
from entitle.private_files import private_file
from entitle.settings import settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def database_url() -> str:
    """`ENTITLE_DATABASE_URL`, else `sqlite:///<data_dir>/entitle.db`."""
    configured = settings().database_url
    if configured:
        return configured
    return f"sqlite:///{data_dir() / 'entitle.db'}"


def normalise_url(url: str) -> URL:
    """A SQLAlchemy URL; plain `postgresql://` / `postgres://` use psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def redacted(url: str | None = None) -> str:
    """The URL with its password hidden, for messages."""
    return normalise_url(url or database_url()).render_as_string(hide_password=True)


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: `database_url()`), configured for safe concurrent use."""
    parsed = normalise_url(url or database_url())
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite database (None: in memory, or a ``file:`` URI)."""
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        return Path(url.database).expanduser()
    return None


def _sqlite_engine(url: URL) -> Engine:
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        # created owner only: SQLite gives the -wal and -shm files the database file's mode
        # (an existing database is narrowed by `migrate`, not on every engine)
        private_file(path)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if url.database and url.database != ":memory:":
                cursor.execute("PRAGMA journal_mode = WAL")
                # WAL + NORMAL: a commit is not fsynced (checkpoints are); the database stays
                # consistent on a crash, a power loss may drop the last commits. Production
                # deployments use PostgreSQL; this keeps the embedded default fast at the desk.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class WriterLock:
    """Serialises the writers of one SQLite file across threads and worker processes.

    Threads queue on a lock, processes on an exclusive `flock` of ``<database>.writer``: a
    waiting writer sleeps in the kernel and wakes as soon as the lock is free, instead of
    polling in SQLite's busy handler (which backs off in steps of up to 100 ms). An aid to
    scheduling only: `BEGIN IMMEDIATE` still guards correctness for writers that skip it.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self.path is None or fcntl is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self) -> WriterLock:
        self._threads.acquire()
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        """Close the lock file (reopened when used again)."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


def writer_lock(url: str | None = None) -> WriterLock | None:
    """The `WriterLock` of a SQLite database (None for other databases: they lock rows)."""
    parsed = normalise_url(url or database_url())
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return WriterLock(None)
    return WriterLock(Path(database).expanduser().with_name(Path(database).name + ".writer"))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration, built in code (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url",
        normalise_url(url or database_url()).render_as_string(False).replace("%", "%%"),
    )
    return config


def migrate(url: str | None = None) -> None:
    """Bring the database schema to the newest revision (`alembic upgrade head`)."""
    config = alembic_config(url)
    parsed = normalise_url(url or database_url())
    path = _sqlite_file(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is not None:
        private_file(path)  # an existing database too: owner only
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest migration shipped with this version of Entitle."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None: not initialised)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration."""
    return current_revision(engine) == head_revision()
