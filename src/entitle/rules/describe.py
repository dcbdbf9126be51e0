"""Human-readable renderings of a benefit and its plan (Markdown), for policy staff and the DPO."""

from __future__ import annotations

from datetime import date

from entitle.rules.catalogue import SENSITIVITY_LABELS, Catalogue
from entitle.rules.model import Benefit, Parameter
from entitle.rules.plan import plan_benefit
from entitle.rules.render import render, value_text


def _param_value(param: Parameter, value: object) -> str:
    if value is None:
        return "*(no value in force)*"
    if param.kind == "table":
        assert isinstance(value, dict)
        return ", ".join(f"{k} → {value_text(v, param.type)}" for k, v in value.items())
    if param.kind == "bands":
        assert isinstance(value, tuple)
        parts = []
        for below, v in value:
            edge = f"below {below:,.2f}" if below is not None else "otherwise"
            parts.append(f"{edge}: {value_text(v, param.type)}")
        return "; ".join(parts)
    return value_text(value, param.type)


def describe_benefit(benefit: Benefit, as_of: date, lang: str = "nl") -> str:
    """The benefit in words: legal basis, parameters in force on `as_of`, conditions, outputs."""
    other = "en" if lang == "nl" else "nl"
    lines = [
        f"# {benefit.title[lang]} ({benefit.id} {benefit.version})",
        "",
        f"*{benefit.title[other]}* — {benefit.authority}; subject: **{benefit.subject}**; "
        f"validity: {benefit.validity}; "
        f"purpose: `{benefit.purpose}`",
    ]
    if benefit.description:
        lines += ["", benefit.description[lang]]
    legal = benefit.legal_basis
    lines += [
        "",
        "## Legal basis",
        "",
        legal["text"][lang] + (f" — {legal['url']}" if legal["url"] else ""),
    ]
    params = benefit.params_at(as_of)
    if benefit.parameters:
        lines += ["", f"## Parameters in force on {as_of.isoformat()}", ""]
        for name, param in benefit.parameters.items():
            desc = param.description.get(lang, "")
            lines.append(
                f"- **{name}**{f' — {desc}' if desc else ''}: {_param_value(param, params[name])}"
            )
    lines += ["", "## Conditions", ""]
    for cond in benefit.conditions.values():
        lines.append(f"- **{cond.name}** — {cond.text[lang]}: `{render(cond.node, params)}`")
    lines += ["", "## Eligible when", "", f"`{render(benefit.eligible, params)}`"]
    if benefit.outputs:
        lines += ["", "## Outputs (for eligible subjects)", ""]
        for out in benefit.outputs.values():
            label = out.text.get(lang, out.name)
            lines.append(f"- **{out.name}** ({label}, {out.type}): `{render(out.node, params)}`")
    if benefit.guidance:
        lines += ["", "## Guidance for officers", ""]
        for outcome, text in benefit.guidance.items():
            lines.append(f"- *{outcome}*: {text[lang]}")
    return "\n".join(lines)


def describe_plan(benefit: Benefit, catalogue: Catalogue) -> str:
    """The maximal data need and the fetch stages, for a data-protection impact assessment."""
    plan = plan_benefit(benefit, catalogue)
    lines = [
        f"# Data plan: {benefit.title['en']} ({benefit.id} {benefit.version})",
        "",
        f"Purpose: `{benefit.purpose}`. Subject: {benefit.subject}. "
        f"At most {len(plan.facts)} facts per person or household; "
        "a fact is only fetched when it can still change the outcome.",
        "",
        "## Maximal data need",
        "",
        "| fact | type | source | sensitivity | cost | read per | used by |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, fact in plan.facts.items():
        per = "each household member" if name in plan.member_facts else benefit.subject
        source = fact.source_label + (
            f" ({fact.source['field']})" if "field" in fact.source else ""
        )
        lines.append(
            f"| {name} | {fact.type} | {source} | {fact.sensitivity} "
            f"({SENSITIVITY_LABELS.get(fact.sensitivity, '?')}) | {fact.cost} | {per} | "
            f"{', '.join(plan.used_by[name])} |"
        )
    lines += ["", "## Fetch stages (each only for subjects still undecided)", ""]
    for stage in plan.stages:
        names = ", ".join(f.name for f in stage.facts)
        sources = ", ".join(sorted({f.source_label for f in stage.facts}))
        head = (
            f"{stage.index}. phase {stage.phase}, sensitivity {stage.sensitivity}, "
            f"cost {stage.cost}"
        )
        lines.append(f"{head}: {names} — {sources}")
    return "\n".join(lines)
