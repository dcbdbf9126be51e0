"""Campaign pages: the dashboard of campaigns and their runs, review before sending, what-if.

For campaign managers and administrators (a desk officer or an auditor gets 403). Everything the
pages show comes from the campaign module (`entitle.decide.campaign`): `campaign_runs` and
`run_figures` for the figures, `approve_run` / `reject_run` for the review (they record the
verdict and audit it), `issue_run` once a run is approved (letters and billing lists, in the
background after the response), `simulate` for the what-if (stores and issues nothing).

Charts are bar charts drawn on the server as inline SVG (no script: the CSP forbids inline
scripts, and a chart must read without JavaScript); every chart has its figures in words too.
The pages never show a value read from a source: a decision is shown by its pseudonym, outcome,
conditions (those reading income or health data as "protected") and the missing facts' kinds.

Where the campaigns are: `CampaignSetup.from_settings` reads ``ENTITLE_CAMPAIGNS`` (default
``campaigns``), ``ENTITLE_REGISTER_EXTRACT`` (default ``<data dir>/register``),
``ENTITLE_CAMPAIGN_OUTPUT`` (default ``<data dir>/campaigns``) like the ``entitle campaign``
command; the benefits, registry and database are the web app's own. A ground truth to measure
each run's reach against (the demo's synthetic city) is wired in by whoever builds the app.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from entitle.decide.campaign import (
    CampaignContext,
    WhatIf,
    approve_run,
    campaign_runs,
    issue_run,
    parse_overrides,
    reject_run,
    render_letter,
    run_figures,
    simulate,
    take_up_by_week,
)
from entitle.decide.campaign.context import safeguards
from entitle.decide.campaign.definition import Campaign, CampaignError, load_campaigns
from entitle.decide.campaign.figures import RUN_CHANGES, shown_change
from entitle.decide.campaign.health import public_health, read_health
from entitle.decide.campaign.missing import whose_words
from entitle.decide.campaign.reasons import NOT_IN_REGISTER_CODE, PENDING, MissingReason
from entitle.decide.campaign.review import RunExpiredError, due_count, expired_until
from entitle.decide.campaign.sources import NOT_IN_REGISTER
from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.expr import T
from entitle.rules.logic import OUTCOMES
from entitle.rules.model import Benefit, Parameter
from entitle.rules.periods import expiry
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError, RunView
from entitle.web import whatif_stream
from entitle.web.auth import Officer, PageError, csrf_officer, require_officer, web_state
from entitle.web.desk import (
    HOUSEHOLD_MEMBERS,
    HOUSEHOLD_MEMBERS_TEXT,
    MISSING_KINDS,
)
from entitle.web.i18n import LANGUAGES, Translator
from entitle.web.textcheck import checked_text
from entitle.web.views import render, translator
from entitle.web.visibility import protected_conditions

if TYPE_CHECKING:
    from fastapi import FastAPI

    from entitle.decide.campaign import ReachEvaluation
    from entitle.web.backend import Backend
    from entitle.web.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

CAMPAIGN_ROLES = frozenset({"campaign_manager", "administrator"})
# the notifications file names every recipient (register references, coupon codes): only the
# role that hands it to the city's sending channel downloads it
NOTIFICATION_ROLES = frozenset({"administrator"})
# a run's outcomes: also `pending`, a household left for the next run by a failure of ours or
# of the source (never "not eligible" nor "undetermined", and never a letter)
RUN_OUTCOMES = (*OUTCOMES, PENDING)
CHANGES = RUN_CHANGES
NOTE_MAX = 2000
SAMPLE = 10
MAX_FIELD = 200

# --------------------------------------------------------------------------- set-up


@dataclass
class CampaignSetup:
    """Where the campaigns are and how they run; one per application (`app.state.campaigns`)."""

    context: CampaignContext
    campaigns_dir: Path
    benefits_dir: Path
    _campaigns: dict[str, Campaign] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _issuing: set[int] = field(default_factory=set, repr=False)
    load_error: str | None = None
    warming: threading.Thread | None = field(default=None, repr=False)  # `warm_up`

    @classmethod
    def from_settings(
        cls, settings: Settings, backend: Backend, reach: ReachEvaluation | None = None
    ) -> CampaignSetup:
        """The web app's database, registry and benefits; the rest, safeguards included, from the
        environment as `entitle campaign` reads it; `reach` measures each run against a ground
        truth."""
        from entitle.settings import settings as entitle_settings

        given = entitle_settings()
        state = settings.data_dir or given.data_folder()
        context = CampaignContext(
            factory=backend.factory,
            register=given.register_folder(state),
            state_dir=state,
            output_dir=given.output_folder(state),
            registry=settings.registry_url,
            local=settings.local,
            magda_overrides=dict(settings.magda),
            reach=reach,
            today=lambda: settings.now().date(),
            **safeguards(given),
        )
        return cls(
            context=context,
            campaigns_dir=given.campaigns,
            benefits_dir=settings.benefits,
        )

    def campaigns(self) -> dict[str, Campaign]:
        """The campaign definitions, read once (a broken folder is said on the page)."""
        with self._lock:
            if self._campaigns is not None:
                return self._campaigns
            try:
                loaded = load_campaigns(self.campaigns_dir, self.benefits_dir)
            except CampaignError as exc:
                log.error("campaign definitions: %s", exc)
                self.load_error = str(exc)
                return {}
            self.load_error = None
            self._campaigns = {c.name: c for c in loaded}
            return self._campaigns

    def campaign(self, name: str) -> Campaign | None:
        return self.campaigns().get(name)

    def warm_up(self, templates: Any = None) -> threading.Thread:
        """Read the campaign definitions, compile the run page's templates and load the
        languages' number and date formats in a thread at start-up, so that a worker's first
        dashboard page does not wait for them (0.8 s and more)."""

        def work() -> None:
            self.campaigns()
            if templates is not None:
                for name in ("base.html", "campaign_chart.html", "campaign_run.html"):
                    templates.get_template(name)
            for language in LANGUAGES:  # babel reads a locale's data on first use
                t = Translator(language)
                t.day(date(2026, 1, 1))
                t.money(1.0)

        self.warming = threading.Thread(target=work, name="campaigns-warm-up", daemon=True)
        self.warming.start()
        return self.warming

    def issuing(self, run_id: int) -> bool:
        with self._lock:
            return run_id in self._issuing

    def start_issue(
        self, campaign: Campaign, run_id: int, actor: str, tasks: BackgroundTasks
    ) -> bool:
        """Issue the run after the response (letters take a while); False when this worker is
        issuing it already. `issue_run` is idempotent, so a second worker doing it is harmless."""
        with self._lock:
            if run_id in self._issuing:
                return False
            self._issuing.add(run_id)
        tasks.add_task(self._issue, campaign, run_id, actor)
        return True

    def _issue(self, campaign: Campaign, run_id: int, actor: str) -> None:
        try:
            issue_run(self.context, campaign, run_id, actor=actor)
        except Exception:  # the page offers to try again
            log.exception("issuing run %s of %s failed", run_id, campaign.name)
        finally:
            with self._lock:
                self._issuing.discard(run_id)


def install(
    app: FastAPI, settings: Settings, backend: Backend, reach: ReachEvaluation | None = None
) -> None:
    """Add the campaign and coupon pages and the coupon API to the application (`reach`: see
    `CampaignSetup.from_settings`)."""
    from entitle.web.coupon_pages import api_router as coupon_api
    from entitle.web.coupon_pages import router as coupon_pages
    from entitle.web.week_pages import router as week_pages

    app.state.campaigns = CampaignSetup.from_settings(settings, backend, reach)
    app.include_router(router)
    app.include_router(week_pages)
    app.include_router(coupon_pages)
    # documented in its own OpenAPI document (/api/v1/coupons/openapi.json), for shops
    app.include_router(coupon_api, include_in_schema=False)


def campaign_setup(request: Request) -> CampaignSetup:
    setup: CampaignSetup = request.app.state.campaigns
    return setup


def can_manage(officer: Officer) -> bool:
    return officer.role in CAMPAIGN_ROLES


def require_manager(request: Request) -> Officer:
    officer = require_officer(request)
    if not can_manage(officer):
        raise PageError(403, "error.forbidden")
    return officer


def _as_manager(officer: Officer) -> Officer:
    if not can_manage(officer):
        raise PageError(403, "error.forbidden")
    return officer


# --------------------------------------------------------------------------- charts

# drawn 1:1 on a desktop (svg.bars is at most 30rem wide): on a phone of 390 px it shrinks to
# about three quarters, its 17-unit text still about 13 px (at 720 units it was 8 px)
CHART_WIDTH = 480
ROW = 46
VALUE_ROOM = 150
LABEL_MAX = 56  # characters of a label that fit the width at the chart's font size
COLOURS = {
    "eligible": "#0b4d1f",
    "not_eligible": "#7a0014",
    "undetermined": "#7a5200",
    PENDING: "#4b2e83",
    "new": "#0b4d1f",
    "continued": "#0c2340",
    "changed": "#2a1a66",
    "ended": "#7a0014",
    "unknown": "#7a5200",
    "none": "#5c5c5c",
    "baseline": "#5c5c5c",
    "variant": "#0c2340",
    "reached": "#0b4d1f",
    "flagged": "#7a5200",
    "missed": "#7a0014",
}


@dataclass(frozen=True)
class Bar:
    label: str  # cut to fit the chart's width (the full text is in the chart's title)
    shown: str  # the value in words, next to the bar
    kind: str
    y: int
    length: float
    full: str = ""

    @property
    def colour(self) -> str:
        return COLOURS.get(self.kind, "#0c2340")


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: each bar under its label, the value beside it."""

    key: str
    title: str
    bars: tuple[Bar, ...]
    width: int = CHART_WIDTH

    @property
    def height(self) -> int:
        return ROW * len(self.bars) + 6

    @property
    def summary(self) -> str:
        return "; ".join(f"{bar.full or bar.label}: {bar.shown}" for bar in self.bars)


def bar_chart(key: str, title: str, items: Iterable[tuple[str, float, str, str]]) -> Chart:
    """Bars for (label, value, value in words, kind) — the kind picks the colour."""
    rows = list(items)
    top = max((abs(value) for _, value, _, _ in rows), default=0.0) or 1.0
    plot = CHART_WIDTH - VALUE_ROOM
    bars = []
    for i, (label, value, shown, kind) in enumerate(rows):
        length = round(abs(value) / top * plot, 1)
        if value and length < 2:
            length = 2.0
        short = label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1].rstrip() + "…"
        bars.append(Bar(short, shown, kind, i * ROW, length, label))
    return Chart(key, title, tuple(bars))


# --------------------------------------------------------------------------- words


@dataclass(frozen=True)
class Words:
    """Labels for the figures, in the page's language (the templates only call these)."""

    t: Translator
    campaign: Campaign | None
    catalogue: Catalogue

    def status(self, status: str) -> str:
        return self.t(f"campaign.status.{status}")

    def change(self, change: str) -> str:
        return self.t(f"campaign.change.{change}")

    def outcome(self, outcome: str) -> str:
        if outcome == PENDING:
            return self.t("campaign.outcome.pending")
        return self.t(f"card.outcome.{outcome}") if outcome in OUTCOMES else outcome

    def target(self, kind: str) -> str:
        return self.t(f"campaign.target.{kind}")

    def noun(self, kind: str) -> str:
        return self.t(f"whatif.noun.{kind}")

    def count(self, value: float | None) -> str:
        return self.t.number(value or 0)

    def signed(self, value: float) -> str:
        text = self.t.number(abs(value))
        return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else text)

    def money(self, value: float | None) -> str:
        return self.t.money(value or 0.0)

    def signed_money(self, value: float) -> str:
        text = self.t.money(abs(value))
        return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else text)

    def share(self, value: float | None) -> str:
        return f"{self.t.number(round((value or 0.0) * 100, 1))} %"

    def day(self, value: str | date | None) -> str:
        if value is None:
            return ""
        return self.t.day(date.fromisoformat(value) if isinstance(value, str) else value)

    def moment(self, value: str | None) -> str:
        return self.t.moment(value)

    def band(self, band: str | None) -> str:
        """A band as people read it: money bands in euro, others as named."""
        if band is None or band == "-":
            return "–"
        campaign = self.campaign
        name = campaign.spec.band if campaign else None
        if campaign is not None and name is not None:
            output = campaign.benefit.outputs.get(name)
            if output is not None and output.type == T.MONEY:
                try:
                    return self.t.money(float(band))
                except ValueError:
                    return band
        return self.t.value(band)

    def fact(self, name: str) -> str:
        if name == HOUSEHOLD_MEMBERS:
            return self.t.text(HOUSEHOLD_MEMBERS_TEXT)
        spec = self.catalogue.get(name)
        return self.t.text(spec.description) if spec is not None and spec.description else name

    def whose_fact(self, item: dict[str, Any]) -> str:
        """A stored missing fact with its owner by relation ("… (van: uw partner)")."""
        whose = self.t.text({lang: whose_words(item, lang) for lang in ("nl", "en")})
        return self.t("campaign.missing_of", fact=self.fact(item["fact"]), whose=whose)

    def condition(self, name: str) -> str:
        campaign = self.campaign
        if campaign is not None and name in campaign.benefit.conditions:
            return self.t.text(campaign.benefit.conditions[name].text) or name
        return name

    def missing_kind(self, reason: Any) -> str:
        """Why a fact is missing, by kind only (never the source's own message)."""
        if isinstance(reason, dict):
            why = MissingReason.from_json(reason)
            kind = NOT_IN_REGISTER if why.code == NOT_IN_REGISTER_CODE else why.kind
        else:
            kind = (reason or "no_data").split(":", 1)[0].strip()
        if kind == NOT_IN_REGISTER:
            return self.t("run.reason_not_in_register")
        kind = kind.replace(" ", "_") or "no_data"
        return self.t.text(MISSING_KINDS.get(kind, MISSING_KINDS["error"]))

    def reason(self, key: str) -> str:
        """An undetermined reason of the summary (`fact (kind)`, `condition NAME`, …)."""
        if key.startswith("condition "):
            return self.t("run.reason_condition", text=self.condition(key[len("condition ") :]))
        if key == "outputs unknown":
            return self.t("run.reason_outputs")
        found = re.fullmatch(r"(\S+) \((.*)\)", key)
        if found:
            return f"{self.fact(found.group(1))}: {self.missing_kind(found.group(2))}"
        return key

    def pending_reasons(self, reasons: dict[str, int] | None) -> str:
        """A run's failures of ours (`fact (code)` keys) as the fact in words and its code."""
        shown = []
        for key in reasons or {}:
            found = re.fullmatch(r"(\S+) \((.*)\)", key)
            shown.append(f"{self.fact(found.group(1))} ({found.group(2)})" if found else key)
        return ", ".join(shown)

    def output(self, name: str, value: Any) -> tuple[str, str]:
        campaign = self.campaign
        output = campaign.benefit.outputs.get(name) if campaign else None
        label = self.t.text(output.text) if output is not None and output.text else name
        if output is not None and output.type == T.MONEY and isinstance(value, int | float):
            return label, self.t.money(float(value))
        return label, "" if value is None else self.t.value(value)


def band_order(bands: Iterable[str]) -> list[str]:
    """Bands in their natural order: amounts by value, names alphabetically."""

    def key(band: str) -> tuple[int, float, str]:
        try:
            return (0, float(band), band)
        except ValueError:
            return (1, 0.0, band)

    return sorted(bands, key=key)


@dataclass(frozen=True)
class SampleRow:
    subject: str
    outcome: str
    change: str
    band: str
    previous_band: str | None
    grants: list[tuple[str, str]]
    conditions: list[tuple[str, str]]  # (mark, text)
    missing: list[tuple[str, str]]  # (fact, why)


def sample_rows(words: Words, rows: Sequence[dict[str, Any]]) -> list[SampleRow]:
    campaign = words.campaign
    protected = (
        protected_conditions(campaign.benefit, words.catalogue) if campaign is not None else set()
    )
    out = []
    for row in rows:
        conditions = []
        for name, value in (row.get("conditions") or {}).items():
            if value is None:
                mark = "unknown"
            elif name in protected:
                mark = "protected"
            else:
                mark = "yes" if value else "no"
            conditions.append((mark, words.condition(name)))
        reasons = row.get("reasons") or {}
        missing = [
            (words.fact(fact), words.missing_kind(reasons.get(fact)))
            for fact in row.get("facts_missing") or []
        ]
        if row.get("missing"):  # whose each fact is: whose certificate to ask for
            missing = [
                (words.whose_fact(item), words.missing_kind(reasons.get(item["fact"])))
                for item in row["missing"]
            ]
        grants = (
            [words.output(name, value) for name, value in (row.get("outputs") or {}).items()]
            if row.get("outcome") == "eligible"
            else []
        )
        previous = row.get("previous_band")
        out.append(
            SampleRow(
                subject=str(row.get("subject", ""))[:12],
                outcome=str(row.get("outcome", "")),
                change=shown_change(str(row.get("outcome", "")), str(row.get("change", ""))),
                band=words.band(row.get("band")),
                previous_band=words.band(previous) if previous else None,
                grants=grants,
                conditions=conditions,
                missing=missing,
            )
        )
    return out


# --------------------------------------------------------------------------- the dashboard


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
        words = Words(t, campaign, default_catalogue())
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
            "outcome_heads": _outcome_heads(t),
        },
    )


def _outcome_heads(t: Translator) -> list[tuple[str, str, str]]:
    """The run list's outcome columns: (outcome, short heading, the outcome in full words)."""
    words = Words(t, None, default_catalogue())
    heads = []
    for outcome in RUN_OUTCOMES:
        full = words.outcome(outcome)
        short = t("campaign.col.pending") if outcome == "pending" else full
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


def _load_run(request: Request, run_id: int) -> RunView:
    if run_id < 1 or run_id > 2**62:
        raise PageError(404, "error.not_found")
    run = web_state(request).backend.run(lambda s: store.get_run(s, run_id))
    if run is None:
        raise PageError(404, "error.not_found")
    return run


def _run_page(
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
    run = _load_run(request, run_id)
    figures = state.backend.run(lambda s: run_figures(s, run_id, sample=SAMPLE))
    campaign = setup.campaign(run.campaign)
    words = Words(t, campaign, default_catalogue())
    outcomes: dict[str, int] = figures.get("outcomes") or {}
    changes: dict[str, int] = figures.get("changes") or {}
    counted: dict[str, int] = figures.get("bands") or {}
    bands = {b: counted[b] for b in band_order(counted)}
    cost_by_band: dict[str, float] = figures.get("cost_by_band") or {}
    reasons: dict[str, int] = figures.get("undetermined_reasons") or {}
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
                for c in CHANGES
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
    reach = figures.get("reach")
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
    outputs = figures.get("outputs") or run.outputs or {}
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
    issued: dict[str, int] = figures.get("letters_issued") or {}
    due: dict[str, int] = figures.get("letters_due") or {}
    reviewed = officer.username in {v.actor for v in run.verdicts}
    verdicts = [
        t(
            f"run.verdict_{v.verdict}",
            actor=v.actor,
            time=t.moment(v.time),
        )
        + (f" — {v.note}" if v.note else "")
        for v in run.verdicts
    ]
    samples = figures.get("sample") or {}
    sample_changes = figures.get("sample_changes") or {}
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
        "change_names": CHANGES,
        "outcome_names": RUN_OUTCOMES,
        "bands": [
            (words.band(b), words.count(n), words.money(cost_by_band.get(b)))
            for b, n in bands.items()
        ],
        "cost": words.money(figures.get("cost")) if figures.get("cost") is not None else None,
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
        "fetched": [
            (words.fact(f), f, words.count(n)) for f, n in (figures.get("fetched") or {}).items()
        ],
        "questions": words.count(figures.get("questions")),
        "progress": figures.get("progress") or {},
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
    (`periods.expiry`)."""
    if campaign is None or run.status not in ("draft", "approved"):
        return None
    until = campaign.benefit.valid_until(run.as_of)
    found = expiry(until, today)
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


def issue_summary(campaign: Campaign | None, figures: dict[str, Any]) -> IssueSummary:
    """The count and amount a manager confirms before a run is issued."""
    if campaign is None:
        return IssueSummary(False, 0, float(figures.get("cost") or 0.0))
    count = due_count(campaign, figures)
    return IssueSummary(
        bool(campaign.spec.outputs.letters), count, float(figures.get("cost") or 0.0)
    )


NOTICES = ("approved", "approved_partly", "rejected", "issuing")


@router.get("/campaigns/runs/{run_id}")
def run_page(
    request: Request, run_id: int, officer: Annotated[Officer, Depends(require_manager)]
) -> Response:
    done = request.query_params.get("done", "")
    notice = f"run.notice.{done}" if done in NOTICES else None
    return _run_page(request, officer, run_id, notice=notice)


def _expired(t: Translator, exc: RunExpiredError) -> str:
    return t("run.refused_expired", as_of=t.day(exc.as_of), until=t.day(exc.until))


def _refusal(t: Translator, run: RunView, officer: Officer, exc: Exception | None) -> str:
    if isinstance(exc, RunExpiredError):
        return _expired(t, exc)
    if run.status != "draft":
        return t("run.refused_status", status=t(f"campaign.status.{run.status}"))
    if officer.username in {v.actor for v in run.verdicts}:
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
    _as_manager(officer)
    state = web_state(request)
    setup = campaign_setup(request)
    t = translator(request)
    run = _load_run(request, run_id)
    campaign = setup.campaign(run.campaign)
    note, problem = checked_text(t, note, NOTE_MAX)
    if problem is not None:
        return _run_page(request, officer, run_id, error=problem, note=note, status=422)
    if campaign is None:
        return _run_page(request, officer, run_id, error=t("run.unknown_campaign"), status=409)
    if verdict is reject_run and not note:
        return _run_page(
            request, officer, run_id, error=t("run.reject_note_needed"), note=note, status=422
        )
    if run.status != "draft" or officer.username in {v.actor for v in run.verdicts}:
        return _run_page(
            request, officer, run_id, error=_refusal(t, run, officer, None), status=409
        )
    today = state.today()
    until = expired_until(campaign, run, today) if verdict is approve_run else None
    if until is not None:  # its letters and lists would be expired: refused, not only warned
        error = _expired(t, RunExpiredError(run, until, today))
        return _run_page(request, officer, run_id, error=error, note=note, status=409)
    last = len(run.approvals) + 1 >= run.approvals_required
    if verdict is approve_run and last:
        figures = state.backend.run(lambda s: run_figures(s, run_id, sample=0))
        if confirm != issue_summary(campaign, figures).token:
            # the approval that sends: first say how many and how much, then ask again
            return _run_page(request, officer, run_id, note=note, confirming="approve")
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
        fresh = _load_run(request, run_id)
        return _run_page(
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
    _as_manager(officer)
    state = web_state(request)
    setup = campaign_setup(request)
    t = translator(request)
    run = _load_run(request, run_id)
    campaign = setup.campaign(run.campaign)
    if campaign is None:
        return _run_page(request, officer, run_id, error=t("run.unknown_campaign"), status=409)
    if run.status not in ("approved", "issued"):
        return _run_page(request, officer, run_id, error=t("run.refused_issue"), status=409)
    today = state.today()
    until = expired_until(campaign, run, today)
    if until is not None:
        error = _expired(t, RunExpiredError(run, until, today))
        return _run_page(request, officer, run_id, error=error, status=409)
    if run.status == "approved":
        figures = state.backend.run(lambda s: run_figures(s, run_id, sample=0))
        if confirm != issue_summary(campaign, figures).token:
            return _run_page(request, officer, run_id, confirming="issue")
    setup.start_issue(campaign, run_id, officer.username, tasks)
    return RedirectResponse(f"/campaigns/runs/{run_id}?done=issuing", status_code=303)


MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".jsonl": "application/jsonl; charset=utf-8",
    ".zip": "application/zip",
}


def _audit_download(request: Request, officer: Officer, run: RunView, what: str) -> None:
    """Letters and lists hold names and addresses: every download is in the audit log."""
    campaign = campaign_setup(request).campaign(run.campaign)
    web_state(request).backend.audit(
        kind="export",
        actor=officer.username,
        purpose=campaign.benefit.purpose if campaign else None,
        outcome="campaign_download",
        details={"campaign": run.campaign, "run": run.id, "file": what},
    )


@router.get("/campaigns/runs/{run_id}/files/{name:path}")
def run_file(
    request: Request,
    run_id: int,
    name: str,
    officer: Annotated[Officer, Depends(require_manager)],
) -> Response:
    """A file the run produced (the merged letters, a billing list): only those named in the
    run's outputs, inside the run's folder."""
    run = _load_run(request, run_id)
    outputs = run.outputs or {}
    if name not in (outputs.get("files") or []) or not outputs.get("folder"):
        raise PageError(404, "error.not_found")
    if name.endswith(".jsonl") and officer.role not in NOTIFICATION_ROLES:
        raise PageError(403, "error.forbidden")
    folder = Path(str(outputs["folder"])).resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise PageError(404, "error.not_found")
    _audit_download(request, officer, run, name)
    media = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(
        path,
        media_type=media,
        filename=path.name,
        content_disposition_type="inline" if path.suffix == ".pdf" else "attachment",
    )


@router.get("/campaigns/runs/{run_id}/letters/{seq}")
def run_letter(
    request: Request,
    run_id: int,
    seq: int,
    officer: Annotated[Officer, Depends(require_manager)],
) -> Response:
    """One issued letter as its own PDF (`render_letter`)."""
    run = _load_run(request, run_id)
    campaign = campaign_setup(request).campaign(run.campaign)
    if campaign is None or seq < 1 or seq > 10**9:
        raise PageError(404, "error.not_found")
    try:
        pdf = render_letter(campaign_setup(request).context, campaign, run_id, seq)
    except KeyError:
        raise PageError(404, "error.not_found") from None
    _audit_download(request, officer, run, f"letter {seq}")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="brief-{run_id}-{seq}.pdf"'},
    )


# --------------------------------------------------------------------------- monitoring


@router.get("/health/campaigns")
def campaigns_health(request: Request) -> dict[str, Any]:
    """Each campaign's last run attempt for monitoring, without sign-in: codes, counts and times
    only (`public_health`: no message, no subject, no figure of a decision)."""
    return public_health(read_health(campaign_setup(request).context))


# --------------------------------------------------------------------------- what-if


def _plain(value: Any, kind: T | None) -> str:
    """A value as it is typed in the what-if form (money in euro)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == T.MONEY and isinstance(value, int | float):
        value = value / 100
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parameter_text(parameter: Parameter, value: Any) -> str:
    """The value in force in the syntax of `--set` (YAML flow style for tables and bands)."""
    if value is None:
        return ""
    if parameter.kind == "table" and isinstance(value, dict):
        items = ", ".join(
            f"{_plain(k, parameter.key)}: {_plain(v, parameter.type)}" for k, v in value.items()
        )
        return "{" + items + "}"
    if parameter.kind == "bands" and isinstance(value, tuple | list):
        parts = []
        for below, band in value:
            shown = _plain(band, parameter.type)
            if below is None:
                parts.append("{value: " + shown + "}")
            else:
                parts.append("{below: " + _plain(below, None) + ", value: " + shown + "}")
        return "[" + ", ".join(parts) + "]"
    return _plain(value, parameter.type)


_DUTCH_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")


def money_input(text: str) -> str:
    """Money as typed in Belgium: `45.000` is forty-five thousand, `45.000,50` and `45000,5`
    have a decimal comma; a euro sign and spaces are ignored."""
    cleaned = text.replace("€", "").replace(" ", "").replace("\xa0", "")
    if "," in cleaned:
        return cleaned.replace(".", "").replace(",", ".")
    if _DUTCH_THOUSANDS.fullmatch(cleaned):
        return cleaned.replace(".", "")
    return cleaned


@dataclass(frozen=True)
class ParameterRow:
    name: str
    description: str
    unit: str
    current: str  # in words
    placeholder: str  # in the form's syntax
    value: str  # what was typed
    error: str | None


def parameter_rows(
    t: Translator,
    benefit: Benefit,
    as_of: date,
    typed: dict[str, str],
    errors: dict[str, str],
) -> list[ParameterRow]:
    rows = []
    for name, parameter in benefit.parameters.items():
        value = parameter.at(as_of)
        text = parameter_text(parameter, value)
        if parameter.kind == "scalar" and parameter.type == T.MONEY and value is not None:
            current = t.money(value / 100)
        else:
            current = text
        rows.append(
            ParameterRow(
                name=name,
                description=t.text(parameter.description),
                unit=parameter.unit or "",
                current=current,
                placeholder=text,
                value=typed.get(name, ""),
                error=errors.get(name),
            )
        )
    return rows


def _whatif_page(
    request: Request,
    *,
    name: str | None,
    as_of: str = "",
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    result: WhatIf | None = None,
    status: int = 200,
    streaming: bool = False,
) -> Response:
    state = web_state(request)
    setup = campaign_setup(request)
    t = translator(request)
    loaded = setup.campaigns()
    campaign = loaded.get(name or "") or next(iter(loaded.values()), None)
    day = state.today()
    if not as_of and campaign is not None:
        # the date the campaign last ran on (e.g. in the school year the city holds), not today:
        # a what-if on a date without data decides nobody
        last = state.backend.run(lambda s: campaign_runs(s, campaign.name, limit=1))
        as_of = str(last[0]["as_of"]) if last else ""
    try:
        if as_of:
            day = date.fromisoformat(as_of)
    except ValueError:
        pass
    words = Words(t, campaign, default_catalogue())
    context: dict[str, Any] = {
        "campaigns": [(c.name, t.text(c.spec.title)) for c in loaded.values()],
        "campaign": campaign,
        "campaign_title": t.text(campaign.spec.title) if campaign else "",
        "benefit_title": t.text(campaign.benefit.title) if campaign else "",
        "as_of": as_of or day.isoformat(),
        "parameters": parameter_rows(t, campaign.benefit, day, typed or {}, errors or {})
        if campaign
        else [],
        "error": error,
        "as_of_error": (errors or {}).get("as_of"),
        "load_error": setup.load_error,
        "words": words,
        "result": None,
        "streaming": streaming,
    }
    if result is not None and campaign is not None:
        context["result"] = _whatif_view(t, words, campaign, result)
    return render(request, "campaign_whatif.html", context, status=status)


def _whatif_view(t: Translator, words: Words, campaign: Campaign, result: WhatIf) -> dict[str, Any]:
    noun = words.noun(campaign.spec.target.kind)
    base_cost = sum(b for b, _ in result.cost.values())
    variant_cost = sum(v for _, v in result.cost.values())
    bands = []
    items = []
    for band in band_order(result.bands):
        before, after = result.bands[band]
        cost_before, cost_after = result.cost.get(band, (0.0, 0.0))
        label = words.band(band)
        bands.append(
            {
                "band": label,
                "baseline": words.count(before),
                "variant": words.count(after),
                "difference": words.signed(after - before),
                "cost_baseline": words.money(cost_before),
                "cost_variant": words.money(cost_after),
                "cost_difference": words.signed_money(cost_after - cost_before),
            }
        )
        items += [
            (t("whatif.bar_baseline", band=label), before, words.count(before), "baseline"),
            (t("whatif.bar_variant", band=label), after, words.count(after), "variant"),
        ]
    transitions = []
    for key, n in result.transitions.items():
        was, _, now = key.partition("→")
        transitions.append((words.outcome(was), words.outcome(now), words.count(n)))
    return {
        "subjects": t("whatif.subjects", n=words.count(result.subjects), as_of=t.day(result.as_of)),
        "empty": t(
            "whatif.empty", as_of=t.day(result.as_of), noun=words.noun(campaign.spec.target.kind)
        )
        if result.subjects == 0
        else None,
        "reached": t(
            "whatif.reached",
            baseline=words.count(result.baseline.get("eligible")),
            variant=words.count(result.variant.get("eligible")),
        ),
        "reached_difference": t(
            "whatif.reached_difference",
            difference=words.signed(result.reached_difference),
            noun=noun,
        ),
        "reached_up": result.reached_difference > 0,
        "cost": t(
            "whatif.cost", baseline=words.money(base_cost), variant=words.money(variant_cost)
        ),
        "cost_difference": words.signed_money(result.cost_difference),
        "bands": bands,
        "outcomes": [
            (
                words.outcome(o),
                words.count(result.baseline.get(o)),
                words.count(result.variant.get(o)),
                words.signed(result.variant.get(o, 0) - result.baseline.get(o, 0)),
            )
            for o in OUTCOMES
        ],
        "transitions": transitions,
        "chart": bar_chart("whatif", t("whatif.chart"), items) if items else None,
        "overrides": result.overrides,
    }


@router.get("/campaigns/whatif")
def whatif_form(
    request: Request, officer: Annotated[Officer, Depends(require_manager)]
) -> Response:
    return _whatif_page(
        request,
        name=request.query_params.get("campaign"),
        as_of=request.query_params.get("as_of", "")[:10],
    )


@router.post("/campaigns/whatif")
async def whatif_run(
    request: Request, officer: Annotated[Officer, Depends(csrf_officer)]
) -> Response:
    """Evaluate with the typed parameter values next to those in force: nothing is stored or
    issued (the evaluation is audited, as it reads the whole target's facts)."""
    _as_manager(officer)
    form = await request.form()
    t = translator(request)
    setup = campaign_setup(request)
    name = str(form.get("campaign") or "")[:MAX_FIELD]
    as_of_text = str(form.get("as_of") or "")[:MAX_FIELD]
    campaign = setup.campaigns().get(name)
    if campaign is None:
        return _whatif_page(request, name=None, error=t("error.not_found"), status=404)
    typed = {p: str(form.get(f"p_{p}") or "").strip()[:1000] for p in campaign.benefit.parameters}
    errors: dict[str, str] = {}
    settings: list[str] = []
    for parameter_name, text in typed.items():
        if not text:
            continue
        parameter = campaign.benefit.parameters[parameter_name]
        if parameter.kind == "scalar" and parameter.type == T.MONEY:
            text = money_input(text)
        setting = f"{parameter_name}={text}"
        try:
            parse_overrides(campaign.benefit, [setting])
        except CampaignError as exc:
            errors[parameter_name] = t("whatif.invalid", why=str(exc).removeprefix("--set "))
            continue
        settings.append(setting)
    try:
        as_of = date.fromisoformat(as_of_text) if as_of_text else web_state(request).today()
    except ValueError:
        errors["as_of"] = t("whatif.bad_date")
        as_of = web_state(request).today()

    def page(status: int = 200, **more: Any) -> Response:
        return _whatif_page(
            request, name=name, as_of=as_of_text, typed=typed, status=status, **more
        )

    if errors:
        return page(422, errors=errors)
    if not settings:
        return page(422, error=t("whatif.none_changed"))
    backend = web_state(request).backend
    words = Words(t, campaign, default_catalogue())

    def finish(result: WhatIf) -> str:
        """Audit the evaluation (it read the whole target's facts), then the result's HTML."""
        backend.audit(
            kind="admin",
            actor=officer.username,
            purpose=campaign.benefit.purpose,
            outcome="campaign_simulate",
            details={
                "campaign": campaign.name,
                "as_of": as_of.isoformat(),
                "overrides": result.overrides,
                "subjects": result.subjects,
                "reached_difference": result.reached_difference,
            },
        )
        view = _whatif_view(t, words, campaign, result)
        fragment = render(request, "_whatif_result.html", {"result": view, "words": words})
        return bytes(fragment.body).decode("utf-8")

    # the page at once, the progress per chunk, then the result (whatif_stream)
    shell = bytes(page(streaming=True).body).decode("utf-8")
    return StreamingResponse(
        whatif_stream.stream(
            shell,
            t,
            words.noun(campaign.spec.target.kind),
            lambda on_step: simulate(setup.context, campaign, settings, as_of, on_step=on_step),
            finish,
            disconnected=request.is_disconnected,  # a what-if left behind stops computing
        ),
        media_type="text/html; charset=utf-8",
    )
