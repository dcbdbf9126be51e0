"""The result card an officer reads: a desk check (`entitle.decide.desk`) as the desk shows it.

The card shows outcomes, reasons and the names of the sources consulted — never a value read from
them. Conditions that read special-category data (income, health: sensitivity 3) are shown
without their value: the outcome says enough, and the officer must not learn, say, that a citizen
has a disability parking card. Its words are in both languages (the API gives both), from the
benefit files and the interface's catalogues.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Literal

from entitle.decide.check import CheckResult, needs_household
from entitle.decide.desk import Desk, DeskCheck, override_choices
from entitle.decide.reasons import NO_DATA, MissingReason
from entitle.decide.whose import member_relation, member_role
from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.decision import Decision
from entitle.rules.expr import T
from entitle.rules.logic import Outcome
from entitle.rules.model import Benefit
from entitle.rules.periods import Period
from entitle.rules.render import render
from entitle.web.i18n import LANGUAGES, Translator, both
from entitle.web.visibility import is_protected

Mark = Literal["yes", "no", "unknown", "skipped", "protected"]
UNKNOWN_NUMBER = "unknown_number"  # shown, not stored: the decision itself is undetermined
HOUSEHOLD_MEMBERS = "household.members"
# MAGDA services with their words in the catalogues (`source.<service>`)
SOURCES = (
    "GeefPersoon",
    "GeefGezinssamenstelling",
    "GeefHistoriekGezinssamenstelling",
    "GeefSociaalStatuut",
    "GeefAanslagbiljetPersonenbelasting",
    "GeefDossierHandicap",
    "GeefLeefloonbedragen",
    "Onderwijs.GeefHistoriekInschrijving",
)


def source_labels(
    authority: str = "Stad Gent", name: dict[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """Readable names of the sources next to their technical names (MAGDA service / dataset),
    in both languages; the city's own datasets named after the municipality that keeps them
    (`authority` as it signs, e.g. "Gemeente Vlasbeke"; `name` in Dutch and English)."""
    labels = {service: both(f"source.{service}") for service in SOURCES}
    return {**labels, **local_source_labels(authority, name)}


def local_source_labels(
    authority: str = "Stad Gent", name: dict[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """The city's own datasets, named after the municipality that keeps them."""
    town = name or {"nl": "Gent", "en": "Ghent"}
    # who keeps the enrolments: the authority as it signs in Dutch, the town in English
    owner = {"nl": authority, "en": town["en"]}
    return {
        dataset: {
            lang: Translator(lang)(f"source.{dataset}", town=town[lang], owner=owner[lang])
            for lang in LANGUAGES
        }
        for dataset in ("ocmw_clients", "school_enrolments")
    }


def household_members_text() -> dict[str, str]:
    """The household composition as a missing fact, in words (both languages)."""
    return both("fact.household_members")


def missing_words(why: MissingReason) -> dict[str, str]:
    """Why a fact is missing, by its kind (never the source's raw message), both languages."""
    return both(f"missing.{why.known_kind}")


def missing_kind_words(t: Translator, why: MissingReason) -> str:
    """Why a fact is missing, by its kind, in `t`'s language."""
    return t(f"missing.{why.known_kind}")


@dataclass(frozen=True)
class ReasonLine:
    condition: str
    text: dict[str, str]
    mark: Mark
    missing: tuple[str, ...]  # fact names without data


@dataclass(frozen=True)
class SourceLine:
    name: str  # MAGDA service or local dataset
    kind: str  # magda | local
    label: dict[str, str]


@dataclass(frozen=True)
class MissingFact:
    fact: str
    description: dict[str, str]
    why: dict[str, str]
    kind: str
    whose: dict[str, str] = field(default_factory=dict)  # other members, by role; empty: own
    relation: dict[str, str] = field(default_factory=dict)  # the same, as said to the citizen


@dataclass(frozen=True)
class OutputLine:
    name: str
    label: dict[str, str]
    value: Any  # as presented (money in euros); None while open
    money: bool
    open: bool = False  # eligible for certain, this output still unknown
    at_least: Any = None  # the certain minimum of an open output with levels
    at_least_text: dict[str, str] | None = None  # its words (from the output's levels)


@dataclass(frozen=True)
class OwnerFacts:
    """Missing facts of one owner, in words: "verhoogde tegemoetkoming" of "uw partner"."""

    facts: tuple[dict[str, str], ...]  # descriptions
    whose: dict[str, str]  # empty: the citizen's own


@dataclass(frozen=True)
class OpenPart:
    """What is certain of an open output, what is still possible, and whose missing facts would
    settle it (no values: level words and fact descriptions only)."""

    output: str
    certain: dict[str, str]  # the certain minimum's words
    possible: tuple[dict[str, str], ...]  # the better levels still open
    missing: tuple[OwnerFacts, ...]

    def said(self, t: Translator) -> dict[str, str]:
        """The three parts in `t`'s language: certain, still open, and what is missing of whom
        (an empty string for a part there is nothing to say about)."""
        owners = []
        for owner in self.missing:
            facts = t("card.and").join(t.text(fact) for fact in owner.facts)
            owners.append(
                t("card.facts_of", facts=facts, whose=t.text(owner.whose)) if owner.whose else facts
            )
        possible = t("card.or").join(t.text(level) for level in self.possible)
        return {
            "certain": t("card.certain", value=t.text(self.certain)),
            "open": t("card.still_open", value=possible) if possible else "",
            "missing": t("card.settled_by", facts="; ".join(owners)) if owners else "",
        }


@dataclass
class Card:
    """Everything the result card shows; no value read from a source."""

    benefit: Benefit
    purpose: str
    as_of: date
    outcome: str  # as decided from the data
    valid_until: date | None
    reasons: list[ReasonLine]
    sources: list[SourceLine]
    missing: list[MissingFact]
    outputs: list[OutputLine]
    questions: int
    subject_kind: str
    decision_id: int | None = None
    override: Any = None  # the store's OverrideView, when one is active
    number_unknown: bool = False  # the national register does not know the number
    letters: Any = None  # the campaigns' letters about the subject (desk_letters.LetterStatus)
    open_parts: list[OpenPart] = field(default_factory=list)  # partial decision: certain / open
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_outcome(self) -> str:
        return str(self.override.outcome) if self.override is not None else self.outcome

    @property
    def shown_outcome(self) -> str:
        """The outcome the card shows: an unknown number has its own words."""
        if self.override is None and self.number_unknown:
            return UNKNOWN_NUMBER
        return self.effective_outcome

    @property
    def computed_shown(self) -> str:
        """The computed outcome as shown (under an override)."""
        return UNKNOWN_NUMBER if self.number_unknown else self.outcome

    def override_choices(self) -> tuple[str, ...]:
        return override_choices(self.outcome)

    @property
    def period(self) -> Period:
        """The period the decision is for (its school year, calendar year …)."""
        return self.benefit.period(self.as_of)

    @property
    def effective_valid_until(self) -> date | None:
        if self.override is not None:
            valid: date = self.override.valid_until
            return valid
        return self.valid_until

    def guidance(self, lang: str) -> str:
        text = self.benefit.guidance.get(self.effective_outcome, {})
        return text.get(lang) or text.get("nl", "")

    def condition_guidance(self, lang: str) -> list[str]:
        """What to do about each condition not met or unknown (the benefit file's text per
        condition), shortest first; none when the card grants the benefit."""
        if self.shown_outcome == "eligible":
            return []
        found: list[str] = []
        for line in self.reasons:
            condition = self.benefit.conditions.get(line.condition)
            texts = condition.guidance.get(line.mark, {}) if condition is not None else {}
            text = texts.get(lang) or texts.get("nl", "")
            if text and text not in found:
                found.append(text)
        return sorted(found, key=len)

    def to_json(self) -> dict[str, Any]:
        """The card as the API gives it (both languages; no values from the sources)."""
        override = self.override
        return {
            "id": self.decision_id,
            "benefit": self.benefit.id,
            "version": self.benefit.version,
            "purpose": self.purpose,
            "as_of": self.as_of.isoformat(),
            "subject_kind": self.subject_kind,
            "outcome": self.effective_outcome,
            "computed_outcome": self.outcome,
            "number_known": not self.number_unknown,
            "valid_until": _iso(self.effective_valid_until),
            "outputs": {line.name: line.value for line in self.outputs},
            "open_outputs": [line.name for line in self.outputs if line.open],
            "at_least": {
                line.name: line.at_least for line in self.outputs if line.at_least is not None
            },
            "conditions": [
                {
                    "name": line.condition,
                    "text": line.text,
                    "value": {"yes": True, "no": False}.get(line.mark),
                    "status": line.mark,
                    "missing": list(line.missing),
                }
                for line in self.reasons
            ],
            "open_parts": [
                {
                    "output": part.output,
                    "certain": part.certain,
                    "possible": list(part.possible),
                    "missing": [
                        {"facts": list(owner.facts), "whose": owner.whose} for owner in part.missing
                    ],
                }
                for part in self.open_parts
            ],
            "missing": [
                {
                    "fact": m.fact,
                    "description": m.description,
                    "reason": m.kind,
                    "whose": m.whose,
                    "relation": m.relation,
                }
                for m in self.missing
            ],
            "sources": [{"name": s.name, "kind": s.kind, "label": s.label} for s in self.sources],
            "guidance": {
                lang: self.benefit.guidance.get(self.effective_outcome, {}).get(lang, "")
                for lang in ("nl", "en")
            },
            "override": None
            if override is None
            else {
                "outcome": override.outcome,
                "reason": override.reason,
                "note": override.note,
                "valid_until": _iso(override.valid_until),
                "actor": override.actor,
                "created": override.created.isoformat(),
            },
            "questions": self.questions,
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_card(
    benefit: Benefit,
    result: CheckResult,
    purpose: str,
    catalogue: Catalogue | None = None,
    household: bool | None = None,
    labels: dict[str, dict[str, str]] | None = None,
) -> Card:
    """The result card of one check (`household`: whether the benefit reads the household
    composition, when the caller knows it already; `labels`: the sources' names, default
    Ghent's)."""
    catalogue = catalogue or default_catalogue()
    decision = result.decision
    subject_code = result.positions.get(result.subject_place or 0)
    return Card(
        benefit=benefit,
        purpose=purpose,
        as_of=decision.as_of,
        outcome=str(decision.outcome),
        valid_until=decision.valid_until,
        reasons=reason_lines(benefit, decision, catalogue),
        sources=source_lines(benefit, decision, catalogue, household, labels),
        missing=missing_facts(decision, result.reasons, catalogue, result.positions, subject_code),
        outputs=output_lines(benefit, decision),
        questions=result.questions,
        subject_kind=decision.subject_kind,
        number_unknown=result.number_unknown,
        open_parts=open_parts(benefit, decision, catalogue, result.positions, subject_code),
    )


def reason_lines(benefit: Benefit, decision: Decision, catalogue: Catalogue) -> list[ReasonLine]:
    """Each condition's text with ✔/✘/? — protected when it reads income or health data."""
    lines: list[ReasonLine] = []
    if decision.trace:
        for trace in decision.trace:
            mark: Mark
            if not trace.consulted:
                mark = "skipped"
            elif trace.value is None:
                mark = "unknown"
            elif is_protected(trace.facts, catalogue):
                mark = "protected"
            else:
                mark = "yes" if trace.value else "no"
            lines.append(ReasonLine(trace.condition, dict(trace.text), mark, trace.missing))
        return lines
    for name, condition in benefit.conditions.items():  # no trace: e.g. no household
        value = decision.conditions.get(name)
        mark = "unknown" if value is None else ("yes" if value else "no")
        lines.append(ReasonLine(name, dict(condition.text), mark, ()))
    return lines


def _source_of(fact: str, catalogue: Catalogue) -> tuple[str, str] | None:
    if fact == HOUSEHOLD_MEMBERS:
        return ("GeefGezinssamenstelling", "magda")
    spec = catalogue.get(fact)
    if spec is None:
        return None
    source = spec.source
    if source.get("kind") == "magda":
        return (source["service"], "magda")
    return (source.get("dataset", "?"), "local")


def source_lines(
    benefit: Benefit,
    decision: Decision,
    catalogue: Catalogue,
    household: bool | None = None,
    labels: dict[str, dict[str, str]] | None = None,
) -> list[SourceLine]:
    """The sources asked for this check, by name (MAGDA services, then local datasets)."""
    names = labels if labels is not None else source_labels()
    seen: dict[str, str] = {}
    facts = list(decision.facts_used)
    if household is None:
        household = needs_household(benefit)
    if household:
        facts.insert(0, HOUSEHOLD_MEMBERS)
    for fact in facts:
        found = _source_of(fact, catalogue)
        if found is not None and found[0] not in seen:
            seen[found[0]] = found[1]
    ordered = sorted(seen.items(), key=lambda item: (item[1] != "magda", item[0]))
    return [
        SourceLine(name, kind, names.get(name, {"nl": name, "en": name})) for name, kind in ordered
    ]


def missing_facts(
    decision: Decision,
    reasons: Mapping[str, MissingReason],
    catalogue: Catalogue,
    positions: dict[int, str | None] | None = None,
    subject_code: str | None = None,
) -> list[MissingFact]:
    """What is missing, whose it is, in words, and why (the kind of failure, not the source's
    message). `positions`: the members' position codes by their place in the household;
    `subject_code`: the subject's own, to name the others by their relation to the subject."""
    out: list[MissingFact] = []
    whose: dict[str, list[dict[str, str]]] = {}
    related: dict[str, list[dict[str, str]]] = {}
    for item in decision.missing:
        if item.whose == "subject":
            continue
        code = (positions or {}).get(item.member or 0)
        names = {lang: member_role(item, code, lang) for lang in ("nl", "en")}
        if names not in whose.setdefault(item.fact, []):
            whose[item.fact].append(names)
        said = {lang: member_relation(item, subject_code, code, lang) for lang in ("nl", "en")}
        if said not in related.setdefault(item.fact, []):
            related[item.fact].append(said)
    for fact in decision.facts_missing:
        description = _fact_words(fact, catalogue)
        why = reasons.get(fact, NO_DATA)
        owners = _joined(whose.get(fact, []))
        out.append(
            MissingFact(
                fact,
                description,
                missing_words(why),
                why.kind,
                owners,
                _joined(related.get(fact, [])),
            )
        )
    return out


def _joined(names: list[dict[str, str]]) -> dict[str, str]:
    return {lang: ", ".join(n[lang] for n in names) for lang in ("nl", "en")} if names else {}


def output_lines(benefit: Benefit, decision: Decision) -> list[OutputLine]:
    lines: list[OutputLine] = []
    for name, value in decision.outputs.items():
        output = benefit.outputs.get(name)
        if output is None:
            continue
        if value is None and decision.outcome == Outcome.ELIGIBLE:  # open: say what is certain
            least = decision.at_least.get(name)
            words = output.level_text.get(least) or {"nl": str(least), "en": str(least)}
            lines.append(OutputLine(name, dict(output.text), None, False, True, least, words))
            continue
        lines.append(OutputLine(name, dict(output.text), value, output.type == T.MONEY))
    return lines


def open_parts(
    benefit: Benefit,
    decision: Decision,
    catalogue: Catalogue,
    positions: dict[int, str | None],
    subject_code: str | None,
) -> list[OpenPart]:
    """For each open output with a certain minimum: that minimum, the better levels still possible,
    and the missing facts that would settle it, grouped by whose they are (by relation to the
    subject: "uw partner")."""
    parts: list[OpenPart] = []
    for name, least in decision.at_least.items():
        output = benefit.outputs.get(name)
        if output is None or name not in decision.open_outputs or least not in output.levels:
            continue
        better = output.levels[output.levels.index(least) + 1 :]
        owners: dict[tuple[tuple[str, str], ...], list[dict[str, str]]] = {}
        by_owner: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        for item in decision.missing:
            if name not in item.settles:
                continue
            whose: dict[str, str] = {}
            if item.whose != "subject":
                code = positions.get(item.member or 0)
                whose = {
                    lang: member_relation(item, subject_code, code, lang) for lang in ("nl", "en")
                }
            key = tuple(sorted(whose.items()))
            words = _fact_words(item.fact, catalogue)
            if words not in owners.setdefault(key, []):
                owners[key].append(words)
            by_owner[key] = whose
        parts.append(
            OpenPart(
                name,
                _level_words(output.level_text, least),
                tuple(_level_words(output.level_text, level) for level in better),
                tuple(OwnerFacts(tuple(facts), by_owner[key]) for key, facts in owners.items()),
            )
        )
    return parts


def _level_words(texts: dict[Any, dict[str, str]], level: Any) -> dict[str, str]:
    return dict(texts.get(level) or {"nl": str(level), "en": str(level)})


def _fact_words(fact: str, catalogue: Catalogue) -> dict[str, str]:
    if fact == HOUSEHOLD_MEMBERS:
        return household_members_text()
    spec = catalogue.get(fact)
    described = dict(spec.description) if spec is not None else {}
    return described or {"nl": fact, "en": fact}


def rendered_rules(benefit: Benefit, as_of: date) -> dict[str, Any]:
    """A benefit's rules in words (conditions with parameters filled in), for the API."""
    params = benefit.params_at(as_of)
    return {
        "id": benefit.id,
        "version": benefit.version,
        "title": benefit.title,
        "description": benefit.description,
        "authority": benefit.authority,
        "legal_basis": benefit.legal_basis,
        "purpose": benefit.purpose,
        "subject": benefit.subject,
        "validity": benefit.validity,
        "as_of": as_of.isoformat(),
        "conditions": [
            {"name": c.name, "text": c.text, "rule": render(c.node, params)}
            for c in benefit.conditions.values()
        ],
        "eligible": render(benefit.eligible, params),
        "outputs": [
            {"name": o.name, "text": o.text, "type": str(o.type), "rule": render(o.node, params)}
            for o in benefit.outputs.values()
        ],
        "guidance": benefit.guidance,
    }


def desk_source_labels(desk: Desk) -> dict[str, dict[str, str]]:
    """The sources' names at this desk (its municipality's datasets)."""
    town = desk.municipality
    if town is None:
        return _labels("Stad Gent", "Gent", "Ghent")
    return _labels(town.authority, town.name["nl"], town.name["en"])


@cache
def _labels(authority: str, town_nl: str, town_en: str) -> dict[str, dict[str, str]]:
    return source_labels(authority, {"nl": town_nl, "en": town_en})


def card_of(desk: Desk, checked: DeskCheck) -> Card:
    """The card of a stored desk check, with the override in force."""
    benefit = checked.benefit
    card = build_card(
        benefit,
        checked.result,
        benefit.purpose,
        desk.catalogue,
        desk.reads_household(benefit),
        desk_source_labels(desk),
    )
    card.decision_id, card.override = checked.decision_id, checked.override
    if card.missing and checked.not_inscribed:
        card.extra["not_inscribed"] = True  # the KSZ gave no data: not inscribed by Entitle
    return card
