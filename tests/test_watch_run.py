"""`entitle watch run` against the simulator as a separate process: weekly follow-up through the
gateway equals a full decision on the week's registry view; resumable, idempotent, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_registry_server import Server, running_server

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign, find_campaign
from entitle.decide.campaign.run import load_target
from entitle.decide.follow_up import run as watch_run
from entitle.decide.follow_up.batches import list_batches
from entitle.decide.follow_up.redecide import full_state
from entitle.decide.follow_up.run import WatchError, run_week, watch_dir
from entitle.registry.synth import read_meta, write_city
from entitle.sources.magda.errors import MagdaParseError
from entitle.store import campaigns as store
from entitle.store import weeks as week_store
from entitle.store.db import make_engine, migrate, session_factory

COLUMNS = ["subject_pseudonym", "outcome", "change", "band"]

REPO = Path(__file__).resolve().parents[1]
MAGDA = {"default_capacity": "ENTITLE", "sender": "gent.be/entitle", "max_concurrency": 4}


@dataclass
class Env:
    city: Path
    server: Server
    root: Path

    def context(self, name: str) -> CampaignContext:
        folder = self.root / name
        folder.mkdir(exist_ok=True)
        url = f"sqlite:///{folder / 'entitle.db'}"
        migrate(url)
        (folder / "state").mkdir(exist_ok=True)
        (folder / "state" / "pseudonym.key").write_text("ab" * 32)  # the same in every context
        return CampaignContext(
            factory=session_factory(make_engine(url)),
            register=self.city / "registry",
            state_dir=folder / "state",
            output_dir=folder / "out",
            registry=self.server.url,
            magda_overrides=dict(MAGDA),
        )

    def as_of(self) -> date:
        return date.fromisoformat(str(read_meta(self.city)["reference_date"]))

    def advance(self, weeks: int = 1) -> None:
        assert self.server.admin("/_admin/advance", weeks=weeks).status_code == 200


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    city = tmp_path / "city"
    write_city(1500, 21, city)
    with running_server(city, tmp_path / "server.log") as server:
        yield Env(city, server, tmp_path)


def campaigns() -> list[Campaign]:
    return [
        find_campaign(name, REPO / "campaigns", REPO / "benefits")
        for name in ("garbage-bags", "school-tariff")
    ]


def _essence(decisions: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {p: (d["outcome"], d["band"]) for p, d in decisions.items()}


def _stored(ctx: CampaignContext, name: str) -> dict[str, dict[str, Any]]:
    state = json.loads((watch_dir(ctx) / "state.json").read_text())
    folder = watch_dir(ctx) / state["current"] / name
    return watch_run._load_follow_up(folder).decisions


def test_weeks_through_the_gateway_equal_a_full_decision(env: Env) -> None:
    ctx = env.context("equal")
    chosen = campaigns()
    env.advance()
    baseline = run_week(ctx, chosen, env.as_of())
    assert baseline.week == 1
    for _ in range(2):
        env.advance()
        summary = run_week(ctx, chosen, env.as_of())
        for figures in summary.campaigns.values():
            assert figures["questions"] < baseline.campaigns["garbage-bags"]["questions"]
    again = run_week(ctx, chosen, env.as_of())
    assert again.nothing_new  # no new batch: nothing decided, nothing written
    listed = watch_run.list_weeks(ctx)
    assert [w["week"] for w in listed] == [1, 2, 3]
    assert set(listed[-1]["campaigns"]) == {"garbage-bags", "school-tariff"}
    assert listed[0]["campaigns"]["garbage-bags"]["new"] == sum(
        1 for c in watch_run.week_changes(ctx, 1, "garbage-bags") if c["change"] == "new"
    )
    source = ctx.fact_source()
    try:
        for campaign in chosen:
            _, target = load_target(ctx, campaign, env.as_of(), None)
            full = full_state(campaign, env.as_of(), target, source, ctx.pseudonymiser())
            assert _essence(_stored(ctx, campaign.name)) == _essence(full.state.decisions)
    finally:
        ctx.close_source(source)


def test_a_killed_week_reruns_to_the_same_result(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = campaigns()
    env.advance()
    steady, killed = env.context("steady"), env.context("killed")
    run_week(steady, chosen, env.as_of())
    run_week(killed, chosen, env.as_of())
    env.advance()
    real = watch_run.decide_week
    calls = {"n": 0}

    def dies_on_the_second_campaign(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    before = (watch_dir(killed) / "state.json").read_bytes()
    monkeypatch.setattr(watch_run, "decide_week", dies_on_the_second_campaign)
    with pytest.raises(KeyboardInterrupt):
        run_week(killed, chosen, env.as_of())
    assert (watch_dir(killed) / "state.json").read_bytes() == before  # cursor did not move
    monkeypatch.setattr(watch_run, "decide_week", real)
    rerun = run_week(killed, chosen, env.as_of())
    uninterrupted = run_week(steady, chosen, env.as_of())
    assert rerun.week == uninterrupted.week == 2
    for campaign in chosen:
        assert _essence(_stored(killed, campaign.name)) == _essence(_stored(steady, campaign.name))
        changes = [
            (watch_dir(ctx) / "week-0002" / campaign.name / "changes.jsonl").read_text()
            for ctx in (killed, steady)
        ]
        assert changes[0] == changes[1]
        # the week's run, stored before the kill, was stored again in its place
        stored = []
        for ctx in (killed, steady):
            with ctx.factory() as session:
                runs = week_store.week_runs(session, campaign.name)
                stored.append(
                    [
                        (
                            v.week,
                            v.status,
                            (v.summary or {})["changes"],
                            [tuple(r) for r in store.decision_rows(session, v.id, COLUMNS)],
                        )
                        for v in runs
                    ]
                )
        assert [w for w, *_ in stored[0]] == [1, 2] and stored[0] == stored[1]


def test_a_week_killed_after_its_commit_settles_its_runs(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = env.context("settle")
    chosen = campaigns()[:1]
    env.advance()
    monkeypatch.setattr(watch_run, "settle", lambda ctx: None)  # killed right after the commit
    run_week(ctx, chosen, env.as_of())
    with ctx.factory() as session:
        view = week_store.week_run(session, "garbage-bags", 1)
    assert view is not None and view.status == "preparing"
    assert [b["status"] for b in list_batches(ctx, "garbage-bags")] == ["baseline"]


def test_registry_down_leaves_subjects_pending_until_next_week(env: Env) -> None:
    ctx = env.context("down")
    chosen = campaigns()[:1]
    env.advance()
    run_week(ctx, chosen, env.as_of())
    env.advance(2)
    down = env.server.admin("/_admin/services/GeefSociaalStatuut/down", mode="60006")
    assert down.status_code == 200
    try:
        week = run_week(ctx, chosen, env.as_of())
    finally:
        env.server.admin("/_admin/services/GeefSociaalStatuut/up")
    assert week.campaigns["garbage-bags"]["pending"] > 0
    state = json.loads((watch_dir(ctx) / "state.json").read_text())
    pending = json.loads(
        (watch_dir(ctx) / state["current"] / "garbage-bags" / "pending.json").read_text()
    )
    assert pending
    run_week(ctx, chosen, env.as_of())  # next week: the registry answers again
    source = ctx.fact_source()
    try:
        _, target = load_target(ctx, chosen[0], env.as_of(), None)
        full = full_state(chosen[0], env.as_of(), target, source, ctx.pseudonymiser())
    finally:
        ctx.close_source(source)
    assert _essence(_stored(ctx, "garbage-bags")) == _essence(full.state.decisions)
    after = json.loads((watch_dir(ctx) / "week-0003" / "garbage-bags" / "pending.json").read_text())
    assert after == []


def test_duplicated_or_malformed_batch_files_are_refused_and_the_cursor_stays(
    env: Env, tmp_path: Path
) -> None:
    ctx = env.context("files")
    chosen = campaigns()[:1]
    env.advance()
    run_week(ctx, chosen, env.as_of())
    state = (watch_dir(ctx) / "state.json").read_bytes()
    cursor = json.loads(state)["cursor"]
    # the batch just processed, fetched again as a file
    from entitle.sources.magda.envelope import build_request
    from entitle.sources.magda.mutations import PersoonMutatiesNotificatiesCriteria

    built = build_request(
        [PersoonMutatiesNotificatiesCriteria()], sender="gent.be/entitle", capacity="ENTITLE"
    )
    again = tmp_path / "again.xml"
    again.write_bytes(env.server.post("/soap", built.xml).content)
    assert cursor["persoon"] is not None
    with pytest.raises(WatchError, match="already processed"):
        run_week(ctx, chosen, env.as_of(), files=[again])
    broken = tmp_path / "broken.xml"
    broken.write_bytes(again.read_bytes().replace(b"<Ontvangstreferte>", b"<Ontvangst>", 1))
    with pytest.raises(MagdaParseError):
        run_week(ctx, chosen, env.as_of(), files=[broken])
    assert (watch_dir(ctx) / "state.json").read_bytes() == state


def test_a_notification_for_a_person_the_city_does_not_follow_is_ignored_and_logged(
    env: Env, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from entitle.insz import make_insz
    from entitle.sources.magda.envelope import build_request
    from entitle.sources.magda.mutations import MutatiesNotificatiesCriteria

    ctx = env.context("stranger")
    chosen = campaigns()[:1]
    env.advance()
    run_week(ctx, chosen, env.as_of())
    env.advance()
    state = json.loads((watch_dir(ctx) / "state.json").read_text())
    built = build_request(
        [MutatiesNotificatiesCriteria(after=state["cursor"]["algemeen"])],
        sender="gent.be/entitle",
        capacity="ENTITLE",
    )
    reply = env.server.post("/soap", built.xml).content
    first = reply.split(b"<INSZ>", 1)[1][:11]
    stranger = make_insz(date(1950, 5, 5), 997, kind="test").normalized.encode()
    batch = tmp_path / "general.xml"
    batch.write_bytes(reply.replace(b"<INSZ>" + first, b"<INSZ>" + stranger, 1))
    caplog.set_level("WARNING", logger="entitle.watch")
    week = run_week(ctx, chosen, env.as_of(), files=[batch])
    assert week.ignored >= 1
    assert "does not follow, ignored" in caplog.text
    assert stranger.decode() not in caplog.text


def test_the_command_line(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from entitle.cli.watch import watch_app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    monkeypatch.setenv("ENTITLE_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ENTITLE_MAGDA_SENDER", "gent.be/entitle")
    monkeypatch.setenv("ENTITLE_MAGDA_DEFAULT_CAPACITY", "ENTITLE")
    common = ["--url", url, "--register", str(env.city / "registry")]
    common += ["--registry", env.server.url]
    where = ["--campaigns", str(REPO / "campaigns"), "--benefits", str(REPO / "benefits")]
    runner = CliRunner()
    env.advance()
    day = ["--as-of", env.as_of().isoformat(), "--campaign", "garbage-bags"]
    first = runner.invoke(watch_app, ["run", *common, *where, *day])
    assert first.exit_code == 0, first.output
    assert "week 1" in first.output and "garbage-bags (run 1): decided" in first.output
    idle = runner.invoke(watch_app, ["run", *common, *where, *day])
    assert idle.exit_code == 0, idle.output
    assert "no new notifications after week 1" in idle.output
    listed = runner.invoke(watch_app, ["weeks", *common, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [w["week"] for w in json.loads(listed.output)] == [1]
    bad = tmp_path / "bad.xml"
    bad.write_text("<html>502</html>")
    refused = runner.invoke(watch_app, ["run", *common, *where, *day, "--notifications", str(bad)])
    assert refused.exit_code == 2
    assert "cursor not moved" in refused.output


def test_a_baseline_seeded_from_runs_follows_up_as_a_decided_one(env: Env) -> None:
    from entitle.decide.campaign.run import run_campaign
    from entitle.decide.follow_up.seed import seed_from_runs

    chosen = campaigns()
    env.advance()
    seeded, decided = env.context("seeded"), env.context("decided")
    runs = {c.name: run_campaign(seeded, c, env.as_of(), actor="ops").id for c in chosen}
    with pytest.raises(WatchError, match="finished run as of"):
        seed_from_runs(seeded, chosen, runs, date(2020, 1, 1))
    baseline = seed_from_runs(seeded, chosen, runs, env.as_of())
    assert all(c["questions"] == 0 for c in baseline.campaigns.values())  # nothing asked again
    full = run_week(decided, chosen, env.as_of())
    for campaign in chosen:
        assert (
            baseline.campaigns[campaign.name]["decided"] == full.campaigns[campaign.name]["decided"]
        )
        assert _essence(_stored(seeded, campaign.name)) == _essence(_stored(decided, campaign.name))
    with pytest.raises(WatchError, match="baseline already"):
        seed_from_runs(seeded, chosen, runs, env.as_of())
    env.advance()
    weeks = [run_week(ctx, chosen, env.as_of()) for ctx in (seeded, decided)]
    assert weeks[0].week == weeks[1].week == 2
    assert weeks[0].changed_persons == weeks[1].changed_persons > 0
    for campaign in chosen:
        assert _essence(_stored(seeded, campaign.name)) == _essence(_stored(decided, campaign.name))
        assert watch_run.week_changes(seeded, 2, campaign.name) == watch_run.week_changes(
            decided, 2, campaign.name
        )
