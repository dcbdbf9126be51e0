"""The demo's proactive campaigns, in a process of their own.

``python -m entitle.demo.campaigns --database-url URL --register DIR --state DIR --output DIR
--campaigns DIR --benefits DIR --registry URL NAME…`` runs each named campaign with
`entitle.decide.campaign.run_campaign` against the registry simulator (MAGDA sender and capacity
from ``ENTITLE_MAGDA_*``, as the web app's) on the date the desk decides on. A campaign whose last
run is finished (a draft to review, approved, issued…) is not run again; an unfinished one is
resumed. When the MAGDA settings require KSZ inscriptions (the demo's do), each campaign's target
is synced first (`entitle inscriptions sync`: the first time a call per person; persons another
campaign inscribed are only noted; nothing on a restart). `entitle demo` starts this once the desk
is ready: a Ghent-sized run takes minutes, and stopping it (SIGTERM) loses at most the chunk in
progress — the next start resumes it.

Progress goes to standard output (the demo's log); the last line per campaign reads
``NAME: run #ID STATUS: N eligible, N not_eligible, N undetermined``. Then the campaigns that
decide on the desk's date get one week of follow-up (`entitle.demo.follow_up`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from entitle.decide.campaign import CampaignContext
    from entitle.decide.campaign.definition import Campaign

from entitle.rules.logic import OUTCOMES


class LineProgress:
    """Progress as a line per tenth of the target (a log, not a terminal)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.total = 0
        self.done = 0
        self.next_report = 0
        self.started = time.monotonic()

    def start(self, stages: Sequence[tuple[int, str]], subjects: int, done: int) -> None:
        self.total, self.done = subjects, done
        self.next_report = done + max(1, subjects // 10)
        labels = "; ".join(f"stage {index}: {facts}" for index, facts in stages)
        print(f"{self.name}: {subjects:,} subjects ({done:,} done before); {labels}", flush=True)

    def stage_done(self, stage: int, subjects: int) -> None:
        return None

    def fetched(self, stage: int, entities: int) -> None:
        return None

    def chunk_done(self, subjects: int) -> None:
        self.done += subjects
        if self.done >= self.next_report or self.done >= self.total:
            self.next_report = self.done + max(1, self.total // 10)
            seconds = time.monotonic() - self.started
            print(
                f"{self.name}: {self.done:,}/{self.total:,} subjects decided ({seconds:.0f} s)",
                flush=True,
            )


def _outcomes(summary: dict[str, object] | None) -> str:
    counts = summary.get("outcomes") if summary else None
    if not isinstance(counts, dict):
        return "no figures"
    return ", ".join(f"{int(counts.get(o, 0)):,} {o}" for o in OUTCOMES)


def _sync(ctx: CampaignContext, campaign: Campaign, as_of: date) -> None:
    """Inscribe the campaign's target in the KSZ directory when the settings require it (the
    run's date stands for today: a campaign in `demo.campaign_dates` runs as of another date)."""
    from entitle.decide.campaign.inscriptions import magda_settings, sync_campaign
    from entitle.store import audit

    if not magda_settings(ctx).require_inscriptions:
        return
    started = time.monotonic()
    result = sync_campaign(ctx, campaign, as_of, today=as_of, batch_size=500)
    with ctx.factory() as session, session.begin():
        audit.append(
            session,
            kind="inscription",
            actor="demo",
            purpose=campaign.benefit.purpose,
            subject=None,
            outcome="synced" if not result.failed else "partly synced",
            details={"campaign": campaign.name, **result.to_json()},
        )
    print(
        f"{campaign.name}: inscriptions {result.inscribed:,} new, {result.extended:,} extended, "
        f"{result.deregistered:,} deregistered, {result.kept + result.adopted:,} held already; "
        f"{result.calls:,} calls in {time.monotonic() - started:.0f} s",
        flush=True,
    )


def run(args: argparse.Namespace) -> int:
    from entitle.decide.campaign import CampaignContext, run_campaign
    from entitle.decide.campaign.definition import CampaignError, find_campaign
    from entitle.demo.options import desk_date
    from entitle.rules.loader import RuleFileError
    from entitle.sources.magda import MagdaConfigError
    from entitle.store import campaigns as store
    from entitle.store.campaigns import CampaignStateError
    from entitle.store.db import make_engine, session_factory

    engine = make_engine(args.database_url)
    ctx = CampaignContext(
        factory=session_factory(engine),
        register=args.register,
        state_dir=args.state,
        output_dir=args.output,
        registry=args.registry,
        today=desk_date,
    )
    failed = 0
    followed = []  # the campaigns deciding on the desk's date get a week of follow-up
    try:
        for name in args.names:
            try:
                campaign = find_campaign(name, args.campaigns, args.benefits)
                if name not in args.as_of:
                    followed.append(campaign)
                with ctx.factory() as session:
                    last = store.list_runs(session, name, limit=1)
                if last and last[0].status != "running":
                    run_view = last[0]
                    print(
                        f"{name}: run #{run_view.id} {run_view.status}: "
                        f"{_outcomes(run_view.summary)} (not run again)",
                        flush=True,
                    )
                    continue
                as_of = args.as_of.get(name)
                _sync(ctx, campaign, as_of or desk_date())
                view = run_campaign(ctx, campaign, as_of, actor="demo", progress=LineProgress(name))
            except (CampaignError, CampaignStateError, RuleFileError, MagdaConfigError) as exc:
                print(f"{name}: not run: {exc}", flush=True)
                failed += 1
                continue
            print(f"{name}: run #{view.id} {view.status}: {_outcomes(view.summary)}", flush=True)
        failed += _follow_up(ctx, followed, args.register.parent)
    finally:
        engine.dispose()
    return 1 if failed else 0


def _follow_up(ctx: CampaignContext, campaigns: list[Campaign], city: Path) -> int:
    """One week of follow-up (`entitle.demo.follow_up`); 1 when it failed (said), else 0."""
    from entitle.decide.follow_up.run import WatchError
    from entitle.demo.follow_up import follow_up_week
    from entitle.demo.options import desk_date
    from entitle.sources.magda.errors import MagdaError

    try:
        follow_up_week(ctx, campaigns, city, desk_date())
    except (WatchError, MagdaError, httpx.HTTPError, OSError) as exc:
        print(f"follow-up: not run: {exc}", flush=True)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m entitle.demo.campaigns")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--register", type=Path, required=True, help="register extract folder")
    parser.add_argument("--state", type=Path, required=True, help="keys and access log")
    parser.add_argument("--output", type=Path, required=True, help="letters and lists")
    parser.add_argument("--campaigns", type=Path, required=True)
    parser.add_argument("--benefits", type=Path, required=True)
    parser.add_argument("--registry", required=True, help="MAGDA / simulator URL")
    parser.add_argument(
        "--as-of",
        action="append",
        default=[],
        type=_campaign_date,
        metavar="NAME=DATE",
        help="run this campaign as of DATE instead of today",
    )
    parser.add_argument("names", nargs="+", help="the campaigns to run")
    args = parser.parse_args(argv)
    args.as_of = dict(args.as_of)
    return run(args)


def _campaign_date(text: str) -> tuple[str, date]:
    name, _, day = text.partition("=")
    try:
        return name, date.fromisoformat(day)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not NAME=YYYY-MM-DD: {text!r}") from None


if __name__ == "__main__":
    sys.exit(main())
