"""Parsed MAGDA answers → values of the catalogue's facts (``src/entitle/facts/catalogue.yaml``).

For every requested fact the result is either `Known` (a value in the engines' form: dates as
`date`, money as int cents, codes as text) or `Unavailable` with an `ErrorKind` (no data, retry,
refused, bad request, error) and a reason. An exception or a missing field is never turned into
``False`` or 0: Unknown is not No.

`FACT_SERVICES` says which service gives which fact; `STATUS_FACTS` which GeefSociaalStatuut status
name a fact reads, so a caller asks exactly the statuses its facts need (`statuses_for`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from entitle.sources.magda.errors import ErrorKind, Uitzondering, worst_kind
from entitle.sources.magda.parsers import Answer

__all__ = [
    "ABROAD",
    "COMPOSITION_MEMBER_FACTS",
    "FACT_SERVICES",
    "STATUS_FACTS",
    "FactOutcome",
    "Known",
    "Unavailable",
    "facts_for_service",
    "map_facts",
    "statuses_for",
]

ABROAD = "abroad"
"""``municipality_nis`` of someone whose main residence is registered abroad: no Belgian
municipality, so it equals no NIS code (a rule ``… == "44021"`` is false, not unknown)."""

STATUS_FACTS: dict[str, str] = {
    "person.increased_allowance": "BIM_BVT",
    "person.leefloon": "LIVING_WAGES_PCSA_HELP",
    "person.disability_parking_card": "GENT_PARKING_ADULT",
    "person.disability_parking_card_child": "GENT_PARKING_CHILD",
}

FACT_SERVICES: dict[str, str] = {
    "person.birth_date": "GeefPersoon",
    "person.municipality_nis": "GeefPersoon",
    "person.reference_address": "GeefPersoon",
    "person.position_code": "GeefGezinssamenstelling",
    "person.taxable_income": "GeefAanslagbiljetPersonenbelasting",
    "household.municipality_nis": "GeefGezinssamenstelling",
    # GeefPersoon of the household's reference person (position 01 in GeefGezinssamenstelling)
    "household.reference_address": "GeefPersoon",
    "household.collective": "GeefGezinssamenstelling",
    # not catalogue facts, but what the gateway needs to fan out to members
    "household.members": "GeefGezinssamenstelling",
    "household.size": "GeefGezinssamenstelling",
    **{name: "GeefSociaalStatuut" for name in STATUS_FACTS},
}

_HOUSEHOLD_SERVICES = ("GeefGezinssamenstelling", "GeefHistoriekGezinssamenstelling")

COMPOSITION_MEMBER_FACTS = ("person.municipality_nis",)
"""Facts asked of GeefPersoon that a GeefGezinssamenstelling answer also gives, for each member
(their own main residence, listed per member): read from a composition already received, they
need no question of their own."""


@dataclass(frozen=True)
class Known:
    """A value for the fact. ``detail`` says where it came from when that matters (e.g. which
    income year); it is for logs and traces, never a value."""

    value: Any
    detail: str | None = None


@dataclass(frozen=True)
class Unavailable:
    """No value: why (``kind``), in words, and the MAGDA codes behind it."""

    kind: ErrorKind
    reason: str
    codes: tuple[str, ...] = ()

    @property
    def retryable(self) -> bool:
        return self.kind == ErrorKind.RETRY


FactOutcome = Known | Unavailable


def statuses_for(facts: Iterable[str]) -> tuple[str, ...]:
    """The GeefSociaalStatuut status names these facts need, in a stable order."""
    return tuple(sorted({STATUS_FACTS[f] for f in facts if f in STATUS_FACTS}))


def facts_for_service(service: str) -> tuple[str, ...]:
    """The facts a service gives (GeefHistoriekGezinssamenstelling gives the household ones)."""
    target = "GeefGezinssamenstelling" if service in _HOUSEHOLD_SERVICES else service
    return tuple(name for name, svc in FACT_SERVICES.items() if svc == target)


def _failure(answers: Sequence[Answer], context: Sequence[Uitzondering]) -> Unavailable:
    errors = [e for e in context if e.blocking] + [e for a in answers for e in a.blocking_errors]
    kind = worst_kind([e.kind for e in errors])
    if kind is None:
        return Unavailable(ErrorKind.NO_DATA, "MAGDA gave no data for this question")
    chosen = [e for e in errors if e.kind == kind]
    reason = "; ".join(dict.fromkeys(f"{e.code}: {e.diagnosis}".strip() for e in chosen))
    return Unavailable(kind, reason, tuple(dict.fromkeys(e.code for e in chosen)))


def _no_data(reason: str) -> Unavailable:
    return Unavailable(ErrorKind.NO_DATA, reason)


def _iso_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _municipality(address: dict[str, Any] | None, abroad: dict[str, Any] | None) -> FactOutcome:
    if abroad is not None and (
        address is None or str(abroad.get("since") or "") > str(address.get("since") or "")
    ):
        return Known(ABROAD, f"residence abroad, country {abroad.get('country_nis')}")
    if address is not None:
        nis = address.get("municipality_nis")
        if nis:
            return Known(str(nis))
        country = address.get("country_nis")
        if country and country != "150":
            return Known(ABROAD, f"main residence in country {country}")
        return _no_data("main residence without a municipality NIS code")
    return _no_data("no main residence in the answer")


def _reference_address(address: dict[str, Any] | None, as_of: date) -> FactOutcome:
    if address is None:
        return _no_data("no main residence in the answer")
    if not address.get("reference_address"):
        return Known(False)
    period = address.get("reference_address_period") or {}
    end = _iso_date(period.get("end"))
    return Known(end is None or end > as_of)


def _persoon(facts: dict[str, Any], name: str, as_of: date) -> FactOutcome:
    if name == "person.birth_date":
        raw = facts.get("birth_date")
        day = _iso_date(raw)
        if day is not None:
            return Known(day)
        if raw:
            return _no_data("birth date only partly known (day or month unknown)")
        return _no_data("no birth date in the answer")
    if name == "person.municipality_nis":
        return _municipality(facts.get("address"), facts.get("abroad"))
    if name in ("person.reference_address", "household.reference_address"):
        # household.reference_address: the caller asks GeefPersoon for the reference person
        return _reference_address(facts.get("address"), as_of)
    raise KeyError(name)


def _household(facts: dict[str, Any], name: str, subject: str, as_of: date) -> FactOutcome:
    members = facts.get("members") or []
    if not members:
        return _no_data("no household members in the answer")
    if name == "household.municipality_nis":
        return _municipality(facts.get("address"), None)
    if name == "household.collective":
        return Known(bool(facts.get("collective")))
    if name == "household.size":
        return Known(len(members))
    if name == "household.members":
        return Known(
            tuple({"insz": m["insz"], "position_code": m["position_code"]} for m in members)
        )
    if name == "person.municipality_nis":
        return _municipality((facts.get("member_addresses") or {}).get(subject), None)
    if name == "person.position_code":
        for member in members:
            if member.get("insz") == subject:
                code = member.get("position_code")
                return Known(code) if code else _no_data("member without a position code")
        return _no_data("the person is not among the household members of the answer")
    raise KeyError(name)


def _status(facts: dict[str, Any], name: str) -> FactOutcome:
    status = STATUS_FACTS[name]
    statuses: dict[str, bool | None] = facts.get("statuses") or {}
    if status not in statuses:
        return _no_data(f"status {status} not in the answer (not asked, or filtered by KSZ)")
    value = statuses[status]
    if value is None:
        return _no_data(f"status {status}: result code is neither 0 nor 1")
    return Known(value)


def _taxable_income(answers: Sequence[Answer], context: Sequence[Uitzondering]) -> FactOutcome:
    with_data = [a for a in answers if a.has_content]
    # A newer income year that failed for a reason other than "no data" may exist: do not fall
    # back on an older assessment then.
    for answer in answers:
        if not answer.has_content and any(
            e.kind != ErrorKind.NO_DATA for e in answer.blocking_errors
        ):
            return _failure([answer], context)
    assessments = [
        assessment
        for answer in with_data
        for assessment in answer.facts.get("assessments", [])
        if assessment.get("income_year") is not None
    ]
    if not assessments:
        return _failure(answers, context)
    latest = max(assessments, key=lambda a: int(a["income_year"]))
    code = f"{latest.get('fiscal_status') or 'A'}7555"
    raw = (latest.get("items") or {}).get(code)
    year = latest["income_year"]
    if raw is None:
        return _no_data(f"no item {code} in the assessment of income year {year}")
    try:
        cents = int(str(raw).strip())
    except ValueError:
        return Unavailable(ErrorKind.ERROR, f"item {code} of income year {year} is not an amount")
    return Known(cents, f"{code}, income year {year}")


def map_facts(
    service: str,
    answers: Answer | Sequence[Answer] | None,
    *,
    subject: str,
    as_of: date,
    wanted: Iterable[str] | None = None,
    context_errors: Sequence[Uitzondering] = (),
) -> dict[str, FactOutcome]:
    """The catalogue facts a service's answer(s) give for ``subject`` (an INSZ) on ``as_of``.

    ``answers``: the answer to this subject's question, or several (e.g. one per income year for
    GeefAanslagbiljetPersonenbelasting: the latest assessment wins), or None when no answer came.
    ``context_errors``: reply-level or transport errors that hit this question. ``wanted``: the
    facts to map (default: all the service gives). Facts of other services raise `KeyError`.
    """
    if answers is None:
        items: list[Answer] = []
    elif isinstance(answers, Answer):
        items = [answers]
    else:
        items = list(answers)
    names = tuple(wanted) if wanted is not None else facts_for_service(service)
    own = set(facts_for_service(service))
    if service == "GeefGezinssamenstelling":
        own.update(COMPOSITION_MEMBER_FACTS)
    for name in names:
        if name not in own:
            raise KeyError(f"fact {name!r} does not come from {service}")
    with_data = next((a for a in items if a.has_content), None)
    blocked = any(e.blocking for e in context_errors) and with_data is None
    result: dict[str, FactOutcome] = {}
    for name in names:
        if service == "GeefAanslagbiljetPersonenbelasting":
            result[name] = _taxable_income(items, context_errors)
        elif with_data is None or blocked:
            result[name] = _failure(items, context_errors)
        elif service == "GeefPersoon":
            result[name] = _persoon(with_data.facts, name, as_of)
        elif service in _HOUSEHOLD_SERVICES:
            result[name] = _household(with_data.facts, name, subject, as_of)
        elif service == "GeefSociaalStatuut":
            result[name] = _status(with_data.facts, name)
        else:  # pragma: no cover - facts_for_service gives nothing for other services
            raise KeyError(name)
    return result
