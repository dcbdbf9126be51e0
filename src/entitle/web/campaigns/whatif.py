"""The what-if: a campaign evaluated with other parameter values next to those in force
(`simulate`: stores and issues nothing), streamed as it runs (`whatif_stream`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from entitle.decide.campaign import WhatIf, campaign_runs, parse_overrides, simulate
from entitle.decide.campaign.definition import Campaign, CampaignError
from entitle.rules.expr import T
from entitle.rules.logic import Outcome
from entitle.rules.model import Benefit, Parameter
from entitle.web.auth import Officer, csrf_officer, web_state
from entitle.web.campaigns import whatif_stream
from entitle.web.campaigns.charts import bar_chart
from entitle.web.campaigns.setup import as_manager, campaign_setup, require_manager
from entitle.web.campaigns.words import Words, band_order
from entitle.web.i18n import Translator
from entitle.web.views import render, translator

router = APIRouter(include_in_schema=False)
MAX_FIELD = 200


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
    words = Words(t, campaign, setup.context.catalogue)
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
            for o in Outcome
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
    as_manager(officer)
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
    words = Words(t, campaign, setup.context.catalogue)

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
