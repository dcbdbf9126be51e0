"""The KSZ reference directory through MAGDA: ``Repertorium.RegistreerInschrijving`` (02.00 and
02.01) and ``RegistreerUitschrijving`` (02.00), as in ``../shared/magda-mock/requests``.

The Crossroads Bank gives a consumer a person's social-security data only while that person is
inscribed for the consumer's capacity (``Hoedanigheid``) over the period asked. One request holds
one question (the schemas allow one ``Vraag``). A reply's ``Inhoud/Resultaat`` is 1 ("Wel
geslaagd") or 0 ("Niet geslaagd"); a 0 becomes an ``error`` exception on the answer, so that the
result is typed like the other services' failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from entitle.sources.magda._xml import Element, attr, child, sub, text
from entitle.sources.magda.envelope import Criteria
from entitle.sources.magda.errors import ErrorKind, Uitzondering
from entitle.sources.magda.services import (
    REGISTREER_INSCHRIJVING,
    REGISTREER_INSCHRIJVING_0201,
    REGISTREER_UITSCHRIJVING,
    ServiceSpec,
)

__all__ = [
    "INSCRIPTION_FAILED",
    "InschrijvingCriteria",
    "InschrijvingV0201Criteria",
    "UitschrijvingCriteria",
    "inscription_criteria",
    "read_resultaat",
]

INSCRIPTION_FAILED = "RESULTAAT_0"
"""The code Entitle gives a ``Resultaat`` 0 ("Niet geslaagd"), which MAGDA sends without one."""


@dataclass(frozen=True)
class _Registration(Criteria):
    """Who registers (``Identificatie``, the consumer's MAGDA URI), for which capacity."""

    consumer: str = ""
    capacity: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.consumer or not self.capacity:
            raise ValueError("an inscription names the consumer (Identificatie) and Hoedanigheid")


@dataclass(frozen=True)
class InschrijvingCriteria(_Registration):
    """RegistreerInschrijving 02.00: inscribe one person from ``start`` to ``end`` (inclusive)."""

    service: ClassVar[ServiceSpec] = REGISTREER_INSCHRIJVING
    start: date = date.min
    end: date = date.min

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.start == date.min or self.end == date.min:
            raise ValueError("an inscription needs a period (start and end)")
        if self.end < self.start:
            raise ValueError("inscription period ends before it starts")

    def _inschrijving(self, vraag: Element) -> Element:
        inschrijving = sub(sub(vraag, "Inhoud"), "Inschrijving")
        sub(inschrijving, "Identificatie", self.consumer)
        sub(inschrijving, "Hoedanigheid", self.capacity)
        return inschrijving

    def _period(self, parent: Element) -> None:
        periode = sub(parent, "Periode")
        sub(periode, "Begin", self.start.isoformat())
        sub(periode, "Einde", self.end.isoformat())

    def fill(self, vraag: Element, language: str) -> None:
        inschrijving = self._inschrijving(vraag)
        sub(inschrijving, "INSZ", self.insz)
        self._period(inschrijving)


@dataclass(frozen=True)
class InschrijvingV0201Criteria(InschrijvingCriteria):
    """RegistreerInschrijving 02.01: the person as ``BetrokkenSubject`` of type PERS."""

    service: ClassVar[ServiceSpec] = REGISTREER_INSCHRIJVING_0201

    def fill(self, vraag: Element, language: str) -> None:
        inschrijving = self._inschrijving(vraag)
        betrokken = sub(inschrijving, "BetrokkenSubject")
        sub(betrokken, "Type", "PERS")
        subject = sub(sub(betrokken, "Subjecten"), "Subject")
        sub(subject, "Type", "PERS")
        sub(subject, "Sleutel", self.insz)
        self._period(inschrijving)


@dataclass(frozen=True)
class UitschrijvingCriteria(_Registration):
    """RegistreerUitschrijving 02.00: end the person's inscription for the capacity."""

    service: ClassVar[ServiceSpec] = REGISTREER_UITSCHRIJVING

    def fill(self, vraag: Element, language: str) -> None:
        uitschrijving = sub(sub(vraag, "Inhoud"), "Uitschrijving")
        sub(uitschrijving, "Identificatie", self.consumer)
        sub(uitschrijving, "Hoedanigheid", self.capacity)
        sub(uitschrijving, "INSZ", self.insz)


def inscription_criteria(
    version: str, insz: str, *, consumer: str, capacity: str, start: date, end: date
) -> InschrijvingCriteria:
    """The inscription question in the configured version (02.00.0000 or 02.01.0000)."""
    kind = InschrijvingV0201Criteria if version.startswith("02.01") else InschrijvingCriteria
    return kind(insz, consumer=consumer, capacity=capacity, start=start, end=end)


def read_resultaat(inhoud: Element) -> tuple[dict[str, object], bool, tuple[Uitzondering, ...]]:
    """``Inhoud/Resultaat``: the facts ``{"result": 1|0, "description": …}``, whether it
    succeeded, and the exception a 0 stands for."""
    element = child(inhoud, "Resultaat")
    code = text(element)
    description = attr(element, "Beschrijving")
    facts: dict[str, object] = {
        "result": int(code) if code is not None and code.isdigit() else code,
        "description": description,
    }
    if code == "1":
        return facts, True, ()
    error = Uitzondering(
        code=INSCRIPTION_FAILED,
        kind=ErrorKind.ERROR,
        diagnosis=description or "Niet geslaagd",
        origin="MAGDA",
        level="answer",
    )
    return facts, False, (error,)
