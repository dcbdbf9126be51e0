"""A run's page: its figures and charts, sample decisions, files, verdicts, and what approving
or issuing it would send (`run_figures`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from entitle.decide.campaign import RunFigures, RunView, get_run, run_figures
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.figures import RUN_CHANGES, RUN_OUTCOMES
from entitle.decide.campaign.review import due_count, expired_until, run_validity
from entitle.web.auth import Officer, PageError, web_state
from entitle.web.campaigns.charts import Chart, bar_chart
from entitle.web.campaigns.setup import NOTIFICATION_ROLES, campaign_setup, require_manager
from entitle.web.campaigns.words import Words, band_order, sample_rows
from entitle.web.i18n import Translator
from entitle.web.views import render, translator

router = APIRouter(include_in_schema=False)
SAMPLE = 10


def load_run(request: Request, run_id: int) -> RunView:
    if run_id < 1 or run_id > 2**62:
        raise PageError(404, "error.not_found")
    run = web_state(request).backend.run(lambda s: get_run(s, run_id))
    if run is None:
        raise PageError(404, "error.not_found")
    return run


def reviewed_by(run: RunView, officer: Officer) -> bool:
    """Whether the officer gave the run a verdict already (one each: four eyes are two)."""
    return officer.username in {v.actor for v in run.verdicts}


def show_run(
    request: Request,
    officer: Officer,
    run_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    note: str = "",
    confirming: str | None = None,
    status: int = 200,
) -> Response:
    state = web_state(request)
    setup = campaign_setup(request)
    t = translator(request)
    run = load_run(request, run_id)
    figures = state.backend.run(lambda s: run_figures(s, run_id, sample=SAMPLE))
    campaign = setup.campaign(run.campaign)
    words = Words(t, campaign, setup.context.catalogue)
    outcomes, changes, counted = figures.outcomes, figures.changes, figures.bands
    bands = {b: counted[b] for b in band_order(counted)}
    cost_by_band, reasons = figures.cost_by_band, figures.undetermined_reasons
    subjects = sum(int(outcomes.get(o, 0)) for o in RUN_OUTCOMES)
    charts: dict[str, Chart] = {}
    if subjects:
        charts["outcomes"] = bar_chart(
            "outcomes",
            t("run.outcomes"),
            [
                (words.outcome(o), outcomes.get(o, 0), words.count(outcomes.get(o)), o)
                for o in RUN_OUTCOMES
            ],
        )
        charts["changes"] = bar_chart(
            "changes",
            t("run.changes"),
            [
                (words.change(c), changes.get(c, 0), words.count(changes.get(c)), c)
                for c in RUN_CHANGES
                if c != "none"
            ],
        )
    if bands:
        charts["bands"] = bar_chart(
            "bands",
            t("run.bands"),
            [(words.band(b), n, words.count(n), "eligible") for b, n in bands.items()],
        )
    if reasons:
        charts["reasons"] = bar_chart(
            "reasons",
            t("run.undetermined"),
            [(words.reason(k), n, words.count(n), "undetermined") for k, n in reasons.items()],
        )
    reach = figures.reach
    if reach:
        entitled = int(reach.get("truly_entitled") or 0) or 1
        charts["reach"] = bar_chart(
            "reach",
            t("run.reach_chart"),
            [
                (
                    t(label),
                    reach.get(key, 0),
                    f"{words.count(reach.get(key))} ({words.share(reach.get(key, 0) / entitled)})",
                    kind,
                )
                for label, key, kind in (
                    ("run.reach_reached", "reached", "reached"),
                    ("run.reach_flagged", "flagged_undetermined", "flagged"),
                    ("run.reach_missed", "missed", "missed"),
                )
            ],
        )
    outputs = figures.outputs or run.outputs or {}
    files, school_files = [], []
    names = outputs.get("files") or []
    schools = len({Path(n).stem for n in names if n.endswith(".xlsx")})
    for name in names:
        href = f"/campaigns/runs/{run.id}/files/{name}"
        if name.endswith(".jsonl") and officer.role not in NOTIFICATION_ROLES:
            continue
        if name.endswith(".pdf"):
            text = t("run.file_letters", pages=words.count(outputs.get("pages")))
        elif name.endswith(".jsonl"):
            text = t("run.file_notifications", n=words.count(outputs.get("notifications")))
        elif name.endswith(".zip"):
            text = t("run.file_all_billing", n=words.count(schools))
        else:  # one school's list: folded under the one download
            school_files.append({"href": href, "text": t("run.file_billing", name=Path(name).name)})
            continue
        files.append({"href": href, "text": text})
    issued, due = figures.letters_issued, figures.letters_due
    reviewed = reviewed_by(run, officer)
    verdicts = [
        t(
            f"run.verdict_{v.verdict}",
            actor=v.actor,
            time=t.moment(v.time),
        )
        + (f" — {v.note}" if v.note else "")
        for v in run.verdicts
    ]
    samples = figures.sample or {}
    sample_changes = figures.sample_changes or {}
    sending = issue_summary(campaign, figures)
    context = {
        "run": run,
        "campaign_title": t.text(campaign.spec.title) if campaign else run.campaign,
        "known": campaign is not None,
        "words": words,
        "figures": figures,
        "subjects": subjects,
        "outcomes": outcomes,
        "changes": changes,
        "change_names": RUN_CHANGES,
        "outcome_names": RUN_OUTCOMES,
        "bands": [
            (words.band(b), words.count(n), words.money(cost_by_band.get(b)))
            for b, n in bands.items()
        ],
        "cost": words.money(figures.cost) if figures.cost is not None else None,
        "reasons": [(words.reason(k), k, words.count(n)) for k, n in reasons.items()],
        "reach": reach,
        "charts": charts,
        "files": files,
        "school_files": school_files,
        "issued": issued,
        "due": due,
        "skipped": int(outputs.get("skipped_no_address") or 0),
        "verdicts": verdicts,
        "can_review": run.status == "draft" and campaign is not None and not reviewed,
        "reviewed": reviewed and run.status == "draft",
        "issuing": setup.issuing(run.id),
        "samples": {o: sample_rows(words, samples.get(o) or []) for o in RUN_OUTCOMES},
        "sample_changes": {
            c: sample_rows(words, sample_changes.get(c) or []) for c in ("new", "changed", "ended")
        },
        "fetched": [(words.fact(f), f, words.count(n)) for f, n in figures.fetched.items()],
        "questions": words.count(figures.questions),
        "progress": figures.progress,
        "notice": notice,
        "error": error,
        "note": note,
        "first_run": run.previous_run_id is None,
        "confirming": confirming,  # "approve" or "issue": the count and amount, then ask again
        "sending": sending,
        "empty": run.status in ("draft", "approved") and campaign is not None and not sending.count,
        "expired": campaign is not None and expired_until(campaign, run, state.today()) is not None,
        "validity": validity_warning(t, campaign, run, state.today()),
        "period": period_words(t, campaign, run),
    }
    return render(request, "campaign_run.html", context, status=status)


def period_words(t: Translator, campaign: Campaign | None, run: RunView) -> str:
    """The run's period in words, and until when its decisions hold (`periods`)."""
    if campaign is None:
        return run.period
    period = campaign.benefit.period(run.as_of)
    return t("run.period_words", period=t.period(period), until=t.day(period.end))


def validity_warning(
    t: Translator, campaign: Campaign | None, run: RunView, today: date
) -> str | None:
    """Said before a run is approved or issued: its decisions (letters, billing lists) are valid
    until the end of the period of the run's reference date — already past, or soon
    (`run_validity`)."""
    if campaign is None or run.status not in ("draft", "approved"):
        return None
    until, found = run_validity(campaign, run, today)
    if found == "expired":
        return t("run.validity_past", until=t.day(until), as_of=t.day(run.as_of))
    if found == "short":
        return t("run.validity_short", until=t.day(until), days=(until - today).days)
    return None


@dataclass(frozen=True)
class IssueSummary:
    """What approving a run sends out: letters (or pupils on billing lists) and their amount."""

    letters: bool  # letters, else lists
    count: int
    amount: float

    @property
    def token(self) -> str:
        """What the confirmation posts back: the figures the manager saw."""
        return f"{self.count}:{self.amount:.2f}"


def issue_summary(campaign: Campaign | None, figures: RunFigures) -> IssueSummary:
    """The count and amount a manager confirms before a run is issued."""
    amount = float(figures.cost or 0.0)
    if campaign is None:
        return IssueSummary(False, 0, amount)
    count = due_count(campaign, figures.run.summary or {})
    return IssueSummary(bool(campaign.spec.outputs.letters), count, amount)


NOTICES = ("approved", "approved_partly", "rejected", "issuing")


@router.get("/campaigns/runs/{run_id}")
def run_page(
    request: Request, run_id: int, officer: Annotated[Officer, Depends(require_manager)]
) -> Response:
    done = request.query_params.get("done", "")
    notice = f"run.notice.{done}" if done in NOTICES else None
    return show_run(request, officer, run_id, notice=notice)
