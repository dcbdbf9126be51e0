"""Weekly follow-up against a full run, week by week, on a synthetic city that changes.

Generates the city, starts the registry simulator as a separate process, decides the baseline
(`entitle watch run`'s first week), then for each week: moves the city one week forward
(``POST /_admin/advance``), follows it up (`run_week`: notifications → reached subjects →
re-decided through the gateway) and, for comparison, decides every subject again through the same
gateway (what a full campaign run asks). Per week and campaign: MAGDA questions and wall time of
both, and the share; the week's change counts.

Reach over time (garbage bags): every household that becomes truly entitled during the weeks
(its ground-truth decision turns eligible), the days from the truth's change to the week its
follow-up decided it newly eligible (the letter's week) or newly undetermined (an invitation);
median and 95th percentile, and the households never reached, with why (the change still waits in
the registry lag, a grey zone).

    .venv/bin/python bench/watch.py [--persons 270000] [--weeks 12] [--seed 1] [--full-weeks 1,6,12]

``--full-weeks`` decides the full run for comparison on those weeks only (a full run of the
default city takes minutes; its questions hardly move from week to week); the other weeks compare
with the latest full run measured, the baseline (week 0: the first `watch run` decides every
subject through the same gateway, as a full run does) when none was yet.

Targets (issue 18): ≤ 5% of a full run's questions, ≤ 10% of its time; median ≤ 7 days after
the change reaches the registry view; none missed when the registry view is current.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from itertools import pairwise, takewhile
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import psutil
from processes import start_simulator
from rich.console import Console
from rich.table import Table

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign, find_campaign
from entitle.decide.campaign.run import load_target
from entitle.decide.campaign.sources import RegisterExtract, TableSource, select_target
from entitle.decide.follow_up.folders import watch_dir
from entitle.decide.follow_up.redecide import decide_week, full_state
from entitle.decide.follow_up.run import run_week, week_changes
from entitle.decide.follow_up.seed import seed_states
from entitle.decide.follow_up.subjects import FollowUpState
from entitle.registry.advance import events_path
from entitle.registry.population import load_population
from entitle.registry.synth import read_meta, write_city
from entitle.store.db import make_engine, migrate, session_factory

REPO = Path(__file__).resolve().parents[1]
CAMPAIGNS = ("garbage-bags", "school-tariff")
MAGDA = {"default_capacity": "ENTITLE", "sender": "gent.be/entitle", "max_concurrency": 8}
console = Console(width=160)


def as_of(city: Path) -> date:
    return date.fromisoformat(str(read_meta(city)["reference_date"]))


def cpu_seconds(simulator: psutil.Process) -> float:
    """CPU seconds used so far by this process and the simulator (with its workers): a time
    measure the machine's other load does not inflate, unlike the wall clock."""
    used = time.process_time()
    for part in (simulator, *simulator.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = part.cpu_times()
            used += times.user + times.system
    return used


def full_cost(
    ctx: CampaignContext, campaign: Campaign, day: date, sample: int = 0
) -> tuple[int, float]:
    """MAGDA questions and seconds of deciding every subject of the campaign once — or, with
    `sample`, estimated from deciding that many subjects (drawn with a fixed seed) through the
    same gateway: the fixed part (reading the extract, selecting the target, the reach) measured
    once with no subject to decide, the deciding part scaled from the sample to the target."""
    if not sample:
        started = time.perf_counter()
        source = ctx.fact_source()
        try:
            _, target = load_target(ctx, campaign, day, None)
            result = full_state(campaign, day, target, source, ctx.pseudonymiser())
        finally:
            ctx.close_source(source)
        return int(result.stats.get("questions", 0)), time.perf_counter() - started
    pseudonymise = ctx.pseudonymiser()

    def decide(chosen: int) -> tuple[int, float, int]:
        started = time.perf_counter()
        source = ctx.fact_source()
        try:
            _, target = load_target(ctx, campaign, day, None)
            ids = target.subjects["subject_id"].to_list() + list(target.unknown)
            picked = set(random.Random(1).sample(ids, min(chosen, len(ids))))
            # every other subject "decided already": decide_week decides the sample only
            known = {pseudonymise(s): {"outcome": "none"} for s in ids if s not in picked}
            state = FollowUpState(known, {}, set())
            result = decide_week(campaign, day, target, state, set(), source, pseudonymise)
        finally:
            ctx.close_source(source)
        return int(result.stats.get("questions", 0)), time.perf_counter() - started, len(ids)

    _, fixed, _ = decide(0)
    questions, seconds, size = decide(sample)
    scale = size / max(min(sample, size), 1)
    return round(questions * scale), fixed + max(seconds - fixed, 0.0) * scale


def columnar_states(
    city: Path, campaigns: list[Campaign], day: date, ctx: CampaignContext
) -> dict[str, FollowUpState]:
    """Every subject of each campaign decided on the registry view in this process (the
    simulator's tables, no registry question): the follow-up's baseline."""
    source = TableSource(*load_population(city, "registry", day))
    states = {}
    for campaign in campaigns:
        _, target = load_target(ctx, campaign, day, None)
        states[campaign.name] = full_state(campaign, day, target, source, ctx.pseudonymiser()).state
    return states


def members(city: Path) -> pl.DataFrame:
    """Who lives in which household in the truth now (person_id, household_id): a week's
    snapshot, so that a change is put on the household of that week, even when its person died or
    left since."""
    return pl.read_parquet(
        city / "truth" / "persons.parquet", columns=["person_id", "household_id"]
    )


def attribute(events: pl.DataFrame, snapshots: dict[int, pl.DataFrame]) -> pl.DataFrame:
    """The city's events of the weeks after the first snapshot, each with `household_id_truth`:
    the households its person belonged to in its week, before the week's changes (the previous
    week's snapshot: a person who died or left this week) or after them (this week's: a child
    born or a person who moved in this week); a row per household."""
    weeks = sorted(snapshots)
    events = events.filter(pl.col("week") > weeks[0])
    homes = pl.concat(
        snapshots[w]
        .join(events.select("person_id"), on="person_id", how="semi")
        .select(
            pl.lit(week, dtype=pl.Int32).alias("week"),
            "person_id",
            pl.col("household_id").alias("household_id_truth"),
        )
        for previous, week in pairwise(weeks)
        for w in (previous, week)
    ).unique()
    return events.join(homes, on=["week", "person_id"], how="left", maintain_order="left")


def truly_eligible(city: Path, campaign: Campaign, day: date, ctx: CampaignContext) -> set[str]:
    """Household pseudonyms the ground truth makes eligible on `day` (columnar, no registry)."""
    extract = RegisterExtract.load(city / "truth")
    target = select_target(campaign, extract, day)
    source = TableSource(*load_population(city, "truth", day))
    result = full_state(campaign, day, target, source, ctx.pseudonymiser())
    return {p for p, d in result.state.decisions.items() if d["outcome"] == "eligible"}


def reach(
    city: Path,
    ctx: CampaignContext,
    truth: dict[int, set[str]],
    days: dict[int, date],
    snapshots: dict[int, pl.DataFrame],
) -> dict[str, Any]:
    """Days from truth change to the follow-up's week, per newly truly entitled household; each
    week's changes belong to the households of that week (`snapshots`: `members` per week)."""
    pseudonymise = ctx.pseudonymiser()
    events = attribute(pl.read_parquet(events_path(city)), snapshots)
    homes = pl.concat(snapshots.values())["household_id"].unique().to_list()
    household_of = {pseudonymise(h): h for h in homes}
    grey = pl.read_parquet(city / "truth" / "grey_zones.parquet")
    grey_households = set(grey["household_id"].to_list())
    # a letter (newly eligible) or an invitation (newly undetermined: the registry lacks a fact)
    reached_by_week = {
        week: {
            c["subject_pseudonym"]: c["change"]
            for c in week_changes(ctx, week + 1, "garbage-bags")
            if c["change"] in ("new", "undetermined")
        }
        for week in days
    }
    invited = 0
    delays: list[int] = []
    after_registry: list[int] = []
    missed: dict[str, int] = {}
    others: list[str] = []
    weeks = sorted(days)
    for week in weeks[1:]:
        for household in sorted(truth[week] - truth[week - 1]):
            real = household_of.get(household)
            mine = events.filter((pl.col("household_id_truth") == real) & (pl.col("week") == week))
            changed = min(mine["truth_date"].to_list(), default=days[week] - timedelta(days=7))
            letter = next((w for w in weeks if w >= week and household in reached_by_week[w]), None)
            if letter is not None:
                invited += reached_by_week[letter][household] == "undetermined"
                delays.append((days[letter] - changed).days)
                seen = mine.filter(pl.col("applied"))["registry_date"].to_list()
                if seen:  # the change reached the registry view on its latest registry date
                    after_registry.append((days[letter] - max(seen)).days)
                continue
            why = _why_missed(household, week, weeks, truth, days, mine)
            if why == "other" and real in grey_households:
                why = "grey zone"
            if why == "other" and _eligible_before(ctx, household, week):
                why = "eligible in the registry view already (its letter went out before)"
            if why == "other":
                others.append(_story(ctx, household, weeks, mine))
            missed[why] = missed.get(why, 0) + 1
    return {
        "reached": len(delays),
        "of which invited": invited,
        "days from the truth's change": _spread(delays),
        "days from the registry view's change": _spread(after_registry),
        "missed": missed,
        "other, as the follow-up saw them": others,
    }


def _decided(ctx: CampaignContext, week: int) -> dict[str, str]:
    """The follow-up's outcome per garbage-bag household after the bench's `week` (the watch
    folder numbers the baseline as its week 1)."""
    path = watch_dir(ctx) / f"week-{week + 1:04d}" / "garbage-bags" / "decisions.parquet"
    return _outcomes(path) if path.is_file() else {}


@functools.cache
def _outcomes(path: Path) -> dict[str, str]:
    """A stored week's outcomes, read once (a week's folder does not change once written)."""
    frame = pl.read_parquet(path, columns=["subject_pseudonym", "outcome"])
    return dict(zip(frame["subject_pseudonym"], frame["outcome"], strict=True))


def _eligible_before(ctx: CampaignContext, household: str, week: int) -> bool:
    """Whether the registry view had the household eligible already the week before the truth
    made it newly entitled (a truth that ended and came back within the registry lag): its letter
    went out then, and the follow-up rightly sends no second one."""
    return _decided(ctx, week - 1).get(household) == "eligible"


def _story(ctx: CampaignContext, household: str, weeks: list[int], cause: pl.DataFrame) -> str:
    """A missed household's outcome week by week and its changes: enough to look into it."""
    outcomes = " ".join(f"{w}:{_decided(ctx, w).get(household, '-')}" for w in weeks)
    changes = ", ".join(
        f"{row['kind']} truth {row['truth_date']} registry {row['registry_date']}"
        for row in cause.iter_rows(named=True)
    )
    return f"{household}: {outcomes}; changes: {changes or 'none'}"


def _why_missed(
    household: str,
    week: int,
    weeks: list[int],
    truth: dict[int, set[str]],
    days: dict[int, date],
    cause: pl.DataFrame,
) -> str:
    """Why a household newly truly entitled in `week` (its changes of that week: `cause`) got
    nothing: while it stayed entitled, its change still waited in the registry lag every week —
    past the last week, or the entitlement ended before the registry view showed it — or
    "other" (the registry view was current on a week it was entitled: a miss of the follow-up).
    """
    entitled = list(takewhile(lambda w: household in truth[w], weeks[weeks.index(week) :]))
    if all(cause.filter(pl.col("registry_date") > days[w]).height for w in entitled):
        if entitled[-1] == weeks[-1]:
            return "registry lag past the last week"
        return "entitlement ended within the registry lag"
    return "other"


def _spread(values: list[int]) -> dict[str, float | None]:
    ordered = sorted(values)
    if not ordered:
        return {"median": None, "p95": None}
    return {"median": statistics.median(ordered), "p95": ordered[-(-95 * len(ordered) // 100) - 1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=270_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--full-weeks", default="", help="comma-separated weeks to run the full comparison on"
    )
    parser.add_argument(
        "--full-sample",
        type=int,
        default=0,
        help="estimate each full run from this many subjects per campaign (0: decide all)",
    )
    parser.add_argument(
        "--baseline",
        choices=("gateway", "columnar"),
        default="gateway",
        help="the first week through the gateway (a full run), or seeded from a columnar "
        "decision of the registry view in this process (no registry question)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the city, database and letters here (an empty folder) instead of a "
        "temporary folder, to look into a miss afterwards",
    )
    args = parser.parse_args()
    full_weeks = (
        {int(w) for w in args.full_weeks.split(",")}
        if args.full_weeks
        else set(range(1, args.weeks + 1))
    )
    campaigns = [find_campaign(n, REPO / "campaigns", REPO / "benefits") for n in CAMPAIGNS]
    with contextlib.ExitStack() as stack:
        root = args.workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="entitle-watch-"))
        )
        city = root / "city"
        started = time.perf_counter()
        write_city(args.persons, args.seed, city)
        console.print(f"city of {args.persons:,} persons in {time.perf_counter() - started:.0f} s")
        process, url = start_simulator(city, root, timeout=600)  # a big city loads slowly
        try:
            database = f"sqlite:///{root / 'entitle.db'}"
            migrate(database)
            ctx = CampaignContext(
                factory=session_factory(make_engine(database)),
                register=city / "registry",
                state_dir=root / "state",
                output_dir=root / "out",
                registry=url,
                magda_overrides=dict(MAGDA),
            )
            simulator = psutil.Process(process.pid)
            days = {0: as_of(city)}
            snapshots = {0: members(city)}
            truth = {0: truly_eligible(city, campaigns[0], days[0], ctx)}
            spent = cpu_seconds(simulator)
            if args.baseline == "columnar":
                baseline = seed_states(
                    ctx, campaigns, columnar_states(city, campaigns, days[0], ctx), days[0]
                )
            else:
                baseline = run_week(ctx, campaigns, days[0])
            # CPU seconds of a full run of both campaigns, and the week it was measured
            full_cpu = (cpu_seconds(simulator) - spent, 0)
            console.print(f"baseline: {baseline.campaigns}; load {os.getloadavg()[0]:.1f}")
            latest_full = {  # campaign → (questions, seconds, the week it was measured)
                name: (int(figures["questions"]), float(figures["seconds"]), 0)
                for name, figures in baseline.campaigns.items()
            }
            if args.baseline == "columnar" or args.full_sample:  # the full run of week 0
                spent = cpu_seconds(simulator)
                for campaign in campaigns:
                    questions, seconds = full_cost(ctx, campaign, days[0], args.full_sample)
                    latest_full[campaign.name] = (questions, seconds, 0)
                    console.print(
                        f"full run of week 0, {campaign.name}: {questions:,} q, {seconds:.1f} s"
                        f"{' (estimated from a sample)' if args.full_sample else ''}; "
                        f"load {os.getloadavg()[0]:.1f}"
                    )
                full_cpu = (cpu_seconds(simulator) - spent, 0)
            table = Table(title=f"watch vs full run, {args.persons:,} persons")
            for column in (
                "week",
                "notif.",
                "persons",
                "campaign",
                "decided",
                "new/chg/end",
                "questions watch/full",
                "share",
                "seconds watch/full",
                "share",
            ):
                table.add_column(column, justify="right")
            shares: list[tuple[float, float]] = []
            cpu_table = Table(title="CPU seconds (this process and the simulator), both campaigns")
            for column in ("week", "watch", "full run", "of week", "share", "load"):
                cpu_table.add_column(column, justify="right")
            cpu_shares: list[float] = []
            for week in range(1, args.weeks + 1):
                moved = httpx.post(f"{url}/_admin/advance", json={"weeks": 1}, timeout=600)
                moved.raise_for_status()
                days[week] = as_of(city)
                snapshots[week] = members(city)
                spent = cpu_seconds(simulator)
                summary = run_week(ctx, campaigns, days[week])
                watch_cpu = cpu_seconds(simulator) - spent
                truth[week] = truly_eligible(city, campaigns[0], days[week], ctx)
                cpu_of_full: dict[str, float] = {}
                for campaign in campaigns:
                    figures = summary.campaigns[campaign.name]
                    if week in full_weeks:
                        spent = cpu_seconds(simulator)
                        questions, seconds = full_cost(ctx, campaign, days[week], args.full_sample)
                        latest_full[campaign.name] = (questions, seconds, week)
                        cpu_of_full[campaign.name] = cpu_seconds(simulator) - spent
                    questions, seconds, measured = latest_full[campaign.name]
                    q_share = figures["questions"] / max(questions, 1)
                    t_share = figures["seconds"] / max(seconds, 1e-9)
                    shares.append((q_share, t_share))
                    full = f"{questions:,} q, {seconds:.1f} s (full run of week {measured})"
                    q_cell = f"{figures['questions']:,}/{questions:,}"
                    t_cell = f"{figures['seconds']:.1f}/{seconds:.1f}"
                    q_pct, t_pct = f"{q_share:.1%}", f"{t_share:.1%}"
                    console.print(  # as it goes: a big city's week takes minutes
                        f"week {week} {campaign.name}: notifications {summary.notifications}, "
                        f"persons {summary.changed_persons}, decided {figures['decided']}, "
                        f"new/chg/end {figures['new']}/{figures['changed']}/{figures['ended']}, "
                        f"watch {figures['questions']:,} q, {figures['seconds']:.1f} s; "
                        f"full {full}; load {os.getloadavg()[0]:.1f}"
                    )
                    table.add_row(
                        str(week),
                        str(summary.notifications),
                        str(summary.changed_persons),
                        campaign.name,
                        str(figures["decided"]),
                        f"{figures['new']}/{figures['changed']}/{figures['ended']}",
                        q_cell,
                        q_pct,
                        t_cell,
                        t_pct,
                    )
                if cpu_of_full:
                    full_cpu = (sum(cpu_of_full.values()), week)
                cpu_shares.append(watch_cpu / max(full_cpu[0], 1e-9))
                cpu_table.add_row(
                    str(week),
                    f"{watch_cpu:.1f}",
                    f"{full_cpu[0]:.1f}",
                    str(full_cpu[1]),
                    f"{cpu_shares[-1]:.1%}",
                    f"{os.getloadavg()[0]:.1f}",
                )
                console.print(
                    f"week {week} CPU: watch {watch_cpu:.1f} s, full run of week {full_cpu[1]} "
                    f"{full_cpu[0]:.1f} s ({cpu_shares[-1]:.1%})"
                )
                # as it goes too: the reach so far, should a big city's run be cut short
                so_far = reach(city, ctx, truth, days, snapshots)
                console.print(f"reach after week {week}: {so_far}")
            console.print(table)
            console.print(cpu_table)
            console.print(
                f"mean share: questions {statistics.mean(q for q, _ in shares):.1%}, "
                f"wall time {statistics.mean(t for _, t in shares):.1%}, "
                f"CPU time {statistics.mean(cpu_shares):.1%}"
            )
            console.print(f"reach (garbage bags): {reach(city, ctx, truth, days, snapshots)}")
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
