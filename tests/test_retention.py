"""Retention: records past their period are purged, the rest is kept, the audit chain still
verifies from its new anchor, and the purge proves itself — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.sources.access import Access, JsonlAccessLog, monthly_files
from entitle.store import audit, db
from entitle.store.models import (
    AuditEntry,
    AuditHead,
    CampaignDecision,
    CampaignLetter,
    CampaignRun,
    Override,
    RateEvent,
    StoredDecision,
    User,
    WebSession,
)
from entitle.store.retention import RetentionError, RetentionPolicy, purge

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
POLICY = RetentionPolicy(
    decisions=730, overrides=365, audit=3650, access_log=3650, campaigns=730, rate_events=2
)


@pytest.fixture
def engine(migrated_database_url: str) -> Iterator[Engine]:
    made = db.make_engine(migrated_database_url)
    yield made
    made.dispose()


def _ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def _login(session: Session, days: float) -> None:
    audit.append(
        session,
        kind="login",
        actor="desk1",
        purpose=None,
        subject=None,
        outcome="ok",
        now=_ago(days),
    )


def _decision(created: datetime, subject: str) -> StoredDecision:
    return StoredDecision(
        benefit="ghent.uitpas",
        version="1",
        subject_kind="person",
        subject_pseudonym=subject,
        as_of=created.date(),
        outcome="eligible",
        outputs={},
        conditions={},
        facts_used=[],
        facts_missing=[],
        reasons={},
        valid_until=None,
        actor="desk1",
        purpose="ghent-uitpas",
        created=created,
    )


def _run(session: Session, campaign: str, started: datetime, folder: Path) -> int:
    run = CampaignRun(
        campaign=campaign,
        benefit="ghent.garbage-bags",
        benefit_version="1",
        as_of=started.date(),
        period=str(started.year),
        status="issued",
        chunk_size=10,
        chunks_total=1,
        subjects_total=1,
        fingerprint="f" * 64,
        approvals_required=1,
        outputs={"folder": str(folder)},
        started_by="campaign1",
        started=started,
    )
    session.add(run)
    session.flush()
    session.add(
        CampaignDecision(
            run_id=run.id,
            chunk_no=0,
            subject_pseudonym=f"p{run.id}",
            outcome="eligible",
            change="new",
            outputs={},
            conditions={},
            facts_used=[],
            facts_missing=[],
            reasons={},
        )
    )
    session.add(
        CampaignLetter(
            run_id=run.id,
            seq=1,
            campaign=campaign,
            period=str(started.year),
            subject_pseudonym=f"p{run.id}",
            kind="coupon",
            code=f"CODE{run.id}",
            value={},
            valid_until=(started + timedelta(days=100)).date(),
            issued=started,
        )
    )
    return run.id


def _populate(engine: Engine, folders: Path) -> dict[str, int]:
    """Old and recent records of each kind; returns the ids that matter."""
    ids: dict[str, int] = {}
    with db.session_factory(engine)() as session:
        for days in (4000, 3700, 3651, 100, 1):  # three audit entries past ten years
            audit.append(
                session,
                kind="check",
                actor="desk1",
                purpose="ghent-uitpas",
                subject="abc",
                outcome="eligible",
                now=_ago(days),
            )
        session.add_all([_decision(_ago(800), "old"), _decision(_ago(10), "new")])
        user = User(username="desk1", role="desk_officer", created=_ago(900))
        session.add(user)
        session.flush()
        session.add_all(
            [
                Override(
                    benefit="ghent.uitpas",
                    subject_pseudonym=s,
                    outcome="eligible",
                    reason="other",
                    note="n",
                    valid_until=until,
                    actor="desk1",
                    created=_ago(900),
                )
                for s, until in (("gone", date(2025, 1, 1)), ("kept", date(2026, 6, 1)))
            ]
        )
        session.add_all([RateEvent(key="desk1", time=_ago(3)), RateEvent(key="desk1", time=NOW)])
        session.add_all(
            [
                WebSession(id_hash=h, user_id=user.id, csrf="c", created=_ago(1), expires=expires)
                for h, expires in (("a" * 64, _ago(0.5)), ("b" * 64, NOW + timedelta(hours=1)))
            ]
        )
        for name, key in (("first", "old_run"), ("second", "older_latest")):
            folder = folders / key
            folder.mkdir(parents=True)
            (folder / "letters.pdf").write_bytes(b"%PDF")
            ids[key] = _run(
                session, "garbage-bags" if name == "first" else "lez", _ago(1000), folder
            )
        recent = folders / "recent"
        recent.mkdir()
        ids["recent"] = _run(session, "garbage-bags", _ago(20), recent)
        session.commit()
    return ids


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_purge_removes_what_is_past_its_period_and_keeps_the_rest(
    engine: Engine, tmp_path: Path
) -> None:
    ids = _populate(engine, tmp_path / "runs")
    with db.session_factory(engine)() as session:
        dry = purge(session, POLICY, actor="cli:test", now=NOW, dry_run=True)
        session.commit()
    assert dry.line("audit").purged == 3 and dry.line("decisions").purged == 1
    assert not dry.proven
    with db.session_factory(engine)() as session:
        assert _count(session, AuditEntry) == 5  # a dry run changes nothing

    with db.session_factory(engine)() as session:
        report = purge(session, POLICY, actor="cli:test", now=NOW)
        session.commit()
    purged = {line.kind: line.purged for line in report.lines}
    assert purged == {
        "decisions": 1,
        "overrides": 1,
        "rate_events": 1,
        "sessions": 1,
        "campaign_decisions": 1,  # the old run; the latest run of "lez" is kept, however old
        "campaign_letters": 2,  # letters past their validity, whichever run
        "audit": 3,
    }
    assert report.proven
    assert report.run_folders == [str(tmp_path / "runs" / "old_run")]

    with db.session_factory(engine)() as session:
        assert session.scalars(select(StoredDecision.subject_pseudonym)).all() == ["new"]
        assert session.scalars(select(Override.subject_pseudonym)).all() == ["kept"]
        assert _count(session, RateEvent) == 1 and _count(session, WebSession) == 1
        kept_runs = set(session.scalars(select(CampaignDecision.run_id)))
        assert kept_runs == {ids["older_latest"], ids["recent"]}
        marked = session.get(CampaignRun, ids["old_run"])
        assert marked is not None and marked.outputs and "purged" in marked.outputs
        assert set(session.scalars(select(CampaignLetter.run_id))) == {ids["recent"]}
        chain = audit.verify(session)
        assert chain.ok, chain.problem
        assert chain.first_id == 4 and chain.entries == 6  # entries 4, 5 and the purge itself
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None and last.kind == "retention"
        assert last.details is not None and last.details["purged_through"] == 3

    with db.session_factory(engine)() as session:  # purging again finds nothing more
        again = purge(session, POLICY, actor="cli:test", now=NOW)
        session.commit()
    assert all(line.purged == 0 for line in again.lines) and again.proven


def test_an_anchor_moved_without_a_retention_entry_is_reported(engine: Engine) -> None:
    with db.session_factory(engine)() as session:
        for days in (10, 5, 1):
            _login(session, days)
        session.commit()
    with db.session_factory(engine)() as session:  # cut entry 1 and hide the cut
        hash_1 = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == 1))
        session.query(AuditEntry).filter(AuditEntry.id == 1).delete()
        session.execute(update(AuditHead).values(first_id=2, first_prev_hash=hash_1))
        session.commit()
    with db.session_factory(engine)() as session:
        report = audit.verify(session)
    assert not report.ok
    assert report.problem is not None and "no retention entry" in report.problem


def test_a_tampered_chain_is_not_purged(engine: Engine) -> None:
    with db.session_factory(engine)() as session:
        for days in (4000, 1):
            _login(session, days)
        session.commit()
    with db.session_factory(engine)() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(actor="someone"))
        session.commit()
    with db.session_factory(engine)() as session, pytest.raises(RetentionError, match="evidence"):
        purge(session, POLICY, actor="cli:test", now=NOW)
    with db.session_factory(engine)() as session:
        assert _count(session, AuditEntry) == 2


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ages=st.lists(st.integers(0, 6000), min_size=1, max_size=12),
    purges=st.lists(st.integers(0, 4000), min_size=1, max_size=3),
)
def test_any_sequence_of_purges_keeps_a_verifiable_chain(
    tmp_path_factory: pytest.TempPathFactory, ages: list[int], purges: list[int]
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('chain') / 'entitle.db'}"
    db.migrate(url)
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            for days in sorted(ages, reverse=True):  # entries in time order, as appended
                _login(session, days)
            session.commit()
        moment = NOW
        for step in purges:
            moment += timedelta(days=step)
            with db.session_factory(engine)() as session:
                purge(session, POLICY, actor="cli:test", now=moment)
                session.commit()
            with db.session_factory(engine)() as session:
                report = audit.verify(session)
                assert report.ok, report.problem
                cutoff = moment - timedelta(days=POLICY.audit)
                older = session.scalar(
                    select(func.count()).select_from(AuditEntry).where(AuditEntry.time < cutoff)
                )
                assert older == 0
    finally:
        engine.dispose()


def test_the_command_purges_old_access_log_months_and_proves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'entitle.db'}"
    db.migrate(url)
    log = JsonlAccessLog(tmp_path / "state" / "access.jsonl")
    for moment in ("2015-03-02T10:00:00+00:00", "2016-11-30T10:00:00+00:00", NOW.isoformat()):
        log.record(Access(moment, "ghent-uitpas", "GeefPersoon", "abc", "ok", ("person.x",)))
    log.close()
    assert list(monthly_files(log.path)) == ["2015-03", "2016-11", "2026-11"]
    monkeypatch.setenv("ENTITLE_RETENTION_ACCESS_LOG", str(3650))
    arguments = ["--url", url, "--now", NOW.isoformat(), "--access-log", str(log.path)]

    shown = CliRunner().invoke(app, ["retention", "show", *arguments, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["access_log_months"] == ["access-2015-03.jsonl"]
    assert len(monthly_files(log.path)) == 3  # show changes nothing

    applied = CliRunner().invoke(app, ["retention", "apply", *arguments])
    assert applied.exit_code == 0, applied.output
    assert "proven: nothing older than its cut-off is left" in applied.stdout
    assert list(monthly_files(log.path)) == ["2016-11", "2026-11"]
    verified = CliRunner().invoke(app, ["audit", "verify", "--url", url])
    assert verified.exit_code == 0 and "audit log intact" in verified.stdout


def test_retention_periods_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTITLE_RETENTION_DECISIONS", "90")
    assert RetentionPolicy().decisions == 90
    monkeypatch.setenv("ENTITLE_RETENTION_AUDIT", "5")  # under a month: refused
    with pytest.raises(ValueError, match="audit"):
        RetentionPolicy()
