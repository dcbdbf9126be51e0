"""Fault: the web app's database connections are cut (PostgreSQL), between and during checks.

`entitle serve` runs as its own process on PostgreSQL, against the registry simulator. The test
terminates the app's server connections (`pg_terminate_backend`, picked out by the application
name the app connects with) between desk checks, then again and again while three officers'
checks and a machine client's API checks run in parallel threads. A check after a cut must
succeed (the pool pings a connection before handing it out); a check whose connection is cut
under it must answer 503 with a clear message (the page in Dutch, the API in JSON, both with
Retry-After) — never a 500 — and every check that answered has its decision and its one audit
entry stored. `entitle audit verify` passes at the end.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from test_chaos_support import PASSWORD, assert_audit_intact, engine_of, entitle, setup_database
from test_registry_city import City
from test_web_support import BENEFITS, CAPACITY, SENDER, csrf_token, running_web, simulator
from test_web_support import write_web_city as write_test_city

from entitle.store.models import AuditEntry, StoredDecision

APP_NAME = "entitle-chaos-web"
OFFICERS = {"desk1": "desk_officer", "desk2": "desk_officer", "desk3": "desk_officer"}
DECISION_ID = re.compile(r'name="decision_id" value="(\d+)"')


@dataclass
class Desk:
    url: str  # the web app
    database: str  # how the test reaches the database (a connection the cuts spare)
    city: City


@pytest.fixture
def desk(postgresql_url: str, tmp_path: Path) -> Iterator[Desk]:
    city = write_test_city(tmp_path / "city")
    setup_database(postgresql_url, OFFICERS)
    app_url = make_url(postgresql_url).update_query_dict({"application_name": APP_NAME})
    with simulator(city, tmp_path) as registry:
        env = {
            **os.environ,
            "ENTITLE_MAGDA_SENDER": SENDER,
            "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
            "ENTITLE_CHECKS_PER_MINUTE": "100000",
        }
        options = ["--database-url", app_url.render_as_string(hide_password=False)]
        options += ["--registry", registry.url, "--benefits", str(BENEFITS)]
        options += ["--data-dir", str(tmp_path / "state")]
        with running_web(options, env, tmp_path / "web.log") as (url, _process):
            yield Desk(url, postgresql_url, city)


def cut_connections(database: str) -> int:
    """Terminate every server connection of the web app; how many there were."""
    url = make_url(database)
    with psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=url.database,
        autocommit=True,
    ) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = %s",
            (APP_NAME,),
        ).fetchall()
    return len(rows)


class Officer:
    """A signed-in browser session of one officer."""

    def __init__(self, desk: Desk, username: str) -> None:
        self.client = httpx.Client(base_url=desk.url, timeout=30, follow_redirects=False)
        page = self.client.get("/login")
        signed = self.client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        )
        assert signed.status_code == 303, signed.text
        self.csrf = csrf_token(self.client.get("/desk").text)

    def check(self, insz: str, benefit: str = "ghent.uitpas") -> httpx.Response:
        return self.client.post(
            "/desk/check", data={"insz": insz, "benefit": benefit, "csrf_token": self.csrf}
        )


def assert_clear(response: httpx.Response) -> int | None:
    """A 200 with its decision id, or a clear 503 (None); anything else fails the test."""
    if response.status_code == 200:
        found = DECISION_ID.search(response.text)
        assert found, "a check page without its decision"
        return int(found.group(1))
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text
    assert "De databank is even niet bereikbaar" in response.text  # Dutch: the default
    assert response.headers.get("retry-after")
    return None


class Client:
    """A machine client of the REST API, with its bearer token."""

    def __init__(self, desk: Desk, token: str) -> None:
        self.client = httpx.Client(
            base_url=desk.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )

    def check(self, insz: str) -> httpx.Response:
        body = {"insz": insz, "benefit": "ghent.uitpas", "purpose": "ghent-uitpas"}
        return self.client.post("/api/v1/checks", json=body)


def assert_clear_api(response: httpx.Response) -> int | None:
    """A 201 with its decision id, or a clear JSON 503 (None)."""
    if response.status_code == 201:
        return int(response.json()["id"])
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert "database is unavailable" in response.json()["detail"]
    assert response.headers.get("retry-after")
    return None


def stored(database: str, ids: set[int]) -> tuple[set[int], Counter[int]]:
    """Which of these decisions are stored, and how many check entries name each one."""
    with engine_of(database) as engine, engine.connect() as connection:
        decisions = set(connection.scalars(select(StoredDecision.id)))
        entries = connection.execute(
            select(AuditEntry.details).where(AuditEntry.kind.in_(("check", "api_check")))
        ).scalars()
        audited = Counter(int((d or {}).get("decision", -1)) for d in entries)
    return decisions & ids, audited


def test_connections_cut_between_and_during_checks(desk: Desk) -> None:
    everyone = desk.city.everyone
    officer = Officer(desk, "desk1")
    answered: set[int] = set()

    # between checks: the next check gets a fresh connection and succeeds
    for insz in everyone[:3]:
        assert cut_connections(desk.database) >= 1
        response = officer.check(insz)
        assert response.status_code == 200, response.text[:500]
        decision = assert_clear(response)
        assert decision is not None
        answered.add(decision)

    # during checks: three officers keep checking while the connections are cut repeatedly
    seed = int(os.environ.get("CHAOS_SEED", str(random.randrange(10**6))))
    print("CHAOS_SEED", seed)
    rng = random.Random(seed)
    token = entitle(
        "users", "token", "partner", "--purpose", "ghent-uitpas", "--benefit", "ghent.uitpas",
        "--url", desk.database, env=os.environ,
    )  # fmt: skip
    assert token.returncode == 0, token.stderr
    officers: list[Officer | Client] = [Officer(desk, name) for name in OFFICERS]
    officers.append(Client(desk, token.stdout.strip()))
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[BaseException] = []

    def work(who: Officer | Client, offset: int) -> None:
        n = offset
        judge = assert_clear_api if isinstance(who, Client) else assert_clear
        try:
            while not stop.is_set():
                response = who.check(everyone[n % len(everyone)])
                n += 1
                decision = judge(response)
                with lock:
                    statuses[response.status_code] += 1
                    if decision is not None:
                        answered.add(decision)
        except BaseException as exc:
            failures.append(exc)
            stop.set()

    threads = [threading.Thread(target=work, args=(o, i)) for i, o in enumerate(officers)]
    for thread in threads:
        thread.start()
    cuts = 0
    try:
        for _ in range(12):
            if stop.is_set():
                break
            time.sleep(rng.uniform(0.05, 0.4))
            cuts += cut_connections(desk.database)
    finally:
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    if failures:
        raise failures[0]
    print("connections cut:", cuts, "answers:", dict(statuses))
    assert cuts >= 6 and statuses[200] > 0

    # after the cuts: checks succeed again
    for insz in everyone[:2]:
        decision = assert_clear(officer.check(insz))
        assert decision is not None
        answered.add(decision)

    kept, audited = stored(desk.database, answered)
    assert kept == answered  # every check answered 200 is stored ...
    assert all(audited[d] == 1 for d in answered)  # ... with exactly one audit entry
    assert_audit_intact(desk.database)
