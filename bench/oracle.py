"""The privacy-respecting hindsight minimum: the fewest facts an order bound by the engine's rule
could fetch, knowing every value in advance.

The rule (tests/test_fetch_order.py): a fact is never read while an unknown, less sensitive fact
has a value that would settle the decision (not eligible, or eligible with every output known)
together with the facts already read. The plain hindsight minimum (`hindsight.py`) ignores it:
for a Ghent resident with no ground it reads the four grounds and never the residence, which no
order can do without reading social data while the residence could still refuse. This oracle
reads one fact at a time, any fact the rule allows at that point, chosen with hindsight, and
stops when the facts read settle the decision as all the facts do (the same test as the plain
minimum) (breadth first over the sets read, so the first settled set is the smallest). Only
facts that can still change the outcome are worth reading, the engine's own `pending` facts; a
fact without data counts as read; `given` facts are at hand from the start and never counted.

Bounds, so that it finishes: the search stops at `bound` facts (e.g. what the engine read) and
answers `bound` when no smaller set settles — the minimum is then at least that, so a ratio to
it is overstated, never understated; it gives up after
`STATE_LIMIT` sets read or `seconds` per subject (None: the caller counts the subject as left
out); each set read is searched once, whatever the order it was reached in.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from hindsight import no_data, settled_state

from entitle.rules.catalogue import Catalogue
from entitle.rules.decision import Decision, FactRequest, Subject
from entitle.rules.model import Benefit
from entitle.rules.scalar import MISSING, Ctx, _params, _pass, compile_benefit, evaluate

STATE_LIMIT = 200_000  # sets read per subject before giving up (None: not found within it)
SECONDS = 20.0  # search time per subject before giving up

POOLS: dict[str, list[Any]] = {
    "municipality_nis": ["44021", "11002"],
    "position_code": ["01", "02", "03", "05", "06", "09", "12", "13", "20", "21", "22"],
    "taxable_income": [0, 10**12],
    "birth_date": [date(1940, 1, 1), date(1990, 1, 1), date(2015, 1, 1), date(2024, 1, 1)],
}


def values_of(request: FactRequest, catalogue: Catalogue) -> list[Any]:
    """The values a fact could take, enough to find whether one settles the decision."""
    field = request.fact.split(".", 1)[1]
    if catalogue[request.fact].type == "bool":
        return [True, False]
    return POOLS.get(field, [])


def _settled(decision: Decision) -> bool:
    if decision.outcome == "not_eligible":
        return True
    return decision.outcome == "eligible" and all(v is not None for v in decision.outputs.values())


class _Search:
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
        self.given = frozenset(r for r in given if r in facts)
        self.program = compile_benefit(benefit, catalogue)
        self.params = _params(benefit, as_of)

    def decide(self, known: Mapping[FactRequest, Any]) -> Decision:
        return evaluate(
            self.benefit,
            self.subject,
            no_data,
            self.as_of,
            explain=False,
            catalogue=self.catalogue,
            known=known,
        )

    def known(self, read: frozenset[FactRequest]) -> dict[FactRequest, Any]:
        return {r: self.facts.get(r) for r in self.given | read}

    def pending(self, read: frozenset[FactRequest]) -> set[FactRequest]:
        """The facts whose unknownness keeps some part of the decision open."""
        values = {k: MISSING if v is None else v for k, v in self.known(read).items()}
        _, _, decisive = _pass(self.program, Ctx(self.subject, values, self.params, self.as_of))
        done = self.given | read
        return {key for deps in decisive.values() for key in deps if key not in done}

    def allowed(self, read: frozenset[FactRequest], pending: set[FactRequest]) -> set[FactRequest]:
        """The pending facts the rule lets be read now: none while a less sensitive one could
        settle the decision."""
        known = self.known(read)
        for level in sorted({self.catalogue[r.fact].sensitivity for r in pending}):
            at_level = [r for r in pending if self.catalogue[r.fact].sensitivity == level]
            if any(
                _settled(self.decide({**known, r: v}))
                for r in at_level
                for v in values_of(r, self.catalogue)
            ):
                return {r for r in pending if self.catalogue[r.fact].sensitivity <= level}
        return pending


def privacy_minimum(
    benefit: Benefit,
    subject: Subject,
    facts: Mapping[FactRequest, Any],
    as_of: date,
    catalogue: Catalogue,
    *,
    given: Collection[FactRequest] = (),
    bound: int | None = None,
    seconds: float = SECONDS,
) -> int | None:
    """The fewest facts (beyond the `given` ones) an order obeying the privacy rule reads to
    settle the decision as all of `facts` (None: no data) do, or `bound` if none reads fewer;
    None when the search gives up."""
    search = _Search(benefit, subject, facts, as_of, catalogue, given)
    target = settled_state(search.decide(facts))
    layer: set[frozenset[FactRequest]] = {frozenset()}
    seen = 0
    deadline = time.monotonic() + seconds
    for size in range(len(facts) + 1):
        if bound is not None and size >= bound:
            return bound
        following: set[frozenset[FactRequest]] = set()
        for read in layer:
            if settled_state(search.decide(search.known(read))) == target:
                return size
            pending = search.pending(read)
            for request in search.allowed(read, pending):
                following.add(read | {request})
            if time.monotonic() > deadline:
                return None
        seen += len(following)
        if not following or seen > STATE_LIMIT:
            return None
        layer = following
    return None
