"""Campaigns end to end against the registry simulator (a real process) on a synthetic city.

One garbage-bag run (5,000 persons) is decided through the gateway, approved and issued; the
tests read its decisions, letters and reach figures. Another process runs the same campaign and
is killed with SIGKILL at random moments until it finishes: the result must equal the
uninterrupted run, with no letter or coupon twice. The school campaign makes billing lists per
school, and a what-if raising the school income ceiling reaches more pupils and stores nothing.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select
from test_letters import pdf_pages
from test_registry_server import Server, running_server

from entitle.decide.campaign import (
    CampaignContext,
    approve_run,
    issue_run,
    run_campaign,
    run_figures,
    simulate,
)
from entitle.decide.campaign.definition import Campaign, find_campaign
from entitle.decide.campaign.sources import RegisterExtract
from entitle.decide.coupons import use_coupon, verify_coupon
from entitle.decide.exports import HEADER, MINIMUM
from entitle.decide.letters import euro, euro_en
from entitle.registry.reach import GroundTruth
from entitle.registry.synth import write_city
from entitle.sources.access import monthly_files
from entitle.store import campaigns as store
from entitle.store.db import make_engine, migrate, session_factory
from entitle.store.models import CampaignDecision, CampaignLetter, CampaignRun

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 3, 1)
PERSONS = 5000
CHUNK = 300
MAGDA = {"default_capacity": "ENTITLE", "sender": "gent.be/entitle", "max_concurrency": 8}


@dataclass
class Env:
    city: Path
    server: Server
    state: Path

    def context(self, name: str, **extra: Any) -> CampaignContext:
        folder = self.state.parent / name
        folder.mkdir(exist_ok=True)
        url = f"sqlite:///{folder / 'entitle.db'}"
        migrate(url)
        return CampaignContext(
            factory=session_factory(make_engine(url)),
            register=self.city / "registry",
            state_dir=self.state,
            output_dir=folder / "out",
            registry=self.server.url,
            magda_overrides=dict(MAGDA),
            today=lambda: AS_OF,
            **extra,
        )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("campaign")
    city = root / "city"
    write_city(PERSONS, 3, city)
    state = root / "state"
    state.mkdir()
    with running_server(city, root / "server.log") as server:
        yield Env(city, server, state)


def campaign(name: str) -> Campaign:
    return find_campaign(name, REPO / "campaigns", REPO / "benefits")


@dataclass
class Issued:
    ctx: CampaignContext
    campaign: Campaign
    run: store.RunView
    folder: Path


@pytest.fixture(scope="module")
def garbage(env: Env) -> Issued:
    """The uninterrupted garbage-bag run: decided, approved, issued."""
    ctx = env.context("reference", reach=GroundTruth(env.city))
    bags = campaign("garbage-bags")
    run = run_campaign(ctx, bags, AS_OF, chunk_size=CHUNK, actor="scheduler")
    assert run.status == "draft"
    with ctx.factory() as session:
        approved = approve_run(session, bags, run.id, actor="alice", today=AS_OF)
        session.commit()
    assert approved.status == "approved"
    result = issue_run(ctx, bags, run.id, actor="alice")
    return Issued(ctx, bags, result.run, Path((result.run.outputs or {})["folder"]))


def decisions(ctx: CampaignContext, run_id: int) -> list[tuple[Any, ...]]:
    columns = [
        "subject_pseudonym",
        "outcome",
        "change",
        "band",
        "outputs",
        "conditions",
        "facts_used",
        "facts_missing",
        "valid_until",
    ]
    with ctx.factory() as session:
        rows = store.decision_rows(session, run_id, columns)
    return sorted(
        (
            r[0],
            r[1],
            r[2],
            r[3],
            repr(sorted(r[4].items())),
            repr(sorted(r[5].items())),
            tuple(r[6]),
            tuple(r[7]),
            r[8],
        )
        for r in rows
    )


def letters(ctx: CampaignContext) -> list[tuple[Any, ...]]:
    with ctx.factory() as session:
        rows = session.execute(
            select(
                CampaignLetter.seq,
                CampaignLetter.subject_pseudonym,
                CampaignLetter.kind,
                CampaignLetter.code,
                CampaignLetter.band,
                CampaignLetter.value,
            ).order_by(CampaignLetter.seq)
        ).all()
    return [tuple(r) for r in rows]


# --------------------------------------------------------------------------- end to end


def test_garbage_bags_end_to_end_against_the_simulator(garbage: Issued) -> None:
    summary = garbage.run.summary or {}
    outcomes = summary["outcomes"]
    assert outcomes["eligible"] > 100 and outcomes["not_eligible"] > 100
    assert outcomes["undetermined"] > 0
    assert summary["changes"]["new"] == outcomes["eligible"]  # the first run: all new
    assert summary["questions"] > 0 and summary["fetched"]["person.increased_allowance"] > 0
    # only undecided households went on to the next stage
    assert summary["fetched"]["person.increased_allowance"] < 2.3 * summary["subjects"]
    assert set(summary["bands"]) <= {"42.00", "63.00", "84.00", "105.00", "126.00"}
    assert garbage.run.status == "issued"
    issued = garbage.run.outputs or {}
    assert issued["letters"]["coupon"] == outcomes["eligible"]
    assert issued["letters"]["invitation"] == outcomes["undetermined"]
    pdf = garbage.folder / "letters.pdf"
    # each letter: the Dutch page, then the English translation's page
    assert pdf.exists() and issued["pages"] == 2 * sum(issued["letters"].values())
    with garbage.ctx.factory() as session:
        figures = run_figures(session, garbage.run.id)
    assert figures.letters_issued == issued["letters"]
    assert figures.outcomes == outcomes
    assert figures.sample and figures.sample["undetermined"] and figures.undetermined_reasons
    assert figures.run.verdicts[0].actor == "alice"


def test_reach_against_the_ground_truth(garbage: Issued) -> None:
    reach = (garbage.run.summary or {})["reach"]
    print("reach on a 5,000-person city:", reach)
    assert reach["truly_entitled"] > 100
    assert reach["share_reached_or_flagged"] >= 0.95
    assert reach["wrongly_eligible_current"] == 0


def test_letters_say_name_amount_and_code_and_never_an_income(garbage: Issued, env: Env) -> None:
    """In both versions of each letter: Dutch (the official one) first, then English."""
    pages = pdf_pages(garbage.folder / "letters.pdf")
    issued = letters(garbage.ctx)
    assert len(pages) == 2 * len(issued)
    extract = RegisterExtract.load(env.city / "registry")
    pseudonymise = garbage.ctx.pseudonymiser()
    households = extract.households.join(
        extract.persons.select(
            pl.col("person_id").alias("reference_person_id"), "first_name", "last_name"
        ),
        on="reference_person_id",
    )
    by_pseudonym = {
        pseudonymise(row["household_id"]): row for row in households.iter_rows(named=True)
    }
    tax = pl.read_parquet(env.city / "truth" / "tax_assessments.parquet")
    incomes = tax.filter(pl.col("item_code").str.ends_with("7555"))
    members = extract.persons.select("person_id", "household_id")
    income_of = incomes.join(members, on="person_id").group_by("household_id").agg("item_value")
    incomes_by_household = dict(income_of.iter_rows())
    rng = random.Random(5)
    checked = 0
    for seq, pseudonym, kind, code, _band, value in rng.sample(issued, 60):
        dutch, english = pages[2 * (seq - 1)], pages[2 * (seq - 1) + 1]
        household = by_pseudonym[pseudonym]
        name = f"{household['first_name']} {household['last_name']}"
        assert f"Beste {name}," in dutch and f"Dear {name}," in english
        assert "English translation" in english and "English translation" not in dutch
        for text in (dutch, english):
            assert f"{household['street']} {household['house_number']}" in text
        amounts = set(re.findall(r"€ [\d.]+,\d\d", dutch))
        amounts_en = set(re.findall(r"€[\d,]+\.\d\d", english))
        if kind == "coupon":
            assert code and code in dutch and code in english
            assert amounts == {euro(value["amount"]), euro(value["extra_credit"])}
            assert amounts_en == {euro_en(value["amount"]), euro_en(value["extra_credit"])}
            assert "huisvuilzakken" in dutch and "bezwaar" in dutch
            assert "garbage bags" in english and "disagree" in english
        else:
            assert code is None and "Breng mee" in dutch and "Please bring" in english
            assert not amounts and not amounts_en
        assert "inkomen" not in dutch.lower() and "income" not in english.lower()
        for cents in incomes_by_household.get(household["household_id"], []):
            if cents and cents > 100_00:
                for text in (dutch, english):
                    assert euro(cents / 100) not in text and euro_en(cents / 100) not in text
                    assert str(cents // 100) not in text.replace(" ", "").replace(",", "")
        checked += 1
    assert checked == 60


def test_coupons_verify_and_are_used_once(garbage: Issued) -> None:
    key = garbage.ctx.coupon_key()
    code = next(c for _, _, kind, c, _, _ in letters(garbage.ctx) if kind == "coupon")
    with garbage.ctx.factory() as session:
        status = verify_coupon(session, code.lower().replace("-", " "), key=key, today=AS_OF)
        assert status.valid and status.usable and status.value
        first, _ = use_coupon(session, code, key=key, actor="ivago")
        session.commit()
        second, again = use_coupon(session, code, key=key, actor="shop")
        forged = code[:-1] + ("0" if code[-1] != "0" else "1")
        unknown, bad = use_coupon(session, forged, key=key, actor="shop")
    assert (first, second, unknown) == ("used", "already_used", "unknown")
    assert again.used is not None and not again.usable and not bad.valid


# --------------------------------------------------------------------------- SIGKILL


DRIVER = """
import sys
from datetime import date
from pathlib import Path
from entitle.decide.campaign import CampaignContext, approve_run, issue_run, run_campaign
from entitle.decide.campaign.definition import find_campaign
from entitle.store import campaigns as store
from entitle.store.db import make_engine, session_factory

class Markers:
    def start(self, stages, subjects, done): print("START", flush=True)
    def stage_done(self, stage, subjects): pass
    def fetched(self, stage, entities): pass
    def chunk_done(self, subjects): print("CHUNK", flush=True)

def main():
    db, city, state, out, url = sys.argv[1:6]
    ctx = CampaignContext(
        factory=session_factory(make_engine(db)), register=Path(city) / "registry",
        state_dir=Path(state), output_dir=Path(out), registry=url,
        magda_overrides={"default_capacity": "ENTITLE", "sender": "gent.be/entitle",
                         "max_concurrency": 8},
        today=lambda: date(2026, 3, 1),
    )
    repo = Path(sys.argv[6])
    bags = find_campaign("garbage-bags", repo / "campaigns", repo / "benefits")
    with ctx.factory() as session:
        runs = store.list_runs(session, bags.name)
    view = runs[0] if runs and runs[0].status != "running" else None
    if view is None:
        view = run_campaign(
            ctx, bags, date(2026, 3, 1), chunk_size=int(sys.argv[7]), progress=Markers()
        )
    if view.status == "draft":
        print("APPROVE", flush=True)
        with ctx.factory() as session:
            view = approve_run(session, bags, view.id, actor="alice", today=date(2026, 3, 1))
            session.commit()
    print("ISSUE", flush=True)
    issue_run(ctx, bags, view.id, actor="alice")
    print("DONE", flush=True)

if __name__ == "__main__":
    main()
"""


def test_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run(
    garbage: Issued, env: Env, tmp_path: Path
) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'killed.db'}"
    migrate(db)
    out = tmp_path / "out"
    command = [sys.executable, str(driver), db, str(env.city), str(env.state), str(out)]
    command += [env.server.url, str(REPO), str(CHUNK)]
    rng = random.Random(int(os.environ.get("CAMPAIGN_KILL_SEED", "20261128")))
    # where each attempt is killed: after the n-th marker it prints, plus a random delay
    plan = [
        ("CHUNK", rng.randint(1, 2), rng.uniform(0.0, 0.3)),  # during a chunk or its commit
        ("START", 1, rng.uniform(0.0, 0.6)),  # while the first chunks are fetched
        ("CHUNK", rng.randint(1, 3), rng.uniform(0.0, 0.3)),
        ("ISSUE", 1, rng.uniform(0.0, 0.8)),  # while letters are inserted or printed
    ]
    kills: list[str] = []
    finished = False
    for attempt in range(len(plan) + 3):
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        marker, count, delay = plan[attempt] if attempt < len(plan) else ("", 0, 0.0)
        seen = 0
        for line in process.stdout:
            if line.strip() == "DONE":
                finished = True
            if marker and line.strip() == marker:
                seen += 1
                if seen == count:
                    time.sleep(delay)
                    process.send_signal(signal.SIGKILL)
                    kills.append(f"{marker}#{count}+{delay:.2f}s")
                    break
        process.wait(timeout=180)
        if process.returncode not in (0, -signal.SIGKILL):
            pytest.fail(process.stderr.read()[-3000:] if process.stderr else "driver failed")
        process.stdout.close()
        if process.stderr:
            process.stderr.close()
        if finished and process.returncode == 0:
            break
        finished = False
    print("killed:", kills)
    assert finished and len(kills) >= 3
    ctx = CampaignContext(
        factory=session_factory(make_engine(db)),
        register=env.city / "registry",
        state_dir=env.state,
        output_dir=out,
        today=lambda: AS_OF,
    )
    with ctx.factory() as session:
        runs = store.list_runs(session, "garbage-bags")
        chunks = store.chunk_stats(session, runs[0].id)
        stored = session.execute(select(func.count()).select_from(CampaignDecision)).scalar_one()
    assert [r.status for r in runs] == ["issued"]  # one run, resumed, never a second one
    assert len(chunks) == runs[0].chunks_total
    assert stored == len({row[0] for row in decisions(ctx, runs[0].id)})
    assert decisions(ctx, runs[0].id) == decisions(garbage.ctx, garbage.run.id)
    killed_letters, reference_letters = letters(ctx), letters(garbage.ctx)
    assert killed_letters == reference_letters
    codes = [row[3] for row in killed_letters if row[3]]
    assert len({(row[1], row[2]) for row in killed_letters}) == len(killed_letters)
    assert len(set(codes)) == len(codes)
    folder = Path(runs[0].outputs["folder"])  # type: ignore[index]
    for name in ("letters.pdf", "notifications.jsonl"):
        assert (folder / name).read_bytes() == (garbage.folder / name).read_bytes()
    assert not list(out.rglob("*.partial"))  # a killed attempt's half-written files are gone


# --------------------------------------------------------------------------- school


@pytest.fixture(scope="module")
def school(env: Env) -> Issued:
    ctx = env.context("school")
    tariff = campaign("school-tariff")
    run = run_campaign(ctx, tariff, AS_OF, chunk_size=200)
    with ctx.factory() as session:
        first = approve_run(session, tariff, run.id, actor="alice", today=AS_OF)
        session.commit()
    assert first.status == "draft"  # four eyes: one approval is not enough
    with ctx.factory() as session:
        second = approve_run(session, tariff, run.id, actor="bob", today=AS_OF)
        session.commit()
    assert second.status == "approved"
    result = issue_run(ctx, tariff, run.id, actor="bob")
    return Issued(ctx, tariff, result.run, Path((result.run.outputs or {})["folder"]))


def test_school_campaign_makes_billing_lists_per_school(school: Issued, env: Env) -> None:
    summary = school.run.summary or {}
    eligible = summary["outcomes"]["eligible"]
    assert eligible > 20 and set(summary["bands"]) <= {"A", "B", "C"}
    files = sorted((school.folder / "billing").iterdir())
    csvs = [f for f in files if f.suffix == ".csv"]
    xlsxs = [f for f in files if f.suffix == ".xlsx"]
    assert csvs and len(csvs) == len(xlsxs)
    enrolments = pl.read_parquet(env.city / "local" / "school_enrolments.parquet").filter(
        pl.col("school_year") == "2025-2026"
    )
    rows = 0
    for path in csvs:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        assert tuple(lines[0].split(";")) == HEADER
        for line in lines[1:]:
            school_id, _, _, _, klass, category, period, valid_until, minimum = line.split(";")
            assert path.name.startswith(school_id)
            assert category in ("A", "B", "C") and valid_until == "2026-08-31"
            assert period == "schooljaar 2025-2026"  # the school year in words
            assert minimum in ("", MINIMUM)  # a partial decision's certain category
            assert re.fullmatch(r"[KL]\d", klass)
            rows += 1
        sheet = load_workbook(path.with_suffix(".xlsx"), read_only=True).active
        values = list(sheet.iter_rows(values_only=True))
        assert tuple(values[0]) == HEADER and len(values) == len(lines)
        assert all(len(v) == len(HEADER) for v in values)
    # one row per eligible pupil per enrolment row (school or after-school care)
    pseudonymise = school.ctx.pseudonymiser()
    with school.ctx.factory() as session:
        eligible_ids = {
            s
            for s, o in store.decision_rows(
                session, school.run.id, ["subject_pseudonym", "outcome"]
            )
            if o == "eligible"
        }
    expected = sum(pseudonymise(p) in eligible_ids for p in enrolments["person_id"].to_list())
    assert rows == expected


def test_what_if_raising_the_school_ceiling_reaches_more_pupils_and_stores_nothing(
    school: Issued,
) -> None:
    def snapshot() -> tuple[Any, ...]:
        with school.ctx.factory() as session:
            runs = session.execute(select(CampaignRun.id, CampaignRun.status)).all()
            rows = session.execute(
                select(CampaignDecision.id, CampaignDecision.outcome, CampaignDecision.band)
            ).all()
        return tuple(runs), tuple(rows)

    before = snapshot()
    result = simulate(
        school.ctx,
        school.campaign,
        ["ceiling_care_discount=45000", "ceiling_meal_discount=30000"],
        AS_OF,
        chunk_size=200,
    )
    assert snapshot() == before
    assert result.baseline["eligible"] == (school.run.summary or {})["outcomes"]["eligible"]
    assert result.variant["eligible"] > result.baseline["eligible"]
    assert result.reached_difference > 0 and result.cost_difference > 0
    assert result.transitions.get("not_eligible→eligible", 0) > 0
    assert set(result.bands) <= {"A", "B", "C"}
    assert result.bands["B"][1] >= result.bands["B"][0]


def test_the_run_starts_no_second_run_while_one_is_running(env: Env) -> None:
    ctx = env.context("partial")
    bags = campaign("garbage-bags")
    partial = run_campaign(ctx, bags, AS_OF, chunk_size=1000, max_chunks=1)
    assert partial.status == "running"
    with pytest.raises(store.CampaignStateError):
        run_campaign(ctx, bags, date(2026, 4, 1))
    with ctx.factory() as session:
        assert len(store.done_chunks(session, partial.id)) == 1
        assert session.scalar(select(func.count()).select_from(CampaignLetter)) == 0


# --------------------------------------------------------------------------- the command line


def test_the_command_line(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from entitle.cli.campaign import campaign_app
    from entitle.store.users import add_user

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    with session_factory(make_engine(url))() as session:
        add_user(session, "alice", "alice-password", "campaign_manager")
        add_user(session, "bob", "bob-password-1", "campaign_manager")
        add_user(session, "dave", "dave-password", "desk_officer")
        session.commit()
    settings = {
        "ENTITLE_DATABASE_URL": url,
        "ENTITLE_DATA_DIR": str(env.state),
        "ENTITLE_MAGDA_BASE_URL": env.server.url,
        "ENTITLE_MAGDA_DEFAULT_CAPACITY": "ENTITLE",
        "ENTITLE_MAGDA_SENDER": "gent.be/entitle",
        "ENTITLE_MAGDA_MAX_CONCURRENCY": "8",
        "ENTITLE_REGISTER_EXTRACT": str(env.city / "registry"),
        "ENTITLE_CAMPAIGN_OUTPUT": str(tmp_path / "out"),
        "ENTITLE_CAMPAIGNS": str(REPO / "campaigns" / "ghent"),
        "ENTITLE_BENEFITS": str(REPO / "benefits"),
        "COLUMNS": "200",
        "ENTITLE_CAMPAIGN_TODAY": "2026-03-01",  # approved and issued on the reference date
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(campaign_app, list(args))
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output

    listed = json.loads(cli("list", "--json"))
    assert [c["name"] for c in listed] == ["garbage-bags", "lez", "school-tariff"]
    assert "school-tariff" in cli("list")
    ran = cli("run", "school-tariff", "--as-of", "2026-03-01", "--chunk-size", "200")
    assert "stage 1" in ran and "draft" in ran and "approve 1" in ran
    assert "draft" in cli("show", "school-tariff")
    figures = json.loads(cli("show", "school-tariff", "--run", "1", "--json"))
    assert figures["run"]["status"] == "draft" and figures["outcomes"]["eligible"] > 0
    monkeypatch.setenv("ENTITLE_PASSWORD", "dave-password")
    cli("approve", "1", "--as", "dave", code=2)  # a desk officer cannot approve
    monkeypatch.setenv("ENTITLE_PASSWORD", "bob-password-1")
    assert "failed (bad_password)" in cli("approve", "1", "--as", "alice", code=2)
    monkeypatch.setenv("ENTITLE_PASSWORD", "alice-password")
    monkeypatch.setenv("ENTITLE_CAMPAIGN_TODAY", "2026-09-01")  # the school year has ended
    expired = cli("approve", "1", "--as", "alice", code=2)
    assert "ended on 2026-08-31" in expired and "would be expired" in expired
    monkeypatch.setenv("ENTITLE_CAMPAIGN_TODAY", "2026-03-01")
    assert "1/2 approvals" in cli("approve", "1", "--as", "alice")
    cli("approve", "1", "--as", "alice", code=2)  # four eyes: someone else
    monkeypatch.setenv("ENTITLE_PASSWORD", "bob-password-1")
    issued = cli("approve", "1", "--as", "bob")
    assert "issued" in issued and ".xlsx" in issued
    what_if = json.loads(
        cli(
            "simulate",
            "school-tariff",
            "--set",
            "ceiling_care_discount=45000",
            "--as-of",
            "2026-03-01",
            "--json",
        )
    )
    assert what_if["reached_difference"] > 0
    cli("simulate", "school-tariff", "--set", "nothing=1", code=2)
    due = cli("schedule", "--now", "2026-03-02T07:00", "--dry-run")
    assert "run garbage-bags for 2026-01-05T06:00" in due
    assert "run school-tariff for 2026-02-25T00:00" in due
    assert "run lez for 2026-01-15T06:00" in due
    cli("coupon", "ABCD-EFGH-JKMN-PQRS", code=1)
    cli("run", "no-such-campaign", code=2)


def test_residence_facts_from_the_register_extract_decide_the_same_as_magda(
    garbage: Issued, env: Env, tmp_path: Path
) -> None:
    """The shipped campaign reads the household's residence facts from the register extract;
    asking MAGDA for them too gives exactly the same decisions, with many more questions."""
    from entitle.decide.campaign.definition import load_campaign

    assert garbage.campaign.spec.facts_from_register
    text = garbage.campaign.path.read_text(encoding="utf-8")
    path = tmp_path / "garbage-bags-magda.yaml"
    path.write_text(
        re.sub(r"(?m)^facts_from_register: .*$", "facts_from_register: []", text),
        encoding="utf-8",
    )
    variant = load_campaign(path, REPO / "benefits")
    assert variant.spec.facts_from_register == []
    ctx = env.context("magda")
    run = run_campaign(ctx, variant, AS_OF, chunk_size=CHUNK)
    summary, reference = run.summary or {}, garbage.run.summary or {}
    assert decisions(ctx, run.id) == decisions(garbage.ctx, garbage.run.id)
    # the residence is asked only where the social statuses did not settle the household
    # (rules/order.py), so the extract saves about a quarter of the questions on this city
    assert reference["questions"] < 0.8 * summary["questions"]
    access = [
        line
        for file in monthly_files(env.state / "access.jsonl").values()
        for line in file.read_text().splitlines()
        if '"register_extract"' in line
    ]
    assert len(access) >= 3 * summary["subjects"]
