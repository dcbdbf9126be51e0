"""Notification records, from decision rows (no database): one per changed subject, in a fixed
order, with the period's coupon, and nothing but who, what changed, the coupon and the languages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from entitle.decide.campaign.definition import find_campaign
from entitle.decide.campaign.notify import notifications, write_notifications
from entitle.decide.coupons import make_code

REPO = Path(__file__).resolve().parents[1]
BAGS = find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")
RUN = SimpleNamespace(id=7, period="2026")
KEY = bytes(range(32))
CHANGES = ("new", "continued", "changed", "ended", "unknown", "undetermined", "none")
OUTCOME = {
    "new": "eligible",
    "continued": "eligible",
    "changed": "eligible",
    "ended": "not_eligible",
    "unknown": "undetermined",
    "undetermined": "undetermined",
    "none": "not_eligible",
}

rows = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=60),  # the subject
        st.sampled_from(CHANGES),
        st.booleans(),  # still in the register extract
        st.booleans(),  # has a coupon in the period
    ),
    unique_by=lambda r: r[0],
    max_size=40,
)


def decision(subject: int, change: str) -> Any:
    return SimpleNamespace(
        subject_pseudonym=f"pseudo-{subject}",
        change=change,
        outcome=OUTCOME[change],
        valid_until=date(2026, 12, 31) if OUTCOME[change] == "eligible" else None,
    )


@given(rows)
def test_one_record_per_changed_subject_in_a_fixed_order(drawn: list[Any]) -> None:
    decisions = [decision(s, change) for s, change, _, _ in drawn]
    to = {f"pseudo-{s}": (f"H{s:03d}", f"P{s:03d}") for s, _, known, _ in drawn if known}
    coupons = {f"pseudo-{s}" for s, _, _, coupon in drawn if coupon}
    records, missing = notifications(BAGS, RUN, decisions, to, coupons, KEY)  # type: ignore[arg-type]
    wanted = [(s, c) for s, c, known, _ in drawn if c in ("new", "changed", "ended")]
    assert len(records) + missing == len(wanted)
    assert missing == sum(1 for s, _ in wanted if f"pseudo-{s}" not in to)
    assert {r.reference for r in records} == {f"H{s:03d}" for s, _ in wanted if f"pseudo-{s}" in to}
    order = {"new": 0, "changed": 1, "ended": 2}
    assert [(order[r.change], r.reference) for r in records] == sorted(
        (order[r.change], r.reference) for r in records
    )
    assert len({r.id for r in records}) == len(records)
    pseudonym_of = {reference: pseudonym for pseudonym, (reference, _) in to.items()}
    for record in records:
        pseudonym = pseudonym_of[record.reference]
        assert record.person == to[pseudonym][1]
        if record.change == "ended" or pseudonym not in coupons:
            assert record.coupon is None
        else:
            assert record.coupon == make_code(KEY, BAGS.name, "2026", pseudonym)
        assert (record.valid_until is None) == (record.change == "ended")
        assert record.languages == ("nl", "en")
    # the same rows in another order: the same records
    again, _ = notifications(BAGS, RUN, list(reversed(decisions)), to, coupons, KEY)  # type: ignore[arg-type]
    assert again == records


def test_the_file_is_json_lines_with_only_these_fields(tmp_path: Path) -> None:
    decisions = [decision(1, "new"), decision(2, "ended"), decision(3, "continued")]
    to = {f"pseudo-{s}": (f"H{s}", f"P{s}") for s in (1, 2, 3)}
    records, _ = notifications(BAGS, RUN, decisions, to, {"pseudo-1"}, KEY)  # type: ignore[arg-type]
    path = tmp_path / "notifications.jsonl"
    assert write_notifications(records, path) == 2
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(r["reference"], r["change"], r["outcome"]) for r in lines] == [
        ("H1", "new", "eligible"),
        ("H2", "ended", "not_eligible"),
    ]
    assert set(lines[0]) == {
        "id",
        "campaign",
        "period",
        "run",
        "reference",
        "person",
        "change",
        "outcome",
        "coupon",
        "valid_until",
        "languages",
    }
    assert lines[0]["coupon"] and lines[0]["valid_until"] == "2026-12-31"
    assert [p.name for p in tmp_path.iterdir()] == ["notifications.jsonl"]
