"""The dashboard: every campaign with its last runs and charts (coupons issued and used per
week, reach against the previous period, cost per band), and each campaign's last run attempt
for monitoring (`/health/campaigns`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from entitle.decide.campaign import campaign_runs, take_up_by_week
from entitle.decide.campaign.figures import RUN_OUTCOMES
from entitle.decide.campaign.health import public_health, read_health
from entitle.web.auth import Officer, web_state
from entitle.web.campaigns.charts import Chart, bar_chart
from entitle.web.campaigns.setup import campaign_setup, require_manager
from entitle.web.campaigns.words import Words, band_order
from entitle.web.i18n import Translator
from entitle.web.views import render, translator

router = APIRouter(include_in_schema=False)


@router.get("/campaigns")
def campaigns_page(
    request: Request, officer: Annotated[Officer, Depends(require_manager)]
) -> Response:
    state = web_state(request)
    setup = campaign_setup(request)
    t = translator(request)
    loaded = setup.campaigns()
    listed = state.backend.run(
        lambda s: {name: campaign_runs(s, name, limit=20) for name in loaded}
    )
    weekly = state.backend.run(lambda s: {name: take_up_by_week(s, name) for name in loaded})
    sections = []
    for name, campaign in loaded.items():
        words = Words(t, campaign, setup.context.catalogue)
        runs = []
        for run in listed.get(name, []):
            outcomes = run.get("outcomes") or {}
            changes = run.get("changes") or {}
            runs.append(
                {
                    "id": run["id"],
                    "as_of": words.day(run["as_of"]),
                    "status": run["status"],
                    "status_text": words.status(run["status"]),
                    "outcomes": {o: words.count(outcomes.get(o)) for o in RUN_OUTCOMES},
                    "new": words.count(changes.get("new")),
                    "ended": words.count(changes.get("ended")),
                    "letters": words.count(sum((run.get("letters_issued") or {}).values())),
                    "approvals": f"{len(run['approvals'])}/{run['approvals_required']}",
                }
            )
        sections.append(
            {
                "name": name,
                "title": t.text(campaign.spec.title),
                "benefit": t.text(campaign.benefit.title),
                "target": words.target(campaign.spec.target.kind),
                "four_eyes": campaign.approvals_required > 1,
                "weekly": campaign.spec.follow_up.weekly,
                "runs": runs,
                "charts": overview_charts(
                    t, words, name, listed.get(name, []), weekly.get(name, [])
                ),
            }
        )
    return render(
        request,
        "campaign_index.html",
        {
            "campaigns": sections,
            "load_error": setup.load_error,
            "outcome_heads": _outcome_heads(Words(t, None, setup.context.catalogue)),
        },
    )


def _outcome_heads(words: Words) -> list[tuple[str, str, str]]:
    """The run list's outcome columns: (outcome, short heading, the outcome in full words)."""
    heads = []
    for outcome in RUN_OUTCOMES:
        full = words.outcome(outcome)
        short = words.t("campaign.col.pending") if outcome == "pending" else full
        heads.append((outcome, short, full))
    return heads


DONE = ("approved", "issued")


def overview_charts(
    t: Translator,
    words: Words,
    name: str,
    runs: Sequence[dict[str, Any]],
    weeks: Sequence[dict[str, Any]],
) -> list[Chart]:
    """What a manager would rather see than read: coupons issued and used per week, reach
    against the previous period, and the cost per band over this period's runs."""
    charts: list[Chart] = []
    if weeks:
        for key, kind in (("issued", "new"), ("used", "eligible")):
            charts.append(
                bar_chart(
                    f"{name}-{key}",
                    t(f"campaign.chart_{key}"),
                    [
                        (
                            t("campaign.week_of", day=words.day(w["week"])),
                            w[key],
                            words.count(w[key]),
                            kind,
                        )
                        for w in weeks
                    ],
                )
            )
    by_period: dict[str, dict[str, Any]] = {}
    for run in runs:  # newest first: the newest approved run of each period, else the newest
        period = str(run.get("period") or "")
        if period not in by_period or (
            run["status"] in DONE and by_period[period]["status"] not in DONE
        ):
            by_period[period] = run
    periods = sorted(by_period)[-2:]
    if len(periods) == 2:
        charts.append(
            bar_chart(
                f"{name}-reach",
                t("campaign.chart_reach"),
                [
                    (
                        t("campaign.period_label", period=p),
                        (by_period[p].get("outcomes") or {}).get("eligible", 0),
                        t(
                            "campaign.eligible_count",
                            n=words.count((by_period[p].get("outcomes") or {}).get("eligible")),
                        ),
                        "continued" if p == periods[0] else "new",
                    )
                    for p in periods
                ],
            )
        )
    if runs:
        latest = str(runs[0].get("period") or "")
        this_period = [r for r in reversed(runs) if str(r.get("period") or "") == latest]
        bands = band_order({b for r in this_period for b in (r.get("cost_by_band") or {})})
        for band in bands:
            charts.append(
                bar_chart(
                    f"{name}-cost-{len(charts)}",
                    t("campaign.chart_cost", band=words.band(band), period=latest),
                    [
                        (
                            words.day(r["as_of"]),
                            (r.get("cost_by_band") or {}).get(band, 0.0),
                            words.money((r.get("cost_by_band") or {}).get(band)),
                            "eligible",
                        )
                        for r in this_period
                    ],
                )
            )
    return charts


@router.get("/health/campaigns")
def campaigns_health(request: Request) -> dict[str, Any]:
    """Each campaign's last run attempt for monitoring, without sign-in: codes, counts and times
    only (`public_health`: no message, no subject, no figure of a decision)."""
    return public_health(read_health(campaign_setup(request).context))
