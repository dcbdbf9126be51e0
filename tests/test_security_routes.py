"""Authorisation, CSRF, session fixation and security headers for every route of the web app.

`RULES` holds one explicit decision per route (method and path): who may use it, whether it
changes state and so needs the session's CSRF token, and why a public route is public. The first
test compares it with the application's routes, so a route added without a decision fails here.
Then, for every route: without a session or token it is refused (a page redirects to the login
page, the API answers 401), every role that may not use it gets 403 (the API: a token without
the scope), and a state-changing page refuses a POST without the session's CSRF token, or with a
forged one, and accepts it with the right one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_registry_city import City
from test_web_support import PASSWORD, Web, csrf_token, signed_in, web_app, write_web_city

import entitle.web
from entitle.web.auth import DESK_ROLES, OVERRIDE_ROLES, ROLES
from entitle.web.campaigns.setup import CAMPAIGN_ROLES
from entitle.web.security import SecurityHeaders
from entitle.web.visibility import Caller, decision_access

USERS = {"desk_officer": "desk", "campaign_manager": "campaign", "administrator": "admin"}
USERS["auditor"] = "auditor"
USERS["coupon_verifier"] = "shop"


@dataclass(frozen=True)
class Rule:
    """Who may use a route. ``who``: public, token (the API), or the roles of a signed-in user."""

    who: str | frozenset[str]
    csrf: bool = False  # a state-changing page: POST needs the session's CSRF token
    why: str = ""  # for a public route: why no sign-in is needed
    scope: str = ""  # for the API: what the token needs (the forbidden test leaves it out)
    reads: bool = False  # a POST that changes nothing but the audit log (a search, a report)
    own: bool = False  # changes only the caller's own sessions or password
    decisions: bool = False  # shows stored decisions: `entitle.web.visibility` decides what


ANYONE = frozenset(ROLES)
AUDITORS = frozenset({"auditor"})
COUPON_USERS = frozenset({"coupon_verifier", "administrator"})
PUBLIC = "public"
TOKEN = "token"

RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/"): Rule(PUBLIC, why="redirects to the home page of the user, or to sign in"),
    ("GET", "/healthz"): Rule(PUBLIC, why="liveness probe; says only 'ok'"),
    ("GET", "/favicon.ico"): Rule(PUBLIC, why="redirects to the icon, a static file"),
    ("GET", "/login"): Rule(PUBLIC, why="the sign-in form"),
    ("POST", "/login"): Rule(PUBLIC, why="signing in; guarded by a double-submit CSRF token"),
    ("GET", "/lang/{code}"): Rule(PUBLIC, why="language preference cookie; no state kept"),
    ("GET", "/static"): Rule(PUBLIC, why="style sheets and the desk script"),
    ("GET", "/api/v1/openapi.json"): Rule(PUBLIC, why="the API's documentation"),
    ("GET", "/api/v1/coupons/openapi.json"): Rule(PUBLIC, why="the coupon API's documentation"),
    ("GET", "/api/v1/benefits"): Rule(PUBLIC, why="the benefits' rules in words are public"),
    ("GET", "/api/v1/benefits/{benefit_id}"): Rule(PUBLIC, why="one benefit's public rules"),
    ("POST", "/logout"): Rule(ANYONE, csrf=True, own=True),
    ("GET", "/account"): Rule(ANYONE),
    ("POST", "/account/sessions/end"): Rule(ANYONE, csrf=True, own=True),
    ("POST", "/account/password"): Rule(ANYONE, csrf=True, own=True),
    ("GET", "/desk"): Rule(DESK_ROLES),
    ("POST", "/desk/check"): Rule(DESK_ROLES, csrf=True, decisions=True),
    ("POST", "/desk/check-others"): Rule(DESK_ROLES, csrf=True, decisions=True),
    ("POST", "/desk/override"): Rule(OVERRIDE_ROLES, csrf=True),
    ("POST", "/desk/inscribe"): Rule(OVERRIDE_ROLES, csrf=True),
    ("POST", "/desk/letters/reprint"): Rule(DESK_ROLES, csrf=True),
    ("GET", "/audit"): Rule(AUDITORS),
    ("POST", "/audit"): Rule(AUDITORS, csrf=True, reads=True),
    ("GET", "/audit/subject"): Rule(AUDITORS),
    ("POST", "/audit/subject"): Rule(AUDITORS, csrf=True, reads=True, decisions=True),
    ("POST", "/audit/subject.csv"): Rule(AUDITORS, csrf=True, reads=True, decisions=True),
    ("GET", "/audit/alerts"): Rule(AUDITORS),
    ("GET", "/health/campaigns"): Rule(
        PUBLIC, why="campaign monitoring; exit codes, counts and times, nothing personal"
    ),
    ("GET", "/campaigns"): Rule(CAMPAIGN_ROLES),
    ("GET", "/campaigns/runs/{run_id}"): Rule(CAMPAIGN_ROLES),
    ("POST", "/campaigns/runs/{run_id}/approve"): Rule(CAMPAIGN_ROLES, csrf=True),
    ("POST", "/campaigns/runs/{run_id}/reject"): Rule(CAMPAIGN_ROLES, csrf=True),
    ("POST", "/campaigns/runs/{run_id}/issue"): Rule(CAMPAIGN_ROLES, csrf=True),
    ("GET", "/campaigns/runs/{run_id}/files/{name:path}"): Rule(CAMPAIGN_ROLES),
    ("GET", "/campaigns/runs/{run_id}/letters/{seq}"): Rule(CAMPAIGN_ROLES),
    ("GET", "/campaigns/whatif"): Rule(CAMPAIGN_ROLES),
    ("POST", "/campaigns/whatif"): Rule(CAMPAIGN_ROLES, csrf=True, reads=True),
    ("GET", "/campaigns/{name}/weeks"): Rule(CAMPAIGN_ROLES),
    ("POST", "/campaigns/{name}/weeks/{week}/hold"): Rule(CAMPAIGN_ROLES, csrf=True),
    ("POST", "/campaigns/{name}/weeks/{week}/release"): Rule(CAMPAIGN_ROLES, csrf=True),
    ("POST", "/campaigns/{name}/weeks/withdraw"): Rule(CAMPAIGN_ROLES, csrf=True),
    ("GET", "/coupons"): Rule(ANYONE),  # checking a code: any account
    ("GET", "/coupons/{code}"): Rule(ANYONE),
    ("POST", "/coupons/use"): Rule(COUPON_USERS, csrf=True),  # using one: shops, IVAGO
    ("POST", "/api/v1/checks"): Rule(TOKEN, scope="purpose ghent-uitpas"),
    ("GET", "/api/v1/decisions/{decision_id}"): Rule(
        TOKEN, scope="benefit ghent.uitpas", decisions=True
    ),
    ("POST", "/api/v1/coupons/verify"): Rule(TOKEN, scope="purpose coupon-verification"),
    ("POST", "/api/v1/coupons/use"): Rule(TOKEN, scope="purpose coupon-verification"),
}

INSZ = "85.07.30-033.28"
FORMS: dict[str, dict[str, str]] = {
    "/login": {"username": "desk", "password": "wrong"},
    "/desk/check": {"insz": INSZ, "benefit": "ghent.uitpas"},
    "/desk/check-others": {"insz": INSZ, "benefit": "ghent.uitpas", "visit": "1"},
    "/desk/inscribe": {"insz": INSZ, "benefit": "ghent.uitpas"},
    "/desk/override": {
        "insz": INSZ,
        "benefit": "ghent.uitpas",
        "outcome": "eligible",
        "reason": "other",
        "note": "attest",
        "valid_until": "2025-12-31",
    },
    "/desk/letters/reprint": {"insz": INSZ, "run": "1", "seq": "1"},
    "/audit": {"actor": "desk"},
    "/audit/subject": {"insz": INSZ},
    "/audit/subject.csv": {"insz": INSZ},
    "/campaigns/runs/{run_id}/reject": {"note": "no"},
    "/campaigns/whatif": {"campaign": "garbage-bags"},
    "/coupons/use": {"code": "ABCD-EFGH-JKMN-PQRS"},
    "/account/password": {"current": "not the password", "new": "another long password"},
}


def app_routes(web: Web) -> set[tuple[str, str]]:
    """Every (method, path) the application answers, mounts (static files) as GET."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI ≥ 0.12x: included routers
    except ImportError:  # pragma: no cover - older FastAPI lists every route directly
        routes: list[Any] = list(web.app.routes)
    else:
        routes = list(iter_route_contexts(web.app.routes))
    found: set[tuple[str, str]] = set()
    for route in routes:
        methods = route.methods if route.methods is not None else {"GET"}
        found |= {(method, route.path) for method in methods if method != "HEAD"}
    return found


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
def decision_id(web: Web, city: City) -> int:
    """A stored decision of the UiTPAS benefit (made through the API)."""
    token = web.token(["*"], ["*"], client="security-setup")
    response = web.client().post(
        "/api/v1/checks",
        json={"insz": city.ref, "benefit": "ghent.uitpas", "purpose": "ghent-uitpas"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    number: int = response.json()["id"]
    return number


def url(path: str, decision: int) -> str:
    return (
        path.replace("{code}", "nl")
        .replace("{run_id}", "1")
        .replace("{name:path}", "letters.pdf")
        .replace("{name}", "garbage-bags")
        .replace("{week}", "1")
        .replace("{seq}", "1")
        .replace("{benefit_id}", "ghent.uitpas")
        .replace("{decision_id}", str(decision))
        .replace("/static", "/static/desk.css")
    )


def call(client: TestClient, method: str, path: str, decision: int, **kwargs: Any) -> Any:
    target = url(path, decision)
    if path.startswith("/coupons/") and method == "GET":
        target = "/coupons/ABCD-EFGH"
    if method == "GET":
        return client.get(target, **kwargs)
    if path.startswith("/api/"):
        body = {"insz": INSZ, "benefit": "ghent.uitpas", "purpose": "ghent-uitpas"}
        if "/coupons/" in path:
            body = {"code": "ABCD-EFGH-JKMN-PQRS"}
        return client.post(target, json=body, **kwargs)
    data = dict(FORMS.get(path, {})) | kwargs.pop("data", {})
    return client.post(target, data=data, **kwargs)


def test_every_route_has_an_explicit_decision(web: Web) -> None:
    routes = app_routes(web)
    assert routes - set(RULES) == set(), "routes without a security decision in RULES"
    assert set(RULES) - routes == set(), "RULES for routes that no longer exist"
    for (method, path), rule in RULES.items():
        assert rule.who != PUBLIC or rule.why, f"{method} {path}: say why it is public"
        assert method == "GET" or rule.csrf or rule.who in (PUBLIC, TOKEN), (method, path)
        assert rule.who != TOKEN or (path.startswith("/api/v1/") and rule.scope), (method, path)


def test_auditors_are_read_only_everywhere() -> None:
    """Every route that changes state (beyond the audit log, or the caller's own sessions and
    password) is closed to auditors; the forbidden test below calls each one as an auditor."""
    for (method, path), rule in RULES.items():
        if method == "GET" or rule.who in (PUBLIC, TOKEN) or rule.reads or rule.own:
            continue
        assert isinstance(rule.who, frozenset)
        assert "auditor" not in rule.who, (method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    sorted(key for key, rule in RULES.items() if isinstance(rule.who, frozenset)),
)
def test_every_allowed_role_gets_through(
    web: Web, decision_id: int, method: str, path: str
) -> None:
    """The other half of role × route × method: each role the table allows is let in (an
    answer that is not a refusal: 2xx, a redirect within the app, 404 or 409 for a made-up run
    or code, 422 for the sample form)."""
    rule = RULES[(method, path)]
    assert isinstance(rule.who, frozenset)
    for role in sorted(rule.who):
        client, csrf = signed_in(web, USERS[role])
        extra = {"data": {"csrf_token": csrf}} if method == "POST" else {}
        response = call(client, method, path, decision_id, **extra)
        assert response.status_code not in (401, 403), (role, method, path, response.text[:200])
        location = response.headers.get("location", "")
        assert not location.startswith("/login?next"), (role, path)  # not sent to sign in


def test_every_api_operation_is_in_an_openapi_document(web: Web) -> None:
    """schemathesis runs every operation of the two documents (tests/test_web_api.py and
    tests/test_web_campaigns.py, with a token of full scope): together they are the whole API."""
    client = web.client()
    documented: list[tuple[str, str]] = []
    for document in ("/api/v1/openapi.json", "/api/v1/coupons/openapi.json"):
        paths = client.get(document).json()["paths"]
        documented += [(method.upper(), path) for path, ops in paths.items() for method in ops]
    api = {key for key, rule in RULES.items() if rule.who == TOKEN or key[1].startswith("/api/")}
    api = {key for key in api if not key[1].endswith("/openapi.json")}
    assert sorted(documented) == sorted(api)


@pytest.mark.parametrize(("method", "path"), sorted(RULES))
def test_without_a_session_or_token(web: Web, decision_id: int, method: str, path: str) -> None:
    rule = RULES[(method, path)]
    response = call(web.client(), method, path, decision_id)
    if rule.who == PUBLIC:
        assert response.status_code < 500, response.text
        assert response.status_code != 401
        assert not response.headers.get("location", "").startswith("/login?next")
    elif rule.who == TOKEN:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    else:
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("method", "path"), sorted(key for key, rule in RULES.items() if rule.who != PUBLIC)
)
def test_the_wrong_role_or_scope_is_forbidden(
    web: Web, decision_id: int, method: str, path: str
) -> None:
    rule = RULES[(method, path)]
    if rule.who == TOKEN:  # a valid token for everything but the scope the route needs
        kind, _needed = rule.scope.split(" ")
        purposes, benefits = (["ghent-lez"], ["*"]) if kind == "purpose" else (["*"], ["ghent.lez"])
        token = web.token(purposes, benefits, client=f"scope-{path}")
        headers = {"Authorization": f"Bearer {token}"}
        response = call(web.client(), method, path, decision_id, headers=headers)
        assert response.status_code == 403, (path, response.text)
        return
    assert isinstance(rule.who, frozenset)
    for role in sorted(set(ROLES) - rule.who):
        client, csrf = signed_in(web, USERS[role])
        extra = {"data": {"csrf_token": csrf}} if method == "POST" else {}
        response = call(client, method, path, decision_id, **extra)
        assert response.status_code == 403, (role, method, path, response.status_code)


@pytest.mark.parametrize("path", sorted(path for (_m, path), rule in RULES.items() if rule.csrf))
def test_state_changes_need_the_session_csrf_token(web: Web, decision_id: int, path: str) -> None:
    rule = RULES[("POST", path)]
    assert isinstance(rule.who, frozenset)
    role = sorted(rule.who)[0]
    client, csrf = signed_in(web, USERS[role])
    _other, other_csrf = signed_in(web, USERS[role])
    for token in (None, "", "forged", csrf[:-1], other_csrf):
        data = {} if token is None else {"csrf_token": token}
        response = call(client, "POST", path, decision_id, data=data)
        assert response.status_code == 403, (path, token)
        assert "beveiliging" in response.text  # the page says it was the security token
    accepted = call(client, "POST", path, decision_id, data={"csrf_token": csrf})
    assert accepted.status_code != 403, (path, accepted.text)


def test_login_needs_its_double_submit_token(web: Web) -> None:
    client = web.client()
    client.get("/login")
    for token in (None, "forged"):
        data = {"username": "desk", "password": PASSWORD}
        if token is not None:
            data["csrf_token"] = token
        assert client.post("/login", data=data).status_code == 403
    assert "entitle_session" not in client.cookies


def sign_in(client: TestClient, username: str) -> Any:
    """Sign in with the login form's own token (a page with a session also has the sign-out
    form's token, which `test_web_support.login` would pick up first)."""
    page = client.get("/login").text
    token = csrf_token(page[page.index('action="/login"') :])
    data = {"username": username, "password": PASSWORD, "csrf_token": token}
    return client.post("/login", data=data)


def test_signing_in_rotates_the_session_id(web: Web) -> None:
    """Session fixation: an id planted before sign-in (made up, or the attacker's own valid
    session) is never the one that carries the victim's sign-in."""
    attacker, _ = signed_in(web, "campaign")
    planted = attacker.cookies["entitle_session"]
    for before in ("made-up-by-the-attacker", planted):
        victim = web.client()
        victim.cookies.set("entitle_session", before)
        response = sign_in(victim, "auditor")
        assert response.status_code == 303, response.text
        after = response.cookies.get("entitle_session")
        assert after and after != before
        # the planted id did not become the victim's session
        replay = web.client()
        replay.cookies.set("entitle_session", before)
        page = replay.get("/audit")
        assert page.status_code in (303, 403), page.status_code
    # a second sign-in in the same browser gets a fresh id too
    again = sign_in(victim, "auditor")
    assert again.cookies.get("entitle_session") not in (None, after)


def test_a_page_form_carries_the_session_token(web: Web) -> None:
    """The positive side of the CSRF checks: the token the forms carry is the session's."""
    client, csrf = signed_in(web, "desk")
    assert csrf == csrf_token(client.get("/desk").text)
    assert csrf != signed_in(web, "desk")[1]


TEMPLATES = Path(entitle.web.__file__).parent / "templates"
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.I)


@pytest.mark.parametrize(("method", "path"), sorted(RULES))
def test_security_headers_on_every_route(
    web: Web, decision_id: int, method: str, path: str
) -> None:
    response = call(web.client(), method, path, decision_id)
    headers = response.headers
    policy = dict(
        part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";")
    )
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == "'self'"
    assert "unsafe" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "camera=()" in headers["permissions-policy"]
    assert "strict-transport-security" not in headers  # plain HTTP, not declared behind TLS
    assert headers.get("cache-control") == (None if path == "/static" else "no-store")


def test_hsts_over_tls_only(web: Web) -> None:
    over_tls = TestClient(web.app, base_url="https://testserver", follow_redirects=False)
    hsts = over_tls.get("/login").headers["strict-transport-security"]
    assert hsts.startswith("max-age=31536000")
    assert "strict-transport-security" not in web.client().get("/login").headers


def test_hsts_when_declared_behind_tls() -> None:
    async def hello(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    for behind_tls, expected in ((True, True), (False, False)):
        client = TestClient(SecurityHeaders(hello, behind_tls=behind_tls))
        response = client.get("/anything")
        assert ("strict-transport-security" in response.headers) is expected
        assert response.headers["cache-control"] == "no-store"


def test_a_header_set_by_the_route_is_kept() -> None:
    async def download(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"cache-control", b"private, max-age=60")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"%PDF"})

    response = TestClient(SecurityHeaders(download)).get("/letter")
    assert response.headers.get_list("cache-control") == ["private, max-age=60"]


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_need_no_unsafe_inline(template: str) -> None:
    """The CSP allows no inline script, style or event handler: the templates have none."""
    found = INLINE.search((TEMPLATES / template).read_text(encoding="utf-8"))
    assert found is None, f"{template}: {found.group() if found else ''}"


# ------------------------------------------------------------------ who sees a stored decision

# token scope: (purposes, benefits, made by the same client as the decision)
TOKEN_SCOPES: dict[str, tuple[list[str], list[str], bool]] = {
    "own client, its purpose": (["ghent-uitpas"], ["ghent.uitpas"], True),
    "own client, any purpose": (["*"], ["*"], True),
    "own client, another purpose": (["ghent-lez"], ["*"], True),
    "own client, another benefit": (["*"], ["ghent.lez"], True),
    "other client, same purpose": (["ghent-uitpas"], ["ghent.uitpas"], False),
    "other client, any purpose": (["*"], ["*"], False),
    "other client, decisions:read of the purpose": (
        ["decisions:read:ghent-uitpas"],
        ["ghent.uitpas"],
        False,
    ),
    "other client, decisions:read of another purpose": (
        ["decisions:read:ghent-lez"],
        ["*"],
        False,
    ),
    "other client, decisions:read, another benefit": (
        ["decisions:read:ghent-uitpas"],
        ["ghent.lez"],
        False,
    ),
    "coupon verifier": (["coupon-verification"], ["*"], False),
}
MAY_READ = {
    "own client, its purpose",
    "own client, any purpose",
    "other client, decisions:read of the purpose",
}


@pytest.mark.parametrize("scope", sorted(TOKEN_SCOPES))
def test_decision_reads_follow_the_visibility_function(
    web: Web, decision_id: int, scope: str
) -> None:
    """The API answers a read exactly as `decision_access` decides, for every token scope."""
    purposes, benefits, own = TOKEN_SCOPES[scope]
    client = "security-setup" if own else f"reader-{len(scope)}-{scope[:12]}"
    token = web.token(purposes, benefits, client=client)
    stored = web.state.backend.get_decision(decision_id)
    assert stored is not None
    access = decision_access(Caller.token(client, purposes, benefits), stored)
    assert access.allowed is (scope in MAY_READ)
    response = web.client().get(
        f"/api/v1/decisions/{decision_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == (200 if access.allowed else 403), response.text
    if not access.allowed:
        assert response.json()["detail"] == access.why


@pytest.mark.parametrize("role", ROLES)
def test_roles_see_decisions_as_the_visibility_function_says(web: Web, role: str) -> None:
    """Every role asked: auditors read every decision (the subject-access report), the desk roles
    their own checks' (the result card), coupon verifiers none; and the routes showing
    decisions are open to exactly the roles that may read some."""
    own = {"actor": USERS[role], "benefit": "ghent.uitpas", "purpose": "ghent-uitpas"}
    other = {**own, "actor": "api:someone-else"}
    me = Caller.user(USERS[role], role)
    reads_own, reads_other = decision_access(me, own).allowed, decision_access(me, other).allowed
    expected = {"auditor": (True, True), "coupon_verifier": (False, False)}
    assert (reads_own, reads_other) == expected.get(role, (True, False))
    for (method, path), rule in RULES.items():
        if rule.decisions and isinstance(rule.who, frozenset) and role in rule.who:
            assert reads_own, (role, method, path)
