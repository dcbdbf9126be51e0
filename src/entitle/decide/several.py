"""One subject, several benefits: which benefits a check of several decides.

A check of several benefits is several checks. Each benefit is decided under its own purpose —
a registry access is bound to one purpose and logged under it — and stored and audited on its
own; nothing read for one benefit serves another. This module only chooses: the other benefits
an officer may check after a first one (and those the municipality checks without a click, per
purpose), and for the API which of the benefits asked the client's scope covers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from entitle.rules.model import Benefit

MAX_BENEFITS = 20  # benefits one request may ask for at once


@dataclass(frozen=True)
class Refusal:
    """A benefit that is not checked, and why (an HTTP-like status and a message)."""

    benefit: str
    status: int  # 403: outside the caller's scope; 422: no such benefit
    detail: str


def other_benefits(
    ordered: Sequence[Benefit], checked: str, may_check: Callable[[Benefit], bool]
) -> list[Benefit]:
    """The benefits besides `checked` that the officer may check, in the desk's order."""
    return [b for b in ordered if b.id != checked and may_check(b)]


def automatic(benefits: Sequence[Benefit], purposes: Collection[str]) -> list[Benefit]:
    """The benefits checked without a click: the municipality allows it for their purpose."""
    return [b for b in benefits if b.purpose in purposes]


def choose(
    requested: Sequence[str],
    known: Mapping[str, Benefit],
    refuse: Callable[[Benefit], str | None],
) -> list[Benefit | Refusal]:
    """Each benefit asked (once, in the order asked): the benefit to check, or why not.

    `refuse` says why the caller may not check a benefit (None: it may).
    """
    chosen: list[Benefit | Refusal] = []
    seen: set[str] = set()
    for benefit_id in requested:
        if benefit_id in seen:
            continue
        seen.add(benefit_id)
        benefit = known.get(benefit_id)
        if benefit is None:
            chosen.append(Refusal(benefit_id, 422, f"unknown benefit {benefit_id!r}"))
            continue
        why = refuse(benefit)
        chosen.append(benefit if why is None else Refusal(benefit_id, 403, why))
    return chosen
