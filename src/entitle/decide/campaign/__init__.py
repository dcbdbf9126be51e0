"""Proactive campaigns: target population → staged bulk fetching → decisions → diff → outputs.

The public API of the campaign package; its modules, each with one job:

    definition a campaign file: its benefit, target, schedule, outputs (find_campaign)
    context    CampaignContext: database, register extract, keys, output folder, sources
    sources    the register extract, the target in chunks of whole households, datasets
    evaluate   the evaluation step: a chunk of the target in, its decision rows out
    workers    the chunks decided in worker processes
    progress   a run's progress, for the progress bar and the dashboard
    missing    whose facts a decision misses, stored as data and said in words
    run        run_campaign: decide every chunk (each with its checkpoint in one
               transaction), compare with the previous approved run, end as a *draft*;
               finish, abandon
    review     approve_run (four eyes: two different managers) / reject_run; a run
               whose decisions no longer hold is refused (RunExpiredError)
    issue      issue_run, only for an approved run, in steps: issue_letters (the letters,
               one merged PDF), billing (the billing lists), notify (the notification file)
    issue_letters  the letters of an approved run, inserted once, then the merged PDF
    billing    the billing lists of an approved run (one per school)
    letters    what a letter says (Dutch, and English when the campaign asks for it)
    notify     the notification records of a run (new / changed / ended) and their file
    whatif     simulate: changed parameters, stores and issues nothing
    figures    the run summary and everything the dashboard shows (run_figures: RunFigures)
    schedule   due_runs / run_due (cron, systemd timer)
    reasons    the pending outcome and the not-in-register code (why a fact is missing
               is `entitle.decide.reasons.MissingReason`)
    inscriptions  is the target inscribed in the KSZ directory (preflight), and the sync
    preflight  the checks before a run decides anyone (pluggable: CHECKS)
    gates      plausibility gates on the target population (duplicates, size change)
    lock       one process per campaign and period
    outcome    attempt: a run's outcome and exit code, for schedulers
    health     each campaign's last attempt (JSON, Prometheus textfile)
    export     a run's decisions per subject (CSV, Parquet)
"""

from __future__ import annotations

from entitle.decide.campaign.context import CampaignContext, ReachEvaluation
from entitle.decide.campaign.definition import CampaignError
from entitle.decide.campaign.evaluate import decide_chunk_rows, evaluate_chunk
from entitle.decide.campaign.figures import (
    RunFigures,
    campaign_runs,
    run_figures,
    take_up_by_week,
)
from entitle.decide.campaign.issue import IssueResult, issue_run
from entitle.decide.campaign.letters import addressees, build_letter, render_letter
from entitle.decide.campaign.progress import RunProgress
from entitle.decide.campaign.review import RunExpiredError, approve_run, reject_run
from entitle.decide.campaign.run import abandon, finish, run_campaign
from entitle.decide.campaign.schedule import Due, due_runs, run_due
from entitle.decide.campaign.whatif import WhatIf, parse_overrides, simulate
from entitle.store.campaigns import CampaignStateError, RunView, get_run

__all__ = [
    "CampaignContext",
    "CampaignError",
    "CampaignStateError",
    "Due",
    "IssueResult",
    "ReachEvaluation",
    "RunExpiredError",
    "RunFigures",
    "RunProgress",
    "RunView",
    "WhatIf",
    "abandon",
    "addressees",
    "approve_run",
    "build_letter",
    "campaign_runs",
    "decide_chunk_rows",
    "due_runs",
    "evaluate_chunk",
    "finish",
    "get_run",
    "issue_run",
    "parse_overrides",
    "reject_run",
    "render_letter",
    "run_campaign",
    "run_due",
    "run_figures",
    "simulate",
    "take_up_by_week",
]
