"""The campaign tables on SQLite and PostgreSQL: the guarantees the schema itself gives
(one running run per campaign, one checkpoint per chunk, one verdict per person, one letter of a
kind per subject and period, a coupon used once)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError
from entitle.store.db import make_engine, session_factory
from entitle.store.models import CampaignDecision, CampaignLetter


@pytest.fixture
def engine(migrated_database_url: str) -> Any:
    engine = make_engine(migrated_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def new_run(session: Session, campaign: str = "garbage-bags", approvals: int = 1) -> int:
    view = store.create_run(
        session,
        campaign=campaign,
        benefit="ghent.garbage-bags",
        benefit_version="2026.1",
        as_of=date(2026, 3, 1),
        period="2026",
        chunk_size=2,
        chunks_total=2,
        subjects_total=3,
        fingerprint="f" * 64,
        approvals_required=approvals,
        started_by="test",
    )
    return view.id


def decision(subject: str, outcome: str = "eligible") -> dict[str, Any]:
    return {
        "subject_pseudonym": subject,
        "outcome": outcome,
        "change": "new" if outcome == "eligible" else "none",
        "band": "42.00" if outcome == "eligible" else None,
        "previous_band": None,
        "outputs": {"amount": 42.0} if outcome == "eligible" else {},
        "conditions": {"resident": True},
        "facts_used": ["household.municipality_nis"],
        "facts_missing": [],
        "reasons": {},
        "valid_until": date(2026, 12, 31) if outcome == "eligible" else None,
    }


def finished_run(factory: sessionmaker[Session], approvals: int = 1) -> int:
    with factory() as session:
        run_id = new_run(session, approvals=approvals)
        store.save_chunk(session, run_id, 0, decisions=[decision("a1"), decision("b2")], stats={})
        store.save_chunk(session, run_id, 1, decisions=[decision("c3", "undetermined")], stats={})
        store.finish_run(session, run_id, {"outcomes": {}})
        session.commit()
    return run_id


def test_one_running_run_per_campaign(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        first = new_run(session)
        session.commit()
    with factory() as session, pytest.raises(CampaignStateError):
        new_run(session)
    with factory() as session:
        other = new_run(session, campaign="lez")  # another campaign may run at the same time
        assert store.running_run(session, "garbage-bags").id == first  # type: ignore[union-attr]
        store.save_chunk(session, first, 0, decisions=[], stats={})
        store.save_chunk(session, first, 1, decisions=[], stats={})
        store.finish_run(session, first, {})
        session.commit()
    with factory() as session:
        assert store.running_run(session, "garbage-bags") is None
        again = new_run(session)
        session.commit()
    assert len({first, other, again}) == 3


def test_a_chunk_is_stored_once(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        run_id = new_run(session)
        assert store.save_chunk(session, run_id, 0, decisions=[decision("a1")], stats={"n": 1})
        session.commit()
    with factory() as session:
        assert not store.save_chunk(session, run_id, 0, decisions=[decision("a1")], stats={})
        session.commit()
        assert store.done_chunks(session, run_id) == {0}
        count = session.scalar(select(func.count()).select_from(CampaignDecision))
    assert count == 1
    with factory() as session, pytest.raises(ValueError, match="INSZ"):
        store.save_chunk(session, run_id, 1, decisions=[decision("85073003328")], stats={})


def test_verdicts(factory: sessionmaker[Session]) -> None:
    run_id = finished_run(factory, approvals=2)
    with factory() as session:
        view = store.record_verdict(session, run_id, actor="alice", verdict="approve")
        session.commit()
    assert view.status == "draft"
    with factory() as session, pytest.raises(CampaignStateError, match="already"):
        store.record_verdict(session, run_id, actor="alice", verdict="approve")
    with factory() as session:
        view = store.record_verdict(session, run_id, actor="bob", verdict="approve")
        session.commit()
    assert view.status == "approved" and view.approvals == ("alice", "bob")
    with factory() as session, pytest.raises(CampaignStateError, match="only a draft"):
        store.record_verdict(session, run_id, actor="carol", verdict="reject")

    rejected = finished_run(factory)
    with factory() as session:
        view = store.record_verdict(session, rejected, actor="carol", verdict="reject", note="no")
        session.commit()
        assert view.status == "rejected"
        with pytest.raises(CampaignStateError):
            store.mark_issued(session, rejected, {})
    with factory() as session:
        assert store.mark_issued(session, run_id, {})[1] is True
        assert store.mark_issued(session, run_id, {})[1] is False


def letter(run_id: int, subject: str, kind: str, seq: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "seq": seq,
        "campaign": "garbage-bags",
        "period": "2026",
        "subject_pseudonym": subject,
        "kind": kind,
        "code": f"CODE-{subject}" if kind == "coupon" else None,
        "band": "42.00",
        "value": {"amount": 42.0},
        "valid_until": date(2026, 12, 31),
        "issued": datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    }


def test_letters_are_issued_once_and_coupons_used_once(factory: sessionmaker[Session]) -> None:
    first = finished_run(factory)
    with factory() as session:
        rows = [letter(first, "a1", "coupon", 1), letter(first, "c3", "invitation", 2)]
        assert store.issue_letters(session, rows) == 2
        session.commit()
    with factory() as session:
        assert store.issue_letters(session, rows) == 0  # the same again: nothing new
        session.commit()
    second = finished_run(factory)
    with factory() as session:
        again = [
            letter(second, "a1", "coupon", 1),  # already has one this period
            letter(second, "b2", "coupon", 2),
            letter(second, "c3", "coupon", 3),  # invited before, eligible now: a coupon
        ]
        assert store.issue_letters(session, again) == 2
        session.commit()
        assert store.letter_keys(session, "garbage-bags", "2026") == {
            ("a1", "coupon"),
            ("b2", "coupon"),
            ("c3", "coupon"),
            ("c3", "invitation"),
        }
        assert store.letter_counts(session, first) == {"coupon": 1, "invitation": 1}
        assert [x.subject_pseudonym for x in store.letters_of_run(session, second)] == ["b2", "c3"]
        total = session.scalar(select(func.count()).select_from(CampaignLetter))
    assert total == 4
    with factory() as session:
        assert store.use_coupon(session, "CODE-a1", actor="ivago") == "used"
        session.commit()
    with factory() as session:
        assert store.use_coupon(session, "CODE-a1", actor="shop") == "already_used"
        assert store.use_coupon(session, "CODE-zz", actor="shop") == "unknown"
        found = store.find_coupon(session, "CODE-a1")
    assert found is not None and found.used is not None and found.used_by == "ivago"


def test_a_run_that_issued_letters_cannot_be_deleted(factory: sessionmaker[Session]) -> None:
    run_id = finished_run(factory)
    empty = finished_run(factory)
    with factory() as session:
        store.issue_letters(session, [letter(run_id, "a1", "coupon", 1)])
        session.commit()
    with factory() as session:
        with pytest.raises(CampaignStateError):
            store.delete_run(session, run_id)
        store.delete_run(session, empty)
        session.commit()
        assert store.get_run(session, empty) is None
