"""Whose facts a campaign decision misses, stored as data and said in words.

A stored item (the decision's `missing` column) names one missing fact and its owner: the subject,
the household, or a member by place in the household listing (`member`), their position code in
the register (`position`) and how they are related to the addressee (`relation`, a position code
of `entitle.rules.decision.ROLES` as seen from the subject: "02" partner, "03" child …); what the
fact would settle (`settles`: "eligible" and/or open outputs) and the kind of reason (`reason`:
no_data, error …). Never a value and never an identifier. Letters and the run pages say it as
"uw partner" / "your partner" (`entitle.decide.whose`), so a household knows whose certificate to
bring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from entitle.decide.reasons import MissingReason
from entitle.decide.whose import place_words, relation_words
from entitle.rules.decision import RELATIONS
from entitle.texts import texts

REFERENCE = "01"  # a household's letter goes to its reference person


class Places:
    """The members of a chunk's households by place in the listing (the engines' order)."""

    def __init__(self, persons: pl.DataFrame) -> None:
        self.members: dict[str, list[str]] = defaultdict(list)
        self.code: dict[str, str | None] = {}
        codes = (
            persons["position_code"].to_list()
            if "position_code" in persons.columns
            else [None] * persons.height
        )
        for person, household, code in zip(
            persons["person_id"].to_list(), persons["household_id"].to_list(), codes, strict=True
        ):
            self.members[household].append(person)
            self.code[person] = code

    def member(self, household: str, place: int) -> str | None:
        """The person at a 1-based place of a household's listing."""
        members = self.members.get(household, [])
        return members[place - 1] if 0 < place <= len(members) else None


def stored_items(
    cell: Sequence[Mapping[str, Any]] | None,
    subject: str,
    household: str,
    subject_kind: str,
    places: Places,
    reasons: Mapping[tuple[str, str], MissingReason],
) -> list[dict[str, Any]]:
    """A result row's `missing` cell (see `evaluate_population(whose=True)`) as stored items."""
    own = places.code.get(subject) if subject_kind == "person" else REFERENCE
    out = []
    for item in cell or []:
        fact, whose, place = item["fact"], item["whose"], item["member"]
        entity: str | None = subject if whose == "subject" else household
        position = relation = None
        if whose == "member":
            entity = places.member(household, int(place or 0))
            position = places.code.get(entity) if entity is not None else None
            relation = "self" if subject_kind == "household" and position == REFERENCE else None
            relation = relation or RELATIONS.get((own or "", position or ""))
        why = reasons.get((entity or "", fact))
        out.append(
            {
                "fact": fact,
                "whose": whose,
                "member": place,
                "position": position,
                "relation": relation,
                "settles": list(item["settles"]),
                "reason": why.kind if why is not None else "no_data",
            }
        )
    return out


def whose_words(item: Mapping[str, Any], lang: str) -> str:
    """Whose fact it is, as said to the addressee: "uzelf", "uw partner", "gezinslid 3 (kind)"."""
    t = texts(lang)
    whose, relation = item.get("whose"), item.get("relation")
    if whose == "subject" or relation == "self":
        return t("letter.whose_self")
    if whose == "household":
        return t("letter.whose_household")
    related = relation_words(relation, lang)
    return (
        related
        if related is not None
        else place_words(item.get("member"), item.get("position"), lang)
    )


def owners_of(items: Iterable[Mapping[str, Any]] | None, fact: str, lang: str) -> list[str]:
    """Whose the missing `fact` is, in words, once each ("u of een gezinslid" without items)."""
    if items is None:
        t = texts(lang)
        return [t("letter.whose_anyone")]
    return list(dict.fromkeys(whose_words(i, lang) for i in items if i["fact"] == fact))


def bring_list(
    bring: Mapping[str, str],
    items: Iterable[Mapping[str, Any]] | None,
    facts: Iterable[str],
    lang: str,
) -> list[str]:
    """What to bring, one line per missing fact and owner: the campaign's text for the fact with
    `{whose}` filled in ("het attest van het ziekenfonds van {whose}" → "… van uw partner").
    `items`: the stored items (none, e.g. for a decision stored before they were: `facts`, and
    `{whose}` is "u of een gezinslid")."""
    if not items:
        t = texts(lang)
        owners = [(fact, t("letter.whose_anyone")) for fact in facts]
    else:
        owners = [(i["fact"], whose_words(i, lang)) for i in items]
    out: list[str] = []
    for fact, whose in owners:
        text = bring.get(fact)
        line = text.format(whose=whose) if text else None
        if line and line not in out:
            out.append(line)
    return out
