"""An index of the access log by subject, so a subject-access report reads one person's lines.

Each monthly file of the access log (``access-2026-11.jsonl``) gets an index beside it
(``access-2026-11.index.sqlite``): the byte offset of every line, by the line's subject pseudonym.
The index is brought up to date when it is read: only the lines appended since then are read (a
line still being written, without its newline, waits for the next time). A month file that was
replaced or cut (shorter than what the index covers, or with another first line) is indexed anew.
Several processes may read at once: the update runs in one SQLite write transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entitle.private_files import private_file

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS covered (id INTEGER PRIMARY KEY CHECK (id = 1), "
    "bytes INTEGER NOT NULL, head TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS lines (subject TEXT NOT NULL, offset INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS lines_subject ON lines (subject)",
)
HEAD_BYTES = 256  # the first line identifies the file (a replaced file starts otherwise)


def index_path(month_file: Path) -> Path:
    """The index of a month's file: ``access-2026-11.jsonl`` -> ``access-2026-11.index.sqlite``."""
    return month_file.with_name(f"{month_file.stem}.index.sqlite")


@dataclass(frozen=True)
class Lookup:
    """One subject lookup in one month: the records found and how many lines were read to bring
    the index up to date (0 once it is)."""

    records: list[dict[str, Any]]
    lines_indexed: int


def _head(handle: Any, size: int) -> str:
    """A hash of the file's first line (at most HEAD_BYTES of the first `size` bytes)."""
    handle.seek(0)
    return hashlib.sha256(handle.readline(min(size, HEAD_BYTES))).hexdigest()


def _catch_up(db: sqlite3.Connection, month_file: Path) -> int:
    """Index the lines appended since the last time; the number of lines read."""
    with month_file.open("rb") as handle:
        row = db.execute("SELECT bytes, head FROM covered WHERE id = 1").fetchone()
        size = month_file.stat().st_size
        start = 0
        if row is not None:
            if row[0] <= size and _head(handle, row[0]) == row[1]:
                start = row[0]
            else:
                db.execute("DELETE FROM lines")  # another file under the same name: anew
        handle.seek(start)
        offset, added, read = start, [], 0
        for line in handle:
            if not line.endswith(b"\n"):
                break  # still being written
            read += 1
            try:
                subject = json.loads(line).get("subject")
            except ValueError:
                subject = None
            if isinstance(subject, str):
                added.append((subject, offset))
            offset += len(line)
        db.executemany("INSERT INTO lines (subject, offset) VALUES (?, ?)", added)
        db.execute(
            "INSERT INTO covered (id, bytes, head) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET bytes = excluded.bytes, head = excluded.head",
            (offset, _head(handle, offset)),
        )
        return read


def lookup(month_file: Path, subjects: Iterable[str]) -> Lookup:
    """The access records of these subjects in one month's file, in the file's order, through
    its index (updated first)."""
    wanted = sorted(set(subjects))
    if not wanted:
        return Lookup([], 0)
    path = index_path(month_file)
    if not path.exists():
        private_file(path).touch()
    with closing(sqlite3.connect(path, timeout=30.0, isolation_level=None)) as db:
        for statement in SCHEMA:
            db.execute(statement)
        db.execute("BEGIN IMMEDIATE")
        try:
            indexed = _catch_up(db, month_file)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        marks = ",".join("?" * len(wanted))
        offsets = [
            r[0]
            for r in db.execute(
                f"SELECT offset FROM lines WHERE subject IN ({marks}) ORDER BY offset",  # nosec B608: only "?" marks
                wanted,
            )
        ]
    records = []
    with month_file.open("rb") as handle:
        for offset in offsets:
            handle.seek(offset)
            record = json.loads(handle.readline())
            if record.get("subject") in wanted:
                records.append(record)
    return Lookup(records, indexed)
