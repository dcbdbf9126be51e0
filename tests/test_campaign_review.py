"""Campaign runs decided from tables (no simulator): review, idempotent issuing, the diff with
the previous run, resuming, the schedule, the definitions and the what-if.

The facts come from the registry view of a small synthetic city through `TableSource`; the
register extract is the city's registry folder (or a changed copy of it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select

from entitle.decide.campaign import (
    CampaignContext,
    approve_run,
    due_runs,
    issue_run,
    reject_run,
    render_letter,
    run_campaign,
    run_due,
    run_figures,
    simulate,
)
from entitle.decide.campaign.definition import (
    Campaign,
    CampaignError,
    Schedule,
    find_campaign,
    load_campaign,
    load_campaigns,
)
from entitle.decide.campaign.figures import letter_outputs
from entitle.decide.campaign.sources import TableSource
from entitle.registry.population import load_population
from entitle.registry.synth import write_city
from entitle.store import audit
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError
from entitle.store.db import make_engine, migrate, session_factory
from entitle.store.models import CampaignLetter

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 3, 1)


@dataclass
class City:
    path: Path
    persons: pl.DataFrame
    households: pl.DataFrame


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    folder = tmp_path_factory.mktemp("review") / "city"
    write_city(3000, 11, folder)
    persons, households = load_population(folder, "registry", as_of=AS_OF)
    return City(folder, persons, households)


def context(
    tmp_path: Path,
    city: City,
    *,
    persons: pl.DataFrame | None = None,
    register: Path | None = None,
    name: str = "db",
) -> CampaignContext:
    url = f"sqlite:///{tmp_path / f'{name}.db'}"
    migrate(url)
    return CampaignContext(
        factory=session_factory(make_engine(url)),
        register=register or city.path / "registry",
        state_dir=tmp_path / "state",
        output_dir=tmp_path / "out",
        local=str(city.path / "local"),
        source=TableSource(city.persons if persons is None else persons, city.households),
        today=lambda: AS_OF,  # approved and issued on the reference date, whatever the clock
    )


def bags() -> Campaign:
    return find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")


def approve_and_issue(ctx: CampaignContext, campaign: Campaign, run_id: int) -> Any:
    with ctx.factory() as session:
        approve_run(session, campaign, run_id, actor="alice", today=AS_OF)
        session.commit()
    return issue_run(ctx, campaign, run_id, actor="alice")


def letter_rows(ctx: CampaignContext) -> int:
    with ctx.factory() as session:
        return int(session.scalar(select(func.count()).select_from(CampaignLetter)) or 0)


def by_subject(ctx: CampaignContext, run_id: int) -> dict[str, Any]:
    with ctx.factory() as session:
        return {row.subject_pseudonym: row for row in store.decision_rows(session, run_id)}


# --------------------------------------------------------------------------- review


def test_nothing_is_issued_before_approval_and_a_rejected_run_issues_nothing(
    tmp_path: Path, city: City
) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    first = run_campaign(ctx, campaign, AS_OF, chunk_size=400)
    assert first.status == "draft" and (first.summary or {})["letters_due"]["coupon"] > 0
    with pytest.raises(CampaignStateError):
        issue_run(ctx, campaign, first.id, actor="alice")
    assert letter_rows(ctx) == 0 and not ctx.output_dir.exists()
    with ctx.factory() as session:
        rejected = reject_run(session, campaign, first.id, actor="bob", note="wrong date")
        session.commit()
    assert rejected.status == "rejected"
    with ctx.factory() as session, pytest.raises(CampaignStateError):
        approve_run(session, campaign, first.id, actor="alice", today=AS_OF)
    with pytest.raises(CampaignStateError):
        issue_run(ctx, campaign, first.id, actor="alice")
    assert letter_rows(ctx) == 0

    second = run_campaign(ctx, campaign, AS_OF, chunk_size=400)
    assert second.previous_run_id is None  # a rejected run is no baseline
    result = approve_and_issue(ctx, campaign, second.id)
    assert result.run.status == "issued" and result.new_letters == letter_rows(ctx) > 0
    assert (ctx.output_dir / "garbage-bags" / f"run-{second.id}" / "letters.pdf").exists()
    with ctx.factory() as session:
        entries = audit.search(session, kind="admin", limit=50)
        exports = audit.search(session, kind="export", limit=50)
        report = audit.verify(session)
    outcomes = [(e["actor"], e["outcome"], e["details"]["run"]) for e in entries]
    assert ("bob", "campaign_reject", first.id) in outcomes
    assert ("alice", "campaign_approve", second.id) in outcomes
    assert [e["outcome"] for e in exports] == ["campaign_issued"]
    assert report.ok


def test_four_eyes_needs_two_different_campaign_managers(tmp_path: Path, city: City) -> None:
    text = (REPO / "campaigns" / "ghent" / "garbage-bags.yaml").read_text(encoding="utf-8")
    path = tmp_path / "four-eyes.yaml"
    path.write_text(text.replace("approvals: 1 ", "approvals: 2 "), encoding="utf-8")
    campaign = load_campaign(path, REPO / "benefits")
    assert campaign.approvals_required == 2
    ctx = context(tmp_path, city)
    run = run_campaign(ctx, campaign, AS_OF, chunk_size=1000)
    with ctx.factory() as session:
        once = approve_run(session, campaign, run.id, actor="alice", today=AS_OF)
        session.commit()
    assert once.status == "draft" and once.approvals == ("alice",)
    with ctx.factory() as session, pytest.raises(CampaignStateError):
        approve_run(session, campaign, run.id, actor="alice", today=AS_OF)
    with pytest.raises(CampaignStateError):
        issue_run(ctx, campaign, run.id, actor="alice")
    with ctx.factory() as session:
        twice = approve_run(
            session, campaign, run.id, actor="bob", note="checked the sample", today=AS_OF
        )
        session.commit()
    assert twice.status == "approved" and twice.approvals == ("alice", "bob")


# --------------------------------------------------------------------------- idempotent issuing


def test_running_twice_issues_no_second_letter(tmp_path: Path, city: City) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    first = run_campaign(ctx, campaign, AS_OF, chunk_size=500)
    issued = approve_and_issue(ctx, campaign, first.id)
    count = letter_rows(ctx)
    assert count == issued.new_letters > 0
    pdf = issued.files[0]
    printed = pdf.read_bytes()

    again = issue_run(ctx, campaign, first.id, actor="alice")  # a retry after a crash
    assert again.new_letters == 0 and letter_rows(ctx) == count
    assert pdf.read_bytes() == printed

    second = run_campaign(ctx, campaign, AS_OF, chunk_size=500)
    summary = second.summary or {}
    assert second.previous_run_id == first.id
    assert summary["changes"]["new"] == 0
    assert summary["changes"]["continued"] == summary["outcomes"]["eligible"]
    assert summary["letters_due"] == {"coupon": 0, "invitation": 0}
    result = approve_and_issue(ctx, campaign, second.id)
    assert result.new_letters == 0 and result.letters == {} and letter_rows(ctx) == count
    assert result.pages == 0


def test_letters_can_be_shown_one_by_one(tmp_path: Path, city: City) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    run = run_campaign(ctx, campaign, AS_OF, chunk_size=1000)
    approve_and_issue(ctx, campaign, run.id)
    pdf = render_letter(ctx, campaign, run.id, 1)
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    with pytest.raises(KeyError):
        render_letter(ctx, campaign, run.id, 10**6)
    from test_letters import pdf_pages

    (tmp_path / "one.pdf").write_bytes(pdf)
    text = pdf_pages(tmp_path / "one.pdf")[0]
    # the reference finds the letter again; no English campaign name on a Dutch letter
    assert f"Kenmerk: {run.id}/1 (" in text and "garbage-bags" not in text
    # the same letter as in the merged PDF (its first page)
    merged = pdf_pages(ctx.output_dir / "garbage-bags" / f"run-{run.id}" / "letters.pdf")
    assert merged[0].split("Kenmerk")[0] == text.split("Kenmerk")[0]
    assert render_letter(ctx, campaign, run.id, 1) == pdf  # again: the same letter


# --------------------------------------------------------------------------- the diff


def test_ended_changed_and_new_against_the_previous_run(tmp_path: Path, city: City) -> None:
    campaign = bags()
    ctx = context(tmp_path, city)
    first = run_campaign(ctx, campaign, AS_OF, chunk_size=500)
    approve_and_issue(ctx, campaign, first.id)
    before = by_subject(ctx, first.id)
    pseudonymise = ctx.pseudonymiser()

    persons = city.persons
    members = persons.group_by("household_id", maintain_order=True).agg(
        pl.col("person_id"),
        pl.col("increased_allowance").sum().alias("vt"),
        pl.col("ocmw_budget_guidance").any().alias("guided"),
        pl.len().alias("size"),
    )
    eligible = {s for s, row in before.items() if row.outcome == "eligible"}
    candidates = [
        row
        for row in members.iter_rows(named=True)
        if pseudonymise(row["household_id"]) in eligible and not row["guided"]
    ]
    ends = next(r for r in candidates if r["vt"] >= 1)  # its allowance ends
    # one member fewer moves the household to a lower amount band (4 and 5 share a band)
    shrinks = next(
        r for r in candidates if r["vt"] >= 2 and r["size"] in (2, 3, 4, 6) and r is not ends
    )
    leaves = next(r for r in candidates if r not in (ends, shrinks))  # moves out of the city
    not_eligible = next(
        row
        for row in members.iter_rows(named=True)
        if before[pseudonymise(row["household_id"])].outcome == "not_eligible" and row["size"] == 1
    )

    # the registries now say: no allowance for `ends`; the allowance for `not_eligible`
    changed = persons.with_columns(
        pl.when(pl.col("person_id").is_in(ends["person_id"]))
        .then(False)
        .when(pl.col("person_id").is_in(not_eligible["person_id"]))
        .then(True)
        .otherwise(pl.col("increased_allowance"))
        .alias("increased_allowance")
    )
    # the register extract: one member of `shrinks` left, `leaves` is gone
    register = tmp_path / "register"
    register.mkdir()
    gone = shrinks["person_id"][-1]
    reg_persons = pl.read_parquet(city.path / "registry" / "persons.parquet")
    reg_households = pl.read_parquet(city.path / "registry" / "households.parquet")
    reg_persons.filter(
        (pl.col("person_id") != gone) & (pl.col("household_id") != leaves["household_id"])
    ).write_parquet(register / "persons.parquet")
    reg_households.filter(pl.col("household_id") != leaves["household_id"]).write_parquet(
        register / "households.parquet"
    )
    removed = persons.filter(pl.col("person_id") != gone)
    still_vt = removed.filter(pl.col("household_id") == shrinks["household_id"])[
        "increased_allowance"
    ].any()
    assert still_vt

    later = context(tmp_path, city, persons=changed, register=register, name="db")
    second = run_campaign(later, campaign, AS_OF, chunk_size=500)
    after = by_subject(later, second.id)
    summary = second.summary or {}

    row = after[pseudonymise(ends["household_id"])]
    assert (row.outcome, row.change) == ("not_eligible", "ended")
    assert row.previous_band == before[pseudonymise(ends["household_id"])].band
    row = after[pseudonymise(leaves["household_id"])]
    assert (row.outcome, row.change) == ("absent", "ended")
    row = after[pseudonymise(shrinks["household_id"])]
    assert row.outcome == "eligible" and row.change == "changed"
    assert float(row.band) < float(row.previous_band)
    row = after[pseudonymise(not_eligible["household_id"])]
    assert (row.outcome, row.change) == ("eligible", "new")
    assert summary["changes"]["ended"] == 2 and summary["changes"]["new"] == 1
    assert summary["changes"]["changed"] >= 1
    assert summary["letters_due"]["coupon"] == 1  # only the new one: the others had theirs

    with later.factory() as session:
        figures = run_figures(session, second.id)
    assert figures.sample_changes is not None
    ended = {d["subject"] for d in figures.sample_changes["ended"]}
    assert pseudonymise(ends["household_id"]) in ended

    # the notifications: one record per new, changed and ended household, made on issuing
    notices = ctx.output_dir / "garbage-bags" / f"run-{second.id}" / "notifications.jsonl"
    assert not notices.exists()  # a draft issues nothing
    issued = approve_and_issue(later, campaign, second.id)
    assert notices in issued.files
    records = {r["reference"]: r for r in map(json.loads, notices.read_text().splitlines())}
    outputs = issued.run.outputs or {}
    assert outputs["notifications"] == len(records)
    assert outputs["notifications_not_in_register"] == 1  # `leaves` is no longer registered
    assert leaves["household_id"] not in records
    assert len(records) == summary["changes"]["new"] + summary["changes"]["changed"] + 1
    codes = {(c.subject_pseudonym, c.code) for c in letters_of(later)}
    got = records[ends["household_id"]]
    assert (got["change"], got["outcome"], got["coupon"], got["valid_until"]) == (
        "ended",
        "not_eligible",
        None,
        None,
    )
    for household, change in ((not_eligible, "new"), (shrinks, "changed")):
        got = records[household["household_id"]]
        pseudonym = pseudonymise(household["household_id"])
        assert (got["change"], got["outcome"]) == (change, "eligible")
        assert (pseudonym, got["coupon"]) in codes  # the period's coupon (new: just issued)
        assert got["valid_until"] == after[pseudonym].valid_until.isoformat()
        assert got["person"] == household_reference(city, household["household_id"])
        assert got["languages"] == ["nl", "en"] and got["run"] == second.id
    for record in records.values():  # who, what changed, the coupon: nothing else
        assert set(record) == NOTIFICATION_FIELDS
    printed = notices.read_bytes()
    again = issue_run(later, campaign, second.id, actor="alice")
    assert again.new_letters == 0 and notices.read_bytes() == printed


NOTIFICATION_FIELDS = {
    "id",
    "campaign",
    "period",
    "run",
    "reference",
    "person",
    "change",
    "outcome",
    "coupon",
    "valid_until",
    "languages",
}


def letters_of(ctx: CampaignContext) -> list[CampaignLetter]:
    with ctx.factory() as session:
        return list(session.scalars(select(CampaignLetter)))


def household_reference(city: City, household: str) -> str:
    households = pl.read_parquet(city.path / "registry" / "households.parquet")
    row = households.filter(pl.col("household_id") == household).row(0, named=True)
    return str(row["reference_person_id"])


def test_the_first_run_notifies_every_new_household_once(tmp_path: Path, city: City) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    run = run_campaign(ctx, campaign, AS_OF, chunk_size=1000)
    result = approve_and_issue(ctx, campaign, run.id)
    path = ctx.output_dir / "garbage-bags" / f"run-{run.id}" / "notifications.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    eligible = (run.summary or {})["outcomes"]["eligible"]
    assert len(records) == eligible == (result.run.outputs or {})["notifications"]
    assert {r["change"] for r in records} == {"new"}
    assert len({r["id"] for r in records}) == len({r["reference"] for r in records}) == eligible
    coupons = {c.code for c in letters_of(ctx) if c.kind == "coupon"}
    assert {r["coupon"] for r in records} == coupons
    # the same run again: no second letter, and the same notification file
    second = run_campaign(ctx, campaign, AS_OF, chunk_size=1000)
    approve_and_issue(ctx, campaign, second.id)
    path = ctx.output_dir / "garbage-bags" / f"run-{second.id}" / "notifications.jsonl"
    assert path.read_text(encoding="utf-8") == ""  # nothing changed: nobody to notify


def test_a_draft_made_before_another_run_was_approved_cannot_be_approved(
    tmp_path: Path, city: City
) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    first = run_campaign(ctx, campaign, AS_OF, chunk_size=1000)
    with ctx.factory() as session:
        reject_run(session, campaign, first.id, actor="bob", note="later")
        session.commit()
    older = run_campaign(ctx, campaign, AS_OF, chunk_size=1000)
    newer = run_campaign(ctx, campaign, AS_OF, chunk_size=1000)
    assert older.previous_run_id is None and newer.previous_run_id is None
    approve_and_issue(ctx, campaign, newer.id)
    with ctx.factory() as session, pytest.raises(CampaignStateError, match="out of date"):
        approve_run(session, campaign, older.id, actor="alice", today=AS_OF)
    with ctx.factory() as session:  # it can still be rejected
        assert reject_run(session, campaign, older.id, actor="alice").status == "rejected"


def test_issuing_removes_what_a_killed_writer_left_behind(tmp_path: Path, city: City) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    run = run_campaign(ctx, campaign, AS_OF, chunk_size=2000)
    result = approve_and_issue(ctx, campaign, run.id)
    folder = result.files[0].parent
    dead = subprocess.Popen(["true"])  # a process id that no longer runs
    dead.wait()
    stale = folder / f"letters.pdf.{dead.pid}.0badc0de.partial"
    stale_list = folder / "billing" / f"x.csv.{dead.pid}.12345678.partial"
    busy = folder / f"letters.pdf.{os.getpid()}.0123abcd.partial"  # a live writer: left alone
    other = folder / "notes.partial"  # not a partial file of ours
    for path in (stale, stale_list, busy, other):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 half")
    again = issue_run(ctx, campaign, run.id, actor="alice")
    assert again.new_letters == 0
    assert not stale.exists() and not stale_list.exists()
    assert busy.exists() and other.exists()
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".partial") == [
        "addressees.parquet",  # where each letter's addressee is in the extract (no name)
        "billing",
        "letters.pdf",
        "notifications.jsonl",
    ]


def test_letter_languages_are_checked(tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    data = yaml.load((REPO / "campaigns" / "ghent" / "garbage-bags.yaml").read_text("utf-8"))
    letters = data["outputs"]["letters"]
    for languages, translations, message in (
        (["en", "nl"], letters["translations"], "starts with nl"),
        (["nl", "nl"], letters["translations"], "each language once"),
        (["nl", "en"], {}, "no 'en' version"),
        (["nl", "en"], {"en": {"coupon": letters["translations"]["en"]["coupon"]}}, "invitation"),
    ):
        path = tmp_path / "bags.yaml"
        changed = {**letters, "languages": languages, "translations": translations}
        with path.open("w", encoding="utf-8") as handle:
            yaml.dump({**data, "outputs": {**data["outputs"], "letters": changed}}, handle)
        with pytest.raises(CampaignError, match=message):
            load_campaign(path, REPO / "benefits")
    dutch = {**letters, "languages": ["nl"], "translations": {}}
    path = tmp_path / "dutch.yaml"
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump({**data, "outputs": {**data["outputs"], "letters": dutch}}, handle)
    assert load_campaign(path, REPO / "benefits").spec.outputs.letters


def test_stopping_between_chunks_and_resuming_equals_one_run(tmp_path: Path, city: City) -> None:
    campaign = bags()
    whole = context(tmp_path, city, name="whole")
    parts = context(tmp_path, city, name="parts")
    reference = run_campaign(whole, campaign, AS_OF, chunk_size=300)
    first = run_campaign(parts, campaign, AS_OF, chunk_size=300, max_chunks=2)
    assert first.status == "running"
    with parts.factory() as session:
        figures = run_figures(session, first.id)
    assert figures.progress.chunks_done == 2 and figures.sample is None
    assert "sample" not in figures.to_json()
    resumed = run_campaign(parts, campaign, chunk_size=999)  # the run's own chunks and date
    assert resumed.id == first.id and resumed.status == "draft"
    timeless = ("decide_seconds",)
    assert {k: v for k, v in (resumed.summary or {}).items() if k not in timeless} == {
        k: v for k, v in (reference.summary or {}).items() if k not in timeless
    }
    keep = ("outcome", "change", "band", "outputs", "conditions", "facts_missing", "valid_until")

    def rows(ctx: CampaignContext, run_id: int) -> dict[str, tuple[Any, ...]]:
        return {s: tuple(getattr(r, k) for k in keep) for s, r in by_subject(ctx, run_id).items()}

    assert rows(parts, resumed.id) == rows(whole, reference.id)


# --------------------------------------------------------------------------- schedule


def test_schedule_slots() -> None:
    cron = Schedule(cron="0 6 5 1 *")
    assert cron.last_slot(datetime(2026, 3, 1, 12)) == datetime(2026, 1, 5, 6)
    assert cron.last_slot(datetime(2026, 1, 5, 5, 59)) == datetime(2025, 1, 5, 6)
    school = Schedule(school_year=["09-20", "11-05", "01-10", "02-25", "04-20", "06-05"])
    assert school.last_slot(datetime(2026, 3, 1)) == datetime(2026, 2, 25)
    assert school.last_slot(datetime(2026, 1, 1)) == datetime(2025, 11, 5)
    dates = Schedule(dates=[date(2026, 2, 1), date(2026, 6, 1)])
    assert dates.last_slot(datetime(2026, 1, 1)) is None
    assert dates.last_slot(datetime(2026, 3, 1)) == datetime(2026, 2, 1)
    with pytest.raises(ValueError):
        Schedule(cron="every day")
    with pytest.raises(ValueError):
        Schedule(school_year=["02-30"])


def test_schedule_runs_each_due_moment_once(tmp_path: Path, city: City) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    now = datetime(2026, 1, 6, 7, 0)
    due = due_runs(ctx, [campaign], now)
    assert [(d.slot, d.as_of, d.resume) for d in due] == [
        ("2026-01-05T06:00", date(2026, 1, 5), False)
    ]
    outcomes = run_due(ctx, [campaign], now)
    assert [(o.as_of, o.status, o.exit_code) for o in outcomes] == [("2026-01-05", "draft", 0)]
    with ctx.factory() as session:
        assert store.get_run(session, outcomes[0].run or 0).scheduled_for == "2026-01-05T06:00"
    assert due_runs(ctx, [campaign], now) == []
    assert run_due(ctx, [campaign], datetime(2026, 12, 31)) == []
    assert [d.slot for d in due_runs(ctx, [campaign], datetime(2027, 1, 5, 6, 0))] == [
        "2027-01-05T06:00"
    ]


# --------------------------------------------------------------------------- definitions


def test_the_shipped_campaigns_load() -> None:
    loaded = {c.name: c for c in load_campaigns(REPO / "campaigns" / "ghent", REPO / "benefits")}
    assert set(loaded) == {"garbage-bags", "school-tariff", "lez"}
    assert loaded["garbage-bags"].benefit.id == "ghent.garbage-bags"
    assert loaded["garbage-bags"].period(AS_OF) == "2026"
    assert loaded["school-tariff"].period(AS_OF) == "2025-2026"
    assert loaded["school-tariff"].period(date(2026, 9, 20)) == "2026-2027"
    assert len(loaded["school-tariff"].spec.schedule.school_year) == 6
    assert loaded["school-tariff"].approvals_required == 2
    by_id = find_campaign("ghent.garbage-bags", REPO / "campaigns", REPO / "benefits")
    assert by_id.name == "garbage-bags"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("band: amount", "band: tariff"), "band"),
        (("kind: households", "kind: persons"), "person benefit"),
        (("[any_increased_allowance, any_budget_guidance]", "[rich]"), "no condition"),
        (("chunk_size: 2000", "chunk_size: 0"), "chunk_size"),
        (("benefit: ghent.garbage-bags", "benefit: ghent.nothing"), "no benefit"),
        (
            ("[household.municipality_nis,", "[person.increased_allowance,"),
            "not in the register extract",
        ),
    ],
)
def test_bad_campaign_definitions_are_refused(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = (REPO / "campaigns" / "ghent" / "garbage-bags.yaml").read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(CampaignError, match=message):
        load_campaign(path, REPO / "benefits")


# --------------------------------------------------------------------------- what-if


def test_what_if_on_amounts_changes_the_cost_not_the_reach(tmp_path: Path, city: City) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    result = simulate(
        ctx,
        campaign,
        ["amount_by_size={1: 50, 2: 70, 3: 90, 4: 110, 5: 110, 6: 130}"],
        AS_OF,
        chunk_size=1000,
    )
    assert result.baseline == result.variant and result.reached_difference == 0
    assert result.cost_difference > 0
    assert letter_rows(ctx) == 0
    with ctx.factory() as session:
        assert store.list_runs(session) == []
    with pytest.raises(CampaignError, match="no parameter"):
        simulate(ctx, campaign, ["income=1"], AS_OF)
    with pytest.raises(CampaignError, match="PARAM=VALUE"):
        simulate(ctx, campaign, ["amount_by_size"], AS_OF)


def test_outputs_folder_is_per_run(tmp_path: Path, city: City) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    run = run_campaign(ctx, campaign, AS_OF, chunk_size=2000)
    result = approve_and_issue(ctx, campaign, run.id)
    folder = ctx.output_dir / "garbage-bags" / f"run-{run.id}"
    assert result.files == [folder / "letters.pdf", folder / "notifications.jsonl"]
    shutil.rmtree(ctx.output_dir)
    again = issue_run(ctx, campaign, run.id, actor="alice")  # the file is made again
    assert again.files[0].exists() and again.new_letters == 0


def test_a_whole_campaign_on_sqlite_and_postgresql(
    migrated_database_url: str, city: City, tmp_path: Path
) -> None:
    from entitle.decide.coupons import use_coupon, verify_coupon

    ctx = CampaignContext(
        factory=session_factory(make_engine(migrated_database_url)),
        register=city.path / "registry",
        state_dir=tmp_path / "state",
        output_dir=tmp_path / "out",
        source=TableSource(city.persons, city.households),
        today=lambda: AS_OF,
    )
    campaign = bags()
    first = run_campaign(ctx, campaign, AS_OF, chunk_size=700)
    issued = approve_and_issue(ctx, campaign, first.id)
    assert issued.new_letters == letter_rows(ctx) > 0
    second = run_campaign(ctx, campaign, AS_OF, chunk_size=700)
    assert (second.summary or {})["changes"]["new"] == 0
    assert approve_and_issue(ctx, campaign, second.id).new_letters == 0
    with ctx.factory() as session:
        code = session.scalars(
            select(CampaignLetter.code).where(CampaignLetter.kind == "coupon").limit(1)
        ).one()
        assert code is not None
        key = ctx.coupon_key()
        assert verify_coupon(session, code, key=key, today=AS_OF).usable
        assert use_coupon(session, code, key=key, actor="ivago")[0] == "used"
        session.commit()
        assert use_coupon(session, code, key=key, actor="ivago")[0] == "already_used"
        assert audit.verify(session).ok


def letter_texts(pages: list[str], run_id: int) -> dict[int, tuple[str, str]]:
    """Letter number -> (Dutch text, English text), each version from the page with its
    reference up to the next version's."""
    out: dict[int, list[str]] = {}
    current: list[str] = []
    for page in pages:
        found = re.search(rf"(?:Kenmerk|Reference): {run_id}/(\d+) ", page)
        if found:
            current = out.setdefault(int(found.group(1)), [])
            current.append(page)
        else:
            current[-1] += "\n" + page
    return {seq: (texts[0], texts[1]) for seq, texts in out.items() if len(texts) == 2}


def test_the_lez_campaign_writes_a_letter_per_tariff(tmp_path: Path, city: City) -> None:
    from test_letters import pdf_pages

    ctx = context(tmp_path, city)
    lez = find_campaign("lez", REPO / "campaigns", REPO / "benefits")
    run = run_campaign(ctx, lez, AS_OF, chunk_size=1000)
    summary = run.summary or {}
    adults = city.persons.filter(
        (pl.col("municipality_nis") == "44021") & (pl.col("birth_date") <= date(2008, 3, 1))
    )
    assert summary["subjects"] == adults.height
    assert set(summary["bands"]) <= {"exemption", "reduced"} and summary["bands"]["reduced"] > 0
    with ctx.factory() as session:
        rows = store.decision_rows(session, run.id)
    quoted = letter_outputs(lez)
    assert {"week_price", "year_price"} <= quoted
    # a partial decision (the exemption still open) has no prices yet, but its certain minimum,
    # the reduced tariff, has: it gets the letter for the reduced tariff, which also says what to
    # bring for the exemption (this campaign sends no invitations)
    eligible = [r for r in rows if r.outcome == "eligible"]
    partial = {r.subject_pseudonym: r for r in eligible if r.outputs["tariff"] is None}
    assert partial, "the city has LEZ decisions with the exemption open"
    for row in partial.values():
        assert row.at_least == {"tariff": "reduced"} and row.band == "reduced"
        assert row.missing and all("tariff" in item["settles"] for item in row.missing)
    open_counts = {name: len(partial) for name in lez.benefit.outputs}
    open_counts["tariff ≥ reduced"] = open_counts.pop("tariff")
    assert summary["partial"] == {"count": len(partial), "open": dict(sorted(open_counts.items()))}
    result = approve_and_issue(ctx, lez, run.id)
    assert result.letters == {"coupon": len(eligible)}  # no invitations
    with ctx.factory() as session:
        issued = store.letters_of_run(session, run.id)
    assert {letter.subject_pseudonym for letter in issued} == set(
        r.subject_pseudonym for r in eligible
    )
    # each letter in Dutch, then in English (a letter with its open part may take two pages)
    versions = letter_texts(pdf_pages(result.files[0]), run.id)
    assert len(versions) == len(issued)
    opened = 0
    for letter in issued:
        text, english = versions[letter.seq]
        assert letter.code is not None and letter.code in text and letter.code in english
        if letter.band == "reduced":
            assert "€ 10,00" in text and "€ 140,00" in text
            assert "€10.00" in english and "€140.00" in english and "permit" in english
            assert letter.value["week_price"] == 10 and letter.value["tariff"] == "reduced"
        else:
            assert "gratis vrijstelling" in text and "€" not in text
            assert "free exemption" in english and "€" not in english
        flat, flat_en = " ".join(text.split()), " ".join(english.split())
        if letter.subject_pseudonym in partial:  # the certain part, and what to bring for more
            opened += 1
            assert "Misschien hebt u recht op meer: een gratis vrijstelling" in flat
            assert "You may be entitled to more: a free exemption" in flat_en
            assert re.search(r"van (uzelf|uw \w+|gezinslid \d)", flat)
            assert re.search(r"of (yourself|your \w+|household member \d)", flat_en)
        else:
            assert "recht op meer" not in flat and "entitled to more" not in flat_en
    assert opened == len(partial)
