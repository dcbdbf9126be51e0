"""Helpers for the web tests: the test city behind the registry simulator (a real process), an
application on a SQLite database in a temporary folder, accounts, sign-in and CSRF tokens.

The ``test_web_*`` modules import from here (this module holds no tests of its own).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from test_registry_city import City, write_city
from test_registry_server import Server, free_port, running_server

from entitle.web.app import WebState, create_app
from entitle.web.settings import Settings

REPO = Path(__file__).resolve().parents[1]
BENEFITS = REPO / "benefits" / "ghent"
SENDER, CAPACITY = "gent.be/entitle", "ENTITLE"
# in the school year 2025-2026, so that the pupil's school tariff reads the household's income
NOW = datetime(2025, 9, 15, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))
PASSWORD = "correct horse battery"

SIMULATOR = f"""\
authorisations:
  - sender: {SENDER}
    capacity: {CAPACITY}
    services: [GeefPersoon, GeefGezinssamenstelling, GeefSociaalStatuut,
               GeefAanslagbiljetPersonenbelasting]
    statuses: [BIM_BVT, LIVING_WAGES_PCSA_HELP, GENT_PARKING_ADULT, GENT_PARKING_CHILD]
"""

# Raw values in the test city (tests/test_registry_city.py) that no page or answer may show:
# taxable incomes and leefloon payments, in the ways they could be printed.
RAW_VALUES = [
    "21562",
    "21.562",
    "21,562",
    "2156275",
    "18000",
    "18.000",
    "18,000",
    "1800000",
    "20041",
    "20.041",
    "20,041",
    "2004100",
    "12500",
    "12.500",
    "12,500",
    "1250000",
    "1288,46",
    "1288.46",
    "1.288,46",
    "1,288.46",
    "128846",
    "1314,2",
    "1314.2",
    "1.314,20",
    "1,314.20",
    "131420",
]

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def write_web_city(folder: Path) -> City:
    """The test city, with the schools' shared-residence note filled in (false) so that the
    pupil's school tariff goes on to read the household's tax assessments."""
    city = write_city(folder)
    path = folder / "local" / "school_enrolments.parquet"
    table = pl.read_parquet(path).with_columns(pl.lit(False).alias("shared_residence"))
    table.write_parquet(path)
    return city


def write_partner_gap_city(folder: Path) -> City:
    """The web test city with the reference person's spouse not integrated at the Crossroads
    Bank: the reference person has the increased allowance, and whether the spouse's parking card
    makes it an LEZ exemption is open (a partial decision: at least the reduced tariff)."""
    city = write_web_city(folder)
    path = folder / "registry" / "persons.parquet"
    table = pl.read_parquet(path).with_columns(
        pl.when(pl.col("person_id") == city.spouse)
        .then(False)
        .otherwise(pl.col("integrated_ksz"))
        .alias("integrated_ksz")
    )
    table.write_parquet(path)
    return city


def simulator(city: City, folder: Path) -> Any:
    """The registry simulator on the test city, as a context manager."""
    config = folder / "simulator.yaml"
    config.write_text(SIMULATOR, encoding="utf-8")
    return running_server(city.path, folder / "simulator.log", "--config", str(config))


def magda_overrides() -> dict[str, Any]:
    return {
        "sender": SENDER,
        "default_capacity": CAPACITY,
        "retry": {"max_attempts": 2, "base_delay": 0.01, "max_delay": 0.02},
        "read_timeout": 10.0,
    }


def settings_for(server_url: str, folder: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": f"sqlite:///{folder / 'entitle.db'}",
        "registry_url": server_url,
        "magda": magda_overrides(),
        "benefits": BENEFITS,
        "data_dir": folder / "state",
        "clock": lambda: NOW,
        # the clock stands still: the sign-in delays would never end (tests of them set these)
        "login_free_failures": 1000,
        "login_free_failures_per_address": 1000,
    }
    base.update(overrides)
    return Settings(**base)


@dataclass
class Web:
    """A running application (TestClient) with its accounts and the simulator."""

    app: FastAPI
    server: Server
    city: City
    folder: Path
    users: dict[str, str] = field(default_factory=dict)  # username -> role

    @property
    def state(self) -> WebState:
        state: WebState = self.app.state.web
        return state

    def client(self, **options: Any) -> TestClient:
        return TestClient(self.app, follow_redirects=False, **options)

    def add_user(self, username: str, role: str, password: str = PASSWORD) -> None:
        self.state.backend.add_user(username, password, role)
        self.users[username] = role

    def token(self, purposes: list[str], benefits: list[str], client: str = "partner") -> str:
        return self.state.backend.create_api_token(client, purposes, benefits)

    def pseudonym(self, insz: str) -> str:
        return self.state.desk.pseudonym(insz)


@contextmanager
def web_app(city: City, folder: Path, **overrides: Any) -> Iterator[Web]:
    """Simulator + application + one account per role; everything stopped at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    with simulator(city, folder) as server:
        app = create_app(settings_for(server.url, folder, **overrides))
        web = Web(app, server, city, folder)
        for name, role in (
            ("desk", "desk_officer"),
            ("campaign", "campaign_manager"),
            ("admin", "administrator"),
            ("auditor", "auditor"),
            ("shop", "coupon_verifier"),
        ):
            web.add_user(name, role)
        try:
            yield web
        finally:
            web.state.desk.close()
            web.state.backend.close()


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the login form (its double-submit token included)."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
    )


def signed_in(web: Web, username: str) -> tuple[TestClient, str]:
    """A client signed in as `username`, and its session's CSRF token."""
    client = web.client()
    response = login(client, username)
    assert response.status_code == 303, response.text
    home = client.get(response.headers["location"])
    assert home.status_code == 200, home.text
    return client, csrf_token(home.text)


def desk_check(
    client: TestClient, csrf: str, insz: str, benefit: str, **headers: str
) -> httpx.Response:
    return client.post(
        "/desk/check",
        data={"insz": insz, "benefit": benefit, "csrf_token": csrf},
        headers=headers,
    )


def assert_no_raw_values(text: str) -> None:
    """No income or leefloon amount of the test city appears in `text`."""
    compact = text.replace("\u202f", "").replace("\xa0", "")
    for value in RAW_VALUES:
        assert value not in compact, f"raw value {value!r} shown"


@contextmanager
def running_web(
    options: list[str], env: dict[str, str], log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`entitle serve` as a real process on a free port, waited for and always stopped."""
    port = free_port()
    command = [sys.executable, "-m", "entitle.cli.web", "serve", "--port", str(port), *options]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO, env=env
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded machine imports slowly
        while True:
            if process.poll() is not None:
                pytest.fail(f"entitle serve exited: {log.read_text(errors='replace')}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"entitle serve not ready: {log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Words of the code and the English interface that must not show on a Dutch page (issue 16):
# outcome and kind names, output codes, stored reasons and Python values.
ENGLISH_WORDS = (
    "override",
    "overridden",
    "undetermined",
    "eligible",
    "reduced",
    "exemption",
    "coupon_used",
    "no_data",
    "bad_request",
    "True",
    "False",
    "None",
    "Reference",
    "issued",
    "approve",
    "draft",
    "check",
    "api_check",
    "registry_access",
)
# a message key of the catalogue, or a fact's name, in the text people read
KEY = re.compile(
    r"\b(?:app|nav|role|login|desk|card|override|audit|subject|alerts|campaign|run|whatif|"
    r"coupon|coupons|error|js|value|person|household)\.[a-z_]+(?:\.[a-z_]+)*\b"
)


def visible_text(html: str) -> str:
    """The text a reader sees: no head, scripts, styles, code (identifiers) or tags."""
    import html as entities

    text = re.sub(r"<head>.*?</head>", " ", html, flags=re.S)
    text = re.sub(r"<(script|style|code)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return entities.unescape(text)


def dutch_problems(html: str) -> list[str]:
    """Untranslated message keys and English words on a page meant to be Dutch."""
    text = visible_text(html)
    problems = [f"key {k!r}" for k in KEY.findall(text)]
    problems += [f"English {w!r}" for w in ENGLISH_WORDS if re.search(rf"\b{w}\b", text)]
    return problems


def assert_dutch(html: str) -> None:
    problems = dutch_problems(html)
    assert not problems, problems
