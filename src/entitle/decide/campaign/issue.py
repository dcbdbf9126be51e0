"""Issuing an approved run: its steps, in this order, then the run marked issued.

1. `issue_letters`: the letters (inserted, then one merged PDF), if the campaign sends letters;
2. `billing`: the billing lists, if it makes them;
3. `notify`: the notification file, if it has notifications.

Issuing inserts letters under a unique (campaign, period, subject, kind) key before any file is
written, and files are written deterministically under a temporary name and then moved: issuing
again after a crash writes the same files and never a second letter or coupon.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entitle.decide.atomic import remove_stale_partials
from entitle.decide.campaign.billing import write_billing
from entitle.decide.campaign.context import CampaignContext, audit_run
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.issue_letters import issue_letters
from entitle.decide.campaign.notify import notify_run
from entitle.decide.campaign.preflight import NotWritableError, database_problem
from entitle.decide.campaign.review import refuse_expired
from entitle.decide.campaign.sources import RegisterExtract
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError, RunView


def run_folder(ctx: CampaignContext, run: RunView) -> Path:
    """Where a run's files go: `<output>/<campaign>/run-<id>/`."""
    return ctx.output_dir / run.campaign / f"run-{run.id}"


@dataclass(frozen=True)
class IssueResult:
    run: RunView
    letters: dict[str, int]  # issued by this run, per kind
    new_letters: int  # inserted by this call (0 when issuing again)
    files: list[Path]
    pages: int
    seconds: float
    skipped: int  # due, but no address in the register extract


def issue_run(ctx: CampaignContext, campaign: Campaign, run_id: int, *, actor: str) -> IssueResult:
    """Issue an approved run: letters (merged PDF), billing lists and notifications, as the
    campaign's outputs say. Idempotent; removes what an earlier, killed attempt left half
    written. Checks first that the run's decisions still hold on `ctx.today()` (else
    `RunExpiredError`: letters and billing lists would be expired) and that the database takes
    a write (`NotWritableError`): no file is written for a run that could not then be marked
    issued."""
    started = time.perf_counter()
    with ctx.factory() as session:
        run = store.get_run(session, run_id)
        if run is None or run.campaign != campaign.name:
            raise CampaignStateError(f"no run {run_id} of campaign {campaign.name}")
        if run.week is not None:  # within the standing approval: `entitle watch issue`
            raise CampaignStateError(f"run {run_id} is week {run.week} of the weekly follow-up")
        if run.status not in ("approved", "issued"):
            raise CampaignStateError(
                f"run {run_id} is {run.status}: only an approved run issues letters and lists"
            )
    refuse_expired(campaign, run, ctx.today())
    problem = database_problem(ctx)  # the run must be able to become `issued` after the files
    if problem is not None:
        raise NotWritableError(f"run {run_id} not issued, no file written: {problem}")
    pseudonymise = ctx.pseudonymiser()
    extract = RegisterExtract.load(ctx.register)
    folder = run_folder(ctx, run)
    remove_stale_partials(folder)  # what an issue killed before it finished left behind
    with ctx.factory() as session:
        decisions = store.decision_rows(session, run_id)
    step = (ctx, campaign, run, decisions, extract, pseudonymise, folder)
    files: list[Path] = []
    reported: dict[str, Any] = {}  # what a step adds to the run's outputs
    new = skipped = pages = 0
    if campaign.spec.outputs.letters:
        printed = issue_letters(*step)
        files.append(printed.path)
        new, skipped, pages = printed.new, printed.skipped, printed.pages
    if campaign.spec.outputs.billing_lists:
        files += write_billing(*step)
    if campaign.spec.outputs.notifications:
        notified = notify_run(*step)
        files.append(notified.path)
        reported["notifications"] = notified.count
        reported["notifications_not_in_register"] = notified.not_in_register
    with ctx.factory() as session:
        counts = store.letter_counts(session, run_id)
        outputs = {
            "folder": str(folder),
            "files": [str(p.relative_to(folder)) for p in files],
            "letters": counts,
            "pages": pages,
            "skipped_no_address": skipped,
            **reported,
        }
        view, first = store.mark_issued(session, run_id, outputs)
        if first:
            audit_run(
                session,
                campaign,
                run_id,
                kind="export",
                actor=actor,
                outcome="campaign_issued",
                letters=counts,
                files=len(files),
            )
        session.commit()
    remove_stale_partials(folder)
    return IssueResult(
        view, counts, new, files, pages, round(time.perf_counter() - started, 3), skipped
    )
