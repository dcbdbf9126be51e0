"""Weekly follow-up's letters: the standing approval, a week's batch held and released, sent
once (idempotent, resumable), the campaign's policy for changed and ended subjects, and
`entitle campaign schedule` starting `watch run`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_registry_server import running_server
from test_watch_run import MAGDA, REPO, Env
from typer.testing import CliRunner

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign, FollowUp, find_campaign
from entitle.decide.campaign.review import approve_run
from entitle.decide.campaign.run import run_campaign
from entitle.decide.follow_up import batches as fu
from entitle.decide.follow_up import issue as sending
from entitle.decide.follow_up.folders import week_folder
from entitle.decide.follow_up.run import run_week
from entitle.decide.follow_up.schedule import follow_up_due, run_follow_up
from entitle.decide.follow_up.standing import FollowUpError, grant_standing
from entitle.registry.synth import write_city
from entitle.store import audit
from entitle.store import campaigns as store
from entitle.store import weeks as week_store
from entitle.store.db import make_engine, session_factory
from entitle.store.models import CampaignLetter


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    city = tmp_path / "city"
    write_city(1500, 21, city)
    with running_server(city, tmp_path / "server.log") as server:
        yield Env(city, server, tmp_path)


def at(day: date) -> datetime:
    """When a week is decided: 09:00 UTC on its day."""
    return datetime.combine(day, time(9), UTC)


def weekly(**policy: Any) -> Campaign:
    base = find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")
    spec = base.spec.model_copy(update={"follow_up": FollowUp(weekly=True, **policy)})
    return Campaign(spec, base.benefit, base.path, base.benefits_dir)


def approved_run(ctx: CampaignContext, campaign: Campaign, as_of: date) -> int:
    view = run_campaign(ctx, campaign, as_of, actor="ops")
    with ctx.factory() as session:
        approve_run(session, campaign, view.id, actor="manager", today=as_of)
        session.commit()
    return view.id


def letters(ctx: CampaignContext) -> list[tuple[str, str, str]]:
    with ctx.factory() as session:
        rows = session.query(CampaignLetter).all()
        return sorted((r.subject_pseudonym, r.kind, r.period) for r in rows)


def audited(ctx: CampaignContext, outcome: str) -> list[dict[str, Any]]:
    with ctx.factory() as session:
        found = audit.search(session, limit=1000)
    return [e["details"] for e in found if e["outcome"] == outcome]


def until_a_week_sends(env: Env, ctx: CampaignContext, campaign: Campaign) -> dict[str, Any]:
    """Weeks of follow-up until one has a newly eligible or undetermined subject."""
    for _ in range(8):
        env.advance()
        summary = run_week(ctx, [campaign], env.as_of(), now=at(env.as_of()))
        batch = fu.get_batch(ctx, campaign.name, summary.week)
        if batch["changes"]["new"] or batch["changes"]["undetermined"]:
            return batch
    raise AssertionError("eight weeks without a newly eligible household")


def test_a_week_sends_its_letters_within_the_standing_approval_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = weekly(ended="notify")
    ctx = env.context("standing")
    env.advance()
    run_id = approved_run(ctx, campaign, env.as_of())
    baseline = run_week(ctx, [campaign], env.as_of(), now=at(env.as_of()))
    assert fu.get_batch(ctx, campaign.name, baseline.week)["status"] == "baseline"
    with pytest.raises(FollowUpError, match="did not approve"):
        grant_standing(ctx, campaign, run_id, actor="someone", until=date(2099, 1, 1))
    standing = grant_standing(ctx, campaign, run_id, actor="manager", until=date(2099, 1, 1))
    assert standing.scope == {
        "new": "letter",
        "undetermined": "invitation",
        "changed": "record",
        "ended": "notify",
    }
    assert audited(ctx, "follow_up_approved")[0]["until"] == "2099-01-01"
    batch = until_a_week_sends(env, ctx, campaign)
    week = batch["week"]
    assert batch["status"] == "ready" and batch["standing_run"] == run_id
    # the week is a run of its own: its decisions, not in the runs list, never the "last run"
    with ctx.factory() as session:
        week_run = store.get_run(session, batch["run"])
        assert week_run is not None and week_run.week == week and week_run.campaign == campaign.name
        assert week_run.id != run_id and [r.id for r in store.list_runs(session)] == [run_id]
        last = store.last_run(session, campaign.name, statuses=("ready", "approved"))
        assert last is not None and last.id == run_id
        decided = {r.subject_pseudonym: r for r in store.decision_rows(session, week_run.id)}
        standing_letters = store.letter_counts(session, run_id)
    assert {r.change for r in decided.values()} <= set(fu.LETTER_CHANGES)
    assert sum(batch["changes"].values()) == len(decided)
    before = letters(ctx)
    decided_at = datetime.fromisoformat(batch["prepared"])

    # held: not due, refused; released: due once its hold window has passed
    fu.hold_batch(ctx, campaign, week, actor="manager", note="check the new ones")
    assert fu.due_batches(ctx, [campaign], decided_at + timedelta(days=3)) == []
    with pytest.raises(FollowUpError, match="held"):
        sending.issue_batch(ctx, campaign, week, now=decided_at + timedelta(days=3))
    fu.release_batch(ctx, campaign, week, actor="manager")
    assert [h["status"] for h in fu.list_batches(ctx, campaign.name)[-1]["history"]] == [
        "held",
        "ready",
    ]
    assert [d["week"] for d in audited(ctx, "follow_up_held")] == [week]
    assert fu.due_batches(ctx, [campaign], decided_at + timedelta(hours=23)) == []
    assert fu.due_batches(ctx, [campaign], decided_at + timedelta(hours=24)) == [(campaign, week)]

    # killed after the letters are fixed, before the files: issuing again finishes the same batch
    real = sending.write_letters

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(sending, "write_letters", killed)
    with pytest.raises(KeyboardInterrupt):
        sending.issue_batch(ctx, campaign, week, now=decided_at + timedelta(days=1))
    planned = fu.get_batch(ctx, campaign.name, week)["planned"]
    assert planned, "the week has letters to send"
    monkeypatch.setattr(sending, "write_letters", real)
    sent = sending.issue_batch(ctx, campaign, week, now=decided_at + timedelta(days=1))
    assert sent["status"] == "issued"
    after = letters(ctx)
    new = sorted(set(after) - set(before))
    assert sorted((p, k) for p, k, _ in new) == sorted((p, k) for p, k in planned)
    assert sum(sent["letters"].values()) == len(planned)
    with ctx.factory() as session:  # the week's letters are under the week's run
        under = store.letters_of_run(session, batch["run"])
        assert store.letter_counts(session, run_id) == standing_letters
    assert sorted((x.subject_pseudonym, x.kind) for x in under) == sorted(map(tuple, planned))
    for pseudonym, kind in planned:  # a coupon for the newly eligible, an invitation else
        row = decided[pseudonym]
        assert (kind, row.outcome) in (("coupon", "eligible"), ("invitation", "undetermined"))
    folder = week_folder(ctx, campaign.name, week)
    assert (folder / "letters.pdf").read_bytes().startswith(b"%PDF")
    records = [json.loads(x) for x in (folder / "notifications.jsonl").read_text().splitlines()]
    changes = {r["change"] for r in records}
    assert changes <= {"new", "ended"}  # changed: recorded only; ended: notified (the policy)
    ended = sum(1 for r in decided.values() if r.change == "ended")
    assert sum(1 for r in records if r["change"] == "ended") <= ended
    # days from the registry change (the notification's day) to the letter
    assert sent["days"] and all(0 <= d <= 14 for d in sent["days"]), sent["days"]
    assert audited(ctx, "follow_up_issued")[0]["week"] == week

    # idempotent: issuing again, or a fresh batch's letters for the same subjects, sends nothing
    again = sending.issue_batch(ctx, campaign, week, now=decided_at + timedelta(days=2))
    assert again == sent and letters(ctx) == after
    with ctx.factory() as session:  # the same week prepared afresh: its letters exist already
        view = week_store.week_run(session, campaign.name, week)
        assert view is not None
        fresh = {**(view.summary or {}), "planned": None}
        week_store.turn_week(session, view.id, before=("issued",), status="ready", summary=fresh)
        session.commit()
    redo = sending.issue_batch(ctx, campaign, week, now=decided_at + timedelta(days=2))
    assert redo["planned"] == [] and letters(ctx) == after


def test_without_a_standing_approval_a_week_sends_nothing(env: Env) -> None:
    campaign = weekly()
    ctx = env.context("unapproved")
    env.advance()
    run_week(ctx, [campaign], env.as_of(), now=at(env.as_of()))
    batch = until_a_week_sends(env, ctx, campaign)
    decided_at = datetime.fromisoformat(batch["prepared"])
    assert batch["status"] == "unapproved"
    assert fu.due_batches(ctx, [campaign], decided_at + timedelta(days=30)) == []
    with pytest.raises(FollowUpError, match="unapproved"):
        sending.issue_batch(ctx, campaign, batch["week"], now=decided_at + timedelta(days=30))
    with pytest.raises(FollowUpError, match="ready"):
        fu.hold_batch(ctx, campaign, batch["week"], actor="manager")
    assert letters(ctx) == []


def test_the_schedule_starts_the_weekly_follow_up(env: Env) -> None:
    campaign = weekly(schedule="0 6 * * 1", hold_hours=0)
    ctx = env.context("schedule")
    plain = find_campaign("school-tariff", REPO / "campaigns", REPO / "benefits")
    env.advance()
    monday = datetime(2026, 3, 2, 7, 0)  # a Monday, after 06:00 (local time, as cron's)
    due = follow_up_due(ctx, [campaign, plain], monday)
    assert due.slot == "2026-03-02T06:00" and due.campaigns == [campaign]
    assert follow_up_due(ctx, [plain], monday).slot is None  # no weekly follow-up: no entry
    done = run_follow_up(ctx, [campaign, plain], monday)
    assert done.week is not None and done.week.week == 1
    assert set(done.week.campaigns) == {campaign.name}
    assert follow_up_due(ctx, [campaign], monday + timedelta(hours=1)).slot is None
    nxt = follow_up_due(ctx, [campaign], monday + timedelta(days=7))
    assert nxt.slot == "2026-03-09T06:00"
    # the city did not move: no new notifications, nothing decided, and the moment is used up
    quiet = run_follow_up(ctx, [campaign], monday + timedelta(days=7))
    assert quiet.week is not None and quiet.week.nothing_new
    assert follow_up_due(ctx, [campaign], monday + timedelta(days=7, hours=1)).slot is None
    assert follow_up_due(ctx, [campaign], monday + timedelta(days=14)).slot == "2026-03-16T06:00"


def test_campaign_schedule_runs_watch_run_for_a_weekly_campaign(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entitle.cli.main import app
    from entitle.store.db import migrate

    folder = tmp_path / "campaigns"
    folder.mkdir()
    text = (REPO / "campaigns" / "ghent" / "garbage-bags.yaml").read_text()
    assert 'cron: "0 6 5 1 *"' in text
    text = text.replace('cron: "0 6 5 1 *"', "dates: [2099-01-05]")  # no full run due
    (folder / "garbage-bags.yaml").write_text(
        text + "\nfollow_up: {weekly: true, schedule: '0 6 * * 1'}\n"
    )
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    monkeypatch.setenv("ENTITLE_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ENTITLE_MAGDA_SENDER", "gent.be/entitle")
    monkeypatch.setenv("ENTITLE_MAGDA_DEFAULT_CAPACITY", "ENTITLE")
    env.advance()
    args = ["campaign", "schedule", "--campaigns", str(folder)]
    args += ["--benefits", str(REPO / "benefits"), "--url", url]
    args += ["--register", str(env.city / "registry"), "--registry", env.server.url]
    result = CliRunner().invoke(app, [*args, "--now", "2026-01-12T07:00"])
    assert result.exit_code == 0, result.output
    assert "watch run for 2026-01-12T06:00 (garbage-bags)" in result.output
    state = json.loads((tmp_path / "state" / "watch" / "state.json").read_text())
    assert state["slot"] == "2026-01-12T06:00" and state["week"] == 1
    again = CliRunner().invoke(app, [*args, "--now", "2026-01-12T09:00"])
    assert "watch run" not in again.output and again.exit_code == 0, again.output

    # the batches on the command line: the baseline cannot be held; no run, no standing approval
    from entitle.store.db import make_engine, session_factory
    from entitle.store.users import add_user

    with session_factory(make_engine(url))() as session:
        add_user(session, "anna", "correct horse battery", "campaign_manager")
        session.commit()
    monkeypatch.setenv("ENTITLE_PASSWORD", "correct horse battery")
    where = ["--url", url]
    listed = CliRunner().invoke(app, ["watch", "batches", "garbage-bags", *where, "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["status"] == "baseline"
    held = CliRunner().invoke(
        app,
        ["watch", "hold", "garbage-bags", "1", "--as", "anna", "--campaigns", str(folder), *where],
    )
    assert held.exit_code == 2 and "only a ready batch can be held" in held.output, held.output
    approve = ["watch", "approve", "7", "--until", "2026-12-31", "--as", "anna", *where]
    refused = CliRunner().invoke(app, approve)
    assert refused.exit_code == 2 and "no campaign run 7" in refused.output


def weekly_campaigns(root: Path) -> Path:
    """A campaigns folder whose garbage-bag campaign has weekly follow-up."""
    folder = root / "campaigns"
    folder.mkdir(exist_ok=True)
    text = (REPO / "campaigns" / "ghent" / "garbage-bags.yaml").read_text()
    policy = "follow_up: {weekly: true, hold_hours: 24, ended: notify}"
    (folder / "garbage-bags.yaml").write_text(f"{text}\n{policy}\n")
    return folder


def followed_city(root: Path, weeks: int = 4) -> tuple[CampaignContext, Path]:
    """A city followed up for `weeks` weeks after its baseline, under a standing approval: every
    week's batch sent but the last (ready). Returns the context and the campaigns folder."""
    city = root / "city"
    write_city(1500, 21, city)
    folder = weekly_campaigns(root)
    campaign = find_campaign("garbage-bags", folder, REPO / "benefits")
    with running_server(city, root / "server.log") as server:
        followed = Env(city, server, root)
        ctx = followed.context("followed")
        followed.advance()
        run_id = approved_run(ctx, campaign, followed.as_of())
        run_week(ctx, [campaign], followed.as_of(), now=at(followed.as_of()))
        grant_standing(ctx, campaign, run_id, actor="manager", until=date(2099, 1, 1))
        for number in range(weeks):
            followed.advance()
            decided = at(followed.as_of())
            run_week(ctx, [campaign], followed.as_of(), now=decided)
            if number < weeks - 1:  # a day later, once the hold window has passed
                for ready, week in fu.due_batches(ctx, [campaign], decided + timedelta(days=1)):
                    sending.issue_batch(ctx, ready, week, now=decided + timedelta(days=1))
    return ctx, folder


def followed_copy(template: Path, registry: str, root: Path) -> tuple[CampaignContext, Path]:
    """A copy in `root` of the folder `followed_city` built (`template`, its simulator at
    `registry`, stopped since): building takes a minute, so the conftest's `followed_template`
    does it once per session and each module works on a copy. The copy's context and campaigns
    folder, as `followed_city` returns them."""
    shutil.copytree(template, root, dirs_exist_ok=True)
    folder = root / "followed"
    ctx = CampaignContext(
        factory=session_factory(make_engine(f"sqlite:///{folder / 'entitle.db'}")),
        register=root / "city" / "registry",
        state_dir=folder / "state",
        output_dir=folder / "out",
        registry=registry,
        magda_overrides=dict(MAGDA),
    )
    return ctx, root / "campaigns"
