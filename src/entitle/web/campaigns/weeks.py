"""The campaign's week-by-week view: weekly follow-up at a glance, and holding a week's batch.

``GET /campaigns/{name}/weeks`` shows, per week followed up (`entitle watch run`), how many
subjects became eligible (new), changed amount or tariff, or stopped being eligible (ended), as
an inline SVG chart that reads without colour (each bar says its series and figure in words, and
the series differ by fill: solid, hatched, outlined) and as a table; the days from registry
change to letter (median, 95th percentile); the standing approval, with a form to withdraw it
(with a reason), and each week's batch — its own run (a link to the run's page: its letters and
files), its letters, notification records and billing-list lines — with a button to hold it (or
release it) before it goes out. Holding, releasing and withdrawing are POSTs with the session's
CSRF token, for campaign managers, audited by `entitle.decide.follow_up.batches`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from entitle.decide.campaign.definition import Campaign
from entitle.decide.follow_up.batches import hold_batch, release_batch, withdraw_standing
from entitle.decide.follow_up.figures import days_figures, weeks_of
from entitle.decide.follow_up.standing import REASON_MAX, FollowUpError, standing_of
from entitle.web.auth import Officer, PageError, csrf_officer, web_state
from entitle.web.campaigns.setup import as_manager, campaign_setup, require_manager
from entitle.web.i18n import Translator
from entitle.web.textcheck import checked_text
from entitle.web.views import render, translator

router = APIRouter(include_in_schema=False)

SERIES = ("new", "changed", "ended")
WIDTH = 480  # as the campaign charts: 1:1 on a desktop, text about 13 px on a phone of 390 px
HEADING = 26  # a week's heading line
BAR = 24  # one bar with its words
GAP = 12
VALUE_ROOM = 230  # room right of the longest bar for "123 beëindigd"
NOTE_MAX = 300


@dataclass(frozen=True)
class WeekBar:
    series: str
    y: int
    length: float
    shown: str  # the figure and its series in words, e.g. "3 nieuw"


@dataclass(frozen=True)
class WeekGroup:
    heading: str
    y: int
    bars: tuple[WeekBar, ...]


@dataclass(frozen=True)
class WeekChart:
    title: str
    groups: tuple[WeekGroup, ...]
    summary: str
    width: int = WIDTH

    @property
    def height(self) -> int:
        return len(self.groups) * (HEADING + BAR * len(SERIES) + GAP) + 4


def week_chart(t: Translator, weeks: list[dict[str, Any]]) -> WeekChart:
    """Per week after the baseline, one bar per series, scaled to the largest figure."""
    weeks = [w for w in weeks if w["status"] != "baseline"]  # compared with nothing: all "new"
    top = max((w[s] for w in weeks for s in SERIES), default=0) or 1
    plot = WIDTH - VALUE_ROOM
    groups = []
    said = []
    y = 0
    for week in weeks:
        heading = t("weeks.chart_week", week=week["week"], day=t.day(week["as_of_day"]))
        bars = []
        for i, series in enumerate(SERIES):
            value = int(week[series])
            length = round(value / top * plot, 1)
            shown = f"{t.number(value)} {t(f'weeks.series.{series}')}"
            bars.append(
                WeekBar(series, y + HEADING + i * BAR, max(length, 2.0) if value else 0, shown)
            )
        groups.append(WeekGroup(heading, y, tuple(bars)))
        said.append(f"{heading}: " + ", ".join(b.shown for b in bars))
        y += HEADING + BAR * len(SERIES) + GAP
    return WeekChart(t("weeks.chart"), tuple(groups), "; ".join(said))


def _days(t: Translator, value: float | None) -> str:
    return "–" if value is None else t.number(value)


def _campaign(request: Request, name: str) -> Campaign:
    campaign = campaign_setup(request).campaign(name)
    if campaign is None:
        raise PageError(404, "error.not_found")
    return campaign


def _weeks_page(
    request: Request,
    campaign: Campaign,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    t = translator(request)
    ctx = campaign_setup(request).context
    weeks = weeks_of(ctx, campaign.name)
    for week in weeks:
        week["as_of_day"] = date.fromisoformat(week["as_of"])
        figures = days_figures(week["days"])
        week["median"] = _days(t, figures["median"])
        week["p95"] = _days(t, figures["p95"])
        week["status_text"] = t(f"weeks.status.{week['status']}")
        week["letters_total"] = t.number(sum(week["letters"].values()))
        week["notifications_shown"] = t.number(week["notifications"])
        week["billing_shown"] = t.number(week["billing"])
    overall = days_figures([d for w in weeks for d in w["days"]])
    standing = standing_of(ctx, campaign.name)
    scope = {k: t(f"weeks.scope.{v}") for k, v in standing.scope.items()} if standing else {}
    withdrawn = standing.withdrawn if standing else None
    if withdrawn:
        withdrawn = {**withdrawn, "time": t.moment(withdrawn["time"])}
    return render(
        request,
        "campaign_weeks.html",
        {
            "campaign": campaign,
            "title": t.text(campaign.spec.title),
            "weekly": campaign.spec.follow_up.weekly,
            "weeks": weeks,
            "chart": week_chart(t, weeks) if len(weeks) > 1 else None,
            "delay": {
                "median": _days(t, overall["median"]),
                "p95": _days(t, overall["p95"]),
                "count": overall["count"],
            },
            "standing": standing,
            "standing_until": t.day(standing.until) if standing else "",
            "scope": scope,
            "withdrawn": withdrawn,
            "billing": bool(campaign.spec.outputs.billing_lists),
            "reason_max": REASON_MAX,
            "notice": notice,
            "error": error,
        },
        status=status,
    )


@router.get("/campaigns/{name}/weeks")
def weeks_page(
    request: Request,
    name: str,
    officer: Annotated[Officer, Depends(require_manager)],
    done: str = "",
    week: int = 0,
) -> Response:
    t = translator(request)
    notice = t(f"weeks.done.{done}", week=week) if done in ("held", "ready", "withdrawn") else None
    return _weeks_page(request, _campaign(request, name), notice=notice)


def _turn_route(action: str, turn_batch: Callable[..., dict[str, Any]], doc: str) -> None:
    """Declare ``POST /campaigns/{name}/weeks/{week}/ACTION``, which turns a week's batch with
    `turn_batch` (`hold_batch` or `release_batch`); `doc` describes it."""

    def turn(
        request: Request,
        name: str,
        week: int,
        officer: Annotated[Officer, Depends(csrf_officer)],
        note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
    ) -> Response:
        as_manager(officer)
        campaign = _campaign(request, name)
        t = translator(request)
        note, problem = checked_text(t, note, NOTE_MAX)
        if problem is not None:
            return _weeks_page(request, campaign, error=problem, status=422)
        try:
            batch = turn_batch(
                campaign_setup(request).context,
                campaign,
                week,
                actor=officer.username,
                note=note,
                now=web_state(request).backend.now(),
            )
        except FollowUpError as exc:
            return _weeks_page(
                request, campaign, error=t("weeks.refused", why=str(exc)), status=409
            )
        return RedirectResponse(
            f"/campaigns/{campaign.name}/weeks?done={batch['status']}&week={week}", status_code=303
        )

    turn.__doc__ = doc
    router.post(f"/campaigns/{{name}}/weeks/{{week}}/{action}", name=action)(turn)


_turn_route(
    "hold", hold_batch, "Hold a week's batch: its letters wait until a manager releases them."
)
_turn_route("release", release_batch, "Release a held batch: it goes out with the next issue.")


@router.post("/campaigns/{name}/weeks/withdraw")
def withdraw(
    request: Request,
    name: str,
    officer: Annotated[Officer, Depends(csrf_officer)],
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
) -> Response:
    """Withdraw the campaign's standing approval, with a reason: every batch not yet sent is
    held, and every week after, until a manager approves the follow-up again."""
    as_manager(officer)
    campaign = _campaign(request, name)
    t = translator(request)
    reason, problem = checked_text(t, reason, REASON_MAX, required=True)
    if problem is not None:
        return _weeks_page(request, campaign, error=problem, status=422)
    try:
        _, held = withdraw_standing(
            campaign_setup(request).context,
            campaign,
            actor=officer.username,
            reason=reason,
            now=web_state(request).backend.now(),
        )
    except FollowUpError as exc:
        return _weeks_page(request, campaign, error=t("weeks.refused", why=str(exc)), status=409)
    return RedirectResponse(
        f"/campaigns/{campaign.name}/weeks?done=withdrawn&week={len(held)}", status_code=303
    )
