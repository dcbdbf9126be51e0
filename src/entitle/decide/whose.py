"""Whose a missing fact is, in words: the subject, the household, or a household member by role.

`entitle.rules.decision` knows a member's role only as a key (`ROLES`: position code -> role) and
how a member is related to the subject (`RELATIONS`); the words are the catalogues' (`member.*`),
said here for the desk's card and the letters. Never a value and never an identifier.
"""

from __future__ import annotations

from entitle.rules.decision import RELATIONS, ROLES, MissingFact
from entitle.texts import texts


def role_words(code: str | None, lang: str) -> str | None:
    """The role a position code names ("02" -> "partner"); None for a code without one."""
    t = texts(lang)
    role = ROLES.get(code or "")
    return t(f"member.role.{role}") if role is not None else None


def relation_words(relation: str | None, lang: str) -> str | None:
    """A member as said to the subject, from their relation (a position code of `ROLES` seen from
    the subject): "uw partner"; None without a known relation."""
    t = texts(lang)
    role = role_words(relation, lang)
    return t("member.yours", role=role) if role is not None else None


def place_words(place: int | None, code: str | None, lang: str) -> str:
    """A member by their place in the household listing and, when their position code names one,
    their role towards the reference person: "gezinslid 3 (kind)", "gezinslid 3"."""
    t = texts(lang)
    member = t("member.place", n=place)
    role = role_words(code, lang)
    return f"{member} ({role})" if role is not None else member


def member_role(missing: MissingFact, position_code: str | None, lang: str = "nl") -> str:
    """Whose fact it is, in words: the subject, the household, or a member by their role.

    `position_code` is the member's position in the household composition (01, 02, 03 …) when
    the caller knows it; without it the member is named by their place in the listing.
    """
    t = texts(lang)
    if missing.whose == "subject":
        return t("member.subject")
    if missing.whose == "household":
        return t("member.household")
    role = role_words(position_code, lang)
    return role if role is not None else t("member.place", n=missing.member)


def member_relation(
    missing: MissingFact,
    subject_code: str | None,
    member_code: str | None,
    lang: str = "nl",
) -> str:
    """Whose fact it is, as said to the citizen: "uw partner", "uw kind" … when the two position
    codes say how the member is related to the subject; otherwise the member's place and their
    role towards the reference person ("gezinslid 3 (kind)"). Never a value or an identifier."""
    if missing.whose != "member":
        return member_role(missing, member_code, lang)
    related = relation_words(RELATIONS.get((subject_code or "", member_code or "")), lang)
    return related if related is not None else place_words(missing.member, member_code, lang)
