"""The campaign pages and the coupon page and API, on a small synthetic city.

Campaign runs are made with the campaign module itself (the helpers of `test_campaign_review`: a
3,000-person city, facts from its registry view through `TableSource`, the ground truth for the
reach figures), in the database of a web application; then the pages are used as a campaign
manager would: the dashboard's figures, a run rejected and another approved (and issued), four
eyes on the school tariff, a what-if raising the school income ceilings, and coupons checked and
used once through the API and the page. No page shows an income or a national register number.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_campaign_review import AS_OF, REPO, City, bags, context
from test_web_support import assert_dutch, csrf_token, settings_for, signed_in

from entitle.decide.campaign import CampaignContext, run_campaign
from entitle.decide.campaign.definition import Campaign, find_campaign
from entitle.decide.campaign.figures import RUN_CHANGES
from entitle.decide.letters import euro
from entitle.registry.population import load_population
from entitle.registry.reach import GroundTruth
from entitle.registry.synth import write_city
from entitle.store import campaigns as store
from entitle.store.models import CampaignDecision, CampaignLetter, CampaignRun
from entitle.web.app import WebState, create_app
from entitle.web.campaigns.charts import CHART_WIDTH, VALUE_ROOM, bar_chart
from entitle.web.campaigns.setup import CampaignSetup
from entitle.web.campaigns.whatif import money_input, parameter_text
from entitle.web.i18n import catalogue

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))
PURPOSE = "coupon-verification"
USERS = {
    "desk": "desk_officer",
    "campaign": "campaign_manager",
    "campaign2": "campaign_manager",
    "admin": "administrator",
    "auditor": "auditor",
    "ivago": "coupon_verifier",  # the waste company: uses coupons
}


@dataclass
class Site:
    """The web application with a campaign context on the same database, and the runs made."""

    app: FastAPI
    ctx: CampaignContext
    city: City
    runs: dict[str, int]
    incomes: list[int]  # cents: every taxable income of the city, per person and household
    person_ids: set[str]

    @property
    def state(self) -> WebState:
        state: WebState = self.app.state.web
        return state

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def token(self, purposes: list[str], benefits: list[str], client: str) -> str:
        return self.state.backend.create_api_token(client, purposes, benefits)


def school() -> Campaign:
    return find_campaign("school-tariff", REPO / "campaigns", REPO / "benefits")


def lez() -> Campaign:
    return find_campaign("lez", REPO / "campaigns", REPO / "benefits")


def _incomes(folder: Path) -> list[int]:
    values: set[int] = set()
    for view in ("registry", "truth"):
        tax = pl.read_parquet(folder / view / "tax_assessments.parquet")
        values |= set(tax["item_value"].to_list())
        members = pl.read_parquet(folder / view / "persons.parquet").select(
            "person_id", "household_id"
        )
        summed = (
            tax.filter(pl.col("item_code").str.ends_with("7555"))
            .join(members, on="person_id")
            .group_by("household_id", "income_year")
            .agg(pl.col("item_value").sum())
        )
        values |= set(summed["item_value"].to_list())
    return sorted(v for v in values if v and v >= 1000_00)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("campaign-web")
    folder = root / "city"
    write_city(3000, 11, folder)
    persons, households = load_population(folder, "registry", as_of=AS_OF)
    city = City(folder, persons, households)
    ctx = context(root, city)  # migrates sqlite:///<root>/db.db
    ctx.reach = GroundTruth(folder)
    settings = settings_for(
        "http://127.0.0.1:9",  # no registry: the campaigns read their facts from tables
        root,
        database_url=f"sqlite:///{root / 'db.db'}",
        data_dir=ctx.state_dir,
        clock=lambda: NOW,
    )
    app = create_app(settings)
    app.state.campaigns = CampaignSetup(
        context=ctx, campaigns_dir=REPO / "campaigns", benefits_dir=REPO / "benefits"
    )
    for username, role in USERS.items():
        app.state.web.backend.add_user(username, "correct horse battery", role)
    runs = {
        "to_reject": run_campaign(ctx, bags(), AS_OF, chunk_size=500).id,
        "to_approve": run_campaign(ctx, bags(), AS_OF, chunk_size=500).id,
        "school": run_campaign(ctx, school(), AS_OF, chunk_size=500).id,
        "lez": run_campaign(ctx, lez(), AS_OF, chunk_size=1000).id,
    }
    person_ids = set(pl.read_parquet(folder / "registry" / "persons.parquet")["person_id"])
    try:
        yield Site(app, ctx, city, runs, _incomes(folder), person_ids)
    finally:
        app.state.web.desk.close()
        app.state.web.backend.close()


def assert_nothing_personal(site: Site, text: str) -> None:
    """No income of the city (in any way it could be printed) and no register number."""
    compact = text.replace("\u202f", " ").replace("\xa0", " ")
    for cents in site.incomes:
        euros = cents / 100
        for shown in (
            euro(euros),
            euro(euros)[2:],
            f"{euros:,.2f}",
            f"{euros:.2f}",
            f"{euros:.2f}".replace(".", ","),
        ):
            assert shown not in compact, f"income {shown} shown"
    for number in re.findall(r"(?<!\d)\d{11}(?!\d)", text):
        assert number not in site.person_ids, "a national register number is shown"


def manager(site: Site, username: str = "campaign") -> tuple[TestClient, str]:
    client, _ = signed_in(site, username)
    page = client.get("/campaigns")
    assert page.status_code == 200, page.text
    return client, csrf_token(page.text)


def summary(site: Site, run_id: int) -> dict[str, Any]:
    with site.ctx.factory() as session:
        run = store.get_run(session, run_id)
    assert run is not None
    return dict(run.summary or {})


def letters(site: Site) -> list[tuple[Any, ...]]:
    with site.ctx.factory() as session:
        rows = session.execute(
            select(CampaignLetter.run_id, CampaignLetter.kind, CampaignLetter.code)
        ).all()
    return [tuple(r) for r in rows]


def numbers(text: str) -> str:
    return text.replace(".", "").replace("\xa0", " ")


CONFIRM = re.compile(r'<input type="hidden" name="confirm" value="([^"]+)">')


def approve_confirmed(
    client: TestClient, csrf: str, run_id: int, note: str = ""
) -> tuple[httpx.Response, str]:
    """The approval that sends: the page first states the count and amount and asks again;
    the confirmation posts back what it showed. Returns the answer and the confirmation page."""
    path = f"/campaigns/runs/{run_id}/approve"
    asked = client.post(path, data={"csrf_token": csrf, "note": note})
    assert asked.status_code == 200, asked.text
    token = CONFIRM.search(asked.text)
    assert token, "no confirmation step"
    data = {"csrf_token": csrf, "note": note, "confirm": token.group(1)}
    return client.post(path, data=data), asked.text


@pytest.fixture(scope="module")
def approved(site: Site) -> httpx.Response:
    """The second garbage-bag run, approved through its page (which issues it)."""
    client, csrf = manager(site)
    run_id = site.runs["to_approve"]
    path = f"/campaigns/runs/{run_id}/approve"
    asked = client.post(path, data={"csrf_token": csrf, "note": "steekproef ok"})
    # nothing is sent while the manager is asked; the question states the count and amount
    assert not [row for row in letters(site) if row[0] == run_id]
    figures = summary(site, run_id)
    due = figures["letters_due"]
    count = due["coupon"] + due["invitation"]
    assert "Bevestig de verzending" in asked.text and 'id="confirm-button"' in asked.text
    assert f"U verstuurt nu {count} brieven" in numbers(asked.text)
    assert euro(figures["cost"]).replace("\xa0", " ") in asked.text.replace("\xa0", " ")
    assert f"Ja, {count} brieven versturen" in numbers(asked.text)
    token = CONFIRM.search(asked.text)
    assert token
    data = {"csrf_token": csrf, "note": "steekproef ok", "confirm": token.group(1)}
    return client.post(path, data=data)


# --------------------------------------------------------------------------- the dashboard


def test_the_dashboard_lists_the_campaigns_and_their_runs(site: Site) -> None:
    client, _ = manager(site)
    page = client.get("/campaigns")
    assert "Gratis huisvuilzakken of ophaalkrediet" in page.text
    assert "Sociaal tarief school en buitenschoolse opvang" in page.text
    assert "vier ogen" in page.text
    for run_id in site.runs.values():
        assert f'href="/campaigns/runs/{run_id}"' in page.text
    eligible = summary(site, site.runs["to_reject"])["outcomes"]["eligible"]
    assert f">{eligible}<" in numbers(page.text)
    assert 'href="/campaigns"' in page.text and 'aria-current="page"' in page.text  # nav link
    assert_nothing_personal(site, page.text)


def test_a_run_shows_its_figures_charts_reach_and_a_sample(site: Site) -> None:
    client, _ = manager(site)
    run_id = site.runs["to_reject"]
    figures = summary(site, run_id)
    page = client.get(f"/campaigns/runs/{run_id}")
    assert page.status_code == 200
    html = page.text
    text = numbers(html)
    outcomes = figures["outcomes"]
    for outcome, word in (
        ("eligible", "Recht"),
        ("not_eligible", "Geen recht"),
        ("undetermined", "Onbepaald"),
    ):
        row = re.search(rf'<tr class="outcome-row-{outcome}">(.*?)</tr>', text, re.S)
        assert row and word in row.group(1) and f">{outcomes[outcome]}<" in row.group(1)
    new = re.search(r'<tr class="change-row-new">(.*?)</tr>', text, re.S)
    assert new and f">{figures['changes']['new']}<" in new.group(1)
    # undetermined is not "no right": its own row, and "none" counts only the not eligible
    open_ = re.search(r'<tr class="change-row-undetermined">(.*?)</tr>', text, re.S)
    assert open_ and "onbepaald, vroeger geen recht" in open_.group(1)
    assert figures["changes"]["undetermined"] == outcomes["undetermined"]  # a first run
    assert figures["changes"]["none"] == outcomes["not_eligible"]
    assert html.count("<svg") >= 4 and 'role="img"' in html  # outcomes, changes, bands, reach
    assert "<script" not in html.split("</head>", 1)[1]  # charts need no script
    assert "style=" not in html  # the CSP allows no inline style
    # undetermined reasons in words, without the technical key
    reasons = html.split('id="reasons"', 1)[1].split("</table>", 1)[0]
    assert "verhoogde tegemoetkoming" in reasons and "person.increased_allowance" not in reasons
    # letters approval would issue
    due = figures["letters_due"]
    assert f"{due['coupon']} brieven met een bon en {due['invitation']} uitnodigingen" in text
    # the reach against the ground truth
    reach = figures["reach"]
    assert "Bereik tegenover de werkelijkheid" in html
    share = f"{round(reach['share_reached_or_flagged'] * 100, 1):.1f}".replace(".", ",")
    assert share.removesuffix(",0") in html
    assert re.search(r'id="reach-wrong-current">0<', html)
    # a sample of decisions with reasons; pseudonyms, never numbers or incomes
    assert "Steekproef van beslissingen" in html and 'class="pseudonym"' in html
    resident = bags().benefit.conditions["resident"].text["nl"]
    assert "✔" in html and resident in html
    # review buttons for a draft
    assert f'action="/campaigns/runs/{run_id}/approve"' in html
    assert f'formaction="/campaigns/runs/{run_id}/reject"' in html
    assert_nothing_personal(site, html)


def test_the_school_run_protects_income_conditions(site: Site) -> None:
    client, _ = manager(site)
    html = client.get(f"/campaigns/runs/{site.runs['school']}").text
    # conditions on the income: shown without their value, with a drawn lock (no emoji font)
    assert 'svg class="lock"' in html and "🔒" not in html
    assert "twee" in html or "Vier ogen" in html
    assert_nothing_personal(site, html)


def test_the_campaign_pages_speak_dutch(site: Site) -> None:
    client, _ = manager(site)
    assert_dutch(client.get("/campaigns").text)
    for run_id in site.runs.values():
        assert_dutch(client.get(f"/campaigns/runs/{run_id}").text)
    for name in ("school-tariff", "lez", "garbage-bags"):
        assert_dutch(client.get("/campaigns/whatif", params={"campaign": name}).text)
    assert_dutch(client.get("/coupons").text)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_lez_run_names_its_tariffs_in_words(site: Site, lang: str) -> None:
    """The LEZ bands are stored as `reduced` and `exemption`: the run page says them in the
    reader's language (issue 16), in the bands table, the charts and the sample."""
    client, _ = manager(site)
    client.cookies.set("entitle_lang", lang)
    html = client.get(f"/campaigns/runs/{site.runs['lez']}").text
    reduced, exemption = {
        "nl": ("verlaagd tarief", "vrijstelling"),
        "en": ("reduced tariff", "exemption"),
    }[lang]
    table = html.split('id="bands"', 1)[1].split("</table>", 1)[0]
    bands = re.findall(r'<th scope="row">([^<]*)</th>', table)
    assert set(bands) == {reduced, exemption}, bands  # never the stored code "reduced"
    chart = re.search(r'<title id="chart-bands-title">(.*?)</title>', html, re.S)
    assert chart and reduced in chart.group(1) and exemption in chart.group(1)
    if lang == "nl":
        assert_dutch(html)


def test_english(site: Site) -> None:
    client, _ = manager(site)
    client.cookies.set("entitle_lang", "en")
    page = client.get(f"/campaigns/runs/{site.runs['school']}")
    assert "Outcomes" in page.text and "Sample of decisions" in page.text
    assert "Four eyes" in page.text
    assert "Campaigns" in client.get("/campaigns").text
    assert "What if?" in client.get("/campaigns/whatif").text
    assert "Check a coupon" in client.get("/coupons").text


def test_only_campaign_managers_and_administrators_see_the_campaigns(site: Site) -> None:
    run_id = site.runs["school"]
    paths = ["/campaigns", f"/campaigns/runs/{run_id}", "/campaigns/whatif"]
    anonymous = site.client()
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    for username, status in (("desk", 403), ("auditor", 403), ("admin", 200)):
        client, csrf = signed_in(site, username)
        for path in paths:
            assert client.get(path).status_code == status, (username, path)
        if status == 403:
            assert "geen toegang" in client.get("/campaigns").text
            assert 'href="/campaigns"' not in client.get("/coupons").text  # no nav link
            refused = client.post(f"/campaigns/runs/{run_id}/approve", data={"csrf_token": csrf})
            assert refused.status_code == 403
    with site.ctx.factory() as session:
        run = store.get_run(session, run_id)
    assert run is not None and run.verdicts == ()


# --------------------------------------------------------------------------- review


def test_a_post_needs_the_csrf_token(site: Site) -> None:
    client, _ = manager(site)
    run_id = site.runs["to_reject"]
    for path in ("approve", "reject", "issue"):
        response = client.post(f"/campaigns/runs/{run_id}/{path}", data={"note": "x"})
        assert response.status_code == 403 and "beveiliging" in response.text
    whatif = client.post("/campaigns/whatif", data={"campaign": "school-tariff"})
    assert whatif.status_code == 403
    with site.ctx.factory() as session:
        run = store.get_run(session, run_id)
    assert run is not None and run.status == "draft" and run.verdicts == ()


def test_rejecting_a_run_through_its_page(site: Site) -> None:
    client, csrf = manager(site)
    run_id = site.runs["to_reject"]
    path = f"/campaigns/runs/{run_id}"
    no_reason = client.post(f"{path}/reject", data={"csrf_token": csrf, "note": " "})
    assert no_reason.status_code == 422 and "Geef een reden" in no_reason.text
    response = client.post(f"{path}/reject", data={"csrf_token": csrf, "note": "verkeerde datum"})
    assert response.status_code == 303 and response.headers["location"] == f"{path}?done=rejected"
    page = client.get(response.headers["location"]).text
    assert "De run is afgewezen" in page and "afgewezen" in page
    assert "Afgewezen door campaign" in page and "verkeerde datum" in page
    assert 'id="review-form"' not in page and 'id="files"' not in page
    # a rejected run can be approved by nobody and issues nothing
    other, other_csrf = manager(site, "campaign2")
    again = other.post(f"{path}/approve", data={"csrf_token": other_csrf})
    assert again.status_code == 409 and "kan niet meer nagekeken worden" in again.text
    issued = other.post(f"{path}/issue", data={"csrf_token": other_csrf})
    assert issued.status_code == 409
    assert not [row for row in letters(site) if row[0] == run_id]
    entries = site.state.backend.search(kind="admin", actor="campaign", limit=100)
    assert any(e["outcome"] == "campaign_reject" and e["details"]["run"] == run_id for e in entries)


def test_approving_a_run_issues_its_letters(site: Site, approved: httpx.Response) -> None:
    run_id = site.runs["to_approve"]
    path = f"/campaigns/runs/{run_id}"
    assert approved.status_code == 303
    assert approved.headers["location"] == f"{path}?done=approved"
    client, csrf = manager(site)
    page = client.get(approved.headers["location"]).text
    assert "De run is goedgekeurd" in page
    assert 'id="run-status">verstuurd<' in page  # issued in the background, after the answer
    assert "Goedgekeurd door campaign" in page and "steekproef ok" in page
    due = summary(site, run_id)["letters_due"]
    issued = [row for row in letters(site) if row[0] == run_id]
    assert len(issued) == due["coupon"] + due["invitation"] > 0
    href = f"{path}/files/letters.pdf"
    assert f'href="{href}"' in page
    pdf = client.get(href)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    one = client.get(f"{path}/letters/1")
    assert one.status_code == 200 and one.content.startswith(b"%PDF")
    # the notifications name every recipient: the manager neither sees nor gets them (finding 7)
    assert f'href="{path}/files/notifications.jsonl"' not in page
    assert client.get(f"{path}/files/notifications.jsonl").status_code == 403
    sender, _ = signed_in(site, "admin")
    assert "Meldingen voor e-mail, sms en het digitale loket" in sender.get(path).text
    notices = sender.get(f"{path}/files/notifications.jsonl")
    assert notices.status_code == 200 and notices.headers["content-type"].startswith(
        "application/jsonl"
    )
    records = [json.loads(line) for line in notices.text.splitlines()]
    assert {r["change"] for r in records} == {"new"}  # the first approved run: all new
    assert {r["coupon"] for r in records} == {row[2] for row in issued if row[1] == "coupon"}
    assert client.get(f"{path}/files/%2E%2E/%2E%2E/db.db").status_code == 404
    assert client.get(f"{path}/files/letters.csv").status_code == 404
    desk, _ = signed_in(site, "desk")
    assert desk.get(href).status_code == 403
    # audited: the approval (by the campaign module), the issue and each download
    admin = site.state.backend.search(kind="admin", limit=200)
    assert any(
        e["outcome"] == "campaign_approve"
        and e["actor"] == "campaign"
        and e["details"]["run"] == run_id
        for e in admin
    )
    exports = site.state.backend.search(kind="export", limit=200)
    outcomes = [(e["outcome"], e["details"].get("run"), e["details"].get("file")) for e in exports]
    assert ("campaign_issued", run_id, None) in outcomes
    assert ("campaign_download", run_id, "letters.pdf") in outcomes
    # issuing again (e.g. lost files) makes no second letter
    again = client.post(f"{path}/issue", data={"csrf_token": csrf})
    assert again.status_code == 303
    assert len([row for row in letters(site) if row[0] == run_id]) == len(issued)


def test_four_eyes_on_the_school_tariff(site: Site) -> None:
    run_id = site.runs["school"]
    path = f"/campaigns/runs/{run_id}"
    first, csrf = manager(site)
    form = first.get(path).text
    assert re.search(r'id="approve-button">Goedkeuren<', form)  # the first of two: not sent yet
    response = first.post(f"{path}/approve", data={"csrf_token": csrf})
    assert response.headers["location"] == f"{path}?done=approved_partly"
    page = first.get(response.headers["location"]).text
    assert "Een tweede campagnebeheerder moet nog goedkeuren" in page
    assert "Nu: 1." in page and 'id="review-form"' not in page
    twice = first.post(f"{path}/approve", data={"csrf_token": csrf})
    assert twice.status_code == 409 and "Een andere campagnebeheerder" in twice.text
    with site.ctx.factory() as session:
        still = store.get_run(session, run_id)
    assert still is not None and still.status == "draft"
    second, second_csrf = manager(site, "admin")
    second.cookies.set("entitle_lang", "en")
    done, asked = approve_confirmed(second, second_csrf, run_id)
    pupils = summary(site, run_id)["outcomes"]["eligible"]
    assert f"make the billing lists for {pupils:,} pupils" in asked
    second.cookies.set("entitle_lang", "nl")
    assert done.headers["location"] == f"{path}?done=approved"
    page = second.get(done.headers["location"]).text
    lists = re.findall(rf'href="({path}/files/billing/[^"]+\.csv)"', page)
    assert lists and re.search(rf'href="{path}/files/billing/[^"]+\.xlsx"', page)
    # one download for every school; the per-school links folded away under it
    bundle = second.get(f"{path}/files/billing/alle-scholen.zip")
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        assert len(archive.namelist()) == 2 * len(lists)
    assert "Alle facturatielijsten in één ZIP-bestand" in page
    folded = page.split('<details class="sample" id="school-files">', 1)
    assert len(folded) == 2 and lists[0] in folded[1] and lists[0] not in folded[0]
    csv = second.get(lists[0])
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    assert csv.content.decode("utf-8-sig").startswith("School;Schoolnaam;Naam;Voornaam;Klas")
    assert 'filename="alle-scholen.zip"' in bundle.headers["content-disposition"]
    assert_nothing_personal(site, page)
    assert_dutch(page)
    # in English: the page says the download in English; the download is the same (the lists go
    # to the city's schools, in Dutch, whatever the manager reads)
    second.cookies.set("entitle_lang", "en")
    english = second.get(done.headers["location"]).text
    schools = len(lists)
    assert f"All billing lists in one ZIP file ({schools} schools)" in english
    assert "Billing list " in english.split('id="school-files"', 1)[1]
    assert "Alle facturatielijsten" not in english and "Facturatielijst " not in english
    again = second.get(f"{path}/files/billing/alle-scholen.zip")
    assert again.content == bundle.content
    assert again.headers["content-disposition"] == bundle.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(again.content)) as archive:
        first = next(n for n in archive.namelist() if n.endswith(".csv"))
        header = archive.read(first).decode("utf-8-sig").splitlines()[0]
    assert header.startswith("School;Schoolnaam;Naam;Voornaam;Klas")
    second.cookies.set("entitle_lang", "nl")


def test_the_last_approval_asks_for_confirmation_and_sends_nothing_before(site: Site) -> None:
    client, csrf = manager(site)
    run_id = run_campaign(site.ctx, bags(), AS_OF, chunk_size=500).id
    path = f"/campaigns/runs/{run_id}"
    asked = client.post(f"{path}/approve", data={"csrf_token": csrf, "note": "ok"})
    assert asked.status_code == 200 and 'id="confirm-form"' in asked.text
    stale = client.post(f"{path}/approve", data={"csrf_token": csrf, "confirm": "1:1.00"})
    assert stale.status_code == 200 and 'id="confirm-form"' in stale.text  # other figures: ask
    with site.ctx.factory() as session:
        run = store.get_run(session, run_id)
    assert run is not None and run.status == "draft" and run.verdicts == ()
    assert not [row for row in letters(site) if row[0] == run_id]
    client.cookies.set("entitle_lang", "en")
    english = client.post(f"{path}/approve", data={"csrf_token": csrf})
    assert "Confirm sending" in english.text and "You are about to send" in english.text
    reject = client.post(f"{path}/reject", data={"csrf_token": csrf, "note": "test"})
    assert reject.status_code == 303


# --------------------------------------------------------------------------- what-if


def test_what_if_a_raised_school_ceiling_reaches_more_pupils(site: Site) -> None:
    client, csrf = manager(site)
    form = client.get("/campaigns/whatif", params={"campaign": "school-tariff"})
    assert form.status_code == 200
    assert 'name="p_ceiling_care_discount"' in form.text
    assert "€ 33.000,00" in form.text.replace("\xa0", " ")  # the value in force, in words
    # it opens on the date the campaign last ran (the school year with data), not on today
    assert f'name="as_of" type="date" value="{AS_OF.isoformat()}"' in form.text
    assert "data-busy=" in form.text  # the page says it is working while it computes

    def snapshot() -> tuple[Any, ...]:
        with site.ctx.factory() as session:
            runs = session.execute(select(CampaignRun.id, CampaignRun.status)).all()
            decided = session.execute(
                select(CampaignDecision.id, CampaignDecision.outcome, CampaignDecision.band)
            ).all()
            sent = session.scalar(select(func.count()).select_from(CampaignLetter))
        return tuple(runs), tuple(decided), sent

    before = snapshot()
    data = {
        "csrf_token": csrf,
        "campaign": "school-tariff",
        "as_of": AS_OF.isoformat(),
        "p_ceiling_care_discount": "45.000",  # as typed in Belgium: forty-five thousand
        "p_ceiling_meal_discount": "30000",
    }
    response = client.post("/campaigns/whatif", data=data)
    assert response.status_code == 200, response.text
    html = response.text
    found = re.search(r'id="reached-difference">\+(\d+) leerlingen<', html)
    assert found and int(found.group(1)) > 0
    assert re.search(r'id="cost-difference">\+€', html.replace("\xa0", " "))
    # per band (the school categories A, B, C): pupils and cost, before and after
    table = html.split('id="whatif-bands"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">([ABC])</th>', table)
    assert rows and set(rows) <= {"A", "B", "C"} and "+" in table
    assert "Niets werd opgeslagen of verstuurd" in html
    # streamed: a progress line per chunk, then the result
    steps = re.findall(r'<li class="whatif-step">(.*?)</li>', html)
    assert steps and steps[-1].startswith(f"Deel {len(steps)} van {len(steps)}: ")
    assert html.index('id="whatif-steps"') < html.index('id="result"')
    assert "Geen recht → Recht" in html and "<svg" in html
    assert snapshot() == before  # no stored decision, run or letter changed
    audit = site.state.backend.search(kind="admin", actor="campaign", limit=100)
    assert any(e["outcome"] == "campaign_simulate" for e in audit)
    assert_nothing_personal(site, html)
    bad = client.post("/campaigns/whatif", data={**data, "p_ceiling_meal_discount": "veel"})
    assert bad.status_code == 422 and "Ongeldige waarde" in bad.text
    assert 'name="p_ceiling_meal_discount" value="veel"' in bad.text  # kept for correction
    wrong_day = client.post("/campaigns/whatif", data={**data, "as_of": "2026-13-01"})
    assert wrong_day.status_code == 422 and "Ongeldige datum" in wrong_day.text
    none = client.post(
        "/campaigns/whatif",
        data={"csrf_token": csrf, "campaign": "school-tariff", "as_of": AS_OF.isoformat()},
    )
    assert none.status_code == 422 and "minstens één parameter" in none.text
    # a date without data decides nobody: said, not a silent "0 beslist"
    empty = client.post("/campaigns/whatif", data={**data, "as_of": "2031-10-01"})
    assert empty.status_code == 200 and 'id="whatif-empty"' in empty.text
    assert "geen leerlingen" in empty.text and "schooljaar" in empty.text
    assert_dutch(empty.text)
    client.cookies.set("entitle_lang", "en")
    english = client.post("/campaigns/whatif", data={**data, "as_of": "2031-10-01"}).text
    warning = re.search(r'id="whatif-empty">(.*?)</p>', english, re.S)
    assert warning and "found no pupils" in warning.group(1)
    assert "school year" in warning.group(1) and "leerlingen" not in warning.group(1)
    client.cookies.set("entitle_lang", "nl")


def test_parameter_values_in_the_form() -> None:
    campaign = bags()
    parameters = campaign.benefit.parameters
    table = next(p for p in parameters.values() if p.kind == "table")
    text = parameter_text(table, table.at(AS_OF))
    assert text.startswith("{1: ") and "." not in text.split(":")[1]
    from entitle.decide.campaign import parse_overrides

    assert parse_overrides(campaign.benefit, [f"{table.name}={text}"])[table.name] == table.at(
        AS_OF
    )
    assert money_input("45.000") == "45000"
    assert money_input("€ 45.000,50") == "45000.50"
    assert money_input("45000.5") == "45000.5"


# --------------------------------------------------------------------------- coupons


def coupon_codes(site: Site, run_id: int) -> list[str]:
    with site.ctx.factory() as session:
        return [
            str(letter.code)
            for letter in store.letters_of_run(session, run_id, "coupon")
            if letter.code
        ]


def test_coupons_through_the_api(site: Site, approved: httpx.Response) -> None:
    token = site.token([PURPOSE], ["ghent.garbage-bags"], client="ivago-kassa")
    headers = {"Authorization": f"Bearer {token}"}
    client = site.client()
    code = coupon_codes(site, site.runs["to_approve"])[0]
    typed = code.lower().replace("-", " ")
    checked = client.post("/api/v1/coupons/verify", json={"code": typed}, headers=headers)
    assert checked.status_code == 200, checked.text
    coupon = checked.json()["coupon"]
    assert coupon["valid"] and coupon["usable"] and coupon["code"] == code
    assert coupon["campaign"] == "garbage-bags" and coupon["period"] == "2026"
    assert set(coupon["value"]) == {"amount", "extra_credit"} and coupon["used"] is None
    used = client.post("/api/v1/coupons/use", json={"code": code}, headers=headers)
    assert used.status_code == 200 and used.json()["result"] == "used"
    again = client.post("/api/v1/coupons/use", json={"code": code}, headers=headers)
    assert again.status_code == 409
    assert again.json()["result"] == "already_used"
    assert "already used on 2026-03-10 10:00" in again.json()["detail"]
    after = client.post("/api/v1/coupons/verify", json={"code": code}, headers=headers).json()
    assert not after["coupon"]["usable"] and after["coupon"]["used"].startswith("2026-03-10")
    forged = code[:-1] + ("0" if code[-1] != "0" else "1")
    unknown = client.post("/api/v1/coupons/use", json={"code": forged}, headers=headers)
    assert unknown.status_code == 404 and unknown.json()["result"] == "unknown"
    # the token's scope: the purpose, and the benefits
    desk_token = site.token(["ghent-uitpas"], ["*"], client="kiosk")
    refused = client.post(
        "/api/v1/coupons/verify",
        json={"code": code},
        headers={"Authorization": f"Bearer {desk_token}"},
    )
    assert refused.status_code == 403 and PURPOSE in refused.json()["detail"]
    lez_only = site.token([PURPOSE], ["ghent.lez"], client="lez-loket")
    other = coupon_codes(site, site.runs["to_approve"])[1]
    scoped = client.post(
        "/api/v1/coupons/use", json={"code": other}, headers={"Authorization": f"Bearer {lez_only}"}
    )
    assert scoped.status_code == 403 and "ghent.garbage-bags" in scoped.json()["detail"]
    assert client.post("/api/v1/coupons/use", json={"code": other}).status_code == 401
    malformed = client.post("/api/v1/coupons/use", json={"kode": other}, headers=headers)
    assert malformed.status_code == 422 and "code" in malformed.json()["detail"]
    # used once, by the API client, audited; the coupon API is documented on its own
    entries = site.state.backend.search(kind="export", actor="api:ivago-kassa", limit=10)
    assert [e["outcome"] for e in entries] == ["coupon_used"]
    document = client.get("/api/v1/coupons/openapi.json").json()
    assert set(document["paths"]) == {"/api/v1/coupons/verify", "/api/v1/coupons/use"}
    assert "/api/v1/coupons/use" not in client.get("/api/v1/openapi.json").json()["paths"]


def test_coupons_through_the_page(site: Site, approved: httpx.Response) -> None:
    anonymous = site.client().get("/coupons")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    client, _ = signed_in(site, "ivago")
    code = coupon_codes(site, site.runs["to_approve"])[2]
    link = client.get(f"/coupons/{code.lower()}")
    assert link.status_code == 303
    assert link.headers["location"] == f"/coupons?code={code.lower()}"
    page = client.get("/coupons", params={"code": f"https://stad.gent/bon/{code}"})
    assert page.status_code == 200
    assert "Geldige bon: nog niet gebruikt" in page.text and code in page.text
    assert "Gratis huisvuilzakken" in page.text and "€" in page.text
    csrf = csrf_token(page.text)
    assert client.post("/coupons/use", data={"code": code}).status_code == 403  # no CSRF token
    used = client.post("/coupons/use", data={"code": code, "csrf_token": csrf})
    assert used.status_code == 200 and "De bon is nu gebruikt" in used.text
    again = client.post("/coupons/use", data={"code": code, "csrf_token": csrf})
    assert again.status_code == 409
    assert "werd al gebruikt op 10 mrt 2026" in again.text
    assert 'id="use-button"' not in again.text
    shown = client.get("/coupons", params={"code": code}).text
    assert "Al gebruikt op 10 mrt 2026" in shown
    # a used coupon is refused (red), not "undetermined" (amber); no developer text for a shop
    for refused in (again.text, shown):
        assert 'class="card outcome-not_eligible"' in refused
    assert 'class="card outcome-eligible"' in page.text and "/api/v1" not in page.text
    bad = client.get("/coupons", params={"code": "ABCD-EFGH"})
    assert "Onbekende of ongeldige code" in bad.text
    assert_nothing_personal(site, used.text + again.text + shown)
    for result in (page.text, used.text, again.text, shown, bad.text):
        assert_dutch(result)  # the result pages too, not only the empty form
    # the shop page in English: each result in words, a used coupon refused
    client.cookies.set("entitle_lang", "en")
    fresh = coupon_codes(site, site.runs["to_approve"])[3]
    english = client.get("/coupons", params={"code": fresh}).text
    assert "Check a coupon" in english and "Valid coupon: not used yet." in english
    assert "Use the coupon (once only)" in english and "Coupon code" in english
    assert 'class="card outcome-eligible"' in english and "/api/v1" not in english
    assert "Already used on 10 Mar 2026" in client.get("/coupons", params={"code": code}).text
    twice = client.post("/coupons/use", data={"code": code, "csrf_token": csrf})
    assert twice.status_code == 409 and "already used on 10 Mar 2026" in twice.text
    assert 'class="card outcome-not_eligible"' in twice.text
    assert "Unknown or invalid code" in client.get("/coupons", params={"code": "ABCD"}).text
    client.cookies.set("entitle_lang", "nl")
    entries = site.state.backend.search(kind="export", actor="ivago", limit=10)
    assert [e["outcome"] for e in entries] == ["coupon_used"]


def test_the_coupon_api_as_documented(site: Site, approved: httpx.Response) -> None:
    """Generated requests against the coupon API's own OpenAPI document: never a server error,
    always a documented status with a body as documented."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    token = site.token([PURPOSE], ["*"], client="generated")
    schema = schemathesis.openapi.from_asgi("/api/v1/coupons/openapi.json", site.app)
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 2
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=15,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case: schemathesis.Case) -> None:
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                case.validate_response(response, checks=checks)

            run()


# --------------------------------------------------------------------------- units


def test_dynamic_labels_exist_in_both_languages() -> None:
    keys = [f"campaign.status.{s}" for s in store.RUN_STATUSES]
    keys += [f"campaign.change.{c}" for c in RUN_CHANGES]
    keys += ["campaign.outcome.pending"]
    keys += [f"campaign.target.{k}" for k in ("households", "persons", "pupils")]
    keys += [f"whatif.noun.{k}" for k in ("households", "persons", "pupils")]
    keys += [f"run.notice.{n}" for n in ("approved", "approved_partly", "rejected", "issuing")]
    keys += ["run.verdict_approve", "run.verdict_reject"]
    for lang in ("nl", "en"):
        missing = [k for k in keys if k not in catalogue(lang)]
        assert not missing, (lang, missing)


def test_bar_chart_geometry() -> None:
    chart = bar_chart("x", "Title", [("a", 10, "10", "eligible"), ("b", 0, "0", "none")])
    assert chart.bars[0].length == CHART_WIDTH - VALUE_ROOM and chart.bars[1].length == 0
    assert chart.height == 2 * 46 + 6 and chart.summary == "a: 10; b: 0"
    empty = bar_chart("y", "Empty", [])
    assert empty.bars == () and empty.summary == ""


# --------------------------------------------------------------------------- one citizen


def _coupon_letter_and_person(site: Site, run_id: int) -> tuple[Any, str]:
    """An unused coupon letter of the run, and the INSZ of its household's reference person."""
    pseudonymise = site.ctx.pseudonymiser()
    with site.ctx.factory() as session:
        unused = [x for x in store.letters_of_run(session, run_id, "coupon") if x.used is None]
    by_household = {
        pseudonymise(h): p
        for p, h, pos in site.city.persons.select(
            "person_id", "household_id", "position_code"
        ).iter_rows()
        if pos == "01"
    }
    letter = next(x for x in unused if x.subject_pseudonym in by_household)
    return letter, by_household[letter.subject_pseudonym]


def test_the_desk_shows_the_letter_and_reprints_it(site: Site, approved: httpx.Response) -> None:
    from test_web_support import desk_check

    from entitle.decide.coupons import use_coupon

    run_id = site.runs["to_approve"]
    letter, insz = _coupon_letter_and_person(site, run_id)
    desk, _ = signed_in(site, "desk")
    csrf = csrf_token(desk.get("/desk").text)
    card = desk_check(desk, csrf, insz, "ghent.garbage-bags").text
    assert "Brief met bon verstuurd op" in card and f"kenmerk {run_id}/{letter.seq}" in card
    assert "De bon is nog niet gebruikt" in card
    assert "Er werd nog geen brief" not in card
    # the desk cannot reach the registry here: an officer settles the open card (certificate
    # shown); eligible now, the card no longer promises the letter that already went out
    decision = site.state.backend.search(
        kind="check", subject=site.state.desk.pseudonym(insz), limit=1
    )[0]["details"]["decision"]
    settled = desk.post(
        "/desk/override",
        data={
            "csrf_token": csrf,
            "insz": insz,
            "benefit": "ghent.garbage-bags",
            "outcome": "eligible",
            "reason": "document_shown",
            "note": "attest getoond",
            "valid_until": "2026-12-31",
            "decision_id": str(decision),
        },
    )
    assert settled.status_code == 200, settled.text
    card = desk_check(desk, csrf, insz, "ghent.garbage-bags").text
    assert "krijgt automatisch een brief" not in card
    assert "De brief over dit voordeel is al verstuurd" in card
    with site.ctx.factory() as session:
        result, _status = use_coupon(
            session, str(letter.code), key=site.ctx.coupon_key(), actor="ivago", now=NOW
        )
        session.commit()
    assert result == "used"
    card = desk_check(desk, csrf, insz, "ghent.garbage-bags").text
    assert "De bon werd gebruikt op 10 maart 2026" in card
    desk.cookies.set("entitle_lang", "en")
    english = desk_check(desk, csrf, insz, "ghent.garbage-bags").text
    assert "Letter with a coupon sent on" in english and "The coupon was used on" in english
    assert "automatically receives a letter" not in english
    assert "The letter about this benefit has already been sent" in english
    desk.cookies.set("entitle_lang", "nl")
    # the reprint: this citizen's letter only, audited
    form = {"csrf_token": csrf, "insz": insz, "run": str(run_id), "seq": str(letter.seq)}
    pdf = desk.post("/desk/letters/reprint", data=form)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    someone_else = {**form, "seq": str(letter.seq + 1 if letter.seq == 1 else letter.seq - 1)}
    assert desk.post("/desk/letters/reprint", data=someone_else).status_code == 404
    entries = site.state.backend.search(kind="export", actor="desk", limit=10)
    assert [e["outcome"] for e in entries] == ["letter_reprint"]
    assert entries[0]["subject"] == site.state.desk.pseudonym(insz)
    # a person with no letter: said so, not "you will get a letter"
    nobody = next(
        p for p in site.city.persons["person_id"].to_list() if p != insz and p not in card
    )
    without = desk_check(desk, csrf, nobody, "ghent.uitpas").text
    assert "letter-status" not in without  # no campaign of the UiTPAS writes letters

    # the citizen's access report (GDPR art. 15): desk and campaigns alike
    auditor, _ = signed_in(site, "auditor")
    auditor_csrf = csrf_token(auditor.get("/audit/subject").text)
    report = auditor.post("/audit/subject", data={"csrf_token": auditor_csrf, "insz": insz}).text
    table = report.split('id="entries"', 1)[1]
    for kind in ("Beslissing in een campagne", "Brief", "Bon gebruikt", "Controle aan de balie"):
        assert kind in table, kind
    assert "Brief opnieuw afgedrukt" in table
    assert " 0 regels" not in report
    assert_nothing_personal(site, report)


def test_the_overview_charts_take_up_and_cost(site: Site, approved: httpx.Response) -> None:
    client, _ = manager(site)
    html = client.get("/campaigns").text
    issued = re.search(
        r'<figure class="chart" id="chart-garbage-bags-issued">(.*?)</figure>', html, re.S
    )
    assert issued and 'role="img"' in issued.group(1) and "Bonnen verstuurd per week" in html
    due = summary(site, site.runs["to_approve"])["letters_due"]["coupon"]
    assert f">{due}<" in numbers(issued.group(1))  # issued this week, the value written out
    assert 'id="chart-school-tariff-cost-' in html  # the school tariff's cost per band
    assert_dutch(html)
    client.cookies.set("entitle_lang", "en")
    assert "Coupons sent per week" in client.get("/campaigns").text


def test_a_run_whose_decisions_expired_is_refused_not_only_warned(site: Site) -> None:
    client, csrf = manager(site)
    old = run_campaign(site.ctx, bags(), AS_OF.replace(year=AS_OF.year - 1), chunk_size=500).id
    path = f"/campaigns/runs/{old}"
    page = client.get(path).text
    warning = re.search(r'id="validity-warning">(.*?)</p>', page, re.S)
    assert warning and "31 december 2025" in warning.group(1) and "voorbij" in warning.group(1)
    period = re.search(r'id="run-period">(.*?)</dd>', page)
    assert period and period.group(1) == "kalenderjaar 2025, geldig tot en met 31 december 2025"
    assert 'id="approve-button"' not in page and 'id="reject-button"' in page
    asked = client.post(f"{path}/approve", data={"csrf_token": csrf})
    assert asked.status_code == 409 and 'id="confirm-form"' not in asked.text
    refused = re.search(r'id="error">(.*?)</p>', asked.text, re.S)
    assert refused and refused.group(1).startswith("Geweigerd: de beslissingen van deze run")
    assert "31 december 2025" in refused.group(1)
    assert summary(site, old) and not [r for r in letters(site) if r[0] == old]
    with site.ctx.factory() as session:
        view = store.get_run(session, old)
        assert view is not None and view.status == "draft" and not view.verdicts
    client.cookies.set("entitle_lang", "en")
    english = client.get(path).text
    assert "that date has passed" in english
    assert 'id="run-period">calendar year 2025, valid until 31 December 2025<' in english
    again = client.post(f"{path}/approve", data={"csrf_token": csrf})
    assert again.status_code == 409 and "Refused: the decisions of this run" in again.text
    client.cookies.set("entitle_lang", "nl")
    current = client.get(f"/campaigns/runs/{site.runs['to_reject']}").text
    assert 'id="validity-warning"' not in current  # valid until the end of this year
    assert (
        client.post(f"{path}/reject", data={"csrf_token": csrf, "note": "oud"}).status_code == 303
    )


# --------------------------------------------------------------------------- i16-flow


def test_an_empty_run_is_warned_before_approval(site: Site, approved: httpx.Response) -> None:
    # after the issued run, a run of the same period has no new letter to send
    empty = run_campaign(site.ctx, bags(), AS_OF, chunk_size=500).id
    assert sum(summary(site, empty)["letters_due"].values()) == 0
    client, csrf = manager(site)
    page = client.get(f"/campaigns/runs/{empty}").text
    found = re.search(r'id="empty-warning">(.*?)</p>', page, re.S)
    assert found and found.group(1).startswith("Let op: deze run is leeg")
    client.cookies.set("entitle_lang", "en")
    assert "Note: this run is empty" in client.get(f"/campaigns/runs/{empty}").text
    full = client.get(f"/campaigns/runs/{site.runs['school']}").text
    assert 'id="empty-warning"' not in full
    client.post(f"/campaigns/runs/{empty}/reject", data={"csrf_token": csrf, "note": "leeg"})


def test_issuing_a_run_approved_elsewhere_asks_for_confirmation_first(site: Site) -> None:
    from entitle.decide.campaign import approve_run

    campaign = school()
    run_id = run_campaign(site.ctx, campaign, AS_OF, chunk_size=1000).id
    for actor in ("cli-alice", "cli-bob"):  # approved on the command line (--no-issue)
        with site.ctx.factory() as session:
            approve_run(session, campaign, run_id, actor=actor, today=AS_OF)
            session.commit()
    client, csrf = manager(site)
    path = f"/campaigns/runs/{run_id}"
    page = client.get(path).text
    assert 'id="issue-form"' in page and 'id="confirm-form"' not in page
    asked = client.post(f"{path}/issue", data={"csrf_token": csrf})
    assert asked.status_code == 200 and 'id="confirm-form"' in asked.text
    assert f'action="{path}/issue" id="confirm-form"' in asked.text
    figures = summary(site, run_id)
    pupils = figures["outcomes"]["eligible"]
    assert pupils > 0
    assert f"U maakt nu de facturatielijsten voor {pupils} leerlingen" in numbers(asked.text)
    assert euro(figures["cost"]).replace("\xa0", " ") in asked.text.replace("\xa0", " ")
    with site.ctx.factory() as session:
        view = store.get_run(session, run_id)
        assert view is not None and view.status == "approved" and not view.outputs  # nothing made
    stale = client.post(f"{path}/issue", data={"csrf_token": csrf, "confirm": "1:1.00"})
    assert stale.status_code == 200 and 'id="confirm-form"' in stale.text  # other figures: ask
    client.cookies.set("entitle_lang", "en")
    english = client.post(f"{path}/issue", data={"csrf_token": csrf})
    assert f"You are about to make the billing lists for {pupils} pupils" in english.text.replace(
        ",", ""
    )
    token = CONFIRM.search(asked.text)
    assert token
    done = client.post(f"{path}/issue", data={"csrf_token": csrf, "confirm": token.group(1)})
    assert done.status_code == 303
    with site.ctx.factory() as session:
        view = store.get_run(session, run_id)
        assert view is not None and view.status == "issued"


def test_issuing_an_approved_run_that_expired_is_refused(site: Site) -> None:
    from entitle.decide.campaign import approve_run

    old = run_campaign(site.ctx, bags(), AS_OF.replace(year=AS_OF.year - 1), chunk_size=500)
    with site.ctx.factory() as session:  # approved while it held
        approve_run(session, bags(), old.id, actor="cli", today=old.as_of)
        session.commit()
    client, csrf = manager(site)
    path = f"/campaigns/runs/{old.id}"
    assert 'id="issue-form"' not in client.get(path).text
    refused = client.post(f"{path}/issue", data={"csrf_token": csrf, "confirm": "0:0.00"})
    assert refused.status_code == 409 and "Geweigerd: de beslissingen" in refused.text
    assert not [r for r in letters(site) if r[0] == old.id]


def test_a_worker_reads_the_campaigns_at_start_up_not_at_the_first_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTITLE_CAMPAIGNS", str(REPO / "campaigns"))
    app = create_app(settings_for("http://127.0.0.1:9", tmp_path, benefits=REPO / "benefits"))
    setup: CampaignSetup = app.state.campaigns
    assert setup._campaigns is None and setup.warming is None
    with TestClient(app):  # the application starts (its lifespan), no request made
        assert setup.warming is not None
        setup.warming.join(60)
        assert setup._campaigns is not None and "garbage-bags" in setup._campaigns
