"""The city's clock: `entitle registry advance` moves truth and registry view week by week."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from entitle.registry.advance import AdvanceError, advance_city, events_path, notifications_path
from entitle.registry.advance_rates import RATES, wave_share, weekly
from entitle.registry.population import load_population
from entitle.registry.server_cli import registry_app
from entitle.registry.synth import write_city

PERSONS = 2500


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fresh") / "city"
    write_city(PERSONS, 5, folder)
    return folder


def _copy(source: Path, target: Path) -> Path:
    for path in source.rglob("*"):
        if path.is_file():
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(path.read_bytes())
    return target


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_same_weeks_give_the_same_city_in_one_call_or_week_by_week(
    city: Path, tmp_path: Path
) -> None:
    at_once = _copy(city, tmp_path / "once")
    by_week = _copy(city, tmp_path / "weekly")
    advance_city(at_once, 3)
    for _ in range(3):
        advance_city(by_week, 1)
    assert _digest(at_once) == _digest(by_week)
    meta = json.loads((at_once / "meta.json").read_text())
    assert meta["week"] == 3
    assert date.fromisoformat(meta["reference_date"]) == date(2026, 3, 1) + timedelta(days=21)


def test_truth_moves_now_and_the_registry_after_its_lag(city: Path, tmp_path: Path) -> None:
    folder = _copy(city, tmp_path / "city")
    reports = advance_city(folder, 4)
    assert sum(sum(r.events.values()) for r in reports) > 0
    events = pl.read_parquet(events_path(folder))
    reference = reports[-1].reference_date
    truth = set(pl.read_parquet(folder / "truth/persons.parquet")["person_id"].to_list())
    registry = set(pl.read_parquet(folder / "registry/persons.parquet")["person_id"].to_list())
    for row in events.iter_rows(named=True):
        assert row["truth_date"] <= row["registry_date"]
        assert row["applied"] == (row["registry_date"] <= reference) or row["kind"].startswith(
            "guidance"
        )
        if row["kind"] in ("birth", "arrival"):
            assert row["person_id"] in truth
            assert (row["person_id"] in registry) == row["applied"]
        if row["kind"] == "death":
            assert row["person_id"] not in truth
            assert (row["person_id"] not in registry) == row["applied"]
    # the engines read both views on the new date
    persons, households = load_population(folder, "registry")
    assert persons.height == len(registry)
    assert households["household_id"].n_unique() == households.height
    sizes = pl.read_parquet(folder / "registry/households.parquet")
    counted = persons.group_by("household_id").len()
    joined = sizes.join(counted, on="household_id")
    assert (joined["size"] == joined["len"]).all()
    assert sizes.height == joined.height  # no empty household stays


def test_every_applied_registry_change_is_notified_without_its_data(
    city: Path, tmp_path: Path
) -> None:
    folder = _copy(city, tmp_path / "city")
    reports = advance_city(folder, 2)
    events = pl.read_parquet(events_path(folder)).filter(pl.col("applied"))
    notified: set[str] = set()
    for report in reports:
        rows = pl.read_parquet(notifications_path(folder, report.week))
        assert rows.height == report.notifications
        assert set(rows.columns) == {
            "feed",
            "source",
            "person_id",
            "notification_type",
            "information",
            "mutation",
            "day",
        }
        notified |= set(rows["person_id"].to_list())
    registry = pl.read_parquet(folder / "registry/persons.parquet")
    integrated = set(registry.filter(pl.col("integrated_ksz"))["person_id"].to_list())
    for row in events.iter_rows(named=True):
        if row["kind"].startswith("guidance"):
            continue  # the city's own data: no MAGDA notification
        statuses = ("vt_granted", "vt_ended", "leefloon_started", "leefloon_stopped")
        if row["kind"] in statuses and row["person_id"] not in integrated:
            continue
        if row["kind"] == "tax_assessed" or row["week"] == 0:
            continue
        assert row["person_id"] in notified, row["kind"]


def test_local_datasets_change_at_once(city: Path, tmp_path: Path) -> None:
    folder = _copy(city, tmp_path / "city")
    advance_city(folder, 8)
    events = pl.read_parquet(events_path(folder))
    clients = pl.read_parquet(folder / "local/ocmw_clients.parquet")
    flags = {
        "guidance": set(clients.filter(pl.col("budget_guidance"))["person_id"].to_list()),
        "leefloon": set(clients.filter(pl.col("leefloon_or_equivalent"))["person_id"].to_list()),
    }
    local = events.filter(pl.col("kind").str.contains("^(guidance|leefloon)_"))
    assert local.height > 0
    what = pl.col("kind").str.split("_").list.first().alias("what")
    last = local.sort("event").group_by("person_id", what)
    for person, what, kind in last.agg(pl.col("kind").last()).iter_rows():
        if events.filter((pl.col("person_id") == person) & (pl.col("kind") == "death")).height:
            continue
        assert (person in flags[what]) == kind.endswith("started"), (what, kind)


def test_rates_and_the_assessment_wave() -> None:
    for rate in RATES:
        chance = weekly(rate.per_year)
        assert 0 < chance < rate.per_year
        assert abs((1 - chance) ** 52.18 - (1 - min(rate.per_year, 0.999))) < 1e-9
    assert wave_share(date(2026, 6, 30), 2025) == 0
    main = [wave_share(date(2026, 7, 1) + timedelta(weeks=w), 2025) for w in range(13)]
    assert all(0 < share <= 1 for share in main)
    left = 1.0
    for share in main:
        left *= 1 - share
    assert left == pytest.approx(0.15, abs=0.01)  # 85% in the main wave


def test_cli_advance_and_its_errors(city: Path, tmp_path: Path) -> None:
    folder = _copy(city, tmp_path / "city")
    runner = CliRunner()
    done = runner.invoke(registry_app, ["advance", "--data", str(folder), "--weeks", "2"])
    assert done.exit_code == 0, done.output
    assert "week 2 (to 2026-03-15)" in done.output
    bad = runner.invoke(registry_app, ["advance", "--data", str(folder), "--weeks", "0"])
    assert bad.exit_code == 2
    assert "--weeks must be between 1 and" in bad.output
    missing = runner.invoke(registry_app, ["advance", "--data", str(tmp_path / "none")])
    assert missing.exit_code == 2
    assert "holds no complete synthetic city" in missing.output
    with pytest.raises(AdvanceError):
        advance_city(folder, 10_000)


def test_the_report_states_the_rates_and_what_the_history_shows(city: Path, tmp_path: Path) -> None:
    from entitle.registry.report import summarize

    folder = _copy(city, tmp_path / "city")
    fresh = [r for r in summarize(folder).rows if r.section.startswith("changes a year")]
    assert [r.synthetic for r in fresh] == [rate.per_year for rate in RATES]
    assert all(r.truth is None for r in fresh)
    advance_city(folder, 4)
    seen = {r.label: r for r in summarize(folder).rows if r.section.startswith("changes a year")}
    events = pl.read_parquet(events_path(folder)).filter(pl.col("week") > 0)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["persons"] == PERSONS  # the generation's parameter still identifies the city
    persons = meta["rows"]["truth/persons.parquet"]
    births = events.filter(pl.col("kind") == "birth").height
    assert seen["birth per person"].truth == pytest.approx(births * 52.18 / 4 / persons)


# The content of the module's city (2,500 persons, seed 5) after 19 weeks: every table, the
# history and the notifications, as CSV text (independent of parquet's bytes). It pins the
# simulator's output so that a refactoring provably changes nothing; a change of the simulator's
# behaviour on purpose (rates, lags, a new kind of event) updates it.
PINNED_WEEKS = 19
PINNED_CONTENT = "1e37c064ba89f71cd88547247a858944ab3dd607cacae12155eaaab8b5f35a06"  # generator 3


def _content(folder: Path) -> str:
    digests = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".parquet":
                data = pl.read_parquet(path).write_csv().encode()
            digests[path.relative_to(folder).as_posix()] = hashlib.sha256(data).hexdigest()
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def test_weeks_of_a_seed_give_the_pinned_city(city: Path, tmp_path: Path) -> None:
    folder = _copy(city, tmp_path / "city")
    advance_city(folder, PINNED_WEEKS)
    events = pl.read_parquet(events_path(folder)).filter(pl.col("applied"))
    kinds = set(events["kind"].to_list())  # the pin covers every kind of change…
    assert kinds >= {rate.kind for rate in RATES} | {"tax_assessed"}, kinds
    assert date.fromisoformat(json.loads((folder / "meta.json").read_text())["reference_date"]) > (
        date(2026, 7, 1)  # …and the yearly assessment wave
    )
    assert _content(folder) == PINNED_CONTENT


_DOC_KINDS = {  # the first words of a row of docs/synthetic-city.md's table → its kinds
    "birth": ("birth",),
    "death": ("death",),
    "arrival": ("arrival",),
    "departure": ("departure",),
    "split": ("split",),
    "unregistered cohabitant registers": ("registers",),
    "increased allowance granted / ended": ("vt_granted", "vt_ended"),
    "leefloon started / stopped": ("leefloon_started", "leefloon_stopped"),
    "OCMW budget guidance started / stopped": ("guidance_started", "guidance_stopped"),
    "disability parking card issued": ("parking_card",),
}


def test_the_documented_rates_and_lags_are_the_simulators() -> None:
    from entitle.registry.advance_rates import LAGS, RATE_BY_KIND

    page = (Path(__file__).resolve().parents[1] / "docs" / "synthetic-city.md").read_text()
    section = page.split("## A city that changes", 1)[1].split("\n## ", 1)[0]
    documented: set[str] = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        label = cells[0].split(" (")[0]
        if len(cells) != 4 or label not in _DOC_KINDS:
            continue
        kinds = _DOC_KINDS[label]
        rates = cells[1].split(" / ")
        assert len(rates) == len(kinds), line
        for kind, text in zip(kinds, rates, strict=True):
            number = text.rstrip("%")
            decimals = len(number.partition(".")[2])
            assert abs(RATE_BY_KIND[kind].per_year * 100 - float(number)) <= 0.5 * 10**-decimals
            low, high = LAGS.get(kind, (0, 0))
            assert (cells[3] == f"{low}-{high}") == (high > 0), (kind, cells[3])
            documented.add(kind)
    assert documented == set(RATE_BY_KIND)
