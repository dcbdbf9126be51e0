"""Mutation notifications: "this person, this kind of data, changed" — never the data itself.

Two MAGDA services publish them weekly, for the persons the consumer has inscribed:

- ``Persoon.GeefPersoonMutatiesNotificaties`` 02.00: the national register's person mutations.
  Each ``PersoonMutatiesNotificaties`` (type ``PersoonMutatiesNotificaties2_0Type`` of
  ``Persoon-02.00/PersoonComplex.xsd``) names an INSZ, a notification type (1 new person,
  2 mutation) and ``Informaties``: per information type of the register (001 main address,
  100 birth, 140 household/reference person, 150 death, …) its mutation types (1 added,
  2 modified, 3 ended, 4 cancelled).
- ``Algemeen.GeefMutatiesNotificaties`` 02.01: the generic mutations of other sources (KSZ social
  statuses such as BIM_BVT, disability files; FOD Financiën assessments): INSZ, ``Bron``,
  ``Informatietype`` and ``TypeMutatie``.

A batch is fetched with one question whose ``Criteria/Ontvangstreferte`` acknowledges the last
batch the consumer has processed (none: the first batch). The reply carries the batch's own
``Ontvangstreferte`` — the cursor to acknowledge next time. MAGDA answers ``30016`` ("Geen verdere
gegevens beschikbaar") when nothing is waiting and ``30014`` ("Ongeldige ontvangstreferte") for an
acknowledgement it does not know (both as in the mock's real replies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from entitle.insz import InvalidInszError, parse_insz
from entitle.sources.magda._xml import Element, attr, child, children, sub, text
from entitle.sources.magda.envelope import Criteria
from entitle.sources.magda.errors import ErrorKind, MagdaError, MagdaParseError
from entitle.sources.magda.services import (
    GEEF_MUTATIES_NOTIFICATIES,
    GEEF_PERSOON_MUTATIES_NOTIFICATIES,
    ServiceSpec,
)

__all__ = [
    "INFORMATION_TYPES",
    "MUTATION_TYPES",
    "Change",
    "MutatiesNotificatiesCriteria",
    "Notification",
    "NotificationBatch",
    "NotificationError",
    "PersoonMutatiesNotificatiesCriteria",
    "batch_of",
    "read_batch",
    "read_general_mutations",
    "read_person_mutations",
]

NO_MORE_DATA = "30016"
BAD_RECEIPT = "30014"
INFORMATION_TYPES = {
    "001": "Hoofdverblijfplaats",
    "100": "Geboorte",
    "140": "Referentiepersoon",
    "150": "Overlijden",
}
"""The national register's information types the simulator publishes (others pass through)."""
MUTATION_TYPES = {"1": "Toevoeging", "2": "Modificatie", "3": "Suppressie", "4": "Annulatie"}
NOTIFICATION_TYPES = {"1": "Creatie", "2": "Mutatie"}
_RECEIPT = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class NotificationError(MagdaError):
    """A notification batch that cannot be used: the acknowledgement was refused (30014), the
    source failed, or the reply is not a batch. ``kind`` says whether to retry."""

    def __init__(self, message: str, kind: ErrorKind, code: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


def _receipt(value: str | None) -> str | None:
    if value is not None and not _RECEIPT.match(value):
        raise ValueError("an Ontvangstreferte is 1-64 letters, digits or dashes")
    return value


@dataclass(frozen=True)
class PersoonMutatiesNotificatiesCriteria(Criteria):
    """The next batch of person mutations after the acknowledged one (``after``; None: first)."""

    service: ClassVar[ServiceSpec] = GEEF_PERSOON_MUTATIES_NOTIFICATIES
    insz: str = ""  # a batch is not about one person
    after: str | None = None

    def __post_init__(self) -> None:
        _receipt(self.after)

    def fill(self, vraag: Element, language: str) -> None:
        criteria = sub(sub(vraag, "Inhoud"), "Criteria")
        if self.after is not None:
            sub(criteria, "Ontvangstreferte", self.after)


@dataclass(frozen=True)
class MutatiesNotificatiesCriteria(PersoonMutatiesNotificatiesCriteria):
    """The next batch of generic mutations (KSZ, FOD Financiën) after the acknowledged one."""

    service: ClassVar[ServiceSpec] = GEEF_MUTATIES_NOTIFICATIES


@dataclass(frozen=True)
class Change:
    """One kind of data that changed: the information type and how (mutation type codes)."""

    information: str
    mutations: tuple[str, ...]
    day: date | None = None


@dataclass(frozen=True)
class Notification:
    """One person's notification: who, from which source, what kinds of data changed."""

    insz: str
    source: str
    notification_type: str
    changes: tuple[Change, ...]
    day: date | None = None

    @property
    def informations(self) -> frozenset[str]:
        return frozenset(c.information for c in self.changes)


@dataclass(frozen=True)
class NotificationBatch:
    """One batch: its receipt reference (None when nothing was waiting) and notifications."""

    service: str
    receipt: str | None
    notifications: tuple[Notification, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return self.receipt is None


def _day(value: str | None, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise MagdaParseError(f"malformed notification: {where} is not a date") from None


def _insz(value: str | None, number: int) -> str:
    if value is None:
        raise MagdaParseError(f"malformed notification {number}: no INSZ")
    try:
        return parse_insz(value).normalized
    except InvalidInszError:  # never quote the number
        raise MagdaParseError(f"malformed notification {number}: invalid INSZ") from None


def _code(parent: Element | None, number: int, what: str) -> str:
    value = text(parent, "Code")
    if value is None:
        raise MagdaParseError(f"malformed notification {number}: {what} has no Code")
    return value


def _receipt_of(inhoud: Element) -> str:
    receipt = text(inhoud, "Ontvangstreferte")
    if receipt is None or not _RECEIPT.match(receipt):
        raise MagdaParseError("malformed notification batch: no valid Ontvangstreferte")
    return receipt


def read_person_mutations(inhoud: Element) -> dict[str, Any]:
    """``Inhoud`` of GeefPersoonMutatiesNotificaties → ``{"receipt", "notifications": [...]}``."""
    receipt = _receipt_of(inhoud)
    found = []
    items = children(child(inhoud, "Notificaties"), "PersoonMutatieNotificatie")
    for number, item in enumerate(items, start=1):
        body = child(item, "PersoonMutatiesNotificaties")
        if body is None:
            raise MagdaParseError(
                f"malformed notification {number}: no PersoonMutatiesNotificaties"
            )
        changes = []
        for info in children(child(body, "Informaties"), "Informatie"):
            mutations = tuple(
                _code(m, number, "TypeMutatie")
                for m in children(child(info, "TypeMutaties"), "TypeMutatie")
            )
            if not mutations:
                raise MagdaParseError(f"malformed notification {number}: no TypeMutatie")
            changes.append(
                {
                    "information": _code(child(info, "Identificatie"), number, "Identificatie"),
                    "mutations": list(mutations),
                    "day": attr(info, "DatumModificatie"),
                }
            )
        if not changes:
            raise MagdaParseError(f"malformed notification {number}: no Informatie")
        found.append(
            {
                "insz": _insz(text(body, "INSZ"), number),
                "source": "RR",
                "notification_type": _code(child(body, "Type"), number, "Type"),
                "changes": changes,
                "day": text(body, "DatumModificatie"),
            }
        )
    return {"receipt": receipt, "notifications": found}


def read_general_mutations(inhoud: Element) -> dict[str, Any]:
    """``Inhoud`` of GeefMutatiesNotificaties → ``{"receipt", "notifications": [...]}``."""
    receipt = _receipt_of(inhoud)
    found = []
    items = children(child(inhoud, "Notificaties"), "MutatieNotificatie")
    for number, item in enumerate(items, start=1):
        information = text(item, "Informatietype")
        source = text(item, "Bron")
        if information is None or source is None:
            raise MagdaParseError(f"malformed notification {number}: no Bron or Informatietype")
        day = text(item, "MutatieInformatie", "Tijdstip", "Datum")
        found.append(
            {
                "insz": _insz(text(item, "INSZ"), number),
                "source": source,
                "notification_type": "2",
                "changes": [
                    {
                        "information": information,
                        "mutations": [_code(child(item, "TypeMutatie"), number, "TypeMutatie")],
                        "day": day,
                    }
                ],
                "day": day,
            }
        )
    return {"receipt": receipt, "notifications": found}


def _typed(service: str, facts: dict[str, Any]) -> NotificationBatch:
    notifications = tuple(
        Notification(
            insz=n["insz"],
            source=n["source"],
            notification_type=n["notification_type"],
            changes=tuple(
                Change(c["information"], tuple(c["mutations"]), _day(c["day"], "DatumModificatie"))
                for c in n["changes"]
            ),
            day=_day(n["day"], "DatumModificatie"),
        )
        for n in facts["notifications"]
    )
    return NotificationBatch(service, facts["receipt"], notifications)


def _outcome(service: str, answers: list[Any], errors: list[Any]) -> NotificationBatch:
    if service not in (GEEF_PERSOON_MUTATIES_NOTIFICATIES.naam, GEEF_MUTATIES_NOTIFICATIES.naam):
        raise NotificationError(f"{service} is not a notification service", ErrorKind.BAD_REQUEST)
    contents = [a for a in answers if a is not None and a.has_content]
    blocking = [e for e in errors if e.blocking]
    if not contents and any(e.code == NO_MORE_DATA for e in blocking):
        return NotificationBatch(service, None)
    for error in blocking:
        kind = ErrorKind.BAD_REQUEST if error.code == BAD_RECEIPT else error.kind
        raise NotificationError(f"{service}: {error.code} {error.diagnosis}", kind, error.code)
    if len(contents) != 1:
        raise NotificationError(
            f"{service}: expected one answer with a batch, got {len(contents)}", ErrorKind.ERROR
        )
    return _typed(service, contents[0].facts)


def read_batch(response: Any) -> NotificationBatch:
    """The typed batch of a parsed reply (`entitle.sources.magda.parse_response`).

    ``30016`` gives an empty batch; any other blocking exception raises `NotificationError`
    (``30014``: the acknowledged receipt is unknown — a cursor out of step)."""
    service = response.service.naam if response.service is not None else "?"
    errors = list(response.errors) + [e for a in response.answers for e in a.errors]
    return _outcome(service, list(response.answers), errors)


def batch_of(result: Any) -> NotificationBatch:
    """The typed batch of a `MagdaClient.ask` result (`QuestionResult`): transport failures
    (time-out, HTTP 5xx, open circuit) raise `NotificationError` of kind ``retry``."""
    return _outcome(result.service.naam, [result.answer], list(result.all_errors))
