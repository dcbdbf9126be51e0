"""The fact gateway: the provider both engines fetch through.

It turns the engines' fact requests into MAGDA questions (grouped per service, at most five per
request, one stage's questions concurrently) and local-dataset lookups; caches answers for the
scope of one desk check or one campaign run; and records every access with its purpose, never a
value. A fact the source could not give stays unknown, with its reason kept for the officer.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from entitle.rules.catalogue import Catalogue, assessment_years, default_catalogue
from entitle.rules.decision import FactRequest, Subject, listing
from entitle.sources.access import Access, AccessLog, Pseudonymiser, now_iso
from entitle.sources.local import LocalSource, LocalSourceError, SchoolYearMissing
from entitle.sources.magda import (
    STATUS_FACTS,
    AanslagbiljetCriteria,
    Criteria,
    ErrorKind,
    GezinssamenstellingCriteria,
    Known,
    MagdaClient,
    PersoonCriteria,
    QuestionResult,
    SociaalStatuutCriteria,
    Unavailable,
)
from entitle.sources.magda.facts import COMPOSITION_MEMBER_FACTS, map_facts
from entitle.sources.magda.transport import facts_of

HOUSEHOLD_PREFIX = "H"
DEFAULT_TTL_SECONDS = 24 * 3600.0
# Services whose answer is the whole record whatever fact was asked: a later fact of the same
# person (or household) is read from the answer already received, without a new question.
WHOLE_RECORD = ("GeefPersoon", "GeefGezinssamenstelling")
KEPT = "kept"  # access result: read from an answer already received in this check or run
COMPOSITION = "GeefGezinssamenstelling"  # asked first to find a desk subject's household


@dataclass(frozen=True)
class Composition:
    """A household as the national register shows it."""

    household_id: str
    reference: str  # INSZ of the reference person (position 01), else the person asked
    members: tuple[tuple[str, str | None], ...]  # (INSZ, position code)


Outcome = Any  # a value, or Unavailable


class Gateway:
    """Fetches facts for one purpose and one as-of date; one instance per check or campaign run."""

    def __init__(
        self,
        *,
        client: MagdaClient,
        local: LocalSource,
        purpose: str,
        as_of: date,
        log: AccessLog,
        pseudonymise: Pseudonymiser,
        catalogue: Catalogue | None = None,
        ttl: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.local = local
        self.purpose = purpose
        self.as_of = as_of
        self.log = log
        self.pseudonymise = pseudonymise
        self.catalogue = catalogue or default_catalogue()
        self.ttl = dict(ttl or {})
        self.clock = clock
        self.cache: dict[FactRequest, tuple[Outcome, float]] = {}
        self.compositions: dict[str, Composition] = {}
        self.answers: dict[tuple[str, str], tuple[QuestionResult, float]] = {}  # WHOLE_RECORD
        self.reasons: dict[FactRequest, Unavailable] = {}
        self.questions = 0  # questions sent to sources (after the cache)

    # ------------------------------------------------------------------ households

    def subject(self, kind: str, insz: str, with_household: bool) -> Subject | None:
        """The subject of a desk check; None when its household composition is unavailable."""
        if not with_household:
            return Subject(kind, insz, HOUSEHOLD_PREFIX + insz, (insz,))
        [result] = self._ask([GezinssamenstellingCriteria(insz)], [("household.members",)])
        outcome = result.facts(as_of=self.as_of, wanted=["household.members"])["household.members"]
        if not isinstance(outcome, Known):
            self.reasons[FactRequest(insz, "household.members")] = outcome
            return None
        members = tuple((m["insz"], m.get("position_code")) for m in outcome.value)
        reference = next((i for i, code in members if code == "01"), insz)
        composition = Composition(HOUSEHOLD_PREFIX + reference, reference, members)
        self.compositions[composition.household_id] = composition
        self._keep_household_answer(result, composition)
        stamp = self.clock()
        for person in {insz, reference}:  # household facts are asked of the reference person
            self.answers[(result.service.naam, person)] = (result, stamp)
        ids = listing(members) or (insz,)
        if insz not in ids:
            ids = (insz, *ids)
        subject_id = insz if kind == "person" else composition.household_id
        return Subject(kind, subject_id, composition.household_id, ids)

    def register_households(self, persons: pl.DataFrame) -> None:
        """Compositions from a register extract (campaigns): person_id, household_id, position."""
        grouped = persons.group_by("household_id", maintain_order=True).agg(
            pl.col("person_id"), pl.col("position_code")
        )
        for household_id, ids, codes in grouped.iter_rows():
            members = tuple(zip(ids, codes, strict=True))
            reference = next((i for i, code in members if code == "01"), ids[0])
            self.compositions[household_id] = Composition(household_id, reference, members)

    def _keep_household_answer(self, result: QuestionResult, composition: Composition) -> None:
        """The composition answer also holds the members' positions and the household's facts."""
        stamp = self.clock()
        for insz, _ in composition.members:
            position = map_facts(
                result.service.naam,
                result.answer,
                subject=insz,
                as_of=self.as_of,
                wanted=["person.position_code"],
            )["person.position_code"]
            self.cache[FactRequest(insz, "person.position_code")] = (_value(position), stamp)

    # ------------------------------------------------------------------ the provider

    def __call__(self, requests: Sequence[FactRequest]) -> dict[FactRequest, Any]:
        """Scalar-engine provider: values for the requests that have one."""
        return self._values(requests)

    def from_composition(
        self, household_id: str, requests: Iterable[FactRequest]
    ) -> dict[FactRequest, Any]:
        """The requests that the household composition already received for `household_id`
        answers (the household's residence and collective flag, its members' position codes
        and main residences), read from that answer without a new question (logged as `kept`);
        None where it holds no value. A member's residence the answer does not give is left
        out, to be asked of GeefPersoon. Nothing if that composition was not asked in this check."""
        composition = self.compositions.get(household_id)
        if composition is None or (COMPOSITION, composition.reference) not in self.answers:
            return {}
        members = {insz for insz, _ in composition.members}
        held = [
            r
            for r in requests
            if self.catalogue[r.fact].source.get("service") == COMPOSITION
            and (
                r.entity_id == household_id
                if r.fact.startswith("household.")
                else r.entity_id in members
            )
        ]
        answer = self._values(held)
        residences = [
            r for r in requests if r.fact in COMPOSITION_MEMBER_FACTS and r.entity_id in members
        ]
        kept = self._members_kept(composition.reference, residences)
        return {r: answer.get(r) for r in held} | kept

    def _members_kept(
        self, reference: str, requests: Sequence[FactRequest]
    ) -> dict[FactRequest, Any]:
        """The members' facts of `COMPOSITION_MEMBER_FACTS` that the composition answer gives a
        value for, kept for the rest of the check and logged as read from that answer."""
        result, stamp = self.answers[(COMPOSITION, reference)]
        out: dict[FactRequest, Any] = {}
        for request in requests:
            outcome = map_facts(
                COMPOSITION,
                result.answer,
                subject=request.entity_id,
                as_of=self.as_of,
                wanted=[request.fact],
            )[request.fact]
            if not isinstance(outcome, Known):
                continue
            self.cache[request] = (outcome.value, stamp)
            self._record(COMPOSITION, request.entity_id, KEPT, (request.fact,))
            out[request] = outcome.value
        return out

    def _values(self, requests: Sequence[FactRequest]) -> dict[FactRequest, Any]:
        """Values for the requests that have one; the reasons of the others kept."""
        outcomes = self.outcomes(requests)
        answer: dict[FactRequest, Any] = {}
        for request, outcome in outcomes.items():
            if isinstance(outcome, Unavailable):
                self.reasons[request] = outcome
            else:
                answer[request] = outcome
        return answer

    def fetch(self, fact: str, ids: pl.Series) -> pl.Series:
        """Columnar-engine provider: one fact for many entities, aligned with `ids`."""
        requests = [FactRequest(i, fact) for i in ids.to_list()]
        answer = self(requests)
        return pl.Series("value", [answer.get(r) for r in requests])

    def outcomes(self, requests: Sequence[FactRequest]) -> dict[FactRequest, Outcome]:
        """A value or an `Unavailable` for each request, from the cache or the sources."""
        now = self.clock()
        result: dict[FactRequest, Outcome] = {}
        missing: list[FactRequest] = []
        for request in requests:
            cached = self.cache.get(request)
            if cached is not None and now - cached[1] <= self.ttl.get(
                request.fact, DEFAULT_TTL_SECONDS
            ):
                result[request] = cached[0]
            else:
                missing.append(request)
        fetched = self._from_local(missing) | self._from_magda(missing)
        stamp = self.clock()
        for request, outcome in fetched.items():
            self.cache[request] = (outcome, stamp)
            result[request] = outcome
        return result

    # ------------------------------------------------------------------ local datasets

    def _from_local(self, requests: Iterable[FactRequest]) -> dict[FactRequest, Outcome]:
        by_field: dict[tuple[str, str], list[FactRequest]] = defaultdict(list)
        for request in requests:
            source = self.catalogue[request.fact].source
            if source.get("kind") == "local":
                by_field[(source["dataset"], source["field"])].append(request)
        out: dict[FactRequest, Outcome] = {}
        for (dataset, field), group in by_field.items():
            ids = sorted({r.entity_id for r in group})
            self.questions += len(ids)
            try:
                values = self.local.lookup(dataset, field, ids, self.as_of)
                kind = "ok"
                for request in group:
                    out[request] = values.get(request.entity_id)
            except LocalSourceError as exc:
                missing = isinstance(exc, SchoolYearMissing)  # no data, not a failure
                kind = "no_data" if missing else "error"
                for request in group:
                    out[request] = Unavailable(
                        ErrorKind.NO_DATA if missing else ErrorKind.ERROR, str(exc)
                    )
            facts = tuple(sorted({r.fact for r in group}))
            for insz in ids:
                self._record(dataset, insz, kind, facts)
        return out

    # ------------------------------------------------------------------ MAGDA

    def _from_magda(self, requests: Iterable[FactRequest]) -> dict[FactRequest, Outcome]:
        plan: dict[tuple[str, str], list[FactRequest]] = defaultdict(list)  # (service, INSZ)
        for request in requests:
            source = self.catalogue[request.fact].source
            if source.get("kind") != "magda":
                continue
            insz = self._person_for(request)
            if insz is None:
                continue
            plan[(source["service"], insz)].append(request)
        out: dict[FactRequest, Outcome] = self._from_kept(plan)
        criteria: list[Criteria] = []
        keys: list[tuple[str, str]] = []
        asked: list[tuple[str, ...]] = []
        for (service, insz), group in plan.items():
            facts = tuple(sorted({r.fact for r in group}))
            for item in self._criteria(service, insz, facts):
                criteria.append(item)
                keys.append((service, insz))
                asked.append(facts)
        results = self._ask(criteria, asked)
        by_key: dict[tuple[str, str], list[QuestionResult]] = defaultdict(list)
        stamp = self.clock()
        for key, result in zip(keys, results, strict=True):
            by_key[key].append(result)
            if key[0] in WHOLE_RECORD and result.answer is not None and result.answer.has_content:
                self.answers[key] = (result, stamp)
        for (service, insz), group in plan.items():
            answers = by_key[(service, insz)]
            wanted = sorted({r.fact for r in group})
            if service == "GeefAanslagbiljetPersonenbelasting":
                given = facts_of(answers, as_of=self.as_of, wanted=wanted)
            else:
                given = answers[0].facts(as_of=self.as_of, wanted=wanted)
            for request in group:
                out[request] = _value(given[request.fact])
        for request in requests:  # households whose composition is unknown
            if request not in out and self.catalogue[request.fact].source.get("kind") == "magda":
                out[request] = Unavailable(ErrorKind.NO_DATA, "household composition unknown")
        return out

    def _from_kept(
        self, plan: dict[tuple[str, str], list[FactRequest]]
    ) -> dict[FactRequest, Outcome]:
        """The facts a whole-record answer already received gives (taken out of `plan`): read
        from it without a new question, logged as such (result `kept`)."""
        out: dict[FactRequest, Outcome] = {}
        now = self.clock()
        for key in [k for k in plan if k[0] in WHOLE_RECORD and k in self.answers]:
            result, stamp = self.answers[key]
            group = plan[key]
            if any(now - stamp > self.ttl.get(r.fact, DEFAULT_TTL_SECONDS) for r in group):
                continue
            service, insz = key
            wanted = sorted({r.fact for r in group})
            given = map_facts(
                service,
                result.answer,
                subject=insz,
                as_of=self.as_of,
                wanted=wanted,
                context_errors=result.errors,
            )
            for request in group:
                out[request] = _value(given[request.fact])
            self._record(service, insz, KEPT, tuple(wanted))
            del plan[key]
        return out

    def _person_for(self, request: FactRequest) -> str | None:
        """The INSZ to ask about: the person, or a household's reference person."""
        if not request.fact.startswith("household."):
            return request.entity_id
        composition = self.compositions.get(request.entity_id)
        return composition.reference if composition else None

    def _criteria(self, service: str, insz: str, facts: tuple[str, ...]) -> list[Criteria]:
        if service == "GeefPersoon":
            return [PersoonCriteria(insz)]
        if service == "GeefGezinssamenstelling":
            return [GezinssamenstellingCriteria(insz)]
        if service == "GeefSociaalStatuut":
            statuses = tuple(sorted({STATUS_FACTS[f] for f in facts}))
            return [SociaalStatuutCriteria(insz, statuses=statuses, on=self.as_of)]
        if service == "GeefAanslagbiljetPersonenbelasting":
            years = assessment_years(self.as_of)
            return [AanslagbiljetCriteria(insz, income_year=year) for year in years]
        raise ValueError(f"no MAGDA question for service {service}")

    def _ask(self, criteria: list[Criteria], facts: list[tuple[str, ...]]) -> list[QuestionResult]:
        if not criteria:
            return []
        self.questions += len(criteria)
        results = self.client.ask(criteria, purpose=self.purpose)
        for item, result, asked in zip(criteria, results, facts, strict=True):
            self._record(item.service.naam, item.insz, result.outcome, asked)
        return results

    def _record(self, source: str, insz: str, result: str, facts: tuple[str, ...]) -> None:
        self.log.record(
            Access(now_iso(), self.purpose, source, self.pseudonymise(insz), result, facts)
        )


def _value(outcome: Known | Unavailable) -> Outcome:
    return outcome.value if isinstance(outcome, Known) else outcome


__all__ = ["Composition", "Gateway"]
