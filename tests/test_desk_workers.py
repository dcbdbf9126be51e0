"""A horizontal desk: two `entitle serve` workers on one database keep one audit chain.

`entitle serve --workers 2` runs as its own process against the registry simulator (a real
process too); many clients send API checks at once, each on a fresh connection so that both
worker processes take a share. Afterwards `entitle audit verify` must pass and the chain must
hold exactly one entry per check made — on SQLite (one file, `BEGIN IMMEDIATE` and the writer
lock) and on PostgreSQL (the chain head's row lock). Both workers also migrate the empty
database at start-up, at the same time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from test_registry_city import City
from test_registry_server import Server, free_port
from test_web_support import (
    BENEFITS,
    CAPACITY,
    PASSWORD,
    REPO,
    SENDER,
    simulator,
    write_web_city,
)
from typer.testing import CliRunner

from entitle.cli.main import app as entitle_cli
from entitle.web.backend import Backend

WORKERS = 2
CLIENTS = 8
CHECKS_PER_CLIENT = 12
BENEFIT, PURPOSE = "ghent.uitpas", "ghent-uitpas"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_web_city(tmp_path_factory.mktemp("city"))


def worker_pids(parent: int) -> list[int]:
    """The worker processes uvicorn spawned (children of the serving process that run
    `multiprocessing.spawn`; its resource tracker is a child too)."""
    found: list[int] = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:
                found.append(int(pid))
    return found


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"entitle serve exited:\n{log.read_text(errors='replace')}")
        try:
            answered = httpx.get(url + "/healthz", timeout=1).status_code == 200
            if answered and len(worker_pids(process.pid)) >= WORKERS:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"entitle serve did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def registry(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The registry simulator, one for the module: the desks only read from it."""
    with simulator(city, tmp_path_factory.mktemp("simulator")) as running:
        yield running


@pytest.fixture
def desk(registry: Server, database_url: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """`entitle serve --workers 2` on an empty database: its URL and process id."""
    port = free_port()
    env = {
        **os.environ,
        "ENTITLE_MAGDA_SENDER": SENDER,
        "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
        "ENTITLE_API_CHECKS_PER_MINUTE": "100000",
    }
    command = [sys.executable, "-m", "entitle.cli.web", "serve", "--port", str(port)]
    command += ["--workers", str(WORKERS), "--database-url", database_url]
    command += ["--registry", registry.url, "--benefits", str(BENEFITS)]
    command += ["--data-dir", str(tmp_path / "state"), "--log-level", "warning"]
    log = tmp_path / "desk.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO, env=env
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_two_workers_keep_one_unbroken_audit_chain(
    desk: tuple[str, int], city: City, database_url: str
) -> None:
    url, pid = desk
    assert len(worker_pids(pid)) == WORKERS
    backend = Backend(database_url, migrate=False)
    try:
        token = backend.create_api_token("two-workers", [PURPOSE], [BENEFIT])
        people = [city.ref, city.spouse, city.leefloner, city.pupil, city.unknown]

        def client(number: int) -> Counter[int]:
            statuses: Counter[int] = Counter()
            for i in range(CHECKS_PER_CLIENT):
                body = {"insz": people[(number + i) % len(people)], "benefit": BENEFIT}
                # a fresh connection each time: the kernel hands it to either worker
                response = httpx.post(
                    url + "/api/v1/checks",
                    json={**body, "purpose": PURPOSE},
                    headers={"Authorization": f"Bearer {token}", "Connection": "close"},
                    timeout=60,
                )
                statuses[response.status_code] += 1
            return statuses

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = sum(pool.map(client, range(CLIENTS)), Counter[int]())
        made = CLIENTS * CHECKS_PER_CLIENT
        assert statuses == {201: made}

        result = CliRunner().invoke(entitle_cli, ["audit", "verify", "--url", database_url])
        assert result.exit_code == 0, result.output
        assert f"audit log intact: {made} entries" in result.output

        report = backend.verify()
        assert report.ok and report.entries == made
        entries = backend.search(kind="api_check", actor="api:two-workers", limit=10 * made)
        assert len(entries) == made
        decisions = {e["details"]["decision"] for e in entries}
        assert len(decisions) == made  # one stored decision per check, none shared
    finally:
        backend.close()


OFFICERS = ("anna", "bert", "carla", "dirk")
BENEFITS_AT_DESK = ("ghent.uitpas", "ghent.garbage-bags", "ghent.lez", "ghent.school-tariff")
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def test_two_workers_share_sessions_and_overrides(
    desk: tuple[str, int], city: City, database_url: str
) -> None:
    """Officers sign in and record overrides at the same time, every request on a fresh
    connection (either worker may serve it): each session works on both workers, each override
    is stored once and shown on the next check, and the audit chain stays one."""
    url, _pid = desk
    backend = Backend(database_url, migrate=False)
    for name in OFFICERS:
        backend.add_user(name, PASSWORD, "desk_officer")
    people = [city.ref, city.spouse, city.leefloner, city.pupil, city.unknown]
    until = (datetime.now(ZoneInfo("Europe/Brussels")).date() + timedelta(days=30)).isoformat()

    def officer(number: int) -> list[str]:
        name, benefit = OFFICERS[number], BENEFITS_AT_DESK[number]
        headers = {"Connection": "close"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            page = client.get("/login")
            token = CSRF.search(page.text)
            assert token, page.text
            signed = client.post(
                "/login", data={"username": name, "password": PASSWORD, "csrf_token": token[1]}
            )
            assert signed.status_code == 303, signed.text
            desk_page = client.get("/desk")
            assert desk_page.status_code == 200, desk_page.text
            csrf = CSRF.findall(desk_page.text)[-1]
            shown = []
            for insz in people:
                note = f"{name}: attest getoond"
                response = client.post(
                    "/desk/override",
                    data={
                        "insz": insz,
                        "benefit": benefit,
                        "outcome": "eligible",
                        "reason": "document_shown",
                        "note": note,
                        "valid_until": until,
                        "csrf_token": csrf,
                    },
                )
                assert response.status_code == 200, response.text
                card = client.post(
                    "/desk/check", data={"insz": insz, "benefit": benefit, "csrf_token": csrf}
                )
                assert card.status_code == 200, card.text
                if "override-banner" in card.text and note in card.text:
                    shown.append(insz)
            return shown

    try:
        with ThreadPoolExecutor(len(OFFICERS)) as pool:
            shown = list(pool.map(officer, range(len(OFFICERS))))
        assert all(len(s) == len(people) for s in shown), shown  # every override shown after
        overrides = backend.search(kind="override", limit=1000)
        assert len(overrides) == len(OFFICERS) * len(people)
        assert {e["actor"] for e in overrides} == set(OFFICERS)
        logins = backend.search(kind="login", limit=1000)
        assert {e["actor"] for e in logins} >= set(OFFICERS)
        report = backend.verify()
        assert report.ok, report.problem
    finally:
        backend.close()
