"""Request builders: the SOAP envelope of ``../shared/magda-mock/requests/*/*/template.xml``.

A request is ``Envelope/Body/<web:Operation>/Verzoek`` with

- ``Context``: ``Naam``, ``Versie``, ``Bericht`` (``Type`` VRAAG, ``Tijdstip`` ``Datum``/``Tijd``,
  ``Afzender`` with ``Identificatie``, a fresh ``Referte`` UUID and the ``Hoedanigheid`` of the
  purpose), and
- ``Vragen/Vraag`` (at most `MAX_QUESTIONS`), each with its own ``Referte`` (echoed by MAGDA in the
  ``Antwoord``) and ``Inhoud/Criteria`` (``GeefDossierHandicap``: ``Criteria`` straight under
  ``Vraag``, as in its template).

One criteria class per service says what is asked. `build_request` turns up to five of them (all
for one service) into a `BuiltRequest`; `build_requests` batches any number into requests of at most
five questions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar, TypeVar

from entitle.insz import parse_insz
from entitle.sources.magda import _xml
from entitle.sources.magda._xml import Element, sub
from entitle.sources.magda.services import (
    GEEF_AANSLAGBILJET,
    GEEF_DOSSIER_HANDICAP,
    GEEF_GEZINSSAMENSTELLING,
    GEEF_HISTORIEK_GEZINSSAMENSTELLING,
    GEEF_HISTORIEK_INSCHRIJVING,
    GEEF_LEEFLOONBEDRAGEN,
    GEEF_PERSOON,
    GEEF_SOCIAAL_STATUUT,
    MAX_QUESTIONS,
    ServiceSpec,
)

__all__ = [
    "AanslagbiljetCriteria",
    "BuiltRequest",
    "Criteria",
    "DossierHandicapCriteria",
    "GezinssamenstellingCriteria",
    "HistoriekGezinssamenstellingCriteria",
    "HistoriekInschrijvingCriteria",
    "LeefloonbedragenCriteria",
    "PersoonCriteria",
    "Question",
    "SociaalStatuutCriteria",
    "batched",
    "build_request",
    "build_requests",
]

T = TypeVar("T")


def _checked_insz(value: str) -> str:
    """The normalised 11 digits; `entitle.insz.InvalidInszError` (a ValueError) if invalid."""
    return parse_insz(value).normalized


@dataclass(frozen=True)
class Criteria:
    """What one question asks. Subclasses fix the service and write the ``Criteria``."""

    service: ClassVar[ServiceSpec]
    insz: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "insz", _checked_insz(self.insz))

    def fill(self, vraag: Element, language: str) -> None:
        """Append ``Inhoud`` (or ``Criteria``) to a ``Vraag`` element."""
        raise NotImplementedError


@dataclass(frozen=True)
class PersoonCriteria(Criteria):
    """GeefPersoon 02.02: the person's register data. ``ksz_basic`` also asks KSZ's basic data
    (``OpvragingenKSZ/BasisPersoonsgegevens``) for people not in the national register."""

    service: ClassVar[ServiceSpec] = GEEF_PERSOON
    source: str = "RR"
    ksz_basic: bool = True

    def fill(self, vraag: Element, language: str) -> None:
        inhoud = sub(vraag, "Inhoud")
        criteria = sub(inhoud, "Criteria")
        sub(criteria, "INSZ", self.insz)
        if self.ksz_basic:
            sub(sub(criteria, "OpvragingenKSZ"), "BasisPersoonsgegevens", 1)
        sub(inhoud, "Bron", self.source)
        sub(inhoud, "Taal", language)


@dataclass(frozen=True)
class GezinssamenstellingCriteria(Criteria):
    """GeefGezinssamenstelling 02.02: the current register household of the person.

    The mock has no template for this service; the criteria follow its sibling
    GeefHistoriekGezinssamenstelling 02.02 without a date (``Criteria/INSZ``, ``Taal``)."""

    service: ClassVar[ServiceSpec] = GEEF_GEZINSSAMENSTELLING

    def fill(self, vraag: Element, language: str) -> None:
        inhoud = sub(vraag, "Inhoud")
        sub(sub(inhoud, "Criteria"), "INSZ", self.insz)
        sub(inhoud, "Taal", language)


@dataclass(frozen=True)
class HistoriekGezinssamenstellingCriteria(Criteria):
    """GeefHistoriekGezinssamenstelling 02.02: the household on ``on`` (``Datum Op="0"``)."""

    service: ClassVar[ServiceSpec] = GEEF_HISTORIEK_GEZINSSAMENSTELLING
    on: date = field(default_factory=date.today)

    def fill(self, vraag: Element, language: str) -> None:
        inhoud = sub(vraag, "Inhoud")
        criteria = sub(inhoud, "Criteria")
        sub(criteria, "INSZ", self.insz)
        sub(criteria, "Datum", self.on.isoformat(), Op="0")
        sub(inhoud, "Taal", language)


@dataclass(frozen=True)
class AanslagbiljetCriteria(Criteria):
    """GeefAanslagbiljetPersonenbelasting 02.00: the tax assessment of one income year.

    ``ipcal_codes`` limits the items returned (data minimisation); 7555 is the total taxable
    income. An empty tuple leaves the list out (all items)."""

    service: ClassVar[ServiceSpec] = GEEF_AANSLAGBILJET
    income_year: int = 0
    ipcal_codes: tuple[str, ...] = ("7555",)
    source: str = "FODFIN"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1900 <= self.income_year <= 2999:
            raise ValueError(f"income_year {self.income_year} is not a year")

    def fill(self, vraag: Element, language: str) -> None:
        inhoud = sub(vraag, "Inhoud")
        criteria = sub(inhoud, "Criteria")
        sub(criteria, "INSZ", self.insz)
        sub(criteria, "Inkomensjaar", self.income_year)
        if self.ipcal_codes:
            codes = sub(criteria, "IPCALCodes")
            for code in self.ipcal_codes:
                sub(codes, "IPCALCode", code)
        sub(inhoud, "Bron", self.source)
        sub(inhoud, "Taal", language)


@dataclass(frozen=True)
class SociaalStatuutCriteria(Criteria):
    """GeefSociaalStatuut 03.00: named statuses (e.g. BIM_BVT) on a date or over a period.

    Give either ``on`` or ``start`` (with an optional ``end``). Only statuses authorised for the
    purpose may be asked: KSZ filters the rest."""

    service: ClassVar[ServiceSpec] = GEEF_SOCIAAL_STATUUT
    statuses: tuple[str, ...] = ()
    on: date | None = None
    start: date | None = None
    end: date | None = None
    location: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.statuses:
            raise ValueError("GeefSociaalStatuut needs at least one status name")
        if (self.on is None) == (self.start is None):
            raise ValueError("GeefSociaalStatuut needs either a date (on) or a period (start)")
        if self.end is not None and self.start is None:
            raise ValueError("GeefSociaalStatuut: end without start")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("GeefSociaalStatuut: period ends before it starts")

    def fill(self, vraag: Element, language: str) -> None:
        criteria = sub(sub(vraag, "Inhoud"), "Criteria")
        sub(criteria, "INSZ", self.insz)
        statuten = sub(criteria, "SocialeStatuten")
        for name in self.statuses:
            statuut = sub(statuten, "SociaalStatuut")
            sub(statuut, "Naam", name)
            datum = sub(statuut, "Datum")
            if self.on is not None:
                sub(datum, "Datum", self.on.isoformat())
            else:
                assert self.start is not None
                periode = sub(datum, "Periode")
                sub(periode, "Begindatum", self.start.isoformat())
                if self.end is not None:
                    sub(periode, "Einddatum", self.end.isoformat())
            if self.location is not None:
                sub(sub(statuut, "Locatie"), "Naam", self.location)


@dataclass(frozen=True)
class DossierHandicapCriteria(Criteria):
    """GeefDossierHandicap 03.00: the disability files on a reference date
    (``Vraag/Criteria/ConsultFilesByDateCriteria``, no ``Inhoud``, as in its template)."""

    service: ClassVar[ServiceSpec] = GEEF_DOSSIER_HANDICAP
    reference_date: date = field(default_factory=date.today)
    authentic_sources: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    decision_status: bool = False
    enriched_recognition: bool = False

    def fill(self, vraag: Element, language: str) -> None:
        consult = sub(sub(vraag, "Criteria"), "ConsultFilesByDateCriteria")
        sub(consult, "ssin", self.insz)
        sources = sub(consult, "handicapAuthenticSources")
        for source in self.authentic_sources:
            sub(sources, "handicapAuthenticSource", source)
        sub(consult, "referenceDate", self.reference_date.isoformat())
        parts = sub(consult, "parts")
        for part in self.parts:
            sub(parts, "part", part)
        sub(consult, "decisionStatus", str(self.decision_status).lower())
        sub(consult, "enrichedRecognition", str(self.enriched_recognition).lower())


@dataclass(frozen=True)
class LeefloonbedragenCriteria(Criteria):
    """GeefLeefloonbedragen 02.00: leefloon amounts of ``year`` and ``years_back`` years before.
    ``current`` sets ``Jaar/@Huidig`` (the source's "current year" flag)."""

    service: ClassVar[ServiceSpec] = GEEF_LEEFLOONBEDRAGEN
    year: int = field(default_factory=lambda: date.today().year)
    years_back: int = 2
    current: bool = False

    def fill(self, vraag: Element, language: str) -> None:
        criteria = sub(sub(vraag, "Inhoud"), "Criteria")
        sub(criteria, "INSZ", self.insz)
        sub(criteria, "Jaar", self.year, Huidig="1" if self.current else "0")
        sub(criteria, "AantalJaarTerug", self.years_back)


@dataclass(frozen=True)
class HistoriekInschrijvingCriteria(Criteria):
    """Onderwijs.GeefHistoriekInschrijving 02.01: school enrolments over a period."""

    service: ClassVar[ServiceSpec] = GEEF_HISTORIEK_INSCHRIJVING
    start: date = field(default_factory=date.today)
    end: date = field(default_factory=date.today)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.end < self.start:
            raise ValueError("GeefHistoriekInschrijving: period ends before it starts")

    def fill(self, vraag: Element, language: str) -> None:
        criteria = sub(sub(vraag, "Inhoud"), "Criteria")
        sub(criteria, "INSZ", self.insz)
        periode = sub(criteria, "Periode")
        sub(periode, "Begin", self.start.isoformat())
        sub(periode, "Einde", self.end.isoformat())


@dataclass(frozen=True)
class Question:
    """One ``Vraag`` as sent: its ``Referte`` and what it asked."""

    referte: str
    criteria: Criteria


@dataclass(frozen=True)
class BuiltRequest:
    """A request ready to send: the XML and what is needed to read the reply."""

    service: ServiceSpec
    referte: str
    capacity: str
    questions: tuple[Question, ...]
    xml: bytes


def _tijd(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def build_request(
    criteria: Sequence[Criteria],
    *,
    sender: str,
    capacity: str,
    now: datetime | None = None,
    referte: str | None = None,
    question_refs: Sequence[str] | None = None,
    language: str = "nl",
    max_questions: int = MAX_QUESTIONS,
) -> BuiltRequest:
    """One request of 1 to ``max_questions`` (≤ 5) questions, all for the same service.

    ``sender`` is the ``Afzender/Identificatie``, ``capacity`` the ``Hoedanigheid`` of the purpose.
    The request ``Referte`` and each question's ``Referte`` are fresh UUIDs unless given.
    """
    if not criteria:
        raise ValueError("a MAGDA request needs at least one question")
    limit = min(max_questions, MAX_QUESTIONS, criteria[0].service.max_questions)
    if len(criteria) > limit:
        raise ValueError(f"a MAGDA request takes at most {limit} questions, got {len(criteria)}")
    services = {c.service for c in criteria}
    if len(services) != 1:
        names = ", ".join(sorted(s.naam for s in services))
        raise ValueError(f"one request asks one service, got {names}")
    if not sender or not capacity:
        raise ValueError("a MAGDA request needs a sender Identificatie and a Hoedanigheid")
    if question_refs is not None and len(question_refs) != len(criteria):
        raise ValueError("question_refs must give one Referte per question")
    spec = criteria[0].service
    moment = now or datetime.now()
    request_ref = referte or str(uuid.uuid4())
    refs = (
        list(question_refs) if question_refs is not None else [str(uuid.uuid4()) for _ in criteria]
    )
    if len(set(refs)) != len(refs):
        raise ValueError("question Refertes must be unique within a request")

    envelope = _xml.new_root(f"{{{_xml.SOAP_ENV}}}Envelope", {"soapenv": _xml.SOAP_ENV})
    _xml.sub(envelope, f"{{{_xml.SOAP_ENV}}}Header")
    body = _xml.sub(envelope, f"{{{_xml.SOAP_ENV}}}Body")
    operation = _xml.new_root(f"{{{spec.namespace}}}{spec.naam}", {"web": spec.namespace})
    body.append(operation)
    verzoek = sub(operation, "Verzoek")
    context = sub(verzoek, "Context")
    sub(context, "Naam", spec.naam)
    sub(context, "Versie", spec.version)
    bericht = sub(context, "Bericht")
    sub(bericht, "Type", "VRAAG")
    tijdstip = sub(bericht, "Tijdstip")
    sub(tijdstip, "Datum", moment.date().isoformat())
    sub(tijdstip, "Tijd", _tijd(moment))
    afzender = sub(bericht, "Afzender")
    sub(afzender, "Identificatie", sender)
    sub(afzender, "Referte", request_ref)
    sub(afzender, "Hoedanigheid", capacity)
    vragen = sub(verzoek, "Vragen")
    questions: list[Question] = []
    for ref, item in zip(refs, criteria, strict=True):
        vraag = sub(vragen, "Vraag")
        sub(vraag, "Referte", ref)
        item.fill(vraag, language)
        questions.append(Question(ref, item))
    return BuiltRequest(
        service=spec,
        referte=request_ref,
        capacity=capacity,
        questions=tuple(questions),
        xml=_xml.serialize(envelope),
    )


def batched(items: Iterable[T], size: int = MAX_QUESTIONS) -> list[list[T]]:
    """Consecutive groups of at most ``size`` items (the last one may be shorter)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    groups: list[list[T]] = []
    for item in items:
        if not groups or len(groups[-1]) == size:
            groups.append([])
        groups[-1].append(item)
    return groups


def build_requests(
    criteria: Iterable[Criteria],
    *,
    sender: str,
    capacity: str,
    now: datetime | None = None,
    language: str = "nl",
    max_questions: int = MAX_QUESTIONS,
) -> list[BuiltRequest]:
    """Requests of at most ``max_questions`` (≤ 5) questions each, one service per request.

    Questions are grouped per service in the order first met; e.g. for many people:
    ``build_requests([SociaalStatuutCriteria(i, statuses=("BIM_BVT",), on=day) for i in insz], …)``.
    """
    size = min(max_questions, MAX_QUESTIONS)
    by_service: dict[str, list[Criteria]] = {}
    for item in criteria:
        by_service.setdefault(item.service.naam, []).append(item)
    return [
        build_request(
            group,
            sender=sender,
            capacity=capacity,
            now=now,
            language=language,
            max_questions=size,
        )
        for items in by_service.values()
        for group in batched(items, min(size, items[0].service.max_questions))
    ]
