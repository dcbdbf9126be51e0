"""`private_file` on a database SQLite holds open must not drop the process's locks on it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from entitle.private_files import private_file

OPEN_AND_CLOSE = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("SELECT count(*) FROM t").fetchall()
db.close()
"""


def test_narrowing_an_open_database_keeps_its_wal_index(tmp_path: Path) -> None:
    """Another process closing its connection must still see this one: it leaves the WAL index
    (the -shm file) in place instead of removing it under this process's open connection."""
    path = tmp_path / "entitle.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.execute("SELECT count(*) FROM t").fetchall()
    private_file(path)  # e.g. a second engine made on the same file
    subprocess.run([sys.executable, "-c", OPEN_AND_CLOSE, str(path)], check=True)
    try:
        assert path.with_name("entitle.db-shm").exists()
        db.execute("INSERT INTO t VALUES (1)")
        db.commit()
    finally:
        db.close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_database_is_made_private_when_created_and_when_migrated(tmp_path: Path) -> None:
    from entitle.store.db import make_engine, migrate

    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh" / "entitle.db"
        make_engine(f"sqlite:///{fresh}").dispose()
        assert fresh.stat().st_mode & 0o777 == 0o600  # created owner-only
        loose = tmp_path / "loose.db"
        sqlite3.connect(loose).close()
        loose.chmod(0o644)
        make_engine(f"sqlite:///{loose}").dispose()  # an engine leaves an existing file alone
        assert loose.stat().st_mode & 0o777 == 0o644
        migrate(f"sqlite:///{loose}")  # the upgrade narrows it
        assert loose.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
