"""The REST API: bearer tokens and their scopes, checks, decisions, benefits, clear 422s, and
schemathesis against the OpenAPI document (bounded examples; no server error, answers as
documented)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from test_registry_city import City
from test_web_support import (
    Web,
    assert_no_raw_values,
    web_app,
    write_partner_gap_city,
    write_web_city,
)

UITPAS, LEZ = "ghent.uitpas", "ghent.lez"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_web_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def web(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with web_app(
        city, tmp_path_factory.mktemp("web"), checks_per_minute=10_000, api_checks_per_minute=10_000
    ) as running:
        yield running


@pytest.fixture(scope="module")
def uitpas_token(web: Web) -> str:
    return web.token(["ghent-uitpas"], [UITPAS], client="uitpas-kiosk")


@pytest.fixture(scope="module")
def any_token(web: Web) -> str:
    return web.token(["*"], ["*"], client="everything")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_check(web: Web, token: str | None, body: Any, **kwargs: Any) -> Any:
    headers = bearer(token) if token else {}
    return web.client().post("/api/v1/checks", json=body, headers=headers, **kwargs)


def test_a_partial_check_says_what_is_certain_and_whose_fact_is_missing(tmp_path: Path) -> None:
    city = write_partner_gap_city(tmp_path / "city")
    with web_app(city, tmp_path / "web") as running:
        token = running.token(["ghent-lez"], ["ghent.lez"], client="lez-desk")
        body = {"insz": city.ref, "benefit": "ghent.lez", "purpose": "ghent-lez"}
        response = post_check(running, token, body)
    assert response.status_code == 201, response.text
    shown = response.json()
    assert shown["outcome"] == "eligible" and shown["at_least"] == {"tariff": "reduced"}
    [part] = shown["open_parts"]
    assert part["output"] == "tariff"
    assert part["certain"] == {"nl": "verlaagd tarief", "en": "reduced tariff"}
    assert part["possible"] == [{"nl": "vrijstelling", "en": "exemption"}]
    [owner] = part["missing"]
    assert owner["whose"] == {"nl": "uw partner", "en": "your partner"}
    assert {"nl": "verhoogde tegemoetkoming", "en": "increased allowance (VT/BIM)"} in owner[
        "facts"
    ]
    allowance = next(m for m in shown["missing"] if m["fact"] == "person.increased_allowance")
    assert allowance["relation"] == {"nl": "uw partner", "en": "your partner"}
    assert city.spouse not in response.text
    assert_no_raw_values(response.text)


def test_a_check(web: Web, city: City, uitpas_token: str) -> None:
    response = post_check(
        web, uitpas_token, {"insz": city.ref, "benefit": UITPAS, "purpose": "ghent-uitpas"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == body["computed_outcome"] == "eligible"
    assert body["valid_until"] == "2025-12-31"
    assert body["outputs"] == {"tariff": "kansentarief", "discount_pct": 80}
    # the increased allowance settles it: the OCMW's client file is not read (rules/order.py)
    assert {s["name"] for s in body["sources"]} == {"GeefPersoon", "GeefSociaalStatuut"}
    assert body["guidance"]["nl"].startswith("Zet de UiTPAS op kansentarief")
    assert {c["status"] for c in body["conditions"]} <= {"yes", "no", "unknown", "skipped"}
    assert city.ref not in response.text  # the number is not echoed
    assert_no_raw_values(response.text)
    entries = web.state.backend.search(kind="api_check", actor="api:uitpas-kiosk")
    assert entries and entries[0]["details"]["decision"] == body["id"]


def test_an_undetermined_check_says_what_is_missing(
    web: Web, city: City, uitpas_token: str
) -> None:
    body = post_check(
        web,
        uitpas_token,
        {"insz": city.not_integrated, "benefit": UITPAS, "purpose": "ghent-uitpas"},
    ).json()
    assert body["outcome"] == "undetermined"
    missing = {m["fact"]: m for m in body["missing"]}
    assert missing["person.increased_allowance"]["reason"] == "no_data"
    assert missing["person.increased_allowance"]["description"]["nl"] == "verhoogde tegemoetkoming"


def test_the_stored_decision(web: Web, city: City, uitpas_token: str, any_token: str) -> None:
    created = post_check(
        web, uitpas_token, {"insz": city.spouse, "benefit": UITPAS, "purpose": "ghent-uitpas"}
    ).json()
    client = web.client()
    response = client.get(f"/api/v1/decisions/{created['id']}", headers=bearer(uitpas_token))
    assert response.status_code == 200
    decision = response.json()
    assert decision["outcome"] == "not_eligible" and decision["benefit"] == UITPAS
    assert decision["subject"]["pseudonym"] == web.pseudonym(city.spouse)
    assert city.spouse not in response.text
    missing = client.get("/api/v1/decisions/999999", headers=bearer(uitpas_token))
    assert missing.status_code == 404 and "no decision 999999" in missing.json()["detail"]
    assert client.get(f"/api/v1/decisions/{created['id']}").status_code == 401
    lez = post_check(
        web, any_token, {"insz": city.ref, "benefit": LEZ, "purpose": "ghent-lez"}
    ).json()
    refused = client.get(f"/api/v1/decisions/{lez['id']}", headers=bearer(uitpas_token))
    assert refused.status_code == 403
    assert "not authorised for benefit 'ghent.lez'" in refused.json()["detail"]


def test_no_token_or_an_unknown_token_is_401(web: Web, city: City) -> None:
    body = {"insz": city.ref, "benefit": UITPAS, "purpose": "ghent-uitpas"}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = web.client().post("/api/v1/checks", json=body, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["detail"]


def test_a_token_without_the_purpose_is_refused(web: Web, city: City, uitpas_token: str) -> None:
    before = len(web.state.backend.search(kind="api_check", limit=10_000))
    response = post_check(
        web, uitpas_token, {"insz": city.ref, "benefit": LEZ, "purpose": "ghent-lez"}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "token of client 'uitpas-kiosk' is not authorised for purpose 'ghent-lez'"
    )
    assert len(web.state.backend.search(kind="api_check", limit=10_000)) == before


def test_a_token_without_the_benefit_is_refused(web: Web, city: City) -> None:
    token = web.token(["ghent-uitpas", "ghent-lez"], [UITPAS], client="half")
    response = post_check(web, token, {"insz": city.ref, "benefit": LEZ, "purpose": "ghent-lez"})
    assert response.status_code == 403
    assert "not authorised for benefit 'ghent.lez'" in response.json()["detail"]


def test_the_session_cookie_does_not_open_the_api(web: Web, city: City) -> None:
    from test_web_support import signed_in

    client, csrf = signed_in(web, "admin")
    body = {"insz": city.ref, "benefit": UITPAS, "purpose": "ghent-uitpas"}
    response = client.post("/api/v1/checks", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"benefit": UITPAS, "purpose": "ghent-uitpas"}, "insz", "this field is required"),
        ({"insz": "85073003328", "purpose": "ghent-uitpas"}, "benefit", "required"),
        ({"insz": "85073003328", "benefit": UITPAS}, "purpose", "required"),
        ({"insz": "8507", "benefit": UITPAS, "purpose": "ghent-uitpas"}, "insz", "at least 11"),
        (
            {"insz": "85073003328", "benefit": UITPAS, "purpose": "ghent-uitpas", "x": 1},
            "x",
            "not allowed",
        ),
        ({"insz": 85073003328, "benefit": UITPAS, "purpose": "ghent-uitpas"}, "insz", "string"),
        (
            {"insz": "85073003329", "benefit": UITPAS, "purpose": "ghent-uitpas"},
            "insz",
            "check digits",
        ),
        (
            {"insz": "85073003328", "benefit": "ghent.nothing", "purpose": "ghent-uitpas"},
            "benefit",
            "unknown benefit 'ghent.nothing'",
        ),
        (
            {"insz": "85073003328", "benefit": UITPAS, "purpose": "ghent-lez"},
            "purpose",
            "may only be checked for its purpose 'ghent-uitpas'",
        ),
        ([1, 2], "body", "valid dictionary"),
    ],
)
def test_malformed_bodies_get_a_clear_422(
    web: Web, any_token: str, body: Any, field: str, words: str
) -> None:
    response = post_check(web, any_token, body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["detail"].startswith("invalid request: ")
    assert words in problem["detail"]
    assert any(e["field"] == field for e in problem["errors"]), problem


def test_a_body_that_is_not_json_gets_a_clear_422(web: Web, any_token: str) -> None:
    response = web.client().post(
        "/api/v1/checks",
        content=b"{insz: 1",
        headers={**bearer(any_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_api_checks_are_rate_limited_per_client(city: City, tmp_path: Path) -> None:
    with web_app(city, tmp_path, api_checks_per_minute=2) as limited:
        token = limited.token(["*"], ["*"])
        body = {"insz": city.ref, "benefit": UITPAS, "purpose": "ghent-uitpas"}
        codes = [post_check(limited, token, body).status_code for _ in range(3)]
        assert codes == [201, 201, 429]


def test_benefits_and_their_rules(web: Web) -> None:
    client = web.client()
    listed = client.get("/api/v1/benefits").json()
    assert {b["id"] for b in listed} == {
        "ghent.uitpas",
        "ghent.garbage-bags",
        "ghent.school-tariff",
        "ghent.lez",
    }
    rules = client.get("/api/v1/benefits/ghent.school-tariff").json()
    assert rules["purpose"] == "ghent-school-tariff"
    income = next(c for c in rules["conditions"] if c["name"] == "income_below_meal_ceiling")
    assert "ceiling_meal_discount (€23,000)" in income["rule"]  # parameters filled in
    assert income["text"]["nl"].startswith("het belastbaar inkomen")
    older = client.get("/api/v1/benefits/ghent.lez", params={"as_of": "2024-01-01"}).json()
    child = next(c for c in older["conditions"] if c["name"] == "child_card_exemption")
    assert "child_card_exemption_in_force (false)" in child["rule"]
    missing = client.get("/api/v1/benefits/ghent.nothing")
    assert missing.status_code == 404 and missing.json() == {"detail": "no benefit 'ghent.nothing'"}


def test_the_openapi_document(web: Web) -> None:
    document = web.client().get("/api/v1/openapi.json").json()
    paths = set(document["paths"])
    assert paths == {
        "/api/v1/checks",
        "/api/v1/decisions/{decision_id}",
        "/api/v1/benefits",
        "/api/v1/benefits/{benefit_id}",
    }
    responses = document["paths"]["/api/v1/checks"]["post"]["responses"]
    assert {"201", "401", "403", "422", "429"} <= set(responses)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis(web: Web, any_token: str, mode: GenerationMode) -> None:
    """Generated requests, valid and not, for every operation of the OpenAPI document: never a
    server error, always a documented status with a body as documented.

    (The schemathesis pytest plugin's lazy fixtures do not run under pytest 9: each operation's
    strategy is driven by Hypothesis here instead.)
    """
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", web.app)
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=bearer(any_token))
            case.validate_response(response, checks=checks)

        try:
            run()
        except Unsatisfiable:
            # no invalid request exists for an operation without parameters or body
            assert mode is GenerationMode.NEGATIVE and operation.path == "/api/v1/benefits"


def test_schemathesis_without_token_is_refused(web: Web) -> None:
    client = TestClient(web.app)
    assert client.post("/api/v1/checks", json={}).status_code == 401
