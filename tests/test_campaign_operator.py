"""What a city's IT operator found when trying to break campaign runs (issue 13), one test per
finding, each reproducing it against the real processes (the registry simulator and the
`entitle` command) and showing the new behaviour: the exit code, one clear line, and no letter
to anyone because of our own fault. Findings 2 (failures of ours invite nobody), 4 and 5 (the
population gates) and the circuit are tested in `test_chaos_registry` and
`test_campaign_safeguards`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from test_chaos_support import (
    PASSWORD,
    assert_audit_intact,
    campaign_env,
    entitle,
    setup_database,
)
from test_registry_server import Server, free_port, running_server

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.lock import run_lock
from entitle.registry.synth import write_city
from entitle.store.db import make_engine, session_factory

PERSONS = 600
AS_OF = "2026-03-01"
MANAGERS = {"alice": "campaign_manager", "ann": "auditor"}
CAMPAIGNS = ("garbage-bags", "lez", "school-tariff")


@dataclass
class Setting:
    city: Path
    server: Server
    root: Path

    def env(self, name: str) -> dict[str, str]:
        """A fresh database `name` with the managers, the simulator, quick retries."""
        url = f"sqlite:///{self.root / name}.db"
        setup_database(url, MANAGERS)
        env = campaign_env(
            database=url,
            registry=self.server.url,
            city=self.city,
            state=self.root / f"{name}-state",
            output=self.root / f"{name}-letters",
        )
        env["ENTITLE_MAGDA_RETRY__BASE_DELAY"] = "0.01"
        env["ENTITLE_MAGDA_CONNECT_TIMEOUT"] = "2"
        return env


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    root = tmp_path_factory.mktemp("operator")
    city = root / "city"
    write_city(PERSONS, 7, city)
    with running_server(city, root / "simulator.log") as server:
        yield Setting(city, server, root)


def runs(env: dict[str, str]) -> list[tuple[Any, ...]]:
    path = env["ENTITLE_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT id, campaign, status FROM campaign_runs").fetchall()


def letter_count(env: dict[str, str]) -> int:
    path = env["ENTITLE_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM campaign_letters").fetchone()[0])


def audit_outcomes(env: dict[str, str]) -> list[tuple[str, str, str]]:
    path = env["ENTITLE_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute(
            "SELECT kind, actor, outcome FROM audit_log ORDER BY id"
        ).fetchall()


def one_line(stderr: str) -> str:
    """The error output is one line, not a traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def run(env: dict[str, str], *extra: str) -> Any:
    return entitle("campaign", "run", "garbage-bags", "--as-of", AS_OF, *extra, env=env)


def test_finding_1_a_wrong_registry_address_stops_the_run_before_anyone_is_decided(
    setting: Setting,
) -> None:
    env = setting.env("finding1")
    wrong = {
        f"{setting.server.url}/nope": "HTTP_404",  # was: exit 0 and 13,788 invitations
        f"http://127.0.0.1:{free_port()}": "CONNECTION",  # no listener
        setting.server.url.replace("http:", "https:"): "CONNECTION",
        "not-a-url": "",
    }
    for url, code in wrong.items():
        refused = run(env, "--registry", url)
        assert refused.returncode == 2, (url, refused.stdout, refused.stderr)
        line = one_line(refused.stderr)
        assert line.startswith(
            "preflight failed for garbage-bags: registry service GeefSociaalStatuut did not "
            "answer the probe under purpose ghent-garbage-bags"
        ), line
        assert code in line
    assert runs(env) == [] and letter_count(env) == 0
    ran = run(env, "--json")
    assert ran.returncode == 0, ran.stderr
    outcome = json.loads(ran.stdout)
    assert (outcome["result"], outcome["status"], outcome["pending"]) == ("decided", "draft", 0)


def test_finding_3_schedule_reports_each_campaign_and_keeps_a_failed_moment_due(
    setting: Setting,
) -> None:
    env = setting.env("finding3")
    env["ENTITLE_CAMPAIGN_METRICS"] = str(setting.root / "finding3.prom")
    now = ("--now", "2026-03-02T07:00")
    down = entitle(
        "campaign", "schedule", *now, "--registry", f"http://127.0.0.1:{free_port()}", env=env
    )
    assert down.returncode == 2, down.stdout + down.stderr  # was: exit 0, nothing printed
    for name in CAMPAIGNS:
        assert f"run {name} for" in down.stdout
        assert f"  {name}: refused (exit 2): " in down.stderr
    assert "Traceback" not in down.stderr
    assert runs(env) == []  # no all-undetermined draft used up the moment
    metrics = Path(env["ENTITLE_CAMPAIGN_METRICS"]).read_text()
    assert 'entitle_campaign_last_exit_code{campaign="lez"} 2' in metrics
    health = entitle("campaign", "health", "--json", env=env)
    assert health.returncode == 2
    assert {n: s["result"] for n, s in json.loads(health.stdout).items()} == dict.fromkeys(
        CAMPAIGNS, "refused"
    )

    up = entitle("campaign", "schedule", *now, "--json", env=env)  # the registry is back
    assert up.returncode == 0, up.stdout + up.stderr
    outcomes = json.loads(up.stdout)
    assert sorted(o["campaign"] for o in outcomes) == sorted(CAMPAIGNS)
    assert {o["result"] for o in outcomes} == {"decided"}
    assert sorted(c for _, c, _ in runs(env)) == sorted(CAMPAIGNS)
    again = entitle("campaign", "schedule", *now, env=env)
    assert again.returncode == 0 and "nothing due" in again.stdout
    log = Path(env["ENTITLE_DATA_DIR"]) / "campaign-runs.jsonl"
    attempts = [json.loads(line) for line in log.read_text().splitlines()]
    assert [a["exit_code"] for a in attempts] == [2, 2, 2, 0, 0, 0]
    metrics = Path(env["ENTITLE_CAMPAIGN_METRICS"]).read_text()
    assert 'entitle_campaign_last_exit_code{campaign="lez"} 0' in metrics


def test_finding_6_a_second_run_exits_at_once_naming_the_running_one(setting: Setting) -> None:
    env = setting.env("finding6")
    url = env["ENTITLE_DATABASE_URL"]
    ctx = CampaignContext(
        factory=session_factory(make_engine(url)),
        register=setting.city / "registry",
        state_dir=Path(env["ENTITLE_DATA_DIR"]),
        output_dir=setting.root,
    )
    asked_before = httpx.get(setting.server.url + "/_admin/stats", timeout=10).json()
    with run_lock(ctx, "garbage-bags", "2026"):  # a run of garbage-bags for 2026 is going on
        second = run(env)
    assert second.returncode == 2, second.stdout + second.stderr
    line = one_line(second.stderr)
    assert "campaign garbage-bags for period 2026 is being run by process" in line
    assert f"process {os.getpid()} on " in line
    assert httpx.get(setting.server.url + "/_admin/stats", timeout=10).json() == asked_before
    assert runs(env) == []


def test_finding_7_a_read_only_database_and_a_corrupt_city_give_messages(
    setting: Setting,
) -> None:
    env = setting.env("finding7")
    assert run(env).returncode == 0
    path = env["ENTITLE_DATABASE_URL"].removeprefix("sqlite:///")
    read_only = {**env, "ENTITLE_DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true"}
    refused = run(read_only, "--as-of", "2026-04-01")
    assert refused.returncode == 2
    assert "the database is not writable: attempt to write a readonly database" in one_line(
        refused.stderr
    )
    approved = entitle("campaign", "approve", "1", "--as", "alice", "--no-issue", env=env)
    assert approved.returncode == 0, approved.stderr
    issued = entitle("campaign", "issue", "1", "--as", "alice", env=read_only)
    assert issued.returncode == 3, issued.stdout + issued.stderr  # was: files, then a traceback
    assert "not writable" in one_line(issued.stderr)
    assert not Path(env["ENTITLE_CAMPAIGN_OUTPUT"]).exists()  # no letter written
    assert runs(env) == [(1, "garbage-bags", "approved")]

    corrupt = setting.root / "corrupt-city"
    (corrupt / "registry").mkdir(parents=True)
    for name in ("persons", "households"):
        data = (setting.city / "registry" / f"{name}.parquet").read_bytes()
        (corrupt / "registry" / f"{name}.parquet").write_bytes(data[: len(data) // 2])
    served = entitle("registry", "serve", "--data", str(corrupt), "--port", str(free_port()),
                     env=env)  # fmt: skip
    assert served.returncode == 2
    assert "the synthetic city under" in one_line(served.stderr)


def test_finding_8_approving_needs_a_signed_in_campaign_manager(setting: Setting) -> None:
    env = setting.env("finding8")
    assert run(env).returncode == 0
    anonymous = {k: v for k, v in env.items() if k != "ENTITLE_PASSWORD"}
    typed = entitle("campaign", "approve", "1", "--as", "alice", env=anonymous)
    assert typed.returncode == 2  # a typed name is not an identity
    assert "no password" in one_line(typed.stderr)
    wrong = entitle(
        "campaign", "approve", "1", "--as", "alice", env={**env, "ENTITLE_PASSWORD": "guess"}
    )
    assert wrong.returncode == 2 and "failed (bad_password)" in one_line(wrong.stderr)
    auditor = entitle("campaign", "approve", "1", "--as", "ann", env=env)
    assert auditor.returncode == 2 and "not an active campaign manager" in auditor.stderr
    assert runs(env) == [(1, "garbage-bags", "draft")]
    approved = entitle("campaign", "approve", "1", "--as", "alice", env=env)
    assert approved.returncode == 0, approved.stderr
    entries = audit_outcomes(env)
    assert ("login_failed", "alice", "bad_password") in entries
    signed_in = max(i for i, e in enumerate(entries) if e == ("login", "alice", None))
    assert ("admin", "alice", "campaign_approve") in entries[signed_in:]
    assert_audit_intact(env["ENTITLE_DATABASE_URL"])

    # the export: pseudonymised, with INSZ only for a role that sees them at the desk
    exported = entitle(
        "campaign", "export", "1", "--format", "parquet", "--as", "ann", "--out",
        str(setting.root / "ann.parquet"), env=env,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    table = pl.read_parquet(setting.root / "ann.parquet")
    assert "subject_id" not in table.columns and table.height > 0
    refused = entitle("campaign", "export", "1", "--as", "ann", "--with-insz", env=env)
    assert refused.returncode == 2 and "may not see INSZ" in refused.stderr
    named = entitle(
        "campaign", "export", "1", "--format", "csv", "--as", "alice", "--with-insz", env=env
    )
    assert named.returncode == 0, named.stderr
    csv = Path(env["ENTITLE_CAMPAIGN_OUTPUT"]) / "garbage-bags" / "run-1" / "decisions.csv"
    assert pl.read_csv(csv)["subject_id"].null_count() == 0
    assert PASSWORD not in csv.read_text()
