"""Sign-in, sessions in the database, cookies, CSRF on every POST, no lock-out, roles, sign-out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Route
from test_registry_city import City
from test_web_support import (
    PASSWORD,
    Web,
    csrf_token,
    login,
    settings_for,
    signed_in,
    web_app,
    write_web_city,
)

from entitle.store import users
from entitle.web import audit_pages, desk_pages, pages
from entitle.web.app import create_app


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_web_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def web(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with web_app(city, tmp_path_factory.mktemp("web"), checks_per_minute=10_000) as running:
        yield running


def cookie_header(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return str(found[0])


def test_sign_in_sets_a_strict_http_only_session_cookie(web: Web) -> None:
    client = web.client()
    response = login(client, "desk")
    assert response.status_code == 303
    assert response.headers["location"] == "/desk"
    cookie = cookie_header(response, "entitle_session").lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/" in cookie
    assert "secure" not in cookie  # plain http (tests): a Secure cookie would never come back
    assert client.get("/desk").status_code == 200


def test_cookies_are_secure_over_https(web: Web) -> None:
    client = web.client(base_url="https://testserver")
    response = login(client, "desk")
    assert response.status_code == 303
    assert "secure" in cookie_header(response, "entitle_session").lower()
    assert client.get("/desk").status_code == 200


def test_an_auditor_lands_on_the_audit_page_and_next_is_kept_local(web: Web) -> None:
    client = web.client()
    assert login(client, "auditor").headers["location"] == "/audit"
    client = web.client()
    page = client.get("/login", params={"next": "/audit/alerts"})
    response = client.post(
        "/login",
        data={
            "username": "auditor",
            "password": PASSWORD,
            "next": "/audit/alerts",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.headers["location"] == "/audit/alerts"
    client = web.client()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "auditor",
            "password": PASSWORD,
            "next": "//evil.example/",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.headers["location"] == "/audit"


def test_sessions_live_in_the_database_so_any_worker_serves_them(
    web: Web, city: City, tmp_path: Path
) -> None:
    client, _csrf = signed_in(web, "desk")
    session_id = client.cookies["entitle_session"]
    # a second worker: another application on the same database and state folder
    other = create_app(
        settings_for(
            web.server.url,
            web.folder,
            database_url=web.state.backend.url,
            migrate=False,
        )
    )
    try:
        from fastapi.testclient import TestClient

        second = TestClient(other, follow_redirects=False)
        second.cookies.set("entitle_session", session_id)
        assert second.get("/desk").status_code == 200
    finally:
        other.state.web.desk.close()
        other.state.web.backend.close()
    # the database holds a hash of the session id, never the id itself
    import sqlite3

    database = web.state.backend.url.removeprefix("sqlite:///")
    dump = "\n".join(sqlite3.connect(database).iterdump())
    assert session_id not in dump


def test_wrong_password_and_unknown_user_get_one_message(web: Web) -> None:
    for username, password in (("desk", "wrong password"), ("nobody", PASSWORD)):
        response = login(web.client(), username, password)
        assert response.status_code == 401
        assert "Onbekende gebruikersnaam of fout wachtwoord" in response.text
    failed = web.state.backend.search(kind="login_failed")
    assert {e["actor"] for e in failed} >= {"desk", "nobody"}
    assert all(PASSWORD not in str(e) and "wrong password" not in str(e) for e in failed)


def test_no_lock_out_after_repeated_failures(web: Web) -> None:
    """Failures slow sign-in down (tests/test_pentest_findings.py) but never lock the account."""
    web.add_user("clumsy", "desk_officer")
    for _ in range(6):
        assert login(web.client(), "clumsy", "not the password").status_code == 401
    assert login(web.client(), "clumsy", PASSWORD).status_code == 303
    entries = web.state.backend.search(kind="login_failed", actor="clumsy")
    assert {e["outcome"] for e in entries} == {"bad_password"}


def test_a_disabled_account_cannot_sign_in_and_loses_its_session(web: Web) -> None:
    web.add_user("leaver", "desk_officer")
    client, _csrf = signed_in(web, "leaver")
    web.state.backend.run(lambda s: users.disable_user(s, "leaver"))
    assert client.get("/desk").status_code == 303  # back to the login page
    response = login(web.client(), "leaver")
    assert response.status_code == 401
    assert "uitgeschakeld" in response.text


def test_login_needs_its_form_token(web: Web) -> None:
    client = web.client()
    response = client.post("/login", data={"username": "desk", "password": PASSWORD})
    assert response.status_code == 403
    assert "verlopen" in response.text
    client.get("/login")
    response = client.post(
        "/login", data={"username": "desk", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403


def test_a_session_id_chosen_before_sign_in_is_not_kept(web: Web) -> None:
    client = web.client()
    client.cookies.set("entitle_session", "attacker-chosen")
    response = login(client, "desk")
    assert response.cookies.get("entitle_session") not in (None, "attacker-chosen")


POSTS = {
    "/logout": {},
    "/desk/check": {"insz": "85.07.30-033.28", "benefit": "ghent.uitpas"},
    "/desk/check-others": {"insz": "85.07.30-033.28", "benefit": "ghent.uitpas", "visit": "1"},
    "/desk/inscribe": {"insz": "85.07.30-033.28", "benefit": "ghent.uitpas"},
    "/desk/override": {
        "insz": "85.07.30-033.28",
        "benefit": "ghent.uitpas",
        "outcome": "eligible",
        "reason": "other",
        "note": "x",
        "valid_until": "2025-12-31",
    },
    "/audit": {"actor": "desk"},
    "/audit/subject": {"insz": "85.07.30-033.28"},
    "/audit/subject.csv": {"insz": "85.07.30-033.28"},
}


def test_every_post_of_a_page_is_covered_here(web: Web) -> None:
    posts = {
        route.path
        for router in (pages.router, desk_pages.router, audit_pages.router)
        for route in router.routes
        if isinstance(route, Route) and "POST" in (route.methods or set())
    }
    assert posts == set(POSTS) | {"/login"}


@pytest.mark.parametrize("path", sorted(POSTS))
def test_every_post_needs_the_session_csrf_token(web: Web, path: str) -> None:
    role = "auditor" if path.startswith("/audit") else "desk"
    client, csrf = signed_in(web, role)
    checks_before = len(web.state.backend.search(limit=10_000))
    for token in (None, "", "forged", csrf[:-1]):
        data = dict(POSTS[path])
        if token is not None:
            data["csrf_token"] = token
        response = client.post(path, data=data)
        assert response.status_code == 403, (path, token)
        assert "beveiliging" in response.text
    assert len(web.state.backend.search(limit=10_000)) == checks_before  # nothing happened
    # another session's token is no good either
    _other, other_csrf = signed_in(web, role)
    assert client.post(path, data={**POSTS[path], "csrf_token": other_csrf}).status_code == 403
    # the header works as well as the field (the desk script may use either)
    response = client.post(path, data=POSTS[path], headers={"X-CSRF-Token": csrf})
    assert response.status_code != 403


def test_sign_out(web: Web) -> None:
    client, csrf = signed_in(web, "desk")
    old = client.cookies["entitle_session"]
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?bye=1"
    assert "afgemeld" in client.get("/login?bye=1").text
    again = web.client()
    again.cookies.set("entitle_session", old)
    assert again.get("/desk").status_code == 303  # the session is gone from the database
    kinds = [e["kind"] for e in web.state.backend.search(actor="desk", limit=50)]
    assert "logout" in kinds and "login" in kinds


def test_roles(web: Web) -> None:
    expectations = {
        "desk": {"/desk": 200, "/audit": 403, "/audit/subject": 403, "/audit/alerts": 403},
        "campaign": {"/desk": 200, "/audit": 403},
        "admin": {"/desk": 200, "/audit": 403},
        "auditor": {"/desk": 403, "/audit": 200, "/audit/subject": 200, "/audit/alerts": 200},
        # a shop or the waste company: coupons only, never a citizen's check or the log
        "shop": {"/coupons": 200, "/desk": 403, "/campaigns": 403, "/audit": 403},
    }
    for username, statuses in expectations.items():
        client, _csrf = signed_in(web, username)
        for path, status in statuses.items():
            assert client.get(path).status_code == status, (username, path)


def test_a_coupon_verifier_lands_on_the_coupon_page_and_sees_only_it(web: Web) -> None:
    client = web.client()
    assert login(client, "shop").headers["location"] == "/coupons"
    page = client.get("/coupons")
    assert 'href="/coupons"' in page.text
    assert 'href="/desk"' not in page.text and 'href="/audit"' not in page.text
    assert client.get("/").headers["location"] == "/coupons"


def test_forbidden_page_says_so_in_words(web: Web) -> None:
    client, _csrf = signed_in(web, "desk")
    response = client.get("/audit")
    assert response.status_code == 403
    assert "U hebt geen toegang tot deze pagina" in response.text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nl", ("Open sessies", "1 andere sessie beëindigd.", "niet juist", "te kort")),
        ("en", ("Open sessions", "1 other session ended.", "not right", "too short")),
    ],
)
def test_the_account_pages_in_dutch_and_english(
    web: Web, lang: str, words: tuple[str, str, str, str]
) -> None:
    """The account page, its notice and its errors: Dutch without a key or an English word
    (issue 16), English in English; one session ended is singular."""
    from test_web_support import assert_dutch

    web.add_user(f"accounts-{lang}", "desk_officer")
    signed_in(web, f"accounts-{lang}")  # another session, to end
    client, csrf = signed_in(web, f"accounts-{lang}")
    client.cookies.set("entitle_lang", lang)
    sessions, ended, wrong, weak = words
    pages = [client.get("/account")]
    pages.append(client.post("/account/sessions/end", data={"csrf_token": csrf}))
    for current, new in ((PASSWORD + "x", "a long new password"), (PASSWORD, "short")):
        form = {"csrf_token": csrf, "current": current, "new": new}
        pages.append(client.post("/account/password", data=form))
    assert [p.status_code for p in pages] == [200, 200, 422, 422]
    assert sessions in pages[0].text and ended in pages[1].text
    assert wrong in pages[2].text and weak in pages[3].text
    if lang == "nl":
        for page in pages:
            assert_dutch(page.text)
