"""`private_file` on a database SQLite holds open must not drop the process's locks on it."""

from __future__ import annotations

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
