"""Every benefit at once: the desk's other benefits after a check and `POST /api/v1/checks` with
several benefits. Each benefit is decided, stored, audited and logged under its own purpose."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_registry_city import City
from test_web_support import Web, assert_no_raw_values, desk_check, signed_in, web_app
from test_web_support import write_web_city as write_test_city

from entitle.decide.several import Refusal, automatic, choose, other_benefits
from entitle.rules.folder import load_benefits

GHENT = Path(__file__).resolve().parents[1] / "benefits" / "ghent"
UITPAS, LEZ, BAGS, SCHOOL = "ghent.uitpas", "ghent.lez", "ghent.garbage-bags", "ghent.school-tariff"


# ----------------------------------------------------------------------------- the use case


def test_choosing_the_benefits_of_a_check_of_several() -> None:
    benefits = load_benefits(GHENT)
    ordered = [benefits[i] for i in (BAGS, LEZ, SCHOOL, UITPAS)]
    others = other_benefits(ordered, UITPAS, lambda b: b.id != SCHOOL)
    assert [b.id for b in others] == [BAGS, LEZ]
    assert [b.id for b in automatic(others, {"ghent-lez"})] == [LEZ]
    chosen = choose(
        [LEZ, "ghent.nothing", UITPAS, LEZ],
        benefits,
        lambda b: None if b.purpose == "ghent-lez" else f"not for {b.purpose}",
    )
    assert chosen == [
        benefits[LEZ],
        Refusal("ghent.nothing", 422, "unknown benefit 'ghent.nothing'"),
        Refusal(UITPAS, 403, "not for ghent-uitpas"),
    ]


# ----------------------------------------------------------------------------- the web


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_test_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def web(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with web_app(
        city, tmp_path_factory.mktemp("web"), checks_per_minute=10_000, api_checks_per_minute=10_000
    ) as running:
        yield running


def accessed_purposes(web: Web) -> list[str]:
    """The purpose of every registry access, in the order of the access log."""
    lines = []
    for path in sorted((web.folder / "state").glob("access*.jsonl")):
        lines += path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["purpose"] for line in lines if line.strip()]


def test_the_api_checks_several_benefits_each_under_its_own_purpose(web: Web, city: City) -> None:
    token = web.token(["ghent-uitpas", "ghent-lez"], ["*"], client="several")
    before = len(accessed_purposes(web))
    response = web.client().post(
        "/api/v1/checks",
        json={"insz": city.ref, "benefits": [UITPAS, LEZ, BAGS, "ghent.nothing", UITPAS]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    results = response.json()["results"]
    assert [(r["benefit"], r["status"]) for r in results] == [
        (UITPAS, 201),
        (LEZ, 201),
        (BAGS, 403),
        ("ghent.nothing", 422),
    ]
    uitpas, lez, bags, nothing = results
    assert uitpas["check"]["purpose"] == "ghent-uitpas" and uitpas["check"]["outcome"] == "eligible"
    assert lez["check"]["purpose"] == "ghent-lez" and lez["check"]["outputs"]["tariff"] == "reduced"
    assert (
        bags["check"] is None
        and "not authorised for purpose 'ghent-garbage-bags'" in (bags["detail"])
    )
    assert nothing["detail"] == "unknown benefit 'ghent.nothing'"
    assert city.ref not in response.text
    assert_no_raw_values(response.text)
    entries = web.state.backend.search(kind="api_check", actor="api:several")
    assert sorted((e["purpose"], e["details"]["benefit"]) for e in entries) == [
        ("ghent-lez", LEZ),
        ("ghent-uitpas", UITPAS),
    ]
    assert {e["details"]["decision"] for e in entries} == {
        uitpas["check"]["id"],
        lez["check"]["id"],
    }
    purposes = accessed_purposes(web)[before:]
    assert set(purposes) == {"ghent-uitpas", "ghent-lez"}  # nothing read for garbage bags


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"benefits": [UITPAS], "benefit": UITPAS}, "benefits", "not both"),
        ({"benefits": [UITPAS], "purpose": "ghent-uitpas"}, "benefits", "not both"),
        ({"benefits": []}, "benefits", "at least 1"),
        ({"benefits": [""]}, "benefits.0", "at least 1"),
        ({"benefits": [UITPAS] * 21}, "benefits", "at most 20"),
        ({}, "benefit", "this field is required"),
    ],
)
def test_a_malformed_request_for_several_gets_a_clear_422(
    web: Web, city: City, body: dict[str, Any], field: str, words: str
) -> None:
    token = web.token(["*"], ["*"], client="malformed")
    response = web.client().post(
        "/api/v1/checks",
        json={"insz": city.ref, **body},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert words in problem["detail"]
    assert any(e["field"] == field for e in problem["errors"]), problem


def test_an_invalid_number_checks_nothing(web: Web) -> None:
    token = web.token(["*"], ["*"], client="typo")
    response = web.client().post(
        "/api/v1/checks",
        json={"insz": "85073003329", "benefits": [UITPAS, LEZ]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422 and "check digits" in response.json()["detail"]
    assert web.state.backend.search(kind="api_check", actor="api:typo") == []


def other_results(html: str) -> dict[str, str]:
    """Benefit id -> outcome of the other benefits' results on a page."""
    return dict(
        (benefit, outcome)
        for outcome, benefit in re.findall(
            r'<li class="other-result outcome-(\w+)" data-benefit="([\w.-]+)"', html
        )
    )


def listed_to_check(html: str) -> list[str]:
    form = re.search(r'<form method="post" action="/desk/check-others".*?</form>', html, re.S)
    return re.findall(r'<li data-benefit="([\w.-]+)"', form.group(0)) if form else []


def test_the_desk_card_lists_the_other_benefits_and_checks_them_with_one_click(
    web: Web, city: City
) -> None:
    client, csrf = signed_in(web, "desk")
    page = desk_check(client, csrf, city.ref, UITPAS)
    assert page.status_code == 200, page.text
    assert listed_to_check(page.text) == [BAGS, LEZ, SCHOOL]  # the desk order, without UiTPAS
    assert other_results(page.text) == {}  # nothing checked without the click
    pseudonym = web.pseudonym(city.ref)
    checks = web.state.backend.search(subject=pseudonym, kind="check")
    assert [e["details"]["benefit"] for e in checks] == [UITPAS]

    clicked = client.post(
        "/desk/check-others",
        data={"insz": city.ref, "benefit": UITPAS, "csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert clicked.status_code == 200, clicked.text
    assert other_results(clicked.text) == {
        BAGS: "eligible",
        LEZ: "eligible",
        SCHOOL: "not_eligible",
    }
    assert "Verlaagd" in clicked.text or "reduced" in clicked.text
    assert listed_to_check(clicked.text) == []
    assert city.ref not in clicked.text
    assert_no_raw_values(clicked.text)
    checks = web.state.backend.search(subject=pseudonym, kind="check")
    after = [e for e in checks if e["details"].get("after") == UITPAS]
    assert sorted((e["details"]["benefit"], e["purpose"]) for e in after) == [
        (BAGS, "ghent-garbage-bags"),
        (LEZ, "ghent-lez"),
        (SCHOOL, "ghent-school-tariff"),
    ]
    assert all(e["details"]["automatic"] is False and e["actor"] == "desk" for e in after)


def test_the_municipality_may_check_a_purpose_automatically(
    city: City, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with web_app(
        city, tmp_path_factory.mktemp("auto"), auto_check_purposes=("ghent-garbage-bags",)
    ) as web:
        client, csrf = signed_in(web, "desk")
        page = desk_check(client, csrf, city.ref, UITPAS)
        assert page.status_code == 200, page.text
        assert other_results(page.text) == {BAGS: "eligible"}
        assert listed_to_check(page.text) == [LEZ, SCHOOL]
        entries = web.state.backend.search(subject=web.pseudonym(city.ref), kind="check")
        automatic_entries = [e for e in entries if e["details"].get("automatic")]
        assert [(e["details"]["benefit"], e["purpose"]) for e in automatic_entries] == [
            (BAGS, "ghent-garbage-bags")
        ]


def test_only_a_desk_role_checks_the_other_benefits(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "auditor")
    response = client.post(
        "/desk/check-others", data={"insz": city.ref, "benefit": UITPAS, "csrf_token": csrf}
    )
    assert response.status_code in (303, 403)
    assert web.state.backend.search(actor="auditor", kind="check") == []
