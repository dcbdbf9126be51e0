"""KSZ inscriptions end to end: the registry simulator (a real process) requiring inscriptions,
a small synthetic city, the garbage-bag campaign.

Without a sync, the run stops in its preflight saying how many persons are not inscribed (and
would otherwise decide the KSZ-dependent households undetermined); after `sync_campaign` the
run's decisions equal those of a simulator that does not require inscriptions. A sync killed
with SIGKILL and run again ends with the same repertory, without asking again for persons
already done; persons who left the target are deregistered at the next sync, and the repertory
holds nobody the ledger holds no purpose for.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from test_registry_server import Server, running_server

from entitle.decide.campaign import CampaignContext, run_campaign
from entitle.decide.campaign.definition import Campaign, find_campaign
from entitle.decide.campaign.inscriptions import inscription_gap, ledger_of, sync_campaign
from entitle.decide.campaign.preflight import CHECKS, PreflightError, inscriptions_held
from entitle.decide.inscriptions import InscriptionPeriodError
from entitle.registry.synth import write_city
from entitle.store import campaigns as store
from entitle.store.db import make_engine, migrate, session_factory

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 3, 1)
TODAY = date(2026, 3, 2)  # the sync's "today": fixed, so the test never depends on the clock
PERSONS = 1200
MAGDA: dict[str, Any] = {
    "default_capacity": "ENTITLE",
    "sender": "gent.be/entitle",
    "max_concurrency": 8,
    "require_inscriptions": True,
}


@dataclass
class Env:
    root: Path
    city: Path
    plain: Server  # does not require inscriptions (today's behaviour)
    strict: Server  # --require-inscriptions

    def context(self, name: str, server: Server, register: Path | None = None) -> CampaignContext:
        folder = self.root / name
        folder.mkdir(exist_ok=True)
        url = f"sqlite:///{folder / 'entitle.db'}"
        migrate(url)
        state = folder / "state"
        state.mkdir(exist_ok=True)
        shared = self.root / "pseudonym.key"  # one key: the runs' pseudonyms compare
        if not shared.exists():
            shared.write_text(os.urandom(32).hex(), encoding="utf-8")
        (state / "pseudonym.key").write_text(shared.read_text(encoding="utf-8"), encoding="utf-8")
        return CampaignContext(
            factory=session_factory(make_engine(url)),
            register=register or self.city / "registry",
            state_dir=state,
            output_dir=folder / "out",
            registry=server.url,
            magda_overrides=dict(MAGDA),
        )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("inscriptions")
    city = root / "city"
    write_city(PERSONS, 5, city)
    with (
        running_server(city, root / "plain.log") as plain,
        running_server(city, root / "strict.log", "--require-inscriptions") as strict,
    ):
        yield Env(root, city, plain, strict)


def bags() -> Campaign:
    return find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")


def decisions(ctx: CampaignContext, run_id: int) -> dict[str, tuple[str, str | None]]:
    with ctx.factory() as session:
        rows = store.decision_rows(session, run_id, ["subject_pseudonym", "outcome", "band"])
    return {s: (o, b) for s, o, b in rows}


def repertory(server: Server) -> list[dict[str, str]]:
    return list(httpx.get(server.url + "/_admin/repertory").json()["inscriptions"])


def stats(server: Server, service: str) -> int:
    table = httpx.get(server.url + "/_admin/stats").json()
    return sum(table.get(service, {}).values())


def test_not_inscribed_is_said_and_a_sync_restores_the_decisions(env: Env) -> None:
    campaign = bags()
    # today's behaviour: a simulator that does not require inscriptions
    plain = env.context("plain", env.plain)
    plain.magda_overrides["require_inscriptions"] = False  # as today's settings say
    baseline = run_campaign(plain, campaign, AS_OF, chunk_size=400)
    expected = decisions(plain, baseline.id)

    # requiring inscriptions, nobody inscribed: the pre-check counts the whole target
    before = env.context("before", env.strict)
    gap = inscription_gap(before, campaign, AS_OF)
    assert gap.required and gap.persons > 0 and gap.not_inscribed == gap.persons
    assert f"{gap.not_inscribed:,} of {gap.persons:,} persons" in gap.message
    # the preflight stops the run before anything is fetched or stored, saying how many
    asked = stats(env.strict, "GeefSociaalStatuut")
    with pytest.raises(PreflightError, match=f"{gap.not_inscribed:,} of {gap.persons:,} persons"):
        run_campaign(before, campaign, AS_OF, chunk_size=400)
    assert stats(env.strict, "GeefSociaalStatuut") == asked
    with before.factory() as session:
        assert store.last_run(session, campaign.name) is None
    # without that check the KSZ-dependent households would be undetermined
    checks = [c for c in CHECKS if c is not inscriptions_held]
    unsynced = run_campaign(before, campaign, AS_OF, chunk_size=400, checks=checks)
    undetermined = sum(1 for o, _ in decisions(before, unsynced.id).values() if o == "undetermined")
    assert undetermined > sum(1 for o, _ in expected.values() if o == "undetermined")

    # after a sync: nobody missing, and the same decisions as today for every household
    after = env.context("after", env.strict)
    result = sync_campaign(after, campaign, AS_OF, today=TODAY)
    assert result.inscribed == gap.persons and not result.failed
    assert inscription_gap(after, campaign, AS_OF).not_inscribed == 0
    synced = run_campaign(after, campaign, AS_OF, chunk_size=400)
    assert decisions(after, synced.id) == expected

    # a second sync has nothing to do: idempotent, no call sent
    calls = stats(env.strict, "RegistreerInschrijving")
    again = sync_campaign(after, campaign, AS_OF, today=TODAY)
    assert (again.inscribed, again.extended, again.deregistered, again.calls) == (0, 0, 0, 0)
    assert again.kept == gap.persons
    assert stats(env.strict, "RegistreerInschrijving") == calls


def test_a_period_in_the_past_is_refused_before_anything_is_sent(env: Env) -> None:
    ctx = env.context("past", env.strict)
    calls = stats(env.strict, "RegistreerInschrijving")
    with pytest.raises(InscriptionPeriodError, match="in the past"):
        sync_campaign(ctx, bags(), date(2025, 6, 1), today=TODAY)
    assert stats(env.strict, "RegistreerInschrijving") == calls
    assert ledger_of(ctx).purposes() == {}


def _cli_env(env: Env, ctx: CampaignContext, server: Server) -> dict[str, str]:
    database = ctx.factory.kw["bind"].url.render_as_string(hide_password=False)
    return {
        **os.environ,
        "ENTITLE_DATABASE_URL": database,
        "ENTITLE_DATA_DIR": str(ctx.state_dir),
        "ENTITLE_REGISTER_EXTRACT": str(ctx.register),
        "ENTITLE_MAGDA_BASE_URL": server.url,
        "ENTITLE_MAGDA_SENDER": "gent.be/entitle",
        "ENTITLE_MAGDA_DEFAULT_CAPACITY": "KILLED",
        "ENTITLE_MAGDA_MAX_CONCURRENCY": "2",
        "ENTITLE_MAGDA_REQUIRE_INSCRIPTIONS": "true",
    }


def _held(ctx: CampaignContext) -> int:
    """Persons in the store's ledger, read without taking the write lock the store's engine
    takes (the sync being watched writes to the same SQLite file)."""
    path = ctx.factory.kw["bind"].url.database
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        return int(db.execute("SELECT COUNT(*) FROM inscriptions").fetchone()[0])


def test_sigkill_mid_sync_then_rerun(env: Env) -> None:
    ctx = env.context("killed", env.strict)
    command = [
        str(Path(sys.executable).parent / "entitle"), "inscriptions", "sync", "garbage-bags",
        "--as-of", date.today().isoformat(), "--batch-size", "25", "--json",
        "--campaigns", str(REPO / "campaigns"), "--benefits", str(REPO / "benefits"),
    ]  # fmt: skip
    cli_env = _cli_env(env, ctx, env.strict)
    before = stats(env.strict, "RegistreerInschrijving")
    process = subprocess.Popen(command, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _held(ctx) < 100 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the sync ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before_kill = _held(ctx)
    assert done_before_kill >= 100
    finished = subprocess.run(command, env=cli_env, capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    ours = [e for e in repertory(env.strict) if e["capacity"] == "KILLED"]
    target = _held(ctx)
    assert len(ours) == target  # same repertory as one uninterrupted sync
    asked = stats(env.strict, "RegistreerInschrijving") - before
    # nobody already done was asked again: at most the batch in flight at the kill
    assert target <= asked <= target + 25
    assert '"inscribed": ' in finished.stdout


def test_leavers_are_deregistered_at_the_next_sync(env: Env) -> None:
    # a register extract where some households moved out of the city
    register = env.root / "moved" / "registry"
    register.mkdir(parents=True)
    persons = pl.read_parquet(env.city / "registry" / "persons.parquet")
    households = pl.read_parquet(env.city / "registry" / "households.parquet")
    for name in os.listdir(env.city / "registry"):
        if name not in ("persons.parquet", "households.parquet"):
            os.symlink(env.city / "registry" / name, register / name)
    persons.write_parquet(register / "persons.parquet")
    households.write_parquet(register / "households.parquet")
    ctx = env.context("moving", env.strict, register)
    ctx.magda_overrides["default_capacity"] = "MOVING"
    first = sync_campaign(ctx, bags(), AS_OF, today=TODAY)
    inscribed = {e["insz"] for e in repertory(env.strict) if e["capacity"] == "MOVING"}
    assert len(inscribed) == first.inscribed

    ghent = households.filter(pl.col("municipality_nis") == "44021")
    moved = ghent["household_id"].head(20).to_list()
    households.with_columns(
        pl.when(pl.col("household_id").is_in(moved))
        .then(pl.lit("11002"))
        .otherwise(pl.col("municipality_nis"))
        .alias("municipality_nis")
    ).write_parquet(register / "households.parquet")
    leavers = set(persons.filter(pl.col("household_id").is_in(moved))["person_id"].to_list())
    assert leavers and leavers <= inscribed

    second = sync_campaign(ctx, bags(), AS_OF, today=TODAY)
    assert second.deregistered == len(leavers) and second.inscribed == 0
    now = {e["insz"] for e in repertory(env.strict) if e["capacity"] == "MOVING"}
    assert now == inscribed - leavers
    # the repertory holds nobody without a purpose in the ledger
    held = set(ledger_of(ctx).held("ghent-garbage-bags", "MOVING"))
    assert now == held


def _run_cli(env: Env, ctx: CampaignContext, campaigns: Path) -> subprocess.CompletedProcess[str]:
    """`entitle campaign run` as of today: the CLI's inscription period starts today (a sync for a
    period already over is refused), so the test does not depend on the date it runs."""
    command = [
        str(Path(sys.executable).parent / "entitle"), "campaign", "run", "garbage-bags",
        "--as-of", date.today().isoformat(), "--json",
        "--campaigns", str(campaigns), "--benefits", str(REPO / "benefits"),
    ]  # fmt: skip
    cli_env = _cli_env(env, ctx, env.strict)
    cli_env["ENTITLE_MAGDA_DEFAULT_CAPACITY"] = "ENTITLE"
    return subprocess.run(command, env=cli_env, capture_output=True, text=True, check=False)


def test_campaign_run_stops_on_the_not_inscribed_or_syncs_first(env: Env, tmp_path: Path) -> None:
    plain = env.context("cli-plain", env.strict)
    reported = _run_cli(env, plain, REPO / "campaigns" / "ghent")
    assert reported.returncode == 2, reported.stderr  # refused by the preflight
    gap = inscription_gap(plain, bags(), AS_OF)
    said = " ".join(reported.stderr.split())  # the message may wrap on a narrow terminal
    assert f"{gap.not_inscribed:,} of {gap.persons:,} persons" in said + reported.stdout
    assert "not inscribed" in said + reported.stdout
    with plain.factory() as session:
        assert store.last_run(session, "garbage-bags") is None
    # the campaign file asks to sync first: the run inscribes, and warns about nobody
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    text = (REPO / "campaigns" / "ghent" / "garbage-bags.yaml").read_text(encoding="utf-8")
    (campaigns / "garbage-bags.yaml").write_text(
        text + "inscriptions: {sync_first: true}\n", encoding="utf-8"
    )
    synced = env.context("cli-sync", env.strict)
    ran = _run_cli(env, synced, campaigns)
    assert ran.returncode == 0, ran.stderr
    assert "not inscribed" not in ran.stderr
    assert sum(ledger_of(synced).purposes().values()) == gap.persons


def test_desk_purpose_sync_from_a_file_and_its_bad_input(env: Env, tmp_path: Path) -> None:
    ctx = env.context("desk-list", env.strict)
    cli_env = _cli_env(env, ctx, env.strict)
    cli_env["ENTITLE_MAGDA_DEFAULT_CAPACITY"] = "DESK"
    entitle = str(Path(sys.executable).parent / "entitle")
    people = pl.read_parquet(env.city / "registry" / "persons.parquet")["person_id"].head(3)
    good = tmp_path / "list.txt"
    good.write_text("\n".join(people.to_list()) + "\n", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{people[0]}\n12345678901\n", encoding="utf-8")

    def sync(*extra: str) -> subprocess.CompletedProcess[str]:
        command = [entitle, "inscriptions", "sync", "--purpose", "ghent-uitpas", *extra]
        return subprocess.run(command, env=cli_env, capture_output=True, text=True, check=False)

    calls = stats(env.strict, "RegistreerInschrijving")
    wrong = sync("--from", str(bad))
    assert wrong.returncode == 2 and "line 2: not a valid INSZ" in wrong.stderr
    past = sync("--from", str(good), "--start", "2020-01-01", "--end", "2020-12-31")
    assert past.returncode == 2 and "is in the past" in past.stderr
    assert stats(env.strict, "RegistreerInschrijving") == calls  # nothing half-done
    assert ledger_of(ctx).purposes() == {}
    end = date(date.today().year, 12, 31).isoformat()
    done = sync("--from", str(good), "--end", end, "--json")
    assert done.returncode == 0, done.stderr
    assert '"inscribed": 3' in done.stdout
    assert ledger_of(ctx).purposes() == {"ghent-uitpas": 3}
    held = {e["insz"] for e in repertory(env.strict) if e["capacity"] == "DESK"}
    assert held == set(people.to_list())
