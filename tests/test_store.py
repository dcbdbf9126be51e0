"""entitle.store on SQLite and PostgreSQL: schema, accounts, sessions, decisions, overrides,
rate limits, volume alerts and the subject-access report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from entitle.rules.cases import DictProvider, parse_case
from entitle.rules.catalogue import default_catalogue
from entitle.rules.decision import Decision
from entitle.rules.loader import load_benefit
from entitle.rules.logic import Outcome
from entitle.rules.scalar import evaluate
from entitle.sources.access import Pseudonymiser
from entitle.store import audit, db, throttle
from entitle.store.decisions import active_override, add_override, get_decision, save_decision
from entitle.store.models import Base, User
from entitle.store.ratelimit import allow
from entitle.store.sessions import create_session, end_session, load_session
from entitle.store.users import (
    AuthError,
    UserError,
    add_user,
    authenticate,
    check_api_token,
    create_api_token,
    disable_user,
    list_users,
    revoke_api_tokens,
)

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
PSEUDONYMS = Pseudonymiser(b"k" * 32)


@pytest.fixture
def engine(migrated_database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(migrated_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return db.session_factory(engine)


def dump(engine: Engine) -> str:
    """Every row of every table, as text (to look for values that must not be stored)."""
    out = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                out.append(json.dumps([str(v) for v in row]))
    return "\n".join(out)


# --- schema -----------------------------------------------------------------------------------


def test_migrations_apply_from_empty_and_match_the_models(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        assert db.current_revision(engine) is None
        assert not db.schema_is_current(engine)
        db.migrate(database_url)
        db.migrate(database_url)  # idempotent
        assert db.current_revision(engine) == db.head_revision()
        assert db.schema_is_current(engine)
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            head = connection.execute(text("SELECT last_id, last_hash FROM audit_head")).one()
        assert diff == []
        assert tuple(head) == (0, "0" * 64)
    finally:
        engine.dispose()


def test_campaign_decisions_keep_their_rows_through_the_missing_facts_migration(
    database_url: str,
) -> None:
    from alembic import command

    config = db.alembic_config(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO campaign_runs (id, campaign, benefit, benefit_version, as_of, "
                    "period, status, started, started_by, chunk_size, chunks_total, "
                    "subjects_total, fingerprint, approvals_required, summary, outputs) VALUES "
                    "(1, 'lez', 'ghent.lez', '1', '2026-03-01', '2026', 'draft', "
                    "'2026-03-01 06:00:00', 'system', 10, 1, 1, 'f', 1, '{}', '{}')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO campaign_decisions (run_id, chunk_no, subject_pseudonym, "
                    "outcome, change, band, outputs, conditions, facts_used, facts_missing, "
                    "reasons) VALUES (1, 0, 'p1', 'eligible', 'new', 'reduced', "
                    "'{\"tariff\": null}', '{}', '[]', '[\"person.increased_allowance\"]', '{}')"
                )
            )
        db.migrate(database_url)
        with engine.begin() as connection:
            row = connection.execute(
                text("SELECT band, at_least, missing, facts_missing FROM campaign_decisions")
            ).one()
        # a row decided before: kept as it was, with no structured missing facts or minimum
        assert row.band == "reduced" and row.at_least is None and row.missing is None
        assert "person.increased_allowance" in str(row.facts_missing)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        columns = {c["name"] for c in inspect(engine).get_columns("campaign_decisions")}
        assert not {"missing", "at_least"} & columns
    finally:
        engine.dispose()


def test_database_url_defaults_to_sqlite_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ENTITLE_DATABASE_URL", raising=False)
    monkeypatch.setenv("ENTITLE_DATA_DIR", str(tmp_path / "state"))
    assert db.database_url() == f"sqlite:///{tmp_path / 'state' / 'entitle.db'}"
    monkeypatch.setenv("ENTITLE_DATABASE_URL", "postgresql://u:secret@db/entitle")
    assert db.database_url() == "postgresql://u:secret@db/entitle"
    assert db.normalise_url(db.database_url()).drivername == "postgresql+psycopg"
    assert "secret" not in db.redacted()


# --- accounts ---------------------------------------------------------------------------------


def test_users_add_list_authenticate(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        officer = add_user(s, "an.officer", PASSWORD, "desk_officer")
        add_user(s, "auditor1", PASSWORD + "!", "auditor")
        s.commit()
    with factory() as s:
        assert [u.username for u in list_users(s)] == ["an.officer", "auditor1"]
        stored = s.scalars(select(User).where(User.username == "an.officer")).one()
        assert stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        assert authenticate(s, "an.officer", PASSWORD) == officer
        with pytest.raises(AuthError) as bad:
            authenticate(s, "an.officer", "wrong password")
        assert bad.value.reason == "bad_password"
        with pytest.raises(AuthError) as unknown:
            authenticate(s, "nobody", PASSWORD)
        assert unknown.value.reason == "unknown"
        for username, password, role in [
            ("an.officer", PASSWORD, "desk_officer"),  # duplicate
            ("x", PASSWORD, "superuser"),  # unknown role
            ("x", "short", "auditor"),  # weak password
            ("bad name", PASSWORD, "auditor"),
        ]:
            with pytest.raises(UserError):
                add_user(s, username, password, role)


def test_no_lock_out_but_growing_delays(factory: sessionmaker[Session]) -> None:
    """Failures never lock an account (anyone could lock an officer out); the throttle makes
    each attempt past the free ones wait longer, up to its cap, and forgets after an hour."""
    with factory() as s:
        add_user(s, "officer", PASSWORD, "desk_officer")
        s.commit()
    for minute in range(8):  # many failures, even rolled back: the right password still works
        with factory() as s:
            with pytest.raises(AuthError) as failed:
                authenticate(s, "officer", "nope", now=T0 + timedelta(minutes=minute))
            assert failed.value.reason == "bad_password"
            s.rollback()
    with factory() as s:
        assert authenticate(s, "officer", PASSWORD, now=T0 + timedelta(minutes=9)).active
    key = throttle.username_key("officer")
    delays = []
    with factory() as s:
        for _ in range(10):
            delays.append(throttle.record_failure(s, key, throttle.USERNAME, now=T0))
        assert throttle.wait_seconds(s, [key], now=T0) == throttle.USERNAME.cap_seconds
        later = T0 + throttle.FORGET_AFTER
        assert throttle.wait_seconds(s, [key], now=later) == 0
        assert throttle.record_failure(s, key, throttle.USERNAME, now=later) == 0  # forgotten
        s.commit()
    assert delays[: throttle.USERNAME.free - 1] == [0] * (throttle.USERNAME.free - 1)
    assert delays == sorted(delays) and delays[-1] == throttle.USERNAME.cap_seconds
    assert throttle.username_key("Officer ") == key  # one key however the name is typed


def test_disable_user_refuses_sign_in_and_ends_sessions(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        user = add_user(s, "leaver", PASSWORD, "campaign_manager")
        session_id, _ = create_session(s, user.id)
        s.commit()
    with factory() as s:
        disable_user(s, "leaver")
        s.commit()
        assert load_session(s, session_id) is None
        assert [u.active for u in list_users(s)] == [False]
        with pytest.raises(AuthError) as refused:
            authenticate(s, "leaver", PASSWORD)
        assert refused.value.reason == "disabled"
        with pytest.raises(UserError):
            disable_user(s, "nobody")


def test_api_tokens(factory: sessionmaker[Session], engine: Engine) -> None:
    with factory() as s:
        secret = create_api_token(s, "school-billing", ["social-tariff-school"], ["ghent.school"])
        s.commit()
    assert secret not in dump(engine)
    with factory() as s:
        token = check_api_token(s, secret)
        assert token is not None
        assert token.client == "school-billing"
        assert token.purposes == ("social-tariff-school",)
        assert token.benefits == ("ghent.school",)
        assert check_api_token(s, secret + "x") is None
        assert revoke_api_tokens(s, "school-billing") == 1
        assert check_api_token(s, secret) is None
        with pytest.raises(UserError):
            create_api_token(s, "client", [], ["ghent.school"])


def test_sessions_expire(factory: sessionmaker[Session], engine: Engine) -> None:
    with factory() as s:
        user = add_user(s, "officer", PASSWORD, "desk_officer")
        session_id, csrf = create_session(s, user.id, ttl_seconds=600, now=T0)
        s.commit()
    assert session_id not in dump(engine)
    with factory() as s:
        assert load_session(s, session_id, now=T0 + timedelta(seconds=599)) == (user, csrf)
        assert load_session(s, session_id, now=T0 + timedelta(seconds=600)) is None
        assert load_session(s, "unknown") is None
        other, _ = create_session(s, user.id)
        assert load_session(s, other) is not None
        end_session(s, other)
        assert load_session(s, other) is None


# --- decisions and overrides ------------------------------------------------------------------


def school_decision() -> Decision:
    """A real decision from incomes 12,345 and 9,876 (category B): neither may be stored."""
    benefit = load_benefit(REPO / "benefits" / "ghent" / "school-tariff.yaml")
    member = {"position_code": "01", "leefloon": False, "ocmw_leefloon": False}
    raw = {
        "as_of": "2026-03-01",
        "person": {
            "city_school_pupil": True,
            "shared_residence": False,
            "position_code": "03",
            "leefloon": False,
            "ocmw_leefloon": False,
        },
        "household": {
            "members": [
                {"id": "mother", **member, "taxable_income": 12345},
                {"id": "father", **member, "position_code": "02", "taxable_income": 9876},
            ]
        },
    }
    case = parse_case(raw, benefit.subject, default_catalogue())
    decision = evaluate(benefit, case.subject, DictProvider(case.facts), case.as_of)
    assert decision.outcome == Outcome.ELIGIBLE
    assert "household.taxable_income" in decision.facts_used or any(
        "income" in f for f in decision.facts_used
    )
    return decision


def test_decisions_are_stored_without_raw_values(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    decision = school_decision()
    decision.subject_id = "85073003328"  # as a desk check would set it
    pseudonym = PSEUDONYMS("85073003328")
    with factory() as s:
        decision_id = save_decision(
            s,
            decision,
            actor="an.officer",
            purpose="social-tariff-school",
            subject_pseudonym=pseudonym,
            reasons={"person.disability": "error: no answer for 85073003328 (85.07.30-033.28)"},
        )
        s.commit()
        with pytest.raises(ValueError):
            save_decision(
                s, decision, actor="x", purpose="p", subject_pseudonym="85073003328", reasons={}
            )
        stored = get_decision(s, decision_id)
        assert get_decision(s, decision_id + 1000) is None
    assert stored is not None
    assert stored["outcome"] == "eligible"
    assert stored["outputs"] == decision.outputs
    assert stored["conditions"] == decision.conditions
    assert stored["facts_used"] == decision.facts_used
    assert stored["subject"] == {"kind": decision.subject_kind, "pseudonym": pseudonym}
    assert stored["reasons"] == {"person.disability": "error: no answer for [INSZ] ([INSZ])"}
    assert json.loads(json.dumps(stored)) == stored  # JSON-ready
    everything = dump(engine)
    for raw_value in ("12345", "9876", "22221", "85073003328", "85.07.30"):
        assert raw_value not in everything


def test_overrides_apply_until_valid_until(factory: sessionmaker[Session]) -> None:
    subject = PSEUDONYMS("85073003328")
    with factory() as s:
        first = add_override(
            s,
            benefit="ghent.uitpas",
            subject_pseudonym=subject,
            outcome="eligible",
            reason="registry_lag",
            note="Decision of the OCMW shown, 85073003328",
            valid_until=date(2026, 3, 31),
            actor="an.officer",
            now=T0,
        )
        s.commit()
        assert first.note == "Decision of the OCMW shown, [INSZ]"
        assert first.created == T0
        assert active_override(s, "ghent.uitpas", subject, date(2026, 3, 31)) == first
        assert active_override(s, "ghent.uitpas", subject, date(2026, 4, 1)) is None
        assert active_override(s, "ghent.lez", subject, date(2026, 3, 10)) is None
        assert active_override(s, "ghent.uitpas", PSEUDONYMS("90010100155"), T0.date()) is None
        second = add_override(
            s,
            benefit="ghent.uitpas",
            subject_pseudonym=subject,
            outcome="not_eligible",
            reason="household_situation",
            note="",
            valid_until=date(2026, 3, 15),
            actor="other.officer",
            now=T0 + timedelta(hours=1),
        )
        s.commit()
        assert active_override(s, "ghent.uitpas", subject, date(2026, 3, 10)) == second
        assert active_override(s, "ghent.uitpas", subject, date(2026, 3, 20)) == first
        for bad in (
            {"reason": "bribe"},
            {"outcome": "maybe"},
            {"reason": "other", "note": "  "},
            {"valid_until": date(2026, 1, 1)},
        ):
            arguments = {
                "benefit": "ghent.uitpas",
                "subject_pseudonym": subject,
                "outcome": "eligible",
                "reason": "document_shown",
                "note": "n",
                "valid_until": date(2026, 4, 1),
                "actor": "x",
                "now": T0,
                **bad,
            }
            with pytest.raises(ValueError):
                add_override(s, **arguments)  # type: ignore[arg-type]


# --- rate limits and alerts -------------------------------------------------------------------


def test_rate_limits_are_shared_by_workers(migrated_database_url: str) -> None:
    workers = [db.make_engine(migrated_database_url) for _ in range(2)]
    try:
        factories = [db.session_factory(e) for e in workers]

        def attempt(worker: int, seconds: float, key: str = "check:officer") -> bool:
            with factories[worker]() as s:
                allowed = allow(s, key, 3, 60, now=T0 + timedelta(seconds=seconds))
                s.commit()
                return allowed

        assert [attempt(i % 2, i) for i in range(4)] == [True, True, True, False]
        assert attempt(0, 10, key="check:someone-else")
        assert not attempt(1, 59)  # the window still holds the first three
        assert attempt(1, 60.5)  # the first event left the window
        assert not attempt(0, 60.9)  # 1, 2 and 60.5 are in (0.9, 60.9]
        with factories[0]() as s, pytest.raises(ValueError):
            allow(s, "k", 0, 60)
    finally:
        for e in workers:
            e.dispose()


def test_unusual_activity(factory: sessionmaker[Session]) -> None:
    now = datetime(2026, 3, 20, 15, 30, tzinfo=UTC)
    with factory() as s:

        def checks(actor: str, start: datetime, count: int) -> None:
            for i in range(count):
                audit.append(
                    s,
                    kind="check",
                    actor=actor,
                    purpose="uitpas",
                    subject=PSEUDONYMS(f"{i % 7:011d}"),
                    outcome="eligible",
                    now=start + timedelta(seconds=i * 50),
                )

        for day in range(2, 6):  # usual volume: about 10 per hour, 3 hours a day
            for hour in (9, 10, 11):
                checks("steady", (now - timedelta(days=day)).replace(hour=hour, minute=0), 10)
                checks("curious", (now - timedelta(days=day)).replace(hour=hour, minute=0), 8)
        checks("steady", now.replace(hour=14, minute=0), 12)  # normal
        checks("curious", now.replace(hour=14, minute=0), 30)  # > 3x their median of 8
        checks("newcomer", now.replace(hour=10, minute=0), 65)  # > 60 per hour
        audit.append(s, kind="login", actor="steady", purpose=None, subject=None, outcome="ok")
        s.commit()
        alerts = audit.unusual_activity(s, now=now)
    assert [(a["actor"], a["hour"][11:16], a["checks"]) for a in alerts] == [
        ("curious", "14:00", 30),
        ("newcomer", "10:00", 65),
    ]
    curious, newcomer = alerts
    assert curious["baseline_median"] == 8
    assert curious["distinct_subjects"] == 7
    assert "usual" in curious["reasons"][0]
    assert newcomer["baseline_median"] is None
    assert "60" in newcomer["reasons"][0]
    with factory() as s:  # a day later the burst is out of the window
        assert audit.unusual_activity(s, now=now + timedelta(days=1)) == []


def test_subject_report(factory: sessionmaker[Session]) -> None:
    anna, bert = PSEUDONYMS("85073003328"), PSEUDONYMS("90010100155")
    decision = school_decision()
    with factory() as s:
        decision_id = save_decision(
            s, decision, actor="o1", purpose="school", subject_pseudonym=anna, reasons={}
        )
        audit.append(
            s,
            kind="check",
            actor="o1",
            purpose="school",
            subject=anna,
            outcome="eligible",
            details={"benefit": "ghent.school-tariff", "decision_id": decision_id},
        )
        audit.append(s, kind="check", actor="o2", purpose="uitpas", subject=bert, outcome="x")
        audit.append(
            s, kind="override", actor="o2", purpose="uitpas", subject=anna, outcome="eligible"
        )
        s.commit()
        report = audit.subject_report(s, anna)
    assert [(e["kind"], e["actor"]) for e in report] == [("check", "o1"), ("override", "o2")]
    assert report[0]["decision"]["id"] == decision_id
    assert report[0]["decision"]["outputs"] == decision.outputs
    assert "decision" not in report[1]
    assert all(e["subject"] == anna for e in report)
