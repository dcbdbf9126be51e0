"""The audit chain against cutting and editing (pen-test finding 3): decisions and overrides
are hashed into their audit entries, and `entitle audit verify --expect-head` / `--checkpoint`
(a head signed by `entitle audit checkpoint` with a key outside the database) notice a log cut
back to any earlier head, a full wipe, and an edited or deleted decision or override."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from test_store import PSEUDONYMS, school_decision
from typer.testing import CliRunner

from entitle.cli.store import audit_app
from entitle.decide.desk import add_override, record_check
from entitle.store import db, retention
from entitle.store.models import GENESIS_HASH, AuditEntry
from entitle.web.backend import Backend

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def backend(migrated_database_url: str) -> Iterator[Backend]:
    store = Backend(migrated_database_url, migrate=False, clock=lambda: T0)
    yield store
    store.close()


@pytest.fixture
def engine(migrated_database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(migrated_database_url)
    yield engine
    engine.dispose()


def fill(backend: Backend, checks: int = 3) -> list[int]:
    """`checks` desk checks (decisions) and one override of the first; the decision ids."""
    ids = []
    for n in range(checks):
        decision_id, _override = record_check(
            backend,
            school_decision(),
            kind="check",
            actor="officer",
            purpose="social-tariff-school",
            subject_pseudonym=PSEUDONYMS(f"{n:011d}"),
            reasons={},
            details={"benefit": "ghent.school-tariff"},
        )
        ids.append(decision_id)
    add_override(
        backend,
        benefit=school_decision().benefit,
        subject_pseudonym=PSEUDONYMS(f"{0:011d}"),
        outcome="eligible",
        reason="document_shown",
        note="attest getoond",
        valid_until=T0.date() + timedelta(days=30),
        actor="officer",
        purpose="social-tariff-school",
        details={},
        decision_id=ids[0],
    )
    backend.audit(kind="login", actor="officer")
    return ids


def sql(engine: Engine, statement: str, **values: object) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement), values)


def entries(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id))
        return [(int(r.id), str(r.hash)) for r in rows]


def cut_to(engine: Engine, last: int, heads: list[tuple[int, str]]) -> None:
    """What an attacker with the database does: delete the entries after `last` and move the
    head row back, so that the shorter chain is intact on its own."""
    sql(engine, "DELETE FROM audit_log WHERE id > :last", last=last)
    head = dict(heads).get(last, GENESIS_HASH)
    sql(
        engine,
        "UPDATE audit_head SET last_id = :last, last_hash = :h WHERE id = 1",
        last=last,
        h=head,
    )


def verify(url: str, *options: str) -> tuple[int, str]:
    result = runner.invoke(audit_app, ["verify", "--url", url, *options])
    return result.exit_code, result.output


@pytest.fixture
def signed(backend: Backend, migrated_database_url: str, tmp_path: Path) -> tuple[Path, Path]:
    """A filled log and its signed checkpoint: (checkpoint file, key file)."""
    fill(backend)
    key, mark = tmp_path / "keys" / "checkpoint.key", tmp_path / "checkpoint.json"
    made = runner.invoke(
        audit_app,
        ["checkpoint", "--url", migrated_database_url, "--key-file", str(key), "--out", str(mark)],
    )
    assert made.exit_code == 0, made.output
    assert key.stat().st_mode & 0o777 == 0o600 and mark.stat().st_mode & 0o777 == 0o600
    return mark, key


def test_a_checkpoint_is_signed_and_verifies_while_the_log_grows(
    backend: Backend, migrated_database_url: str, signed: tuple[Path, Path], engine: Engine
) -> None:
    mark, key = signed
    written = json.loads(mark.read_text())
    heads = entries(engine)
    assert (written["sequence"], written["head"]) == heads[-1]
    options = ("--checkpoint", str(mark), "--key-file", str(key))
    assert verify(migrated_database_url, *options)[0] == 0
    fill(backend, 1)  # the log grows after the checkpoint: still fine
    code, output = verify(migrated_database_url, *options, "--expect-head", written["head"])
    assert code == 0, output
    printed = runner.invoke(
        audit_app, ["checkpoint", "--url", migrated_database_url, "--key-file", str(key)]
    )
    assert json.loads(printed.output)["sequence"] == len(entries(engine))


def test_a_checkpoint_with_a_wrong_signature_is_refused(
    migrated_database_url: str, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    mark, key = signed
    forged = json.loads(mark.read_text())
    forged["sequence"] -= 1
    mark.write_text(json.dumps(forged))
    code, output = verify(migrated_database_url, "--checkpoint", str(mark), "--key-file", str(key))
    assert code == 2 and "signature" in output
    other = tmp_path / "other.key"
    other.write_text("ab" * 32)
    code, output = verify(
        migrated_database_url, "--checkpoint", str(mark), "--key-file", str(other)
    )
    assert code == 2


def test_finding_03_last_row_deletion_is_detected(
    migrated_database_url: str, signed: tuple[Path, Path], engine: Engine
) -> None:
    mark, key = signed
    heads = entries(engine)
    cut_to(engine, heads[-2][0], heads)
    assert verify(migrated_database_url)[0] == 0  # the attack: the chain alone looks intact
    code, output = verify(migrated_database_url, "--checkpoint", str(mark), "--key-file", str(key))
    assert code == 1 and f"entry {heads[-1][0]} is not in the log" in output
    assert verify(migrated_database_url, "--expect-head", heads[-1][1])[0] == 1


def test_finding_03_truncation_to_any_earlier_head_is_detected(
    migrated_database_url: str, signed: tuple[Path, Path], engine: Engine
) -> None:
    mark, key = signed
    heads = entries(engine)
    for last in range(len(heads) - 1, -1, -1):  # every earlier head, down to the empty log
        cut_to(engine, last, heads)
        assert verify(migrated_database_url)[0] == 0, last
        code, _ = verify(migrated_database_url, "--checkpoint", str(mark), "--key-file", str(key))
        assert code == 1, last
        assert verify(migrated_database_url, "--expect-head", heads[-1][1])[0] == 1


def test_finding_03_a_full_wipe_is_detected(
    migrated_database_url: str, signed: tuple[Path, Path], engine: Engine
) -> None:
    mark, key = signed
    sql(engine, "DELETE FROM audit_log")
    sql(engine, "UPDATE audit_head SET last_id = 0, last_hash = :h WHERE id = 1", h=GENESIS_HASH)
    code, output = verify(migrated_database_url)
    assert code == 0 and "0 entries" in output
    code, output = verify(migrated_database_url, "--checkpoint", str(mark), "--key-file", str(key))
    assert code == 1 and "cut back or replaced" in output


def test_finding_03_an_edited_decision_is_detected(
    backend: Backend, migrated_database_url: str, engine: Engine
) -> None:
    ids = fill(backend)
    assert verify(migrated_database_url)[0] == 0
    sql(engine, "UPDATE decisions SET outcome = 'not_eligible' WHERE id = :id", id=ids[1])
    code, output = verify(migrated_database_url)
    assert code == 1 and f"decision {ids[1]} was altered" in output


def test_finding_03_an_edited_override_is_detected(
    backend: Backend, migrated_database_url: str, engine: Engine
) -> None:
    fill(backend)
    sql(engine, "UPDATE overrides SET valid_until = :d", d=(T0 + timedelta(days=300)).date())
    code, output = verify(migrated_database_url)
    assert code == 1 and "override 1 was altered" in output


def test_a_deleted_decision_is_detected_unless_retention_purged_it(
    backend: Backend, migrated_database_url: str, engine: Engine
) -> None:
    ids = fill(backend)
    sql(engine, "DELETE FROM overrides")
    code, output = verify(migrated_database_url)
    assert code == 1 and "override 1 recorded by entry" in output and "missing" in output
    sql(engine, "DELETE FROM decisions WHERE id = :id", id=ids[2])
    assert "missing" in verify(migrated_database_url)[1]


def test_decisions_purged_by_retention_are_not_tampering(
    backend: Backend, migrated_database_url: str
) -> None:
    fill(backend)
    later = T0 + timedelta(days=400)
    policy = retention.RetentionPolicy(decisions=30, overrides=30)
    with db.session_factory(backend.engine)() as session:
        report = retention.purge(session, policy, actor="cli:test", now=later)
        session.commit()
    assert report.line("decisions").purged == 3 and report.line("overrides").purged == 1
    code, output = verify(migrated_database_url)
    assert code == 0, output
