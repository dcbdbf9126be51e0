"""Secrets never reach the logs: a session through the web application (sign-in, a desk check, a
failed sign-in, an API check, a coupon look-up, sign-out) with every logger at DEBUG, and then no
log record holds a password, a session id, a CSRF token, an API token, the pseudonym key or the
coupon key — in its message, its arguments, its extra fields or its traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from test_registry_city import City
from test_web_support import PASSWORD, Web, csrf_token, desk_check, web_app, write_web_city

FORMAT = logging.Formatter("%(name)s %(levelname)s %(message)s")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    city = write_web_city(tmp_path_factory.mktemp("city"))
    with web_app(city, tmp_path_factory.mktemp("web")) as running:
        yield running


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write: the formatted line, traceback and every field."""
    return FORMAT.format(record) + "\n" + repr(vars(record))


def secrets_of(web: Web, session: str, csrf: str, token: str) -> dict[str, str]:
    state = web.folder / "state"
    pseudonym_key = (state / "pseudonym.key").read_text(encoding="utf-8").strip()
    coupon_key = (state / "coupon.key").read_text(encoding="utf-8").strip()
    return {
        "password": PASSWORD,
        "wrong password": "Tr0ub4dor&3-typed-wrong",
        "session id": session,
        "CSRF token": csrf,
        "API token": token,
        "pseudonym key": pseudonym_key,
        "pseudonym key bytes": repr(bytes.fromhex(pseudonym_key))[2:30],
        "coupon key": coupon_key,
        "coupon key bytes": repr(bytes.fromhex(coupon_key))[2:30],
    }


def test_no_secret_in_any_log_record(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    city: City = web.city
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records too
    client = web.client()
    page = client.get("/login")
    failed = client.post(
        "/login",
        data={
            "username": "desk",
            "password": "Tr0ub4dor&3-typed-wrong",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert failed.status_code == 401
    page = client.get("/login")
    signed = client.post(
        "/login",
        data={"username": "desk", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert signed.status_code == 303
    session = client.cookies["entitle_session"]
    csrf = csrf_token(client.get("/desk").text)
    checked = desk_check(client, csrf, city.ref, "ghent.uitpas")
    assert checked.status_code == 200 and "eligible" in checked.text
    token = web.token(["*"], ["*"], client="log-check")
    api = client.post(
        "/api/v1/checks",
        json={"insz": city.ref, "benefit": "ghent.lez", "purpose": "ghent-lez"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code in (201, 403), api.text
    refused = client.get("/api/v1/benefits", headers={"Authorization": f"Bearer {token}x"})
    assert refused.status_code == 200
    coupon = client.get("/coupons", params={"code": "ABCD-EFGH-JKMN-PQRS"})
    assert coupon.status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303

    records = caplog.records
    # the application's own loggers spoke (else the test would prove little)
    assert any(record.name.startswith("entitle.") for record in records)
    secrets = secrets_of(web, session, csrf, token)
    for record in records:
        text = record_text(record)
        for name, secret in secrets.items():
            assert secret not in text, f"{name} in a log record of {record.name}"
