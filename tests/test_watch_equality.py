"""Weekly follow-up equals a full run: N weeks of `advance` + re-deciding only the subjects the
week's notifications (and the city's own dataset changes) reach give, for every subject, the
decision a full campaign run makes on week N's registry view."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entitle.decide.campaign.definition import Campaign, load_campaign
from entitle.decide.campaign.sources import RegisterExtract, TableSource, select_target
from entitle.decide.follow_up.redecide import WeekResult, decide_week, full_state
from entitle.decide.follow_up.subjects import FollowUpState, changed_in_dataset
from entitle.registry.advance import advance_city, notifications_path
from entitle.registry.population import load_population
from entitle.registry.synth import read_meta, write_city
from entitle.sources.access import Pseudonymiser

REPO = Path(__file__).resolve().parents[1]
CAMPAIGNS = ("garbage-bags", "school-tariff", "lez")
LOCAL = ("ocmw_clients", "school_enrolments")
PSEUDONYMISE = Pseudonymiser(b"0123456789abcdef-watch-test")


def _campaign(name: str) -> Campaign:
    return load_campaign(REPO / "campaigns" / "ghent" / f"{name}.yaml", REPO / "benefits")


def _as_of(city: Path) -> date:
    return date.fromisoformat(str(read_meta(city)["reference_date"]))


def _decide(
    campaign: Campaign, city: Path, state: FollowUpState | None, changed: set[str]
) -> WeekResult:
    as_of = _as_of(city)
    extract = RegisterExtract.load(city / "registry")
    dataset = None
    if campaign.spec.target.kind == "pupils":
        dataset = pl.read_parquet(city / "local" / "school_enrolments.parquet")
    target = select_target(campaign, extract, as_of, dataset=dataset)
    source = TableSource(*load_population(city, "registry", as_of))
    if state is None:
        return full_state(campaign, as_of, target, source, PSEUDONYMISE)
    return decide_week(campaign, as_of, target, state, changed, source, PSEUDONYMISE)


def _essence(state: FollowUpState) -> dict[str, tuple[object, ...]]:
    return {
        p: (d["outcome"], d["band"], tuple(sorted(d["conditions"].items())))
        for p, d in state.decisions.items()
    }


def _local(city: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(city / "local" / f"{name}.parquet") for name in LOCAL}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=1, max_value=10_000), weeks=st.integers(min_value=1, max_value=4))
def test_weekly_follow_up_equals_a_full_run(
    tmp_path_factory: pytest.TempPathFactory, seed: int, weeks: int
) -> None:
    city = tmp_path_factory.mktemp("city") / "city"
    write_city(1200, seed, city)
    campaigns = [_campaign(name) for name in CAMPAIGNS]
    states = {c.name: _decide(c, city, None, set()).state for c in campaigns}
    for _ in range(weeks):
        before = _local(city)
        (report,) = advance_city(city, 1)
        rows = pl.read_parquet(notifications_path(city, report.week))
        changed = set(rows["person_id"].to_list())
        after = _local(city)
        for name in LOCAL:
            changed |= changed_in_dataset(before[name], after[name])
        for campaign in campaigns:
            result = _decide(campaign, city, states[campaign.name], changed)
            # only a small share of the target is decided again (a full run decides all)
            assert result.stats["subjects"] <= max(20, len(result.state.decisions) // 4)
            states[campaign.name] = result.state
    for campaign in campaigns:
        full = _decide(campaign, city, None, set()).state
        weekly = states[campaign.name]
        assert _essence(weekly) == _essence(full), campaign.name
