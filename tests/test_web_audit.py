"""Auditor pages: log search, a citizen's access report (page and CSV), unusual-activity alerts;
every check, override, sign-in and export lands in the hash-chained log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from test_registry_city import City
from test_web_support import (
    Web,
    assert_dutch,
    assert_no_raw_values,
    desk_check,
    signed_in,
    web_app,
    write_web_city,
)

UITPAS, LEZ = "ghent.uitpas", "ghent.lez"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_web_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def web(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with web_app(city, tmp_path_factory.mktemp("web"), checks_per_minute=10_000) as running:
        client, csrf = signed_in(running, "desk")
        desk_check(client, csrf, city.ref, UITPAS)
        desk_check(client, csrf, city.ref, LEZ)
        desk_check(client, csrf, city.leefloner, UITPAS)
        client.post(
            "/desk/override",
            data={
                "insz": city.ref,
                "benefit": LEZ,
                "outcome": "eligible",
                "reason": "household_situation",
                "note": "Kind met parkeerkaart woont bij de andere ouder.",
                "valid_until": "2025-12-31",
                "csrf_token": csrf,
            },
        )
        token = running.token(["*"], ["*"], client="kiosk")
        running.client().post(
            "/api/v1/checks",
            json={"insz": city.ref, "benefit": UITPAS, "purpose": "ghent-uitpas"},
            headers={"Authorization": f"Bearer {token}"},
        )
        yield running


def test_the_audit_page_shows_the_latest_entries_and_the_chain(web: Web) -> None:
    client, _csrf = signed_in(web, "auditor")
    page = client.get("/audit")
    assert page.status_code == 200
    assert "De keten van het auditlog is intact" in page.text
    for kind in ("check", "api_check", "override", "login"):
        assert f'<tr class="kind-{kind}">' in page.text, kind
    assert_no_raw_values(page.text)


def test_search_by_person_officer_kind_and_dates(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "auditor")
    by_person = client.post("/audit", data={"insz": city.ref, "csrf_token": csrf})
    assert by_person.status_code == 200
    assert web.pseudonym(city.ref)[:12] in by_person.text
    assert web.pseudonym(city.leefloner)[:12] not in by_person.text
    assert city.ref not in by_person.text.replace(f'value="{city.ref}"', "")  # only in the field
    assert "4 regels" in by_person.text  # 2 desk checks, the override, the API check
    by_kind = client.post(
        "/audit", data={"actor": "desk", "kind": "override", "csrf_token": csrf}
    ).text
    assert "1 regel<" in by_kind and "Gezinssituatie" in by_kind  # in words, singular
    assert "household_situation" not in by_kind and "overridden=" not in by_kind
    none = client.post(
        "/audit", data={"since": "2025-09-16", "kind": "check", "csrf_token": csrf}
    ).text
    assert "Geen regels gevonden" in none
    same_day = client.post(
        "/audit",
        data={"since": "2025-09-15", "until": "2025-09-15", "kind": "check", "csrf_token": csrf},
    ).text
    assert "3 regels" in same_day
    bad = client.post("/audit", data={"since": "gisteren", "csrf_token": csrf})
    assert bad.status_code == 422 and "Ongeldige datum" in bad.text
    wrong = client.post("/audit", data={"insz": "85.07.30-033.29", "csrf_token": csrf})
    assert wrong.status_code == 422 and "controlecijfers" in wrong.text
    searches = web.state.backend.search(kind="audit_search", actor="auditor")
    assert any(s["subject"] == web.pseudonym(city.ref) for s in searches)
    assert city.ref not in str(searches)


def test_subject_access_report(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "auditor")
    assert client.get("/audit/subject").status_code == 200
    page = client.post("/audit/subject", data={"insz": city.ref, "csrf_token": csrf})
    assert page.status_code == 200
    assert "3 controles gevonden" in page.text  # 2 at the desk, 1 through the API
    assert "ghent-uitpas" in page.text and "ghent-lez" in page.text and "api:kiosk" in page.text
    # every question to a registry about the person, with its purpose (the access log)
    table = page.text.split('id="entries"', 1)[1]
    assert "Vraag aan een bron" in table and "GeefSociaalStatuut" in table
    assert "Controle aan de balie" in table and "Overschrijving" in table
    for raw in (">check<", ">override<", ">undetermined<", "overridden=", ">registry_access<"):
        assert raw not in table, raw
    client.cookies.set("entitle_lang", "en")
    english = client.post("/audit/subject", data={"insz": city.ref, "csrf_token": csrf}).text
    assert "Question to a source" in english and "Desk check" in english
    client.cookies.set("entitle_lang", "nl")
    assert_dutch(page.text)
    assert_dutch(client.get("/audit").text)
    assert_no_raw_values(page.text)
    download = client.post("/audit/subject.csv", data={"insz": city.ref, "csrf_token": csrf})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert {r["kind"] for r in rows} >= {"check", "api_check", "override"}
    assert city.ref not in download.text
    kinds = [e["kind"] for e in web.state.backend.search(subject=web.pseudonym(city.ref))]
    assert "subject_report" in kinds and "export" in kinds  # the report itself is logged
    wrong = client.post("/audit/subject", data={"insz": "123", "csrf_token": csrf})
    assert wrong.status_code == 422 and "11 cijfers" in wrong.text


def test_alerts_for_unusual_volumes(web: Web) -> None:
    client, _csrf = signed_in(web, "auditor")
    assert "Geen ongewone activiteit" in client.get("/audit/alerts").text
    for _ in range(61):
        web.state.backend.audit(
            kind="check", actor="busy", purpose="ghent-uitpas", subject="p" * 20, outcome="eligible"
        )
    page = client.get("/audit/alerts")
    assert page.status_code == 200
    assert "busy" in page.text and "more than 60 checks in one hour" in page.text


def test_filtering_by_retention_shows_only_retention_entries(web: Web) -> None:
    """The filter once lacked `retention`, so asking for it fell back to every entry."""
    web.state.backend.audit(
        kind="retention", actor="ops", purpose="retention", outcome="purged", details={}
    )
    client, csrf = signed_in(web, "auditor")
    page = client.post("/audit", data={"kind": "retention", "csrf_token": csrf})
    assert page.status_code == 200
    rows = page.text.count('<tr class="kind-')
    assert rows >= 1 and rows == page.text.count('<tr class="kind-retention">')
    assert '<tr class="kind-check">' not in page.text


@pytest.mark.parametrize("username", ["desk", "campaign", "admin"])
def test_only_auditors_see_the_auditor_pages(web: Web, city: City, username: str) -> None:
    client, csrf = signed_in(web, username)
    for path in ("/audit", "/audit/subject", "/audit/alerts"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "geen toegang" in response.text
    for path in ("/audit", "/audit/subject", "/audit/subject.csv"):
        response = client.post(path, data={"insz": city.ref, "csrf_token": csrf})
        assert response.status_code == 403, path
        assert web.pseudonym(city.ref)[:12] not in response.text


def test_a_check_under_an_override_reads_overridden_in_the_log(web: Web, city: City) -> None:
    """A check of someone whose decision an officer overrode: the log says the outcome in force,
    that it was overridden, and what the data said, in words (issue 16), never "undetermined" or
    "overridden=True"."""
    import re

    desk, csrf = signed_in(web, "desk")
    first = desk_check(desk, csrf, city.not_integrated, LEZ)
    assert 'class="card outcome-undetermined' in first.text
    decision = re.search(r'name="decision_id" value="(\d+)"', first.text)
    assert decision
    overridden = desk.post(
        "/desk/override",
        data={
            "insz": city.not_integrated,
            "benefit": LEZ,
            "outcome": "eligible",
            "reason": "document_shown",
            "note": "Attest ziekenfonds getoond.",
            "valid_until": "2025-12-31",
            "decision_id": decision.group(1),
            "csrf_token": csrf,
        },
    )
    assert overridden.status_code == 200, overridden.text
    desk_check(desk, csrf, city.not_integrated, LEZ)
    client, auditor_csrf = signed_in(web, "auditor")
    for lang, said, raw in (
        ("nl", "recht (overschreven; volgens de gegevens: onbepaald)", "undetermined"),
        ("en", "eligible (overridden; according to the data: undetermined)", "overridden="),
    ):
        client.cookies.set("entitle_lang", lang)
        found = client.post(
            "/audit",
            data={"insz": city.not_integrated, "kind": "check", "csrf_token": auditor_csrf},
        ).text
        rows = re.findall(r'<tr class="kind-check">(.*?)</tr>', found, re.S)
        assert len(rows) == 2, found
        texts = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]
        assert sum(said in text for text in texts) == 1, texts  # the later check only
        assert not any(raw in text for text in texts), texts
        if lang == "nl":
            assert_dutch(found)
            report = client.post(
                "/audit/subject", data={"insz": city.not_integrated, "csrf_token": auditor_csrf}
            ).text
            assert said in " ".join(re.sub(r"<[^>]+>", " ", report).split())
            assert_dutch(report)
    client.cookies.set("entitle_lang", "nl")


def test_the_log_chain_holds_after_everything(web: Web) -> None:
    report = web.state.backend.verify()
    assert report.ok, report
    assert report.entries > 10
