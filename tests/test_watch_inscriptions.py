"""Weekly follow-up when KSZ data needs an inscription (the simulator with
--require-inscriptions): each week inscribes the persons who entered a campaign's target before
deciding them, and the simulator notifies a consumer only about the persons it inscribed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from test_registry_server import running_server
from test_watch_run import MAGDA, REPO, Env

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import find_campaign
from entitle.decide.campaign.run import load_target
from entitle.decide.follow_up import run as watch_run
from entitle.decide.follow_up.redecide import full_state
from entitle.decide.follow_up.run import fetch_batches, run_week, watch_dir
from entitle.registry.advance import notifications_path
from entitle.registry.synth import write_city


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    city = tmp_path / "city"
    write_city(1500, 21, city)
    with running_server(city, tmp_path / "server.log", "--require-inscriptions") as server:
        yield Env(city, server, tmp_path)


def strict(env: Env, name: str, today: date, **magda: Any) -> CampaignContext:
    ctx = env.context(name)
    ctx.magda_overrides = {**MAGDA, "require_inscriptions": True, **magda}
    ctx.today = lambda: today  # the sync's "today": fixed, never the clock's
    return ctx


def inscribed(env: Env, consumer: str) -> set[str]:
    listed = httpx.get(env.server.url + "/_admin/repertory").json()["inscriptions"]
    return {row["insz"] for row in listed if row["consumer"] == consumer}


def test_each_week_inscribes_the_newcomers_and_is_notified_only_about_the_inscribed(
    env: Env,
) -> None:
    bags = find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")
    env.advance()
    ctx = strict(env, "strict", env.as_of())
    baseline = run_week(ctx, [bags], env.as_of())
    _, target = load_target(ctx, bags, env.as_of(), None)
    members = {str(p) for p in target.persons["person_id"].to_list()}
    assert baseline.campaigns[bags.name]["inscribed"] == len(members)
    assert inscribed(env, MAGDA["sender"]) == members

    # another consumer, who inscribed nobody, is told about nobody
    other = strict(env, "other", env.as_of(), sender="elders.be/other")
    for _ in range(6):
        env.advance()
        published = pl.read_parquet(notifications_path(env.city, _week(ctx) + 1))
        told = {n.insz for b in fetch_batches(other, {}) for n in b.notifications}
        assert published.height and told == set()
        mine = {n.insz for b in fetch_batches(ctx, _cursor(ctx)) for n in b.notifications}
        assert mine and mine <= inscribed(env, MAGDA["sender"])
        week = run_week(ctx, [bags], env.as_of())
        _, target = load_target(ctx, bags, env.as_of(), None)
        members = {str(p) for p in target.persons["person_id"].to_list()}
        assert inscribed(env, MAGDA["sender"]) == members  # newcomers in, leavers out
        if week.campaigns[bags.name]["inscribed"]:
            break
    else:
        raise AssertionError("six weeks without a person entering the target")

    # the newcomers were decided on their KSZ data: as a full decision on the week's view
    source = ctx.fact_source()
    try:
        full = full_state(bags, env.as_of(), target, source, ctx.pseudonymiser())
    finally:
        ctx.close_source(source)
    stored = _stored(ctx, bags.name)
    assert stored == {p: d["outcome"] for p, d in full.state.decisions.items()}


def _week(ctx: CampaignContext) -> int:
    return int(json.loads((watch_dir(ctx) / "state.json").read_text())["week"])


def _cursor(ctx: CampaignContext) -> dict[str, str | None]:
    return dict(json.loads((watch_dir(ctx) / "state.json").read_text())["cursor"])


def _stored(ctx: CampaignContext, name: str) -> dict[str, str]:
    state = json.loads((watch_dir(ctx) / "state.json").read_text())
    decisions = watch_run._load_follow_up(watch_dir(ctx) / state["current"] / name).decisions
    return {p: d["outcome"] for p, d in decisions.items()}
