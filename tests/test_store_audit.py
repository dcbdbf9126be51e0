"""The hash-chained audit log on SQLite and PostgreSQL: append, verify, tampering seen by
`entitle audit verify`, and concurrent appends that never fork the chain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from entitle.cli.store import audit_app
from entitle.sources.access import Pseudonymiser
from entitle.store import audit, db
from entitle.store.models import AuditEntry

PSEUDONYMS = Pseudonymiser(b"k" * 32)
runner = CliRunner()


@pytest.fixture
def engine(migrated_database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(migrated_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return db.session_factory(engine)


def append_checks(factory: sessionmaker[Session], count: int, actor: str = "officer") -> None:
    with factory() as s:
        for i in range(count):
            audit.append(
                s,
                kind="check",
                actor=actor,
                purpose="social-benefit-uitpas",
                subject=PSEUDONYMS(f"{i:011d}"),
                outcome="eligible" if i % 2 else "not_eligible",
                details={"benefit": "ghent.uitpas", "n": i, "nested": {"b": [1, 2.5], "a": None}},
            )
        s.commit()


def raw(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement))


def verify_cli(url: str) -> tuple[int, str]:
    result = runner.invoke(audit_app, ["verify", "--url", url])
    return result.exit_code, result.output


def test_append_and_verify(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        empty = audit.verify(s)
    assert (empty.ok, empty.entries, empty.first_bad) == (True, 0, None)
    append_checks(factory, 3)
    with factory() as s:
        ids = [
            audit.append(s, kind="login", actor="officer", purpose=None, subject=None, outcome="ok")
        ]
        s.commit()
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        report = audit.verify(s)
    assert ids == [4]
    assert [e.id for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == "0" * 64
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(entries))
    assert (report.ok, report.entries, report.head_hash) == (True, 4, entries[-1].hash)
    with factory() as s:
        with pytest.raises(ValueError, match="INSZ"):
            audit.append(
                s, kind="check", actor="o", purpose="p", subject="85073003328", outcome=None
            )
        with pytest.raises(ValueError, match="INSZ"):
            audit.append(
                s,
                kind="export",
                actor="o",
                purpose="p",
                subject=None,
                outcome=None,
                details={"rows": ["85.07.30-033.28"]},
            )
        with pytest.raises(ValueError, match="kind"):
            audit.append(s, kind="peek", actor="o", purpose="p", subject=None, outcome=None)


def test_search(factory: sessionmaker[Session]) -> None:
    append_checks(factory, 4, actor="a")
    append_checks(factory, 2, actor="b")
    with factory() as s:
        assert [e["id"] for e in audit.search(s, actor="b")] == [6, 5]
        assert [e["id"] for e in audit.search(s, limit=2)] == [6, 5]
        subject = PSEUDONYMS(f"{1:011d}")
        found = audit.search(s, subject=subject, kind="check")
        assert [e["actor"] for e in found] == ["b", "a"]
        first = found[-1]
        assert first["details"] == {
            "benefit": "ghent.uitpas",
            "n": 1,
            "nested": {"a": None, "b": [1, 2.5]},
        }
        assert audit.search(s, kind="login") == []
        everything = audit.search(s)
        latest = everything[0]["time"]
        moment = datetime.fromisoformat(latest)
        assert len(audit.search(s, since=moment)) >= 1
        assert all(e["time"] < latest for e in audit.search(s, until=moment))


def test_verify_cli_reports_an_edited_entry(
    factory: sessionmaker[Session], engine: Engine, migrated_database_url: str
) -> None:
    append_checks(factory, 5)
    assert verify_cli(migrated_database_url)[0] == 0
    raw(engine, "UPDATE audit_log SET outcome = 'not_eligible' WHERE id = 2")
    code, output = verify_cli(migrated_database_url)
    assert code == 1
    assert "TAMPERED" in output
    assert "first bad entry 2" in output
    assert "entry 2 was altered" in output


def test_verify_reports_an_edited_and_rehashed_entry(
    factory: sessionmaker[Session], engine: Engine, migrated_database_url: str
) -> None:
    append_checks(factory, 5)
    # flip the first hex digit (always a change, whatever the hash starts with)
    raw(
        engine,
        "UPDATE audit_log SET hash = "
        "CASE WHEN substr(hash, 1, 1) = 'f' THEN 'e' ELSE 'f' END || substr(hash, 2) WHERE id = 3",
    )
    code, output = verify_cli(migrated_database_url)
    assert code == 1
    assert "entry 3" in output


def test_verify_cli_reports_a_deleted_entry(
    factory: sessionmaker[Session], engine: Engine, migrated_database_url: str
) -> None:
    append_checks(factory, 5)
    raw(engine, "DELETE FROM audit_log WHERE id = 3")
    code, output = verify_cli(migrated_database_url)
    assert code == 1
    assert "first bad entry 3" in output
    assert "entry 3 missing" in output


def test_verify_cli_reports_deleted_last_entries(
    factory: sessionmaker[Session], engine: Engine, migrated_database_url: str
) -> None:
    append_checks(factory, 5)
    raw(engine, "DELETE FROM audit_log WHERE id >= 4")
    code, output = verify_cli(migrated_database_url)
    assert code == 1
    assert "entry 4–5 missing at the end" in output


def test_verify_reports_an_entry_written_past_the_head(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    append_checks(factory, 2)
    raw(
        engine,
        "INSERT INTO audit_log (id, time, kind, actor, prev_hash, hash) "
        "SELECT 3, time, kind, actor, hash, hash FROM audit_log WHERE id = 2",
    )
    with factory() as s:
        report = audit.verify(s)
    assert (report.ok, report.first_bad) == (False, 3)


def test_verify_cli_needs_a_migrated_database(sqlite_url: str) -> None:
    result = runner.invoke(audit_app, ["verify", "--url", sqlite_url])
    assert result.exit_code == 2
    assert "entitle db upgrade" in result.output


def test_concurrent_appends_from_two_engines_keep_one_chain(migrated_database_url: str) -> None:
    """Two workers append while a third verifies: one unforked chain, never a false alarm."""
    workers = [db.make_engine(migrated_database_url) for _ in range(3)]
    start = threading.Barrier(3)
    failures: list[BaseException] = []
    reports: list[audit.VerifyReport] = []
    done = threading.Event()

    def check(engine: Engine) -> None:
        try:
            factory = db.session_factory(engine)
            start.wait()
            while not done.is_set():
                with factory() as s:
                    reports.append(audit.verify(s))
        except BaseException as exc:  # reported below
            failures.append(exc)

    def work(engine: Engine, name: str) -> None:
        try:
            factory = db.session_factory(engine)
            start.wait()
            for i in range(15):
                with factory() as s:
                    audit.append(
                        s, kind="check", actor=name, purpose="p", subject=None, outcome=str(i)
                    )
                    s.commit()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [
        threading.Thread(target=work, args=(engine, f"worker{n}"))
        for n, engine in enumerate(workers[:2])
    ]
    checker = threading.Thread(target=check, args=(workers[2],))
    try:
        for thread in [*threads, checker]:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        done.set()
        checker.join(timeout=60)
        assert failures == []
        assert reports
        assert [r for r in reports if not r.ok] == []
        with db.session_factory(workers[0])() as s:
            report = audit.verify(s)
            actors = s.scalars(select(AuditEntry.actor)).all()
        assert (report.ok, report.entries) == (True, 30)
        assert sorted(set(actors)) == ["worker0", "worker1"]
    finally:
        for engine in workers:
            engine.dispose()


def test_an_append_waits_for_another_connections_open_append(migrated_database_url: str) -> None:
    """Two connections: the second append blocks until the first commits, then chains on it."""
    first_engine = db.make_engine(migrated_database_url)
    second_engine = db.make_engine(migrated_database_url)
    result: list[int] = []
    try:
        with db.session_factory(first_engine)() as first:
            assert (
                audit.append(first, kind="check", actor="a", purpose="p", subject=None, outcome="1")
                == 1
            )

            def second() -> None:
                with db.session_factory(second_engine)() as s:
                    result.append(
                        audit.append(
                            s, kind="check", actor="b", purpose="p", subject=None, outcome="2"
                        )
                    )
                    s.commit()

            thread = threading.Thread(target=second)
            thread.start()
            thread.join(timeout=0.5)
            assert thread.is_alive(), "the second append did not wait for the first"
            assert result == []
            first.commit()
        thread.join(timeout=30)
        assert result == [2]
        with db.session_factory(first_engine)() as s:
            report = audit.verify(s)
        assert (report.ok, report.entries) == (True, 2)
    finally:
        first_engine.dispose()
        second_engine.dispose()
