"""A run whose decisions no longer hold is refused, not only warned about (issue 16).

Approving or issuing a run after the last day of the period of its reference date
(`periods.expiry`) would send letters and billing lists that are already expired: the campaign
module refuses both (`RunExpiredError`), before any letter is inserted or file written. The
command line says why and exits 2; an empty run is approved with a warning.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from test_campaign_review import (
    AS_OF,
    City,
    bags,
    city,  # noqa: F401 (the fixture: 3,000 persons)
    context,
    letter_rows,
)
from test_web_campaigns import school

from entitle.decide.campaign import (
    RunExpiredError,
    approve_run,
    issue_run,
    run_campaign,
)
from entitle.decide.campaign.issue import run_folder
from entitle.decide.campaign.review import due_count, expired_until
from entitle.store import campaigns as store


def test_approving_a_run_of_a_period_that_ended_is_refused(
    city: City,  # noqa: F811
    tmp_path: Path,
) -> None:
    ctx = context(tmp_path, city)  # today: AS_OF (2026-03-01)
    campaign = bags()  # calendar year: a run as of 2025-03-01 holds until 2025-12-31
    old = run_campaign(ctx, campaign, date(2025, 3, 1), chunk_size=1000)
    assert expired_until(campaign, old, AS_OF) == date(2025, 12, 31)
    with ctx.factory() as session, pytest.raises(RunExpiredError) as refused:
        approve_run(session, campaign, old.id, actor="alice", today=AS_OF)
    assert "ended on 2025-12-31" in str(refused.value) and "expired" in str(refused.value)
    with ctx.factory() as session:
        view = store.get_run(session, old.id)
    assert view is not None and view.status == "draft" and not view.verdicts
    # approved while it held, issued once it no longer does: refused, nothing made
    with ctx.factory() as session:
        approve_run(session, campaign, old.id, actor="alice", today=date(2025, 12, 31))
        session.commit()
    with pytest.raises(RunExpiredError):
        issue_run(ctx, campaign, old.id, actor="alice")
    assert letter_rows(ctx) == 0
    assert not run_folder(ctx, old).exists()
    # on a day it holds, the same run issues
    held = issue_run(replace(ctx, today=lambda: date(2025, 12, 31)), campaign, old.id, actor="a")
    assert held.new_letters == letter_rows(ctx) > 0


def test_billing_lists_valid_until_a_past_date_are_refused(
    city: City,  # noqa: F811
    tmp_path: Path,
) -> None:
    ctx = context(tmp_path, city)
    campaign = school()  # school year 2025-2026: the lists hold until 2026-08-31
    run = run_campaign(ctx, campaign, AS_OF, chunk_size=1000)
    for actor in ("alice", "bob"):  # four eyes, before the school year ended
        with ctx.factory() as session:
            approve_run(session, campaign, run.id, actor=actor, today=date(2026, 8, 31))
            session.commit()
    september = replace(ctx, today=lambda: date(2026, 9, 1))
    with pytest.raises(RunExpiredError) as refused:
        issue_run(september, campaign, run.id, actor="alice")
    assert "2026-08-31" in str(refused.value) and "billing lists" in str(refused.value)
    assert not (run_folder(ctx, run) / "billing").exists()
    made = issue_run(replace(ctx, today=lambda: date(2026, 8, 31)), campaign, run.id, actor="a")
    assert any(p.suffix == ".xlsx" for p in made.files)


def test_an_empty_run_counts_nothing_to_send() -> None:
    assert due_count(bags(), {"letters_due": {"coupon": 0, "invitation": 0}}) == 0
    assert due_count(bags(), {"letters_due": {"coupon": 2, "invitation": 1}}) == 3
    assert due_count(school(), {"outcomes": {"eligible": 0, "not_eligible": 40}}) == 0
    assert due_count(school(), {"outcomes": {"eligible": 7}}) == 7
