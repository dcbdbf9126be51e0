"""Fault: the web app is killed (SIGKILL) while officers are recording overrides.

`entitle serve` runs as its own process on its SQLite database (the embedded default), against
the registry simulator. Four officers post overrides from their own threads; at a random moment
(after a random number of answered overrides, plus a random delay) the server gets SIGKILL. It is
started again on the same database. Every override is then either fully there — its row, its one
audit entry, and shown on the next check of that person — or absent; every override that was
answered is there; `entitle audit verify` passes and SQLite finds the file intact.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import httpx
from sqlalchemy import select
from test_chaos_support import (
    PASSWORD,
    assert_audit_intact,
    engine_of,
    setup_database,
    sqlite_integrity,
)
from test_registry_city import City
from test_web_support import BENEFITS, CAPACITY, SENDER, csrf_token, running_web, simulator
from test_web_support import write_web_city as write_test_city

from entitle.store.models import AuditEntry, Override

BENEFIT = "ghent.uitpas"
OFFICERS = {f"desk{n}": "desk_officer" for n in range(1, 5)}
NOTE = re.compile(r"chaos override \d+-\d+")


class Officer:
    """A signed-in session of one officer."""

    def __init__(self, url: str, username: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
        page = self.client.get("/login")
        signed = self.client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        )
        assert signed.status_code == 303, signed.text
        self.csrf = csrf_token(self.client.get("/desk").text)

    def override(self, insz: str, outcome: str, note: str) -> httpx.Response:
        return self.client.post(
            "/desk/override",
            data={
                "insz": insz,
                "benefit": BENEFIT,
                "outcome": outcome,
                "reason": "document_shown",
                "note": note,
                "valid_until": (date.today() + timedelta(days=30)).isoformat(),
                "csrf_token": self.csrf,
            },
        )

    def check(self, insz: str) -> httpx.Response:
        return self.client.post(
            "/desk/check", data={"insz": insz, "benefit": BENEFIT, "csrf_token": self.csrf}
        )


def fire_until_killed(
    url: str, process: subprocess.Popen[bytes], city: City, rng: random.Random
) -> tuple[dict[str, str], int]:
    """Overrides from four threads until the server is killed: note → what the client saw."""
    officers = [Officer(url, name) for name in OFFICERS]
    seen: dict[str, str] = {}
    answered = threading.Semaphore(0)
    stop = threading.Event()
    failures: list[BaseException] = []

    def work(number: int, officer: Officer) -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                note = f"chaos override {number}-{n}"
                insz = person_of(note, city)
                try:
                    response = officer.override(insz, ("eligible", "not_eligible")[n % 2], note)
                except httpx.TransportError:
                    seen[note] = "lost"  # killed under it: the override may or may not be in
                    return
                assert response.status_code == 200, (response.status_code, response.text[:300])
                assert "De beslissing is overschreven." in response.text  # the officer is told
                seen[note] = "answered"
                answered.release()
        except BaseException as exc:
            failures.append(exc)
            stop.set()

    threads = [threading.Thread(target=work, args=(i, o)) for i, o in enumerate(officers)]
    for thread in threads:
        thread.start()
    wait_for = rng.randint(3, 40)
    for _ in range(wait_for):
        if not answered.acquire(timeout=30):
            break
    time.sleep(rng.uniform(0.0, 0.15))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    if failures:
        raise failures[0]
    return seen, wait_for


def person_of(note: str, city: City) -> str:
    """Whom an override was about: thread `number` sent its `n`-th one about person number+n."""
    number, n = (int(part) for part in note.rsplit(" ", 1)[1].split("-"))
    return city.everyone[(number + n) % len(city.everyone)]


def test_sigkill_during_overrides_leaves_each_override_whole_or_absent(tmp_path: Path) -> None:
    city = write_test_city(tmp_path / "city")
    database = f"sqlite:///{tmp_path / 'entitle.db'}"
    setup_database(database, OFFICERS)
    seed = int(os.environ.get("CHAOS_SEED", str(random.randrange(10**6))))
    print("CHAOS_SEED", seed)
    rng = random.Random(seed)
    with simulator(city, tmp_path) as registry:
        env = {**os.environ, "ENTITLE_MAGDA_SENDER": SENDER}
        env["ENTITLE_MAGDA_DEFAULT_CAPACITY"] = CAPACITY
        options = ["--database-url", database, "--registry", registry.url]
        options += ["--benefits", str(BENEFITS), "--data-dir", str(tmp_path / "state")]
        with running_web(options, env, tmp_path / "web.log") as (url, process):
            seen, after = fire_until_killed(url, process, city, rng)
        print(f"killed after {after} answered overrides:", Counter(seen.values()))
        assert Counter(seen.values())["answered"] >= 3

        # the database as the killed server left it
        assert sqlite_integrity(database) == "ok"
        with engine_of(database) as engine, engine.connect() as connection:
            rows = connection.execute(
                select(Override.id, Override.note, Override.subject_pseudonym, Override.created)
            ).all()
            entries = connection.execute(
                select(AuditEntry.details).where(AuditEntry.kind == "override")
            ).scalars()
            audited = Counter(int((d or {}).get("override", -1)) for d in entries)
        notes = Counter(note for _, note, _, _ in rows)
        assert all(n == 1 for n in notes.values())  # never twice
        for note, what in seen.items():
            if what == "answered":
                assert notes[note] == 1, f"{note} was answered but is not stored"
        assert set(notes) <= set(seen)
        assert {i for i, *_ in rows} == set(audited)  # a row ⇔ its audit entry
        assert all(n == 1 for n in audited.values())
        assert_audit_intact(database)

        # started again on the same database: each person's check shows their newest override
        newest: dict[str, tuple[object, int, str]] = {}
        for row_id, note, _subject, created in rows:
            insz = person_of(note, city)
            if insz not in newest or (created, row_id) > newest[insz][:2]:
                newest[insz] = (created, row_id, note)
        with running_web(options, env, tmp_path / "web-again.log") as (url, _process):
            officer = Officer(url, "desk1")
            for insz in city.everyone:
                page = officer.check(insz)
                assert page.status_code == 200, page.text[:300]
                shown = NOTE.findall(unescape(page.text))
                assert shown == ([newest[insz][2]] if insz in newest else []), insz
    assert_audit_intact(database)
    assert sqlite_integrity(database) == "ok"
