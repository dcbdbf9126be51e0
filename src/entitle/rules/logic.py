"""Three-valued values and the outcome of a decision.

`None` stands for *unknown* everywhere in the engines: a fact the registry could not give, or one
that was not fetched because it could not change the outcome. Unknown is never read as false.
The connectives are Kleene's in both engines: the scalar engine's `and`/`or`/`not` carry the
facts an unknown result waits for (`rules/scalar.py`), Polars' `&`/`|` are Kleene already
(`rules/columnar.py`).
"""

from __future__ import annotations

from enum import StrEnum

Tri = bool | None


class Outcome(StrEnum):
    """The outcome of a decision."""

    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    UNDETERMINED = "undetermined"


# the outcomes' names, in the order every count and page lists them
OUTCOMES: tuple[str, ...] = tuple(outcome.value for outcome in Outcome)


def outcome_of(eligible: Tri) -> Outcome:
    """The outcome for an eligibility value.

    Eligibility decides alone: an eligible subject whose outputs are partly unknown is a *partial*
    decision (eligible, with those outputs open), not an undetermined one.
    """
    if eligible is False:
        return Outcome.NOT_ELIGIBLE
    if eligible is True:
        return Outcome.ELIGIBLE
    return Outcome.UNDETERMINED
