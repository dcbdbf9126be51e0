"""The desk check: one subject, one benefit, live through the gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from entitle.decide.reasons import MissingReason
from entitle.insz import parse_insz
from entitle.rules.catalogue import default_catalogue
from entitle.rules.decision import Decision, FactRequest, Subject
from entitle.rules.expr import Name, walk
from entitle.rules.logic import Outcome
from entitle.rules.model import Benefit
from entitle.rules.plan import facts_in, plan_benefit
from entitle.rules.scalar import evaluate
from entitle.sources.gateway import Gateway
from entitle.sources.magda.errors import ErrorKind


@dataclass
class CheckResult:
    """A decision and, for each missing fact, why the source could not give it."""

    decision: Decision
    reasons: dict[str, MissingReason] = field(default_factory=dict)  # fact -> why (no values)
    questions: int = 0  # questions sent to the registries and datasets
    positions: dict[int, str | None] = field(default_factory=dict)  # member place -> position code
    number_unknown: bool = False  # the national register does not know this INSZ
    subject_place: int | None = None  # the subject's place among `positions`
    given: tuple[FactRequest, ...] = ()  # read from the composition's answer before deciding


# MAGDA's answers when the national register does not know a number: "Onbestaande INSZ" from the
# Crossroads Bank, or "no data" from the register's own person service (GeefPersoon).
UNKNOWN_INSZ_CODE = "30003"
REGISTER_NO_DATA_CODE = "30001"
REGISTER_FACT = "person.municipality_nis"  # a GeefPersoon fact every resident has
# no household composition and no reason from the source: an error of ours
UNAVAILABLE = MissingReason(ErrorKind.ERROR.value, "", "unavailable")


def needs_household(benefit: Benefit) -> bool:
    """Whether deciding needs the household composition (household facts, members or size);
    worked out once per benefit."""
    cached = benefit.compiled.get("needs_household")
    if isinstance(cached, bool):
        return cached
    needed = _needs_household(benefit)
    benefit.compiled["needs_household"] = needed
    return needed


def _needs_household(benefit: Benefit) -> bool:
    if benefit.subject == "household":
        return True
    plan = plan_benefit(benefit, default_catalogue())
    if plan.member_facts or any(f.startswith("household.") for f in plan.facts):
        return True
    roots = [c.node for c in benefit.conditions.values()] + [benefit.eligible]
    roots += [o.node for o in benefit.outputs.values()]
    return any(isinstance(n, Name) and n.kind == "size" for root in roots for n in walk(root))


def condition_facts(benefit: Benefit) -> dict[str, set[str]]:
    """The facts each condition of `benefit` reads (subject and member facts), by condition."""
    return {
        name: {ref.target for ref in facts_in(condition.node)}
        for name, condition in benefit.conditions.items()
    }


def check(
    benefit: Benefit, insz: str, gateway: Gateway, as_of: date, *, explain: bool = True
) -> CheckResult:
    """Decide one INSZ (a person, or the household they live in) for a benefit.

    Raises `InvalidInszError` for a malformed number. A household composition the register cannot
    give makes the decision `undetermined`: members cannot be guessed. The facts the composition's
    answer holds (the household's residence and collective flag, the members' position codes) are
    at hand before deciding: the engine gets them as known, read from that answer, not asked.
    """
    number = parse_insz(insz).normalized
    subject = gateway.subject(benefit.subject, number, needs_household(benefit))
    if subject is None:
        reason = gateway.reasons.get(FactRequest(number, "household.members"))
        decision = Decision(
            benefit=benefit.id,
            version=benefit.version,
            subject_kind=benefit.subject,
            subject_id=number,
            as_of=as_of,
            outcome=Outcome.UNDETERMINED,
            outputs={},
            conditions={name: None for name in benefit.conditions},
            facts_used=["household.members"],
            facts_missing=["household.members"],
            valid_until=None,
            fetch_count=1,
        )
        why = MissingReason.of(reason) if reason else UNAVAILABLE
        unknown = reason is not None and reason.kind == "no_data"
        unknown = unknown and _register_unknown(gateway, number)
        return CheckResult(
            decision, {"household.members": why}, gateway.questions, number_unknown=unknown
        )
    known = gateway.from_composition(subject.household_id, _requests(benefit, subject))
    decision = evaluate(benefit, subject, gateway, as_of, explain=explain, known=known)
    reasons: dict[str, MissingReason] = {}
    unknown = False
    for request, unavailable in gateway.reasons.items():
        if request.entity_id == number and _says_unknown(request.fact, unavailable.codes):
            unknown = True
        if request.fact in decision.facts_missing and request.fact not in reasons:
            reasons[request.fact] = MissingReason.of(unavailable)
    unknown = unknown and decision.outcome == Outcome.UNDETERMINED
    composition = gateway.compositions.get(subject.household_id)
    codes = dict(composition.members) if composition else {}
    positions = {i + 1: codes.get(member) for i, member in enumerate(subject.members)}
    place = subject.members.index(subject.id) + 1 if subject.id in subject.members else None
    return CheckResult(
        decision, reasons, gateway.questions, positions, unknown, place, tuple(known)
    )


def _requests(benefit: Benefit, subject: Subject) -> list[FactRequest]:
    """Every fact request deciding `subject` could make: the household's facts, the subject's
    own and each member's."""
    plan = plan_benefit(benefit, default_catalogue())
    out: set[FactRequest] = set()
    for name, spec in plan.facts.items():
        if spec.entity == "household":
            out.add(FactRequest(subject.household_id, name))
            continue
        if subject.kind == "person":
            out.add(FactRequest(subject.id, name))
        if name in plan.member_facts:
            out.update(FactRequest(member, name) for member in subject.members)
    return sorted(out)


def _says_unknown(fact: str, codes: tuple[str, ...]) -> bool:
    """Whether a source's refusal of `fact` means the register does not know the number."""
    if UNKNOWN_INSZ_CODE in codes:
        return True
    return fact == REGISTER_FACT and REGISTER_NO_DATA_CODE in codes


def _register_unknown(gateway: Gateway, number: str) -> bool:
    """No household composition: ask the register's person service whether it knows the number
    at all (one more question, under the same purpose), to tell "unknown number" from "no
    household"."""
    request = FactRequest(number, REGISTER_FACT)
    gateway([request])
    unavailable = gateway.reasons.get(request)
    return unavailable is not None and _says_unknown(REGISTER_FACT, unavailable.codes)
