"""Weekly follow-up, each week a run of its own: a week's letter shown again from its run,
withdrawing the standing approval (every batch held until approved again, from the library and
the command line), and the week's billing lists for pupils newly eligible or with another
tariff."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_follow_up import approved_run, at, audited, weekly, weekly_campaigns
from test_registry_server import running_server
from test_watch_run import REPO, Env
from typer.testing import CliRunner

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign, FollowUp, find_campaign
from entitle.decide.campaign.issue import issue_run
from entitle.decide.campaign.letters import render_letter
from entitle.decide.campaign.review import approve_run
from entitle.decide.campaign.run import load_target, run_campaign
from entitle.decide.exports import HEADER
from entitle.decide.follow_up import batches as fu
from entitle.decide.follow_up.folders import week_folder
from entitle.decide.follow_up.issue import issue_batch
from entitle.decide.follow_up.redecide import full_state
from entitle.decide.follow_up.run import run_week
from entitle.decide.follow_up.seed import seed_states
from entitle.decide.follow_up.standing import FollowUpError, grant_standing, standing_of
from entitle.registry.synth import write_city
from entitle.store import campaigns as store


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    city = tmp_path / "city"
    write_city(1500, 21, city)
    with running_server(city, tmp_path / "server.log") as server:
        yield Env(city, server, tmp_path)


def weeks_until(env: Env, ctx: CampaignContext, campaign: Campaign, wanted: Any) -> dict[str, Any]:
    """Weeks of follow-up until one's batch satisfies `wanted`."""
    for _ in range(12):
        env.advance()
        summary = run_week(ctx, [campaign], env.as_of(), now=at(env.as_of()))
        if not summary.nothing_new:
            batch = fu.get_batch(ctx, campaign.name, summary.week)
            if wanted(batch):
                return batch
    raise AssertionError("twelve weeks without such a week")


def sends(batch: dict[str, Any]) -> bool:
    return bool(batch["changes"]["new"] or batch["changes"]["undetermined"])


def test_a_weeks_letter_is_shown_again_from_the_weeks_run(env: Env) -> None:
    campaign = weekly()
    ctx = env.context("letter")
    env.advance()
    run_id = approved_run(ctx, campaign, env.as_of())
    run_week(ctx, [campaign], env.as_of(), now=at(env.as_of()))
    grant_standing(ctx, campaign, run_id, actor="manager", until=date(2099, 1, 1))
    batch = weeks_until(env, ctx, campaign, sends)
    decided = at(date.fromisoformat(batch["as_of"]))
    issue_batch(ctx, campaign, batch["week"], now=decided + timedelta(days=1))
    with ctx.factory() as session:
        letters = store.letters_of_run(session, batch["run"])
        decision = store.decision_of(session, batch["run"], letters[0].subject_pseudonym)
    assert letters and decision is not None  # the letter's decision is the week's
    pdf = render_letter(ctx, campaign, batch["run"], letters[0].seq)
    assert pdf.startswith(b"%PDF")
    with pytest.raises(store.CampaignStateError, match=r"week \d+ of the weekly follow-up"):
        issue_run(ctx, campaign, batch["run"], actor="manager")  # never as a full run


def test_withdrawing_the_standing_approval_holds_every_week_until_approved_again(
    env: Env,
) -> None:
    campaign = weekly()
    ctx = env.context("withdraw")
    env.advance()
    run_id = approved_run(ctx, campaign, env.as_of())
    run_week(ctx, [campaign], env.as_of(), now=at(env.as_of()))
    with pytest.raises(FollowUpError, match="no standing approval"):
        fu.withdraw_standing(ctx, campaign, actor="manager", reason="nothing to withdraw")
    grant_standing(ctx, campaign, run_id, actor="manager", until=date(2099, 1, 1))
    ready = weeks_until(env, ctx, campaign, sends)
    assert ready["status"] == "ready"
    with pytest.raises(FollowUpError, match="reason"):
        fu.withdraw_standing(ctx, campaign, actor="other", reason="  ")
    standing, held = fu.withdraw_standing(ctx, campaign, actor="other", reason="rule in review")
    assert held == [ready["week"]] and standing.withdrawn is not None
    assert standing.withdrawn["reason"] == "rule in review"
    assert standing_of(ctx, campaign.name) == standing and not standing.covers(date(2026, 1, 1))
    assert fu.get_batch(ctx, campaign.name, ready["week"])["status"] == "held"
    details = audited(ctx, "follow_up_withdrawn")
    assert details == [
        {"campaign": campaign.name, "run": run_id, "reason": "rule in review", "held": held}
    ]
    with pytest.raises(FollowUpError, match="withdrawn already"):
        fu.withdraw_standing(ctx, campaign, actor="other", reason="again")

    # the weeks still decide and record, every letter held
    later = weeks_until(env, ctx, campaign, sends)
    assert later["status"] == "held" and later["standing_run"] is None
    assert later["history"][0]["note"] == "standing approval withdrawn: rule in review"
    moment = at(date.fromisoformat(later["as_of"])) + timedelta(days=30)
    assert fu.due_batches(ctx, [campaign], moment) == []
    with pytest.raises(FollowUpError, match="approve the weekly follow-up again"):
        fu.release_batch(ctx, campaign, later["week"], actor="manager")
    with pytest.raises(FollowUpError, match="held"):
        issue_batch(ctx, campaign, later["week"], now=moment)
    with ctx.factory() as session:
        assert store.letters_of_run(session, later["run"]) == []

    # approved again: the held weeks go out once a manager releases them
    grant_standing(ctx, campaign, run_id, actor="manager", until=date(2099, 1, 1))
    assert fu.get_batch(ctx, campaign.name, later["week"])["status"] == "held"
    for week in (ready["week"], later["week"]):
        fu.release_batch(ctx, campaign, week, actor="manager", note="checked")
    assert fu.due_batches(ctx, [campaign], moment) == [
        (campaign, ready["week"]),
        (campaign, later["week"]),
    ]
    sent = issue_batch(ctx, campaign, later["week"], now=moment)
    assert sent["status"] == "issued" and sent["standing_run"] == run_id
    assert sum(sent["letters"].values()) == len(sent["planned"]) > 0


def test_watch_withdraw_on_the_command_line(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entitle.cli.main import app
    from entitle.store.users import add_user

    folder = weekly_campaigns(tmp_path)
    campaign = find_campaign("garbage-bags", folder, REPO / "benefits")
    ctx = env.context("cli")
    env.advance()
    run_id = approved_run(ctx, campaign, env.as_of())
    grant_standing(ctx, campaign, run_id, actor="manager", until=date(2099, 1, 1))
    with ctx.factory() as session:
        add_user(session, "anna", "correct horse battery", "campaign_manager")
        session.commit()
    monkeypatch.setenv("ENTITLE_DATA_DIR", str(ctx.state_dir))
    monkeypatch.setenv("ENTITLE_PASSWORD", "correct horse battery")
    url = f"sqlite:///{env.root / 'cli' / 'entitle.db'}"
    args = ["watch", "withdraw", "garbage-bags", "--as", "anna", "--campaigns", str(folder)]
    args += ["--benefits", str(REPO / "benefits"), "--url", url]
    bare = CliRunner().invoke(app, args)
    assert bare.exit_code == 2 and "--reason" in bare.output, bare.output
    done = CliRunner().invoke(app, [*args, "--reason", "rule in review"])
    assert done.exit_code == 0, done.output
    assert "standing approval withdrawn; weeks held: none" in done.output
    assert standing_of(ctx, "garbage-bags").withdrawn["actor"] == "anna"  # type: ignore[index]
    again = CliRunner().invoke(app, [*args, "--reason", "again"])
    assert again.exit_code == 2 and "withdrawn already" in again.output, again.output


def school_weekly() -> Campaign:
    base = find_campaign("school-tariff", REPO / "campaigns", REPO / "benefits")
    spec = base.spec.model_copy(update={"follow_up": FollowUp(weekly=True)})
    return Campaign(spec, base.benefit, base.path, base.benefits_dir)


def test_a_week_bills_only_the_pupils_it_made_eligible_or_changed(env: Env) -> None:
    campaign = school_weekly()
    ctx = env.context("billing")
    env.advance()
    view = run_campaign(ctx, campaign, env.as_of(), actor="ops")
    with ctx.factory() as session:  # four eyes
        for manager in ("manager", "second"):
            approve_run(session, campaign, view.id, actor=manager, today=env.as_of())
        session.commit()
    # the baseline without five eligible pupils: the next week finds them in the target as if
    # they had just enrolled, newly eligible
    _, target = load_target(ctx, campaign, env.as_of(), None)
    source = ctx.fact_source()
    try:
        state = full_state(campaign, env.as_of(), target, source, ctx.pseudonymiser()).state
    finally:
        ctx.close_source(source)
    enrolled = sorted(p for p, d in state.decisions.items() if d["outcome"] == "eligible")[:5]
    assert len(enrolled) == 5
    for pseudonym in enrolled:
        del state.decisions[pseudonym]
    seed_states(ctx, [campaign], {campaign.name: state}, env.as_of(), now=at(env.as_of()))
    standing = grant_standing(ctx, campaign, view.id, actor="manager", until=date(2099, 1, 1))
    assert standing.scope["billing"] == "billing_list"
    batch = weeks_until(env, ctx, campaign, lambda b: True)
    assert batch["changes"]["new"] >= len(enrolled)
    assert batch["status"] == "ready"
    decided = at(date.fromisoformat(batch["as_of"]))
    sent = issue_batch(ctx, campaign, batch["week"], now=decided + timedelta(days=1))
    with ctx.factory() as session:
        rows = store.decision_rows(session, batch["run"])
        assert store.letters_of_run(session, batch["run"]) == []  # no letters: lists only
    billed = {r.subject_pseudonym for r in rows if r.change in ("new", "changed")}
    billed &= {r.subject_pseudonym for r in rows if r.outcome == "eligible"}
    assert set(enrolled) <= billed
    folder = week_folder(ctx, campaign.name, batch["week"]) / "billing"
    lines = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            table = list(csv.reader(handle, delimiter=";"))
        assert tuple(table[0]) == HEADER and len(HEADER) == 9 and "Periode" in HEADER
        lines += table[1:]
    assert len(lines) == sent["billing"] and len(enrolled) <= len(lines) <= len(billed)
    assert (folder / "alle-scholen.zip").is_file()
    assert all(line[HEADER.index("Periode")].startswith("schooljaar ") for line in lines)
    assert "billing/alle-scholen.zip" in sent["files"]
    assert audited(ctx, "follow_up_issued")[0]["billing"] == len(lines)
    json.dumps(sent)  # the batch is JSON-ready
