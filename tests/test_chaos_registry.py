"""Fault: a registry service goes down in the middle of a campaign run, then comes back.

Everything runs as it does in production: the registry simulator and `entitle campaign …` are
separate processes on a synthetic city; the test switches GeefSociaalStatuut (the increased
allowance) off through the simulator's admin API once a few chunks are stored, and on again a few
chunks later.

What the code does (and what is tested): the run does not stop. The MAGDA client retries, its
circuit breaker opens, and every household whose outcome hangs on the missing status is stored
`undetermined`, with the reason naming the service; nothing is guessed `not_eligible`. The run
finishes as a draft whose summary counts the transient failures, with a warning that they are
transient. Approving and issuing it sends
coupons to the households decided eligible and invitations to those undetermined for lack of data
— not to those waiting for the registry: they have nothing to bring, the next run decides them.
Once the service is back, the next run decides exactly what an uninterrupted run decides, and
issuing it sends the missing coupons and invitations — each household gets one coupon letter or
at most one invitation.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_chaos_support import (
    admin,
    assert_letters_unique,
    campaign_env,
    entitle,
    setup_database,
    start_entitle,
)
from test_registry_server import Server, running_server

from entitle.decide.campaign_figures import awaits_registry
from entitle.registry.synth import write_city

PERSONS = 1000
CHUNK = "30"
AS_OF = "2026-03-01"
SERVICE = "GeefSociaalStatuut"
MANAGERS = {"alice": "campaign_manager"}


@dataclass
class Setting:
    city: Path
    server: Server
    root: Path

    def env(self, name: str) -> dict[str, str]:
        """The campaign environment of one database (`name`), sharing the pseudonym key."""
        env = campaign_env(
            database=f"sqlite:///{self.root / name}.db",
            registry=self.server.url,
            city=self.city,
            state=self.root / "state",
            output=self.root / f"{name}-letters",
        )
        # a short breaker pause: the run picks the service up again soon after it is back
        env["ENTITLE_MAGDA_BREAKER__RESET_TIMEOUT"] = "0.2"
        env["ENTITLE_MAGDA_RETRY__BASE_DELAY"] = "0.01"
        return env

    def database(self, name: str) -> Path:
        return self.root / f"{name}.db"


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    root = tmp_path_factory.mktemp("chaos-registry")
    city = root / "city"
    write_city(PERSONS, 3, city)
    with running_server(city, root / "simulator.log") as server:
        yield Setting(city, server, root)


def decisions(database: Path, run: int) -> dict[str, tuple[Any, ...]]:
    """Subject → (chunk, outcome, band, outputs, reasons) of one run, read from the file."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT subject_pseudonym, chunk_no, outcome, band, outputs, reasons "
            "FROM campaign_decisions WHERE run_id = ?",
            (run,),
        ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def chunks_done(database: Path) -> set[int]:
    if not database.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            rows = connection.execute("SELECT chunk_no FROM campaign_chunks").fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return set()
    return {int(n) for (n,) in rows}


def wait_for_chunks(database: Path, count: int, process: Any, log: Path) -> set[int]:
    deadline = time.monotonic() + 60
    while True:
        done = chunks_done(database)
        if len(done) >= count:
            return done
        if process.poll() is not None:
            pytest.fail(f"the run ended before {count} chunks were stored:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {count} chunks stored after 60 s:\n{log.read_text()}")
        time.sleep(0.02)


def run_and_issue(env: dict[str, str], run: int) -> str:
    """`entitle campaign approve RUN --as alice` (which issues): its output."""
    approved = entitle("campaign", "approve", str(run), "--as", "alice", env=env)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert f"run #{run} issued" in approved.stdout
    return approved.stdout


def test_a_status_service_outage_mid_run_stores_no_wrong_decision_and_no_letter_twice(
    setting: Setting,
) -> None:
    # the uninterrupted run, for reference
    reference_env = setting.env("reference")
    setup_database(reference_env["ENTITLE_DATABASE_URL"], {})
    reference_run = entitle(
        "campaign", "run", "garbage-bags", "--as-of", AS_OF, "--chunk-size", CHUNK,
        env=reference_env,
    )  # fmt: skip
    assert reference_run.returncode == 0, reference_run.stderr
    reference = decisions(setting.database("reference"), 1)
    total_chunks = len(chunks_done(setting.database("reference")))
    assert total_chunks >= 12

    # the same run, with the status service switched off after two chunks and on again later
    env = setting.env("outage")
    setup_database(env["ENTITLE_DATABASE_URL"], MANAGERS)
    log = setting.root / "outage-run.log"
    # some latency on the status service, so that the run lasts long enough to interrupt
    latency = {"latency_ms": {"distribution": "fixed", "value": 20}}
    admin(setting.server.url, "/_admin/faults", services={SERVICE: latency})
    process = start_entitle(
        "campaign", "run", "garbage-bags", "--as-of", AS_OF, "--chunk-size", CHUNK,
        env=env, log=log,
    )  # fmt: skip
    try:
        before = wait_for_chunks(setting.database("outage"), 2, process, log)
        admin(setting.server.url, f"/_admin/services/{SERVICE}/down")
        try:
            wait_for_chunks(setting.database("outage"), len(before) + 3, process, log)
        finally:
            admin(setting.server.url, f"/_admin/services/{SERVICE}/up")
        assert process.wait(timeout=120) == 0, log.read_text()
    finally:
        admin(setting.server.url, "/_admin/faults/reset")
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text()
    assert "run #1 of garbage-bags" in output and "draft" in output
    assert "undetermined: person.increased_allowance (retry)" in output  # the summary says why
    assert "undetermined because a registry did not answer" in " ".join(output.split())

    outage = decisions(setting.database("outage"), 1)
    assert set(outage) == set(reference)  # no decision lost, none added
    affected = 0
    for subject, (chunk, outcome, band, outputs, reasons) in outage.items():
        expected = reference[subject]
        if chunk in before:  # decided before the outage: exactly as without it
            assert (outcome, band, outputs) == expected[1:4]
        if (outcome, band, outputs) == expected[1:4]:
            continue
        # anything else is an honest "undetermined", for a transient failure of the service:
        # its HTTP 503, or its circuit breaker open
        assert outcome == "undetermined", (subject, outcome, expected)
        why = json.loads(reasons)["person.increased_allowance"]
        assert why.startswith("retry: "), why
        assert "HTTP_503" in why or f"circuit breaker open for {SERVICE}" in why, why
        affected += 1
    print(f"{affected} of {len(outage)} households undetermined by the outage")
    assert affected > 0
    assert affected < sum(1 for d in reference.values() if d[1] != "undetermined")

    # approve and issue the run with the outage in it: coupons for the eligible, invitations
    # for the undetermined by lack of data, not for those waiting for the registry
    run_and_issue(env, 1)
    first = assert_letters_unique(env["ENTITLE_DATABASE_URL"])
    outcomes = [d[1] for d in outage.values()]
    assert first["coupon"] == outcomes.count("eligible")
    waiting = sum(1 for d in outage.values() if awaits_registry(json.loads(d[4] or "{}")))
    assert waiting >= affected
    assert first["invitation"] == outcomes.count("undetermined") - waiting

    # the service is back: the next run decides what an uninterrupted run decides
    again = entitle(
        "campaign", "run", "garbage-bags", "--as-of", AS_OF, "--chunk-size", CHUNK, env=env
    )
    assert again.returncode == 0, again.stderr
    assert "(retry)" not in again.stdout and "warning" not in again.stdout
    recovered = decisions(setting.database("outage"), 2)
    assert {s: d[1:4] for s, d in recovered.items()} == {s: d[1:4] for s, d in reference.items()}
    issued = run_and_issue(env, 2)
    assert "issued" in issued
    letters = assert_letters_unique(env["ENTITLE_DATABASE_URL"])
    eligible = [d[1] for d in reference.values()].count("eligible")
    assert letters["coupon"] == eligible  # every eligible household: exactly one coupon letter
    undetermined = [d[1] for d in reference.values()].count("undetermined")
    assert letters["invitation"] == undetermined  # each invited once, once the registry answered
    issue_again = entitle("campaign", "issue", "2", "--as", "alice", env=env)
    assert issue_again.returncode == 0 and "(0 new)" in issue_again.stdout
    assert assert_letters_unique(env["ENTITLE_DATABASE_URL"]) == letters
