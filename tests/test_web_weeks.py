"""The week-by-week view over HTTP: per week new, changed and ended, the days from registry change
to letter, and a week's batch held and released by a campaign manager (audited), nl and en."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from test_follow_up import followed_copy
from test_web_support import assert_dutch, csrf_token, settings_for, signed_in

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.follow_up import batches as fu
from entitle.decide.follow_up.figures import days_figures, weeks_of
from entitle.decide.follow_up.standing import standing_of
from entitle.store import audit
from entitle.web.app import create_app
from entitle.web.campaigns.setup import CampaignSetup

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Site:
    app: FastAPI
    ctx: CampaignContext

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, followed_template: tuple[Path, str]
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("weeks-web")
    ctx, campaigns = followed_copy(*followed_template, root)
    settings = settings_for(
        "http://127.0.0.1:9",
        root,
        database_url=f"sqlite:///{root / 'followed' / 'entitle.db'}",
        data_dir=ctx.state_dir,
    )
    app = create_app(settings)
    app.state.campaigns = CampaignSetup(
        context=ctx, campaigns_dir=campaigns, benefits_dir=REPO / "benefits"
    )
    for username, role in (("campaign", "campaign_manager"), ("desk", "desk_officer")):
        app.state.web.backend.add_user(username, "correct horse battery", role)
    try:
        yield Site(app, ctx)
    finally:
        app.state.web.desk.close()
        app.state.web.backend.close()


def week_later(week: dict[str, Any]) -> datetime:
    """A week after the week was decided: long past its hold window."""
    return datetime.combine(date.fromisoformat(week["as_of"]), time(9), UTC) + timedelta(days=7)


def _cells(html: str, week: int) -> list[str]:
    row = re.search(rf'<tr id="week-{week}">(.*?)</tr>', html, re.S)
    assert row, f"no row for week {week}"
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)
    ]


def test_the_week_by_week_view_shows_each_week_and_the_time_to_letter(site: Site) -> None:
    client, _ = signed_in(site, "campaign")
    index = client.get("/campaigns")
    assert 'href="/campaigns/garbage-bags/weeks"' in index.text  # a weekly campaign links it
    page = client.get("/campaigns/garbage-bags/weeks")
    assert page.status_code == 200, page.text
    weeks = weeks_of(site.ctx, "garbage-bags")
    assert [w["week"] for w in weeks] == [1, 2, 3, 4, 5]
    for week in weeks[1:]:  # the table says each week's figures and its batch, in Dutch
        cells = _cells(page.text, week["week"])
        assert cells[0] == str(week["week"])
        assert cells[2:5] == [str(week["new"]), str(week["changed"]), str(week["ended"])]
    # the baseline compared with nothing: its figures are no changes, and it is not charted
    baseline = _cells(page.text, 1)
    assert baseline[2:5] == ["–", "–", "–"] and baseline[5].startswith("vertrekpunt")
    sent = [d for w in weeks for d in w["days"]]
    assert sent, "letters went out after notified changes"
    figures = days_figures(sent)
    said = re.search(
        r"Mediaan ([\d,]+) dagen, 95e percentiel (\d+) dagen, over (\d+) brieven", page.text
    )
    assert said, page.text
    assert float(said.group(1).replace(",", ".")) == figures["median"]
    assert int(said.group(2)) == figures["p95"] and int(said.group(3)) == len(sent)
    svg = re.search(r"<svg.*?</svg>", page.text, re.S)
    assert svg and 'role="img"' in svg.group(0)
    title = re.search(r"<title[^>]*>(.*?)</title>", svg.group(0), re.S)
    assert title and "Week 2 (" in title.group(1)
    last = weeks[-1]
    assert f"{last['new']} nieuw" in svg.group(0)  # the series in words: no colour needed
    assert (
        "Nog geen doorlopende goedkeuring" not in page.text
        and "goedgekeurd door manager" in page.text
    )
    assert_dutch(page.text)  # no key, no English word (issue 16)
    english = client.get("/lang/en?next=/campaigns/garbage-bags/weeks", follow_redirects=True)
    assert "Week by week: " in english.text and "baseline" in english.text
    client.get("/lang/nl?next=/campaigns")


def test_a_manager_holds_and_releases_a_week_before_it_goes_out(site: Site) -> None:
    client, _ = signed_in(site, "campaign")
    page = client.get("/campaigns/garbage-bags/weeks")
    csrf = csrf_token(page.text)
    last = weeks_of(site.ctx, "garbage-bags")[-1]
    assert last["status"] == "ready", last
    week = last["week"]
    assert f'action="/campaigns/garbage-bags/weeks/{week}/hold"' in page.text
    assert client.post(f"/campaigns/garbage-bags/weeks/{week}/hold", data={}).status_code == 403
    held = client.post(
        f"/campaigns/garbage-bags/weeks/{week}/hold",
        data={"csrf_token": csrf, "note": "check first"},
    )
    assert held.status_code == 303, held.text
    assert fu.list_batches(site.ctx, "garbage-bags")[-1]["status"] == "held"
    shown = client.get(held.headers["location"])
    assert f"De batch van week {week} is tegengehouden." in shown.text
    assert_dutch(shown.text)
    assert f'action="/campaigns/garbage-bags/weeks/{week}/release"' in shown.text
    assert (
        fu.due_batches(
            site.ctx, [site.app.state.campaigns.campaign("garbage-bags")], week_later(last)
        )
        == []
    )
    again = client.post(f"/campaigns/garbage-bags/weeks/{week}/hold", data={"csrf_token": csrf})
    assert again.status_code == 409 and "Dat kan niet" in again.text
    assert_dutch(again.text)
    released = client.post(
        f"/campaigns/garbage-bags/weeks/{week}/release", data={"csrf_token": csrf}
    )
    assert released.status_code == 303
    assert fu.list_batches(site.ctx, "garbage-bags")[-1]["status"] == "ready"
    with site.ctx.factory() as session:
        found = audit.search(session, actor="campaign", limit=50)
    turns = [(e["outcome"], e["details"]["week"]) for e in found if "week" in e["details"]]
    assert turns == [("follow_up_ready", week), ("follow_up_held", week)]
    desk, desk_csrf = signed_in(site, "desk")
    assert desk.get("/campaigns/garbage-bags/weeks").status_code == 403
    refused = desk.post(
        f"/campaigns/garbage-bags/weeks/{week}/hold", data={"csrf_token": desk_csrf}
    )
    assert refused.status_code == 403
    assert client.get("/campaigns/nothing/weeks").status_code == 404


def test_each_week_links_its_own_run_with_its_letters(site: Site) -> None:
    client, _ = signed_in(site, "campaign")
    page = client.get("/campaigns/garbage-bags/weeks")
    weeks = weeks_of(site.ctx, "garbage-bags")
    runs = [w["run"] for w in weeks]
    assert all(runs) and len(set(runs)) == len(runs), runs  # one run per week
    sent = next(w for w in weeks if w["status"] == "issued" and w["letters"])
    assert f'href="/campaigns/runs/{sent["run"]}"' in page.text
    cells = _cells(page.text, sent["week"])
    assert cells[5].endswith(f"run {sent['run']}")  # the batch and its run
    assert cells[6] == str(sum(sent["letters"].values()))  # letters
    assert cells[7] == str(sent["notifications"])  # notification records
    run = client.get(f"/campaigns/runs/{sent['run']}")
    assert run.status_code == 200, run.text
    assert "letters.pdf" in run.text and "verstuurd" in run.text
    assert f"Week {sent['week']} van de wekelijkse opvolging" in run.text
    assert 'id="issue-form"' not in run.text  # a week goes out within the standing approval
    assert_dutch(run.text)
    again = client.post(
        f"/campaigns/runs/{sent['run']}/issue", data={"csrf_token": csrf_token(run.text)}
    )
    assert again.status_code == 409
    assert weeks_of(site.ctx, "garbage-bags") == weeks


def test_a_manager_withdraws_the_standing_approval_and_every_week_is_held(site: Site) -> None:
    client, _ = signed_in(site, "campaign")
    page = client.get("/campaigns/garbage-bags/weeks")
    csrf = csrf_token(page.text)
    assert 'action="/campaigns/garbage-bags/weeks/withdraw"' in page.text
    ready = [w["week"] for w in weeks_of(site.ctx, "garbage-bags") if w["status"] == "ready"]
    assert ready, "the last week waits for its hold window"
    url = "/campaigns/garbage-bags/weeks/withdraw"
    assert client.post(url, data={"reason": "x"}).status_code == 403  # no CSRF token
    empty = client.post(url, data={"csrf_token": csrf, "reason": " "})
    assert empty.status_code == 422 and standing_of(site.ctx, "garbage-bags").withdrawn is None
    done = client.post(url, data={"csrf_token": csrf, "reason": "tariff rule under review"})
    assert done.status_code == 303, done.text
    shown = client.get(done.headers["location"])
    assert "Doorlopende goedkeuring ingetrokken door campaign" in shown.text
    assert "tariff rule under review" in shown.text and 'id="withdraw"' not in shown.text
    assert_dutch(shown.text.replace("tariff rule under review", ""))
    weeks = weeks_of(site.ctx, "garbage-bags")
    assert [w["status"] for w in weeks if w["week"] in ready] == ["held"] * len(ready)
    campaign = site.app.state.campaigns.campaign("garbage-bags")
    assert fu.due_batches(site.ctx, [campaign], week_later(weeks[-1])) == []
    released = client.post(
        f"/campaigns/garbage-bags/weeks/{ready[-1]}/release", data={"csrf_token": csrf}
    )
    assert released.status_code == 409 and "opnieuw goed" in released.text  # approve first
    with site.ctx.factory() as session:
        found = audit.search(session, actor="campaign", limit=50)
    entry = next(e for e in found if e["outcome"] == "follow_up_withdrawn")
    assert entry["details"]["reason"] == "tariff rule under review"
    assert entry["details"]["held"] == ready
