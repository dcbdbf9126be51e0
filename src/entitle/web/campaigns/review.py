"""Reviewing a run before it is sent: approve (four eyes where the campaign asks), reject, and
issue an approved run — letters and billing lists in the background after the response
(`approve_run`, `reject_run` record the verdict and audit it; `issue_run`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from entitle.decide.campaign import (
    CampaignStateError,
    RunView,
    approve_run,
    reject_run,
    run_figures,
)
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.review import RunExpiredError, expired_until
from entitle.web.auth import Officer, csrf_officer, web_state
from entitle.web.campaigns.runs import issue_summary, load_run, reviewed_by, show_run
from entitle.web.campaigns.setup import as_manager, campaign_setup
from entitle.web.i18n import Translator
from entitle.web.textcheck import checked_text
from entitle.web.views import translator

router = APIRouter(include_in_schema=False)
NOTE_MAX = 2000


def _expired(t: Translator, exc: RunExpiredError) -> str:
    return t("run.refused_expired", as_of=t.day(exc.as_of), until=t.day(exc.until))


def _expiry_error(t: Translator, campaign: Campaign, run: RunView, today: date) -> str | None:
    """The refusal of a run whose decisions no longer hold on `today`, else None."""
    until = expired_until(campaign, run, today)
    return None if until is None else _expired(t, RunExpiredError(run, until, today))


def _confirmed(request: Request, campaign: Campaign, run_id: int, confirm: str) -> bool:
    """Whether the manager posted back the count and amount the run sends (`IssueSummary`)."""
    figures = web_state(request).backend.run(lambda s: run_figures(s, run_id, sample=0))
    return confirm == issue_summary(campaign, figures).token


def _refusal(t: Translator, run: RunView, officer: Officer, exc: Exception | None) -> str:
    if isinstance(exc, RunExpiredError):
        return _expired(t, exc)
    if run.status != "draft":
        return t("run.refused_status", status=t(f"campaign.status.{run.status}"))
    if reviewed_by(run, officer):
        return t("run.refused_already")
    return t("run.refused", why=str(exc) if exc else "")


def _review(
    request: Request,
    officer: Officer,
    run_id: int,
    note: str,
    verdict: Callable[..., RunView],
    tasks: BackgroundTasks,
    confirm: str = "",
) -> Response:
    as_manager(officer)
    state = web_state(request)
    setup = campaign_setup(request)
    t = translator(request)
    run = load_run(request, run_id)
    campaign = setup.campaign(run.campaign)
    note, problem = checked_text(t, note, NOTE_MAX)
    if problem is not None:
        return show_run(request, officer, run_id, error=problem, note=note, status=422)
    if campaign is None:
        return show_run(request, officer, run_id, error=t("run.unknown_campaign"), status=409)
    if verdict is reject_run and not note:
        return show_run(
            request, officer, run_id, error=t("run.reject_note_needed"), note=note, status=422
        )
    if run.status != "draft" or reviewed_by(run, officer):
        return show_run(request, officer, run_id, error=_refusal(t, run, officer, None), status=409)
    today = state.today()
    error = _expiry_error(t, campaign, run, today) if verdict is approve_run else None
    if error is not None:  # its letters and lists would be expired: refused, not only warned
        return show_run(request, officer, run_id, error=error, note=note, status=409)
    last = len(run.approvals) + 1 >= run.approvals_required
    if verdict is approve_run and last and not _confirmed(request, campaign, run_id, confirm):
        # the approval that sends: first say how many and how much, then ask again
        return show_run(request, officer, run_id, note=note, confirming="approve")
    extra = {"today": today} if verdict is approve_run else {}
    try:
        view = state.backend.run(
            lambda s: verdict(
                s,
                campaign,
                run_id,
                actor=officer.username,
                note=note,
                now=state.backend.now(),
                **extra,
            )
        )
    except CampaignStateError as exc:
        fresh = load_run(request, run_id)
        return show_run(
            request, officer, run_id, error=_refusal(t, fresh, officer, exc), status=409
        )
    if view.status == "approved":
        setup.start_issue(campaign, run_id, officer.username, tasks)
        done = "approved"
    elif view.status == "rejected":
        done = "rejected"
    else:
        done = "approved_partly"
    return RedirectResponse(f"/campaigns/runs/{run_id}?done={done}", status_code=303)


@router.post("/campaigns/runs/{run_id}/approve")
def approve(
    request: Request,
    run_id: int,
    tasks: BackgroundTasks,
    officer: Annotated[Officer, Depends(csrf_officer)],
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
    confirm: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    return _review(request, officer, run_id, note, approve_run, tasks, confirm)


@router.post("/campaigns/runs/{run_id}/reject")
def reject(
    request: Request,
    run_id: int,
    tasks: BackgroundTasks,
    officer: Annotated[Officer, Depends(csrf_officer)],
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
) -> Response:
    return _review(request, officer, run_id, note, reject_run, tasks)


@router.post("/campaigns/runs/{run_id}/issue")
def issue(
    request: Request,
    run_id: int,
    tasks: BackgroundTasks,
    officer: Annotated[Officer, Depends(csrf_officer)],
    confirm: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Make the letters and lists of an approved run (again): after a failure, when the
    files were lost, or for a run approved elsewhere (the command line). Idempotent: never a
    second letter or coupon. A run not issued yet first states the count and amount and asks
    again (as the approval that sends does); a run whose decisions expired is refused."""
    as_manager(officer)
    setup = campaign_setup(request)
    t = translator(request)
    run = load_run(request, run_id)
    campaign = setup.campaign(run.campaign)
    if campaign is None:
        return show_run(request, officer, run_id, error=t("run.unknown_campaign"), status=409)
    if run.status not in ("approved", "issued") or run.week is not None:  # a week: watch issue
        return show_run(request, officer, run_id, error=t("run.refused_issue"), status=409)
    error = _expiry_error(t, campaign, run, web_state(request).today())
    if error is not None:
        return show_run(request, officer, run_id, error=error, status=409)
    if run.status == "approved" and not _confirmed(request, campaign, run_id, confirm):
        return show_run(request, officer, run_id, confirming="issue")
    setup.start_issue(campaign, run_id, officer.username, tasks)
    return RedirectResponse(f"/campaigns/runs/{run_id}?done=issuing", status_code=303)
