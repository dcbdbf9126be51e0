"""The hindsight minimum of a decision: the fewest facts whose values settle it.

With every fact of a subject known (in hindsight), a set of facts *settles* the decision when the
scalar engine, given only those facts (every other fact unknown), reaches the same outcome, the
same outputs and — for an undetermined decision — the same missing facts. Kleene logic is
monotone (a known value never turns a settled result back into unknown), so the search runs over
subsets ordered small-first, starting from the facts every settling set must contain (those
without which the full set no longer settles).

`sensitive_avoidable` tells whether a decision could have been settled without any fact of the
highest sensitivity (income, health and disability data).

With `required` facts (e.g. the residence, which a privacy-first order reads before any social
status), the minimum is over the settling sets that contain them: the fewest facts an order that
must read those first could fetch.

With `given` facts (at hand before the decision: e.g. the household composition's answer, which
the desk asks to find the household, or the register row a campaign selected its subject by),
every set holds them and none counts them: the fewest facts still to fetch.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import Any

from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.decision import Decision, FactRequest, Subject
from entitle.rules.model import Benefit
from entitle.rules.plan import plan_benefit
from entitle.rules.scalar import evaluate

SENSITIVE = 3  # catalogue sensitivity of income and health data
SEARCH_LIMIT = 50_000  # subsets tried per subject before settling for a minimal set


def no_data(requests: Sequence[FactRequest]) -> dict[FactRequest, Any]:
    """A provider that has nothing: every fact not given is unknown."""
    return {}


def all_requests(benefit: Benefit, subject: Subject, catalogue: Catalogue) -> list[FactRequest]:
    """Every fact request the benefit could make for this subject."""
    plan = plan_benefit(benefit, catalogue)
    requests: set[FactRequest] = set()
    for name, spec in plan.facts.items():
        if spec.entity == "household":
            requests.add(FactRequest(subject.household_id, name))
            continue
        if subject.kind == "person":
            requests.add(FactRequest(subject.id, name))
        if name in plan.member_facts:
            requests.update(FactRequest(member, name) for member in subject.members)
    return sorted(requests)


def is_open(decision: Decision) -> bool:
    """Whether the decision leaves its outcome or an output open (undetermined, or eligible with
    an open part): no set of facts settles what the sources could not give, so a bench compares
    such subjects apart."""
    if decision.outcome == "undetermined":
        return True
    return decision.outcome == "eligible" and any(v is None for v in decision.outputs.values())


def settled_state(decision: Decision) -> tuple[Any, ...]:
    """What a settling set must reproduce: outcome, outputs and, if open, the missing facts."""
    missing = tuple(decision.facts_missing) if decision.outcome == "undetermined" else ()
    return (decision.outcome, tuple(sorted(decision.outputs.items())), missing)


@dataclass(frozen=True)
class Hindsight:
    """The hindsight minimum of one decision."""

    minimum: int  # fewest facts that settle it
    exact: bool  # False when the search limit was hit (then `minimum` is a minimal set's size)
    sensitive_avoidable: bool  # settled without any sensitivity-3 fact
    chosen: tuple[FactRequest, ...] = ()  # one settling set of that size (known facts only)


class _Settles:
    def __init__(
        self,
        benefit: Benefit,
        subject: Subject,
        facts: Mapping[FactRequest, Any],
        as_of: date,
        catalogue: Catalogue,
        given: Collection[FactRequest] = (),
    ) -> None:
        self.benefit, self.subject, self.facts = benefit, subject, facts
        self.as_of, self.catalogue = as_of, catalogue
        self.given = [r for r in given if r in facts]
        self.target = settled_state(self.decide(list(facts)))
        self.tries = 0

    def decide(self, chosen: Sequence[FactRequest]) -> Decision:
        known = {request: self.facts[request] for request in (*self.given, *chosen)}
        return evaluate(
            self.benefit,
            self.subject,
            no_data,
            self.as_of,
            explain=False,
            catalogue=self.catalogue,
            known=known,
        )

    def __call__(self, chosen: Sequence[FactRequest]) -> bool:
        self.tries += 1
        return settled_state(self.decide(chosen)) == self.target


def hindsight(
    benefit: Benefit,
    subject: Subject,
    facts: Mapping[FactRequest, Any],
    as_of: date,
    catalogue: Catalogue | None = None,
    required: Sequence[FactRequest] = (),
    prefer: Sequence[FactRequest] = (),
    given: Collection[FactRequest] = (),
) -> Hindsight:
    """The hindsight minimum for a subject whose every fact is in `facts` (None: no data), over
    the settling sets that hold the `required` facts (each counted, even one without data), with
    the `given` facts at hand (in every set, never counted).

    `chosen` is, among the settling sets of the minimum size, one sharing the most facts with
    `prefer` (e.g. what the engine fetched: the rest of what it fetched is its excess)."""
    catalogue = catalogue or default_catalogue()
    settles = _Settles(benefit, subject, facts, as_of, catalogue, given)
    free = set(given)
    # Facts with no data never help settle: a missing value is the same as one not given.
    known = [r for r, value in facts.items() if value is not None and r not in free]
    essential = [r for r in known if r in required or not settles([k for k in known if k != r])]
    preferred = set(prefer)
    optional = sorted(
        (r for r in known if r not in essential), key=lambda r: r not in preferred
    )  # stable: the preferred facts first, so the first settling sets share the most with them
    sensitive = {r for r in known if catalogue[r.fact].sensitivity >= SENSITIVE}
    avoidable = settles([r for r in known if r not in sensitive])
    # An open decision names its missing facts: each was asked to learn it has no data.
    missing = sum(
        1
        for r, v in facts.items()
        if v is None
        and r not in free
        and (r in required or any(r.fact in str(item) for item in settles.target[2]))
    )
    for size in range(len(optional) + 1):
        best: tuple[FactRequest, ...] | None = None
        for extra in combinations(optional, size):
            if settles([*essential, *extra]):
                overlap = sum(r in preferred for r in extra)
                if best is None or overlap > sum(r in preferred for r in best):
                    best = extra
                if overlap == size or settles.tries > SEARCH_LIMIT:
                    break
            elif best is None and settles.tries > SEARCH_LIMIT:
                found = _minimal(settles, known, essential, preferred)
                return Hindsight(len(found) + missing, False, avoidable, tuple(found))
        if best is not None:
            chosen = (*essential, *best)
            return Hindsight(len(essential) + size + missing, True, avoidable, chosen)
    raise AssertionError("the full set of facts always settles the decision")


def _minimal(
    settles: _Settles,
    known: list[FactRequest],
    keep: list[FactRequest],
    preferred: Collection[FactRequest] = (),
) -> list[FactRequest]:
    """A minimal settling set holding `keep`: drop the others while it settles (the facts not
    preferred first)."""
    kept = list(known)
    for request in sorted((k for k in kept if k not in keep), key=lambda r: r in preferred):
        trial = [k for k in kept if k != request]
        if settles(trial):
            kept = trial
    return kept
