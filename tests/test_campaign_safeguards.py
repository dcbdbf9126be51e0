"""The safeguards of a campaign run, decided from tables (no simulator): failures of ours leave
households *pending* (no letter) and a chunk with too many pauses the run; the plausibility
gates, the lock, the preflight, a read-only database, the export and the health file.

A `FaultySource` wraps the city's tables and makes one fact fail *on our side* (a typed reason
of ours: HTTP_503, MALFORMED …) for chosen persons, as a broken registry or network would.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from entitle.decide.campaign import (
    CampaignContext,
    approve_run,
    issue_run,
    run_campaign,
    run_figures,
)
from entitle.decide.campaign.definition import Campaign, find_campaign
from entitle.decide.campaign.export import decisions_table, export_run
from entitle.decide.campaign.figures import RUN_CHANGES
from entitle.decide.campaign.gates import GateError
from entitle.decide.campaign.health import prometheus, read_health
from entitle.decide.campaign.lock import RunLocked, run_lock
from entitle.decide.campaign.outcome import attempt
from entitle.decide.campaign.preflight import (
    CHECKS,
    NotWritableError,
    Preflight,
    PreflightError,
)
from entitle.decide.campaign.reasons import PENDING
from entitle.decide.campaign.sources import TableChunk, TableSource
from entitle.decide.reasons import MissingReason, ours_in, reasons_of
from entitle.registry.population import load_population
from entitle.registry.synth import write_city
from entitle.rules.model import Benefit
from entitle.store import audit
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError
from entitle.store.db import make_engine, migrate, session_factory
from entitle.store.models import CampaignLetter

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 3, 1)
FACT = "person.increased_allowance"
BROKEN = MissingReason("error", "MALFORMED", "a proxy's HTML page instead of a MAGDA reply")


class FaultyChunk:
    """A table chunk whose `FACT` fails on our side for the persons in `failing`."""

    def __init__(self, inner: TableChunk, failing: set[str]) -> None:
        self.inner = inner
        self.failing = failing
        self.seen: dict[tuple[str, str], MissingReason] = {}

    def fetch(self, fact: str, ids: pl.Series) -> pl.Series:
        values = self.inner.fetch(fact, ids)
        if fact != FACT:
            return values
        out = []
        for entity, value in zip(ids.to_list(), values.to_list(), strict=True):
            if entity in self.failing:
                self.seen[(entity, fact)] = BROKEN
                out.append(None)
            else:
                out.append(value)
        return pl.Series("value", out, dtype=values.dtype)

    def reasons(self) -> dict[tuple[str, str], MissingReason]:
        return dict(self.seen)

    def stats(self) -> dict[str, Any]:
        return self.inner.stats()


class FaultySource:
    def __init__(self, inner: TableSource, failing: set[str]) -> None:
        self.inner = inner
        self.failing = failing

    def open_chunk(
        self,
        benefit: Benefit,
        as_of: date,
        persons: pl.DataFrame,
        households: pl.DataFrame,
        on_fetch: Any = None,
        from_register: Sequence[str] = (),
    ) -> FaultyChunk:
        return FaultyChunk(
            self.inner.open_chunk(benefit, as_of, persons, households, on_fetch), self.failing
        )

    def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("safeguards") / "city"
    write_city(2000, 5, folder)
    persons, households = load_population(folder, "registry", as_of=AS_OF)
    return folder, persons, households


def bags() -> Campaign:
    return find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")


def context(
    tmp_path: Path,
    city: tuple[Path, pl.DataFrame, pl.DataFrame],
    *,
    failing: set[str] | None = None,
    url: str | None = None,
    register: Path | None = None,
    state: Path | None = None,
) -> CampaignContext:
    folder, persons, households = city
    url = url or f"sqlite:///{tmp_path / 'db.sqlite'}"
    if "mode=ro" not in url:
        migrate(url)
    tables = TableSource(persons, households)
    return CampaignContext(
        factory=session_factory(make_engine(url)),
        register=register or folder / "registry",
        state_dir=state or tmp_path / "state",
        output_dir=tmp_path / "out",
        local=str(folder / "local"),
        source=FaultySource(tables, failing) if failing is not None else tables,
        today=lambda: AS_OF,
    )


def households_of_chunk(ctx: CampaignContext, campaign: Campaign, chunk: int) -> set[str]:
    from entitle.decide.campaign.run import load_target

    _, target = load_target(ctx, campaign, AS_OF, 300)
    _, persons, _ = target.chunk(chunk)
    return set(persons["person_id"].to_list())


def sample_failing(city: tuple[Path, pl.DataFrame, pl.DataFrame], step: int = 97) -> set[str]:
    """Every `step`th person, but none of the first household (the preflight's probe answers)."""
    ctx = context_free(city)
    from entitle.decide.campaign.run import load_target

    _, target = load_target(ctx, bags(), AS_OF, 300)
    _, persons, households = target.chunk(0)
    first = households["household_id"][0]
    probe = set(persons.filter(pl.col("household_id") == first)["person_id"].to_list())
    return set(city[1]["person_id"].to_list()[::step]) - probe


def context_free(city: tuple[Path, pl.DataFrame, pl.DataFrame]) -> CampaignContext:
    """A context that only reads the register extract."""
    return CampaignContext(
        factory=None,  # type: ignore[arg-type]
        register=city[0] / "registry",
        state_dir=Path("."),
        output_dir=Path("."),
        local=str(city[0] / "local"),
    )


def rows_of(ctx: CampaignContext, run_id: int) -> list[Any]:
    with ctx.factory() as session:
        return store.decision_rows(session, run_id)


def audited(ctx: CampaignContext, outcome: str) -> list[dict[str, Any]]:
    with ctx.factory() as session:
        return [e for e in audit.search(session, limit=100_000) if e["outcome"] == outcome]


def letters(ctx: CampaignContext) -> list[tuple[str, str]]:
    with ctx.factory() as session:
        return [
            (s, k)
            for s, k in session.execute(
                select(CampaignLetter.subject_pseudonym, CampaignLetter.kind)
            )
        ]


def read_only_url(path: Path) -> str:
    """The SQLite file opened read-only (as a read-only mount or permissions would)."""
    return f"sqlite:///file:{path}?mode=ro&uri=true"


# --------------------------------------------------------------------------- pending, circuit


def test_our_failures_leave_households_pending_without_any_letter_and_the_next_run_decides(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    clean = context(tmp_path / "clean", city, state=tmp_path / "keys")
    reference = {r.subject_pseudonym: r.outcome for r in rows_of(clean, run_campaign(
        clean, campaign, AS_OF, chunk_size=300).id)}  # fmt: skip
    # a few persons in every household-chunk fail on our side: below the circuit's 5 %
    failing = sample_failing(city)
    ctx = context(tmp_path / "faulty", city, failing=failing, state=tmp_path / "keys")
    first = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    assert first.status == "draft"
    rows = rows_of(ctx, first.id)
    pending = [r for r in rows if r.outcome == PENDING]
    assert pending, "some households hang on the failing fact"
    for row in pending:
        assert reference[row.subject_pseudonym] != "eligible" or FACT in row.facts_missing
        assert ours_in(row.reasons)[FACT].code == "MALFORMED"
    # no undetermined household has a reason of ours: those are all pending
    assert all(not ours_in(r.reasons) for r in rows if r.outcome == "undetermined")
    summary = first.summary or {}
    assert summary["outcomes"][PENDING] == len(pending) == summary["pending"]["count"]
    assert sorted(summary["pending"]["subjects"]) == sorted(r.subject_pseudonym for r in pending)
    stored = sum(1 for r in pending for f, w in reasons_of(r.reasons).items() if w.ours)
    assert sum(summary["pending"]["reasons"].values()) == stored
    assert summary["pending"]["reasons"] == {f"{FACT} (MALFORMED)": len(pending)}
    # approving issues coupons and invitations, never to a pending household
    with ctx.factory() as session:
        approve_run(session, campaign, first.id, actor="alice", today=AS_OF)
        session.commit()
    issue_run(ctx, campaign, first.id, actor="alice")
    written = {s for s, _ in letters(ctx)}
    assert written and not written & {r.subject_pseudonym for r in pending}
    invited = {s for s, k in letters(ctx) if k == "invitation"}
    assert invited == {r.subject_pseudonym for r in rows if r.outcome == "undetermined"} - {
        s for s, k in letters(ctx) if k == "coupon"
    }
    # the registry answers again: the next run decides every pending household
    ctx.source = TableSource(city[1], city[2])
    second = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    again = {r.subject_pseudonym: r.outcome for r in rows_of(ctx, second.id)}
    assert (second.summary or {})["pending"]["count"] == 0
    assert again == reference
    assert all(again[r.subject_pseudonym] != PENDING for r in pending)


def test_eligible_then_pending_then_eligible_again_is_continued_not_new(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    tables = TableSource(city[1], city[2])
    ctx = context(tmp_path, city)

    def approved_run() -> dict[str, Any]:
        run = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
        with ctx.factory() as session:
            approve_run(session, campaign, run.id, actor="alice", today=AS_OF)
            session.commit()
        return {r.subject_pseudonym: r for r in rows_of(ctx, run.id)}

    first = approved_run()
    # the increased allowance of a few eligible households fails on our side
    pseudonym = ctx.pseudonymiser()
    eligible = [
        h for h in city[2]["household_id"].to_list()
        if getattr(first.get(pseudonym(h)), "outcome", None) == "eligible"
    ][1:6]  # fmt: skip
    members = city[1].filter(pl.col("household_id").is_in(eligible))
    ctx.source = FaultySource(tables, set(members["person_id"].to_list()))
    second = approved_run()
    ctx.source = tables
    third = approved_run()
    # eligible, then pending through our failure, then eligible again with the same band: the
    # pending run decided nothing, so they continue (and keep their band as the previous one)
    back = [
        s
        for s, row in second.items()
        if row.outcome == PENDING
        and first[s].outcome == "eligible"
        and third[s].outcome == "eligible"
        and third[s].band == first[s].band
    ]
    assert back, "some eligible households hang on the failing fact in the second run"
    assert {second[s].change for s in back} == {"unknown"}
    assert {third[s].change for s in back} == {"continued"}
    assert [third[s].previous_band for s in back] == [first[s].band for s in back]


def test_a_chunk_with_too_many_failures_of_ours_pauses_the_run_and_it_resumes(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    clean = context(tmp_path / "clean", city, state=tmp_path / "keys")
    reference = run_campaign(clean, campaign, AS_OF, chunk_size=300)
    expected = {r.subject_pseudonym: r.outcome for r in rows_of(clean, reference.id)}
    ctx = context(tmp_path / "faulty", city, failing=set(), state=tmp_path / "keys")
    assert isinstance(ctx.source, FaultySource)
    ctx.source.failing = households_of_chunk(ctx, campaign, 2)  # an outage during chunk 2
    paused = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    assert paused.status == "running"
    why = (paused.summary or {})["paused"]
    assert why["chunk"] == 2 and why["share"] > ctx.max_failure_share
    assert why["reasons"] == {f"{FACT} (MALFORMED)": why["pending"]}
    with ctx.factory() as session:
        assert store.done_chunks(session, paused.id) == {0, 1}  # chunk 2 was not stored
        figures = run_figures(session, paused.id)
    assert figures.paused and figures.paused["chunk"] == 2  # what the dashboard shows
    assert len(audited(ctx, "campaign_run_paused")) == 1
    outcome = attempt(ctx, campaign, None)  # the outage goes on: the run pauses again
    assert (outcome.result, outcome.exit_code) == ("paused", 2)
    assert "paused at chunk 2" in outcome.message and "MALFORMED" in outcome.message
    ctx.source.failing = set()  # the registry is back
    resumed = attempt(ctx, campaign, None)
    assert (resumed.result, resumed.exit_code, resumed.run) == ("decided", 0, paused.id)
    assert {r.subject_pseudonym: r.outcome for r in rows_of(ctx, paused.id)} == expected
    assert read_health(ctx)["garbage-bags"]["exit_code"] == 0


# --------------------------------------------------------------------------- gates


def test_a_shrunken_population_stops_before_any_fact_is_asked_unless_confirmed(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    ctx = context(tmp_path, city)
    first = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    with ctx.factory() as session:
        approve_run(session, campaign, first.id, actor="alice", today=AS_OF)
        session.commit()
    smaller = tmp_path / "smaller"
    shutil.copytree(city[0] / "registry", smaller)
    households = pl.read_parquet(smaller / "households.parquet")
    dropped = households.height // 20  # 5 % of the households missing from the extract
    households.slice(dropped).write_parquet(smaller / "households.parquet")
    ctx.register = smaller
    asked: list[str] = []

    class Spy(TableSource):
        def open_chunk(self, *args: Any, **kwargs: Any) -> TableChunk:
            asked.append("chunk")
            return super().open_chunk(*args, **kwargs)

    ctx.source = Spy(city[1], city[2])
    with pytest.raises(GateError) as stopped:
        run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    message = str(stopped.value)
    assert stopped.value.confirmable and "--confirm-population" in message
    before = first.subjects_total
    assert f"{before:,}" in message and f"{before - dropped:,}" in message
    outcome = attempt(ctx, campaign, AS_OF, chunk_size=300)  # what `run` and `schedule` say
    assert (outcome.result, outcome.exit_code, outcome.message) == ("refused", 2, message)
    assert asked == []  # no fact source opened, nothing stored
    with ctx.factory() as session:
        assert store.running_run(session, campaign.name) is None
    confirmed = run_campaign(ctx, campaign, AS_OF, chunk_size=300, confirm_population=True)
    assert confirmed.status == "draft" and confirmed.subjects_total == before - dropped
    [entry] = audited(ctx, "campaign_population_confirmed")
    assert entry["details"]["before"] == before and entry["details"]["after"] == before - dropped


def test_duplicate_keys_in_the_extract_are_refused_and_the_good_extract_runs(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    doubled = tmp_path / "doubled"
    shutil.copytree(city[0] / "registry", doubled)
    persons = pl.read_parquet(doubled / "persons.parquet")
    pl.concat([persons, persons.head(3)]).write_parquet(doubled / "persons.parquet")
    ctx = context(tmp_path, city, register=doubled)
    with pytest.raises(GateError) as refused:
        run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    assert not refused.value.confirmable
    assert "3 person_id value(s) occur more than once" in str(refused.value)
    with ctx.factory() as session:
        assert store.list_runs(session, campaign.name) == []  # no run stuck `running`
    ctx.register = city[0] / "registry"
    assert run_campaign(ctx, campaign, AS_OF, chunk_size=300).status == "draft"


def test_a_duplicate_decision_is_an_error_not_a_chunk_stored_elsewhere(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    ctx = context(tmp_path, city)
    row = {
        "subject_pseudonym": "p-" + "a" * 20,
        "outcome": "eligible",
        "change": "new",
        "band": None,
        "previous_band": None,
        "outputs": {},
        "conditions": {},
        "facts_used": [],
        "facts_missing": [],
        "reasons": {},
        "valid_until": None,
    }
    with ctx.factory() as session:
        run = store.create_run(
            session, campaign="c", benefit="b", benefit_version="1", as_of=AS_OF,
            period="2026", chunk_size=2, chunks_total=1, subjects_total=2, fingerprint="f",
            approvals_required=1, started_by="t",
        )  # fmt: skip
        with pytest.raises(CampaignStateError, match="two decisions for one subject"):
            store.save_chunk(session, run.id, 0, decisions=[row, dict(row)], stats={})
        assert store.done_chunks(session, run.id) == set()
        assert store.save_chunk(session, run.id, 0, decisions=[row], stats={})
        assert not store.save_chunk(session, run.id, 0, decisions=[row], stats={})


# --------------------------------------------------------------------------- lock


def test_a_second_run_of_the_same_campaign_and_period_exits_at_once(
    database_url: str, tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    ctx = context(tmp_path, city, url=database_url)
    asked: list[str] = []

    class Spy(TableSource):
        def open_chunk(self, *args: Any, **kwargs: Any) -> TableChunk:
            asked.append("chunk")
            return super().open_chunk(*args, **kwargs)

    other = context(tmp_path, city, url=database_url)
    other.source = Spy(city[1], city[2])
    with run_lock(ctx, campaign.name, campaign.period(AS_OF)):
        with pytest.raises(RunLocked) as locked:
            run_campaign(other, campaign, AS_OF, chunk_size=300)
        outcome = attempt(other, campaign, AS_OF, chunk_size=300)
    assert f"campaign garbage-bags for period {campaign.period(AS_OF)} is being run by" in str(
        locked.value
    )
    assert (outcome.result, outcome.exit_code) == ("refused", 2)
    assert asked == []
    with other.factory() as session:
        assert store.list_runs(session, campaign.name) == []
    assert run_campaign(other, campaign, AS_OF, chunk_size=300).status == "draft"  # released


# --------------------------------------------------------------------------- preflight, I/O


def test_preflight_refuses_a_read_only_database_and_a_full_letters_folder(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    ctx = context(tmp_path, city)
    read_only = context(tmp_path, city, url=read_only_url(tmp_path / "db.sqlite"))
    outcome = attempt(read_only, campaign, AS_OF, chunk_size=300)
    assert (outcome.result, outcome.exit_code) == ("refused", 2)
    assert outcome.message.startswith("preflight failed for garbage-bags: the database is not "
                                      "writable: attempt to write a readonly database")  # fmt: skip
    ctx.bytes_per_letter = 10**12  # no disk has room for this
    with pytest.raises(PreflightError, match="MiB free; a run of"):
        run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    assert not ctx.output_dir.exists()  # the preflight creates nothing
    with ctx.factory() as session:
        assert store.list_runs(session, campaign.name) == []


def test_another_preflight_check_plugs_in(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    seen: list[int] = []

    def inscribed(check: Preflight) -> str | None:
        seen.append(check.target.size)
        return "the target is not inscribed in the repertory"

    ctx = context(tmp_path, city)
    with pytest.raises(PreflightError, match="not inscribed in the repertory"):
        run_campaign(ctx, bags(), AS_OF, chunk_size=300, checks=[*CHECKS, inscribed])
    assert seen and seen[0] > 0


def test_issue_on_a_read_only_database_writes_no_file(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    ctx = context(tmp_path, city)
    run = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    with ctx.factory() as session:
        approve_run(session, campaign, run.id, actor="alice", today=AS_OF)
        session.commit()
    read_only = context(tmp_path, city, url=read_only_url(tmp_path / "db.sqlite"))
    with pytest.raises(NotWritableError, match="not issued, no file written"):
        issue_run(read_only, campaign, run.id, actor="alice")
    assert not ctx.output_dir.exists()
    with ctx.factory() as session:
        assert store.get_run(session, run.id).status == "approved"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(CampaignLetter)) == 0
    assert issue_run(ctx, campaign, run.id, actor="alice").run.status == "issued"


# --------------------------------------------------------------------------- export, health


def test_the_export_is_pseudonymised_unless_asked_with_insz(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    failing = sample_failing(city)
    ctx = context(tmp_path, city, failing=failing)
    run = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    path, count = export_run(ctx, campaign, run.id, fmt="csv", actor="alice")
    table = pl.read_csv(path, infer_schema=False)
    assert count == table.height == len(rows_of(ctx, run.id))
    assert "subject_id" not in table.columns
    assert not any(v in table.write_csv() for v in city[1]["person_id"].to_list()[:50])
    pending = table.filter(pl.col("outcome") == PENDING)
    assert pending.height == (run.summary or {})["pending"]["count"] > 0
    assert set(pending["ours"].to_list()) == {f"{FACT}:MALFORMED"}
    parquet, _ = export_run(
        ctx, campaign, run.id, fmt="parquet", actor="alice", path=tmp_path / "x.parquet",
        with_insz=True,
    )  # fmt: skip
    named = pl.read_parquet(parquet)
    extract = pl.read_parquet(city[0] / "registry" / "households.parquet")
    households = set(extract["household_id"].cast(pl.String).to_list())
    assert named["subject_id"].null_count() == 0
    assert set(named["subject_id"].to_list()) <= households
    assert named.drop("subject_id").equals(decisions_table(ctx, campaign, run.id))
    exports = audited(ctx, "campaign_decisions_exported")
    assert sorted(e["details"]["with_insz"] for e in exports) == [False, True]


def test_the_health_file_and_the_prometheus_textfile(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    failing = sample_failing(city)
    ctx = context(tmp_path, city, failing=failing)
    ctx.metrics_file = tmp_path / "metrics" / "entitle.prom"
    outcome = attempt(ctx, campaign, AS_OF, chunk_size=300)
    assert (outcome.result, outcome.exit_code) == ("pending", 1)
    state = read_health(ctx)["garbage-bags"]
    assert state["pending"] == outcome.pending > 0 and state["run"] == outcome.run
    text = ctx.metrics_file.read_text()
    assert 'entitle_campaign_last_exit_code{campaign="garbage-bags"} 1' in text
    assert f'entitle_campaign_pending_subjects{{campaign="garbage-bags"}} {outcome.pending}' in text
    assert 'entitle_campaign_paused{campaign="garbage-bags"} 0' in text
    assert "# TYPE entitle_campaign_last_success_timestamp_seconds gauge" in text
    json.dumps(outcome.to_dict())  # the --json summary is JSON


def test_the_health_endpoint_says_each_campaigns_last_attempt_without_personal_data(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    ctx = context(tmp_path, city, failing=sample_failing(city))
    with dashboard(tmp_path, ctx) as client:
        client.cookies.clear()  # a monitor signs in nowhere
        before = client.get("/health/campaigns")
        assert before.status_code == 200
        assert before.json() == {"status": "ok", "worst_exit_code": 0, "campaigns": {}}
        outcome = attempt(ctx, campaign, AS_OF, chunk_size=300)
        assert outcome.exit_code == 1 and outcome.pending > 0
        answer = client.get("/health/campaigns")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        body = answer.json()
        state = read_health(ctx)["garbage-bags"]  # what `entitle campaign health` reports
        assert body["status"] == "pending" and body["worst_exit_code"] == 1
        assert body["campaigns"] == {
            "garbage-bags": {
                "result": "pending",
                "exit_code": 1,
                "run": outcome.run,
                "status": "draft",
                "as_of": AS_OF.isoformat(),
                "pending": outcome.pending,
                "at": state["at"],
                "last_success": state["at"],
                "paused": False,
            }
        }
        # no free text, no subject: the message and the pending pseudonyms stay in the CLI
        assert state["message"] and state["message"] not in answer.text
        run = store_run(ctx, outcome.run)
        assert not any(p in answer.text for p in (run.summary or {})["pending"]["subjects"])


def store_run(ctx: CampaignContext, run_id: int | None) -> Any:
    assert run_id is not None
    with ctx.factory() as session:
        return store.get_run(session, run_id)


@contextmanager
def dashboard(tmp_path: Path, ctx: CampaignContext) -> Iterator[TestClient]:
    """The web application on the context's database, signed in as a campaign manager."""
    from test_web_support import PASSWORD, login, settings_for

    from entitle.web.app import create_app
    from entitle.web.campaigns.setup import CampaignSetup

    settings = settings_for(
        "http://127.0.0.1:9",
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        data_dir=ctx.state_dir,
    )
    app = create_app(settings)
    app.state.campaigns = CampaignSetup(
        context=ctx, campaigns_dir=REPO / "campaigns", benefits_dir=REPO / "benefits"
    )
    app.state.web.backend.add_user("manager", PASSWORD, "campaign_manager")
    try:
        client = TestClient(app, follow_redirects=False)
        assert login(client, "manager").status_code == 303
        yield client
    finally:
        app.state.web.desk.close()
        app.state.web.backend.close()


def test_the_dashboard_says_why_a_run_paused_and_how_many_are_pending(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame]
) -> None:
    campaign = bags()
    ctx = context(tmp_path, city, failing=set())
    assert isinstance(ctx.source, FaultySource)
    ctx.source.failing = households_of_chunk(ctx, campaign, 1)
    paused = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    with dashboard(tmp_path, ctx) as client:
        page = client.get(f"/campaigns/runs/{paused.id}")
        assert page.status_code == 200
        text = " ".join(page.text.split())
        assert 'id="run-paused"' in text and "gepauzeerd bij deel 1" in text
        # the failing fact in words, with the failure's code
        assert f"{fact_words('nl')} (MALFORMED)" in text and FACT not in text
        ctx.source.failing = sample_failing(city)  # the outage is over; a few failures remain
        draft = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
        pending = (draft.summary or {})["pending"]["count"]
        assert draft.status == "draft" and pending > 0
        text = " ".join(client.get(f"/campaigns/runs/{paused.id}").text.split())
        assert 'id="run-paused"' not in text
        assert f"{pending} wachtend door een fout aan onze kant" in text


def fact_words(lang: str) -> str:
    """How the pages name the failing fact."""
    from entitle.rules.catalogue import default_catalogue

    spec = default_catalogue().get(FACT)
    assert spec is not None and spec.description
    return str(spec.description[lang])


PENDING_WORDS = {
    "nl": ("in afwachting (fout bij ons of de bron, volgende run)", "in afwachting: de volgende"),
    "en": ("pending (our or the source's failure; next run)", "pending: the next run decides"),
}
NOT_PENDING_WORDS = {
    "nl": ("geen recht", "onbepaald"),
    "en": ("not eligible", "undetermined"),
}


def _cell_count(html: str, row_class: str) -> int:
    row = re.search(rf'<tr class="{row_class}">(.*?)</tr>', html, re.S)
    assert row, row_class
    found = re.search(r'<td class="num">([\d.\s]+)</td>', row.group(1))
    assert found, row.group(1)
    return int(re.sub(r"\D", "", found.group(1)))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_dashboard_counts_and_charts_pending_households_as_pending(
    tmp_path: Path, city: tuple[Path, pl.DataFrame, pl.DataFrame], lang: str
) -> None:
    import html as markup

    from test_web_support import assert_dutch

    campaign = bags()
    ctx = context(tmp_path, city, failing=set())
    assert isinstance(ctx.source, FaultySource)
    first = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    with ctx.factory() as session:
        approve_run(session, campaign, first.id, actor="alice", today=AS_OF)
        session.commit()
    # failures of ours for every 3rd person in the next run (the circuit set not to pause it)
    ctx.source.failing = sample_failing(city, step=3)
    ctx.max_failure_share = 1.0
    second = run_campaign(ctx, campaign, AS_OF, chunk_size=300)
    assert second.status == "draft" and second.previous_run_id == first.id
    rows = rows_of(ctx, second.id)
    stored = {o: sum(1 for r in rows if r.outcome == o) for o in {r.outcome for r in rows}}
    pending = [r for r in rows if r.outcome == PENDING]
    # against the previous run, a pending household's stored change reads "not eligible" or
    # "eligible before, undetermined now": the dashboard must not show it so
    assert {r.change for r in pending} == {"none", "unknown"}
    pending_word, pending_change = PENDING_WORDS[lang]
    with dashboard(tmp_path, ctx) as client:
        client.cookies.set("entitle_lang", lang)
        # the run list: one column per outcome, pending included, equal to the stored outcomes
        index = markup.unescape(client.get("/campaigns").text)
        assert pending_word in index
        listed = re.search(
            rf'href="/campaigns/runs/{second.id}".*?</tr>', index, re.S
        )  # fmt: skip
        assert listed
        for outcome in ("eligible", "not_eligible", "undetermined", PENDING):
            cell = re.search(rf'class="num outcome-{outcome}">([^<]*)<', listed.group(0))
            assert cell and int(re.sub(r"\D", "", cell.group(1))) == stored.get(outcome, 0)
        # the run page: the outcomes table, and the chart's words for those who see no colour
        page = client.get(f"/campaigns/runs/{second.id}")
        assert page.status_code == 200
        html = markup.unescape(page.text)
        if lang == "nl":
            assert_dutch(page.text)
        notice = re.search(r'id="run-pending">(.*?)</p>', html, re.S)
        assert notice and f"{fact_words(lang)} (MALFORMED)" in notice.group(1)
        for outcome in ("eligible", "not_eligible", "undetermined", PENDING):
            assert _cell_count(html, f"outcome-row-{outcome}") == stored.get(outcome, 0)
        title = re.search(r'<title id="chart-outcomes-title">(.*?)</title>', html, re.S)
        assert title and f"{pending_word}: {len(pending)}" in title.group(1)
        assert 'class="bar bar-pending"' in html
        changes = re.search(r'<title id="chart-changes-title">(.*?)</title>', html, re.S)
        assert changes and f"{pending_change}" in changes.group(1)
        # the changes table: pending on its own row; "not eligible" and the undetermined rows
        # count only households that are so
        assert _cell_count(html, "change-row-pending") == len(pending)
        for change, outcome in (
            ("none", "not_eligible"),
            ("undetermined", "undetermined"),
            ("unknown", "undetermined"),
        ):
            expected = sum(1 for r in rows if r.change == change and r.outcome == outcome)
            assert _cell_count(html, f"change-row-{change}") == expected
        assert sum(_cell_count(html, f"change-row-{c}") for c in RUN_CHANGES) == len(rows)
        # the sample of pending households: each says pending, never "not eligible"/"undetermined"
        table = html.split('id="sample-pending"', 1)[1].split("</table>", 1)[0]
        shown = re.findall(r"<tr>\s*<td><code.*?</tr>", table, re.S)
        assert len(shown) == min(len(pending), 10)
        for row in shown:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            assert pending_word in cells[1] and pending_change in cells[2]
            assert not any(word in cells[1] + cells[2] for word in NOT_PENDING_WORDS[lang])


# --------------------------------------------------------------------------- properties

KINDS = st.sampled_from(["no_data", "retry", "refused", "bad_request", "error"])


@given(kind=KINDS, code=st.text(max_size=12), detail=st.text(max_size=300))
def test_a_reason_is_ours_unless_the_source_has_no_data_and_survives_storage(
    kind: str, code: str, detail: str
) -> None:
    why = MissingReason(kind, code, detail)
    assert why.ours == (kind != "no_data")
    stored = json.loads(json.dumps(why.to_json()))
    again = MissingReason.parse(stored)
    assert (again.kind, again.code, again.ours) == (kind, code, why.ours)
    assert len(again.detail) <= 200


@given(
    outcomes=st.lists(st.sampled_from(["eligible", "not_eligible", "undetermined", PENDING])),
    threshold=st.floats(min_value=0, max_value=1),
)
def test_the_circuit_trips_exactly_above_its_share(outcomes: list[str], threshold: float) -> None:
    from entitle.decide.campaign.run import tripped

    ctx = context_free_with(threshold)
    rows = [
        {"outcome": o, "reasons": {FACT: BROKEN.to_json()} if o == PENDING else {}}
        for o in outcomes
    ]
    paused = tripped(ctx, 3, rows)
    share = outcomes.count(PENDING) / len(outcomes) if outcomes else 0.0
    assert (paused is not None) == (share > threshold)
    if paused is not None:
        assert paused["pending"] == outcomes.count(PENDING) and paused["chunk"] == 3
        assert paused["reasons"] == {f"{FACT} (MALFORMED)": outcomes.count(PENDING)}


def context_free_with(threshold: float) -> CampaignContext:
    return CampaignContext(
        factory=None,  # type: ignore[arg-type]
        register=Path("."),
        state_dir=Path("."),
        output_dir=Path("."),
        max_failure_share=threshold,
    )


@given(
    names=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=4, unique=True),
    codes=st.lists(st.integers(min_value=0, max_value=3), min_size=4, max_size=4),
)
def test_the_textfile_has_one_sample_per_metric_and_campaign(
    names: list[str], codes: list[int]
) -> None:
    states = {
        name: {"exit_code": codes[i], "result": "paused" if codes[i] == 2 else "decided",
               "pending": i, "at": "2026-03-01T06:00:00+00:00", "last_success": None}
        for i, name in enumerate(names)
    }  # fmt: skip
    text = prometheus(states)
    samples = [line for line in text.split("\n")[:-1] if not line.startswith("#")]
    assert len(samples) == 5 * len(names)
    sample = re.compile(r'^entitle_campaign_[a-z_]+\{campaign="((?:[^"\\\n]|\\.)*)"\} (\S+)$', re.S)
    for line in samples:
        found = sample.match(line)
        assert found, line
        float(found.group(2))
        label = re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m[1], m[1]), found.group(1))
        assert label in names


def test_runs_started_from_the_dashboard_keep_the_safeguards_of_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard runs campaigns with the same safeguards as `entitle campaign run`: the
    settings' failure share, population change, probe, letter size and metrics file (the
    dashboard used the built-in defaults)."""
    from entitle.web.app import create_app
    from entitle.web.settings import Settings

    metrics = tmp_path / "campaign.prom"
    monkeypatch.setenv("ENTITLE_CAMPAIGN_MAX_FAILURE_SHARE", "0.2")
    monkeypatch.setenv("ENTITLE_CAMPAIGN_MAX_POPULATION_CHANGE", "0.3")
    monkeypatch.setenv("ENTITLE_CAMPAIGN_PROBE_INSZ", "85073003328")
    monkeypatch.setenv("ENTITLE_CAMPAIGN_BYTES_PER_LETTER", "12345")
    monkeypatch.setenv("ENTITLE_CAMPAIGN_METRICS", str(metrics))
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'entitle.db'}", data_dir=tmp_path / "state")
    )
    context = app.state.campaigns.context
    assert context.max_failure_share == 0.2
    assert context.max_population_change == 0.3
    assert context.probe_insz == "85073003328"
    assert context.bytes_per_letter == 12345
    assert context.metrics_file == metrics
