"""Faults of the registries during a campaign run: an outage, random errors, malformed replies
and time-outs.

Everything runs as it does in production: the registry simulator and `entitle campaign …` are
separate processes on a synthetic city; the test breaks the services through the simulator's
admin API once a few chunks are stored (after the run's preflight).

What the code does (and what is tested): a household whose outcome hangs on a fact missing through
a failure of ours (HTTP 503, an open circuit breaker, a malformed reply, a time-out) is stored
*pending*, with a typed reason naming the code; nothing is guessed `not_eligible`, and a pending
household gets no letter of any kind. With the default circuit (5 % of a chunk) an outage pauses
the run (exit 2, saying why) and the next `run` resumes it; with the circuit opened wide the run
ends as a draft with pending households (exit 1). Either way the next run, once the registry
answers, decides exactly what an uninterrupted run decides, and the letters issued over both runs
are one per household: coupons to the eligible, invitations only to households whose *own* data
is missing.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
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

from entitle.decide.campaign.reasons import PENDING
from entitle.decide.reasons import ours_in, reasons_of
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


def approve(env: dict[str, str], run: int) -> subprocess.CompletedProcess[str]:
    """`entitle campaign approve RUN --as alice` (which issues, signed in as alice)."""
    approved = entitle("campaign", "approve", str(run), "--as", "alice", env=env)
    assert approved.returncode in (0, 1), approved.stdout + approved.stderr
    assert f"run #{run} issued" in approved.stdout
    return approved


def letters_by_subject(database: Path) -> dict[str, list[str]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT subject_pseudonym, kind FROM campaign_letters").fetchall()
    out: dict[str, list[str]] = {}
    for subject, kind in rows:
        out.setdefault(subject, []).append(kind)
    return out


def summary_of(database: Path, run: int) -> dict[str, Any]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (text,) = connection.execute(
            "SELECT summary FROM campaign_runs WHERE id = ?", (run,)
        ).fetchone()
    return dict(json.loads(text or "{}"))


def reference_run(setting: Setting) -> dict[str, tuple[Any, ...]]:
    """The uninterrupted run (computed once per module)."""
    database = setting.database("reference")
    if not database.exists():
        env = setting.env("reference")
        setup_database(env["ENTITLE_DATABASE_URL"], {})
        ran = entitle(
            "campaign", "run", "garbage-bags", "--as-of", AS_OF, "--chunk-size", CHUNK, env=env
        )
        assert ran.returncode == 0, ran.stderr
    reference = decisions(database, 1)
    assert len({d[0] for d in reference.values()}) >= 12
    return reference


def check_against(
    reference: dict[str, tuple[Any, ...]], run: dict[str, tuple[Any, ...]]
) -> list[str]:
    """Every decision equals the reference or is pending for a reason of ours; the pending."""
    assert set(run) <= set(reference)
    pending = []
    for subject, (_, outcome, band, outputs, reasons) in run.items():
        if (outcome, band, outputs) == reference[subject][1:4]:
            continue
        assert outcome == PENDING, (subject, outcome, reference[subject])
        assert ours_in(json.loads(reasons)), reasons
        pending.append(subject)
    return pending


def check_letters(
    database: Path, reference: dict[str, tuple[Any, ...]], pending: set[str]
) -> dict[str, list[str]]:
    """No letter to a pending household; invitations only where the reference is undetermined
    (the citizen's own data missing); at most one letter per household."""
    letters = letters_by_subject(database)
    assert not set(letters) & pending, "a pending household got a letter"
    for subject, kinds in letters.items():
        assert len(kinds) == 1, (subject, kinds)
        expected = {"eligible": "coupon", "undetermined": "invitation"}[reference[subject][1]]
        assert kinds == [expected]
    return letters


def test_an_outage_mid_run_pauses_it_and_the_resumed_run_equals_the_uninterrupted_one(
    setting: Setting,
) -> None:
    reference = reference_run(setting)
    env = setting.env("outage")
    setup_database(env["ENTITLE_DATABASE_URL"], MANAGERS)
    log = setting.root / "outage-run.log"
    # some latency on the status service, so that the run lasts long enough to interrupt
    latency = {"latency_ms": {"distribution": "fixed", "value": 20}}
    admin(setting.server.url, "/_admin/faults", services={SERVICE: latency})
    # two worker processes: the parent trips the circuit as their chunks come back
    process = start_entitle(
        "campaign", "run", "garbage-bags", "--as-of", AS_OF, "--chunk-size", CHUNK,
        "--workers", "2", env=env, log=log,
    )  # fmt: skip
    try:
        before = wait_for_chunks(setting.database("outage"), 2, process, log)
        admin(setting.server.url, f"/_admin/services/{SERVICE}/down")
        code = process.wait(timeout=120)
    finally:
        admin(setting.server.url, "/_admin/faults/reset")
        if process.poll() is None:
            process.kill()
            process.wait()
    output = " ".join(log.read_text().split())
    assert code == 2, output  # paused: the circuit, not a draft full of pending households
    assert "paused at chunk" in output and "failures of ours" in output
    assert "HTTP_503" in output or "CIRCUIT_OPEN" in output
    assert "Traceback" not in output
    stored = decisions(setting.database("outage"), 1)
    assert {d[0] for d in stored.values()} >= before
    check_against(reference, stored)  # what was stored is right, or pending

    # the service is back: the same command resumes the run
    resumed = entitle(
        "campaign", "run", "garbage-bags", "--as-of", AS_OF, "--chunk-size", CHUNK, env=env
    )
    assert resumed.returncode in (0, 1), resumed.stdout + resumed.stderr
    finished = decisions(setting.database("outage"), 1)
    assert set(finished) == set(reference)
    pending = set(check_against(reference, finished))
    summary = summary_of(setting.database("outage"), 1)
    assert summary["pending"]["count"] == len(pending)
    assert (resumed.returncode == 1) == bool(pending)
    approve(env, 1)
    check_letters(setting.database("outage"), reference, pending)

    # the next run decides every pending household; issuing it completes the letters
    again = entitle(
        "campaign", "run", "garbage-bags", "--as-of", AS_OF, "--chunk-size", CHUNK, env=env
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert check_against(reference, decisions(setting.database("outage"), 2)) == []
    approve(env, 2)
    letters = check_letters(setting.database("outage"), reference, set())
    outcomes = [d[1] for d in reference.values()]
    assert sum(k == ["coupon"] for k in letters.values()) == outcomes.count("eligible")
    assert sum(k == ["invitation"] for k in letters.values()) == outcomes.count("undetermined")
    assert_letters_unique(env["ENTITLE_DATABASE_URL"])


def test_random_errors_malformed_replies_time_outs_and_an_outage_invite_nobody(
    setting: Setting,
) -> None:
    reference = reference_run(setting)
    env = setting.env("faults")
    env["ENTITLE_CAMPAIGN_MAX_FAILURE_SHARE"] = "1"  # the circuit wide open: the run goes on
    env["ENTITLE_MAGDA_READ_TIMEOUT"] = "0.3"
    setup_database(env["ENTITLE_DATABASE_URL"], MANAGERS)
    log = setting.root / "faults-run.log"
    latency = {"latency_ms": {"distribution": "fixed", "value": 20}}
    admin(setting.server.url, "/_admin/faults", seed=13, services={SERVICE: latency})
    process = start_entitle(
        "campaign", "run", "garbage-bags", "--as-of", AS_OF, "--chunk-size", CHUNK,
        env=env, log=log,
    )  # fmt: skip
    faults = {
        "error_rate": 0.1,
        "malformed_rate": 0.1,
        "malformed_kinds": ["truncated", "not_xml", "missing_inhoud"],
        "timeout_rate": 0.05,
        "timeout_hold_s": 0.5,
        "latency_ms": {"distribution": "fixed", "value": 20},
    }
    try:
        before = wait_for_chunks(setting.database("faults"), 1, process, log)
        admin(setting.server.url, "/_admin/faults", default=faults, services={SERVICE: faults})
        during = wait_for_chunks(setting.database("faults"), len(before) + 3, process, log)
        admin(setting.server.url, f"/_admin/services/{SERVICE}/down")  # and an outage
        try:
            wait_for_chunks(setting.database("faults"), len(during) + 2, process, log)
        finally:
            admin(setting.server.url, f"/_admin/services/{SERVICE}/up")
        code = process.wait(timeout=180)
    finally:
        admin(setting.server.url, "/_admin/faults/reset")
        if process.poll() is None:
            process.kill()
            process.wait()
    output = " ".join(log.read_text().split())
    run = decisions(setting.database("faults"), 1)
    assert set(run) == set(reference)
    pending = check_against(reference, run)
    print(f"{len(pending)} of {len(run)} households pending through the faults")
    assert pending and code == 1, output
    assert f"{len(pending):,} pending through failures of ours" in output
    codes = {
        why.code for s in pending for why in reasons_of(json.loads(run[s][4])).values() if why.ours
    }
    assert "MALFORMED" in codes and codes & {"HTTP_503", "CIRCUIT_OPEN"}, codes

    # the summary's counts are the stored reasons'
    summary = summary_of(setting.database("faults"), 1)
    assert summary["outcomes"][PENDING] == summary["pending"]["count"] == len(pending)
    assert sorted(summary["pending"]["subjects"]) == sorted(pending)
    counted: dict[str, int] = {}
    for subject in pending:
        for fact, why in ours_in(json.loads(run[subject][4])).items():
            key = f"{fact} ({why.label()})"
            counted[key] = counted.get(key, 0) + 1
    assert summary["pending"]["reasons"] == counted
    outcomes = [d[1] for d in run.values()]
    assert {k: summary["outcomes"][k] for k in summary["outcomes"]} == {
        k: outcomes.count(k) for k in summary["outcomes"]
    }

    # approving sends no letter caused by our failures
    approved = approve(env, 1)
    assert approved.returncode == 1 and "pending" in approved.stdout
    check_letters(setting.database("faults"), reference, set(pending))
    invitations = sum(k == ["invitation"] for k in letters_by_subject(
        setting.database("faults")).values())  # fmt: skip
    assert invitations == outcomes.count("undetermined")  # the citizens' own missing data

    # the registries answer again: the next run decides every pending household
    again = entitle(
        "campaign", "run", "garbage-bags", "--as-of", AS_OF, "--chunk-size", CHUNK, env=env
    )
    assert again.returncode == 0, again.stdout + again.stderr
    second = decisions(setting.database("faults"), 2)
    assert check_against(reference, second) == []
    assert all(second[s][1] != PENDING for s in pending)
    approve(env, 2)
    letters = check_letters(setting.database("faults"), reference, set())
    assert sum(k == ["coupon"] for k in letters.values()) == [
        d[1] for d in reference.values()
    ].count("eligible")
