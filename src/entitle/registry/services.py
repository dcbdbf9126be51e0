"""One answer builder per MAGDA service, over the registry view of the synthetic city.

Each builder turns one question (`Vraag`) into an `Answer`: an ``Inhoud`` element in the shape of
the MAGDA mock answers for that service, and/or the ``Uitzonderingen`` MAGDA gives when there is no
data. The exception codes, origins and texts are those of the mock messages:

- person unknown to the register: ``30001`` (GeefPersoon: origin RR, circumstance 140; household
  and tax services: origin MAGDA); social-security services: ``30003`` "Onbestaande INSZ" (KSZ);
- person not integrated at the KSZ (``integrated_ksz`` false), or not inscribed for the asker's
  capacity when inscriptions are required: GeefSociaalStatuut, GeefLeefloonbedragen and the KSZ
  family composition (GeefGezinssamenstelling / Historiek of a bis-register person) give
  ``30001`` from KSZ with circumstance ``SSH00048``; GeefDossierHandicap
  gives ``NO_DATA_FOUND`` / ``MSG00021`` ("not sufficiently integrated") in its own status blocks,
  which is also what a provider with no file on the person answers;
- no tax assessment for the asked income year: ``45008`` INFORMATIE; none at all: ``30001``;
- education: every source without an enrolment answers ``30101``, also next to data found in
  another source (LP/Disci, HO/DHO2, VWO/DVNCI), exactly as MAGDA does.

A missing criterion the schema requires (an INSZ, a status name) is a request error: the server
answers with a SOAP Client fault, as a validating SOAP service would.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from entitle.insz import InvalidInszError, is_valid_insz, parse_insz
from entitle.registry.notifications import (
    geef_mutaties_notificaties,
    geef_persoon_mutaties_notificaties,
)
from entitle.registry.repertory import Repertory
from entitle.registry.soap import (
    Answer,
    Element,
    SoapRequestError,
    Uitzondering,
    Vraag,
    child,
    child_text,
    children,
    new_element,
    sub,
)
from entitle.registry.store import Disability, Person, RegistryStore, SocialStatus
from entitle.registry.synth_place import PLACES
from entitle.rules.periods import SchoolYear

__all__ = [
    "SERVICES",
    "AnswerContext",
    "ServiceSpec",
    "canonical_service",
    "requested_statuses",
]


@dataclass(frozen=True)
class AnswerContext:
    """What a builder needs besides the data: today's date (the city's reference date), now, who
    asks (sender and capacity), the repertory, and whether KSZ data needs an inscription."""

    today: date
    now: datetime
    sender: str = ""
    capacity: str = ""
    repertory: Repertory | None = None
    require_inscriptions: bool = False

    def inscribed(self, insz: str, start: date, end: date | None = None) -> bool:
        """Whether the KSZ gives the asker this person's data over ``start``..``end``: always,
        unless inscriptions are required; then only while the person is inscribed for the
        asker's capacity."""
        if not self.require_inscriptions:
            return True
        if self.repertory is None:
            return False
        return self.repertory.inscribed(self.sender, self.capacity, insz, start, end)


Builder = Callable[[RegistryStore, Vraag, AnswerContext], Answer]


@dataclass(frozen=True)
class ServiceSpec:
    """A MAGDA service the simulator offers: names, version, namespace and answer builder."""

    name: str
    version: str
    namespace: str
    prefix: str
    domain: str
    build: Builder
    aliases: tuple[str, ...] = ()
    other_versions: tuple[tuple[str, str], ...] = ()
    """Further (version, namespace) pairs the same builder answers (RegistreerInschrijving)."""

    @property
    def short_version(self) -> str:
        return self.version[:5]

    def variant(self, version: str) -> ServiceSpec | None:
        """This service in the given version (full or short), or None if not offered."""
        for full, namespace in ((self.version, self.namespace), *self.other_versions):
            if version in (full, full[:5]):
                return replace(self, version=full, namespace=namespace, other_versions=())
        return None


# --- the exceptions MAGDA gives (texts as in the mock messages) ---------------------------------

_NO_DATA = "Geen gegevens gevonden voor de vraag"
NO_DATA_RR = Uitzondering("30001", "RR", "FOUT", _NO_DATA, "140")
NO_DATA_MAGDA = Uitzondering("30001", "MAGDA", "FOUT", _NO_DATA)
NOT_INTEGRATED_KSZ = Uitzondering("30001", "KSZ", "FOUT", _NO_DATA, "SSH00048")
UNKNOWN_INSZ_KSZ = Uitzondering("30003", "KSZ", "FOUT", "Onbestaande INSZ")
INCOME_YEAR_MISSING = Uitzondering(
    "45008",
    "MAGDA",
    "INFORMATIE",
    "Het gevraagde inkomensjaar bestaat niet",
    "Geen gegevens beschikbaar voor meegeleverd inkomstenjaar",
)
EDUCATION_SOURCES = {  # MAGDA's Bron code → the source's own name as Oorsprong, and its diagnosis
    "LP": Uitzondering("30101", "Disci", "FOUT", _NO_DATA),
    "HO": Uitzondering("30101", "DHO2", "FOUT", _NO_DATA + "."),
    "VWO": Uitzondering("30101", "DVNCI", "FOUT", _NO_DATA + "."),
}
MSG_FOUND = ("DATA_FOUND", "MSG00000", "Treatment successful")
MSG_NOT_INTEGRATED = (
    "NO_DATA_FOUND",
    "MSG00021",
    "The SSIN is not sufficiently integrated for the provider of the data",
)

# --- code tables ------------------------------------------------------------------------------

_SEX = {"M": ("1", "Mannelijk"), "F": ("2", "Vrouwelijk")}
_POSITIONS: dict[str, tuple[str, str]] = {  # code → (male, female) description
    "01": ("Referentiepersoon", "Referentiepersoon"),
    "02": ("Echtgenoot", "Echtgenote"),
    "03": ("Zoon", "Dochter"),
    "05": ("Kleinzoon", "Kleindochter"),
    "06": ("Vader", "Moeder"),
    "09": ("Broer", "Zus"),
    "12": ("Niet verwant", "Niet verwant"),
    "13": ("Stiefzoon", "Stiefdochter"),
    "20": ("Lid van een gemeenschap", "Lid van een gemeenschap"),
    "21": ("Partner", "Partner"),
    "22": ("Wettelijk samenwonen", "Wettelijk samenwonen"),
}
_REGISTERS = {
    "population": ("1", "Bevolkingsregister"),
    "foreigners": ("2", "Vreemdelingenregister"),
    "waiting": ("5", "Wachtregister"),
}
_COUNTRIES: dict[str, tuple[str, str, str]] = {  # ISO alpha-2 → (NIS code, ISO alpha-3, name)
    "BE": ("150", "BEL", "België"),
    "NL": ("129", "NLD", "Nederland"),
    "FR": ("111", "FRA", "Frankrijk"),
    "DE": ("103", "DEU", "Duitsland"),
    "IT": ("128", "ITA", "Italië"),
    "PT": ("123", "PRT", "Portugal"),
    "PL": ("122", "POL", "Polen"),
    "SK": ("141", "SVK", "Slowakije"),
    "BG": ("106", "BGR", "Bulgarije"),
    "AT": ("105", "AUT", "Oostenrijk"),
    "GB": ("112", "GBR", "Verenigd Koninkrijk"),
    "NO": ("121", "NOR", "Noorwegen"),
    "SE": ("126", "SWE", "Zweden"),
    "RU": ("145", "RUS", "Russische Federatie"),
    "MA": ("354", "MAR", "Marokko"),
    "CD": ("306", "COD", "Congo (Dem. Rep.)"),
    "BI": ("303", "BDI", "Burundi"),
    "AF": ("251", "AFG", "Afghanistan"),
    "CN": ("218", "CHN", "China"),
    "TH": ("235", "THA", "Thailand"),
    "US": ("402", "USA", "Verenigde Staten van Amerika"),
    "BR": ("513", "BRA", "Brazilië"),
    "MX": ("416", "MEX", "Mexico"),
    "ZA": ("325", "ZAF", "Zuid-Afrika"),
}
_UNKNOWN_NATIONALITY = ("711", "Onbepaald")
_MUNICIPALITIES = {place.nis: place.name for place in PLACES.values()}  # Gent, Vlasbeke…
_OCMW_GENT = "0212189676"
_LEVELS = {  # enrolment level → (Niveau code, description, Instantie)
    "nursery": ("1", "Kleuter onderwijs", "Kleuterschool"),
    "primary": ("2", "Lager onderwijs", "Basisschool"),
    "secondary": ("3", "Secundair onderwijs", "Secundaire school"),
}


# --- helpers ------------------------------------------------------------------------------------


def _insz(vraag: Vraag, *path: str) -> str:
    """The INSZ criterion; a request error when absent (its value is never quoted)."""
    value = child_text(vraag.criteria, *path)
    if value is None:
        raise SoapRequestError(f"Criteria/{'/'.join(path)} is missing")
    return value


def _person(store: RegistryStore, insz: str) -> Person | None:
    return store.persons.get(insz) if is_valid_insz(insz) else None


def _date_criterion(parent: Element | None, *path: str) -> date | None:
    text = child_text(parent, *path)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise SoapRequestError(f"Criteria/{'/'.join(path)} is not a date") from None


def _int_criterion(parent: Element | None, *path: str) -> int | None:
    text = child_text(parent, *path)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise SoapRequestError(f"Criteria/{'/'.join(path)} is not a number") from None


def _stable_number(*parts: str, digits: int = 9) -> str:
    """A number derived from the parts (same input, same number), e.g. an article number."""
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return str(int(digest, 16) % 10**digits).zfill(digits)


def _stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "entitle-registry:" + "|".join(parts)))


def _eur(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _code(parent: Element, tag: str, code: str, description: str, *, taal: bool = False) -> None:
    element = sub(parent, tag)
    sub(element, "Code", code)
    if taal:
        sub(element, "Omschrijving", description, Taal="nl")
    else:
        sub(element, "Omschrijving", description)


def _naam(parent: Element, person: Person) -> None:
    naam = sub(parent, "Naam")
    sub(sub(naam, "Achternamen"), "Achternaam", person.last_name or "")
    if person.first_name:
        voornamen = sub(naam, "Voornamen")
        for first in person.first_name.split():
            sub(voornamen, "Voornaam", first)


def _geslacht(parent: Element, person: Person) -> None:
    if person.sex in _SEX:
        code, description = _SEX[person.sex]
        _code(parent, "Geslacht", code, description)


def _positie(parent: Element, person: Person) -> None:
    code = person.position_code or "01"
    male, female = _POSITIONS.get(code, ("Omschrijving onbekend", "Omschrijving onbekend"))
    _code(parent, "Positie", code, female if person.sex == "F" else male, taal=True)


def _member(parent: Element, tag: str, person: Person) -> Element:
    """A household member as MAGDA lists one: INSZ, name, sex, birth date, position."""
    element = sub(parent, tag)
    sub(element, "INSZ", person.insz)
    _naam(element, person)
    _geslacht(element, person)
    if person.birth_date is not None:
        sub(element, "Geboortedatum", person.birth_date.isoformat())
    _positie(element, person)
    return element


def _bron_rr(parent: Element) -> None:
    _code(parent, "Bron", "RR", "Rijksregister", taal=True)


def _hoofdverblijfplaats(parent: Element, person: Person, *, reference_address: bool) -> None:
    adressen = sub(parent, "Adressen")
    plaats = sub(adressen, "Hoofdverblijfplaats")
    if person.street:
        straat = sub(plaats, "Straatnaam")
        sub(straat, "String", person.street)
        sub(straat, "Taal", "nl")
    if person.house_number:
        sub(plaats, "Huisnummer", person.house_number)
    municipality = _MUNICIPALITIES.get(person.municipality_nis or "")
    if municipality:
        gemeente = sub(plaats, "Gemeentenaam")
        sub(gemeente, "String", municipality)
        sub(gemeente, "Taal", "nl")
    land = sub(plaats, "Land")
    sub(land, "String", "BELGIE")
    sub(land, "Taal", "nl")
    if person.postcode:
        sub(plaats, "Postcode", person.postcode)
    sub(plaats, "NISCodeLand", "150")
    sub(plaats, "ISOCodeLand", "BEL")
    if person.municipality_nis:
        sub(plaats, "NISCodeGemeente", person.municipality_nis)
    if reference_address:
        sub(plaats, "ReferentieAdres")


# --- Persoon ------------------------------------------------------------------------------------


def geef_persoon(store: RegistryStore, vraag: Vraag, ctx: AnswerContext) -> Answer:
    """GeefPersoon 02.02: identity, register, nationality, birth, main residence, household."""
    person = _person(store, _insz(vraag, "INSZ"))
    if person is None:
        return Answer.error(NO_DATA_RR)
    inhoud = new_element("Inhoud")
    persoon = sub(inhoud, "Persoon", Bron="RR")
    sub(persoon, "INSZ", person.insz)
    _naam(persoon, person)
    _geslacht(persoon, person)
    register = _REGISTERS.get(person.register or "population", _REGISTERS["population"])
    _code(persoon, "Register", *register, taal=True)
    nationaliteiten = sub(persoon, "Nationaliteiten")
    country = _COUNTRIES.get((person.nationality or "").upper())
    nis, description = _UNKNOWN_NATIONALITY if country is None else (country[0], country[2])
    _code(nationaliteiten, "Nationaliteit", nis, "Belg" if nis == "150" else description)
    geboorte = sub(persoon, "Geboorte")
    if person.birth_date is not None:
        sub(geboorte, "Datum", person.birth_date.isoformat())
    _hoofdverblijfplaats(persoon, person, reference_address=person.reference_address)
    members = store.household_members(person)
    if person.position_code in (None, "01"):
        others = [m for m in members if m.insz != person.insz]
        if others:
            gezinsleden = sub(persoon, "Gezinsleden")
            for member in others:
                _member(gezinsleden, "Gezinslid", member)
    else:
        reference = next((m for m in members if m.position_code == "01"), None)
        if reference is not None:
            element = _member(persoon, "Referentiepersoon", reference)
            element.remove(child(element, "Positie"))
            _positie(element, person)  # the asked person's position towards the reference person
    return Answer(inhoud)


def _ksz_register(insz: str) -> bool:
    """Whether the number is a bis number: the person is in the KSZ's own register, not the
    national register, and MAGDA answers their person and family data from the KSZ."""
    try:
        return parse_insz(insz).kind == "bis"
    except InvalidInszError:
        return False


def _ksz_composition_refused(
    insz: str, person: Person | None, ctx: AnswerContext, day: date
) -> Answer | None:
    """The KSZ family composition (a bis-register person's) is KSZ data like the social
    statuses: answered only for a person integrated at the KSZ and, when inscriptions are
    required, inscribed for the asker's capacity on the date asked; otherwise what MAGDA
    answers for a person not integrated. None: answer (the register's composition is not
    gated)."""
    if person is None or not _ksz_register(insz):
        return None
    if person.integrated_ksz and ctx.inscribed(insz, day):
        return None
    return Answer.error(NOT_INTEGRATED_KSZ)


def _bron(parent: Element, member: Person) -> None:
    if _ksz_register(member.insz):
        _code(parent, "Bron", "KSZ", "Kruispuntbank van de Sociale Zekerheid", taal=True)
    else:
        _bron_rr(parent)


def _household(
    store: RegistryStore, insz: str, ctx: AnswerContext, day: date
) -> list[Person] | Answer:
    """The members of the person's household on `day`, or the answer when there are none to
    give: refused for the KSZ (`_ksz_composition_refused`), or no data."""
    person = _person(store, insz)
    refused = _ksz_composition_refused(insz, person, ctx, day)
    if refused is not None:
        return refused
    members = [] if person is None else store.household_members(person)
    return members or Answer.error(NO_DATA_MAGDA)


def geef_gezinssamenstelling(store: RegistryStore, vraag: Vraag, ctx: AnswerContext) -> Answer:
    """GeefGezinssamenstelling 02.02: every member of the person's household, with the address
    (from the KSZ for a bis-register person: `_ksz_composition_refused`)."""
    members = _household(store, _insz(vraag, "INSZ"), ctx, ctx.today)
    if isinstance(members, Answer):
        return members
    inhoud = new_element("Inhoud")
    gezinsleden = sub(inhoud, "Gezinsleden")
    for member in members:
        element = _member(gezinsleden, "Gezinslid", member)
        # The mock answers of this service never carry ReferentieAdres: GeefPersoon does.
        _hoofdverblijfplaats(element, member, reference_address=False)
        _bron(element, member)
    return Answer(inhoud)


def geef_historiek_gezinssamenstelling(
    store: RegistryStore, vraag: Vraag, ctx: AnswerContext
) -> Answer:
    """GeefHistoriekGezinssamenstelling 02.02: the registry view keeps no history, so the
    composition asked for any date is today's (a bis-register person's from the KSZ, for the
    date asked: `_ksz_composition_refused`)."""
    insz = _insz(vraag, "INSZ")
    day = _date_criterion(vraag.criteria, "Datum") or ctx.today
    members = _household(store, insz, ctx, day)
    if isinstance(members, Answer):
        return members
    inhoud = new_element("Inhoud")
    samenstelling = sub(sub(inhoud, "HistoriekGezinssamenstelling"), "Gezinssamenstelling")
    gezinsleden = sub(samenstelling, "Gezinsleden")
    for member in members:
        _bron(_member(gezinsleden, "Gezinslid", member), member)
    return Answer(inhoud)


# --- Inkomen ------------------------------------------------------------------------------------

_FISCAL_STATUS = {"A": "Titularis", "B": "Partner"}


def geef_aanslagbiljet(store: RegistryStore, vraag: Vraag, ctx: AnswerContext) -> Answer:
    """GeefAanslagbiljetPersonenbelasting 02.00: the assessment of the asked (or latest) income
    year, items as code/value pairs in euro cents, filtered on the asked IPCAL codes."""
    insz = _insz(vraag, "INSZ")
    person = _person(store, insz)
    items = [] if person is None else store.tax.get(person.insz, [])
    if not items:
        return Answer.error(NO_DATA_MAGDA)
    year = _int_criterion(vraag.criteria, "Inkomensjaar")
    if year is None:
        year = max(item.income_year for item in items)
    items = [item for item in items if item.income_year == year]
    if not items:
        return Answer.error(INCOME_YEAR_MISSING)
    wanted = {
        code
        for c in children(child(vraag.criteria, "IPCALCodes"), "IPCALCode")
        if (code := (c.text or "").strip())
    }
    if wanted:
        items = [item for item in items if item.item_code.lstrip("ABab") in wanted]
    inhoud = new_element("Inhoud")
    aanslag = sub(inhoud, "AanslagbiljetPersonenbelasting")
    gevraagde = sub(aanslag, "GevraagdePersoon")
    sub(gevraagde, "INSZ", insz)
    status = next((i.fiscal_status for i in items if i.fiscal_status), "A")
    _code(gevraagde, "FiscaleStatus", status, _FISCAL_STATUS.get(status, status))
    sub(aanslag, "Inkomensjaar", year)
    article = next((i.article_number for i in items if i.article_number), None)
    sub(aanslag, "Artikelnummer", article or _stable_number(insz, str(year)))
    if items:
        element = sub(aanslag, "Items")
        for item in items:
            entry = sub(element, "Item")
            sub(entry, "Code", item.item_code)
            sub(entry, "Waarde", item.item_value)
    return Answer(inhoud)


# --- SocZek -------------------------------------------------------------------------------------

_IN_FAMILY = "BIM_BVT_IN_FAMILY"


def requested_statuses(vraag: Vraag) -> list[str]:
    """The status names asked in a GeefSociaalStatuut question (for the purpose check)."""
    statuten = children(child(vraag.criteria, "SocialeStatuten"), "SociaalStatuut")
    return [name for s in statuten if (name := child_text(s, "Naam")) is not None]


def _ksz_person(
    store: RegistryStore, insz: str, ctx: AnswerContext, start: date, end: date
) -> Person | Answer:
    person = _person(store, insz)
    if person is None:
        return Answer.error(UNKNOWN_INSZ_KSZ)
    if not person.integrated_ksz or not ctx.inscribed(insz, start, end):
        return Answer.error(NOT_INTEGRATED_KSZ)
    return person


def _status_window(statuut: Element, today: date) -> tuple[date, date]:
    """The date or period a status is asked for (``Datum/Datum`` or a begin/end pair)."""
    datum = child(statuut, "Datum")
    day = _date_criterion(datum, "Datum")
    if day is not None:
        return day, day
    for scope in (child(datum, "Periode"), child(statuut, "Periode")):
        begin = _date_criterion(scope, "Begindatum") or _date_criterion(scope, "Begin")
        end = _date_criterion(scope, "Einddatum") or _date_criterion(scope, "Einde")
        if begin is not None or end is not None:
            return begin or date.min, end or date.max
    return today, today


def geef_sociaal_statuut(store: RegistryStore, vraag: Vraag, ctx: AnswerContext) -> Answer:
    """GeefSociaalStatuut 03.00: per asked status, result 1 (applies) or 0 on the date/period,
    with the periods that apply. ``BIM_BVT_IN_FAMILY``: BIM_BVT of any household member."""
    insz = _insz(vraag, "INSZ")
    statuten = children(child(vraag.criteria, "SocialeStatuten"), "SociaalStatuut")
    if not statuten or len(requested_statuses(vraag)) != len(statuten):
        raise SoapRequestError("Criteria/SocialeStatuten/SociaalStatuut/Naam is missing")
    windows = [_status_window(statuut, ctx.today) for statuut in statuten]
    start = max(date.min, min(begin for begin, _ in windows))
    found = _ksz_person(store, insz, ctx, start, max(end for _, end in windows))
    if isinstance(found, Answer):
        return found
    inhoud = new_element("Inhoud")
    persoon = sub(inhoud, "Persoon")
    sub(persoon, "INSZ", found.insz)
    container = sub(persoon, "SocialeStatuten")
    for statuut in statuten:
        name = str(child_text(statuut, "Naam"))
        begin, end = _status_window(statuut, ctx.today)
        rows: list[SocialStatus]
        if name == _IN_FAMILY:
            rows = [
                row
                for member in (store.household_members(found) or [found])
                for row in store.statuses.get(member.insz, [])
                if row.status == "BIM_BVT"
            ]
        else:
            rows = [row for row in store.statuses.get(found.insz, []) if row.status == name]
        applying = [row for row in rows if row.overlaps(begin, end)]
        element = sub(container, "SociaalStatuut")
        sub(element, "Naam", name)
        if applying:
            _code(element, "Resultaat", "1", "Van toepassing")
            periodes = sub(element, "Periodes")
            for row in sorted(applying, key=lambda r: r.start or date.min):
                periode = sub(periodes, "Periode")
                if row.start is not None:
                    sub(periode, "Begindatum", row.start.isoformat())
                if row.end is not None:
                    sub(periode, "Einddatum", row.end.isoformat())
        else:
            _code(element, "Resultaat", "0", "Niet van toepassing")
    return Answer(inhoud)


def _handicap_status(parent: Element, status: tuple[str, str, str]) -> None:
    element = sub(parent, "status")
    sub(element, "value", status[0])
    sub(element, "code", status[1])
    sub(element, "description", status[2])


def geef_dossier_handicap(store: RegistryStore, vraag: Vraag, ctx: AnswerContext) -> Answer:
    """GeefDossierHandicap 03.00: the federal (DG Personen met een handicap) file — recognition,
    points, rights and a parking card — other providers answer MSG00021."""
    insz = _insz(vraag, "ConsultFilesByDateCriteria", "ssin")
    day = _date_criterion(child(vraag.criteria, "ConsultFilesByDateCriteria"), "referenceDate")
    day = day or ctx.today
    person = _person(store, insz)
    known = person is not None and person.integrated_ksz and ctx.inscribed(insz, day)
    dossier = store.disability.get(insz) if known else None
    cards = (
        [
            s
            for s in store.statuses.get(insz, [])
            if s.status.startswith("GENT_PARKING") and s.active_on(day)
        ]
        if known
        else []
    )
    inhoud = new_element("Inhoud")
    response = sub(inhoud, "ConsultFilesByDateResponse")
    has_file = dossier is not None or bool(cards)
    _handicap_status(response, MSG_FOUND if has_file else MSG_NOT_INTEGRATED)
    sub(response, "ssin", insz)
    results = sub(response, "results")
    dgph = sub(results, "dgphResult")
    _handicap_status(dgph, MSG_FOUND if has_file else MSG_NOT_INTEGRATED)
    if has_file:
        file = sub(dgph, "file")
        if dossier is not None:
            _recognition(file, dossier, person, day)
        if cards:
            container = sub(file, "socialCards")
            for card in cards:
                element = sub(container, "socialCard")
                if card.start is not None:
                    sub(element, "deliveryDate", card.start.isoformat())
                if card.end is not None:
                    sub(element, "endDate", card.end.isoformat())
                sub(element, "cardNumber", _stable_number(insz, card.status, digits=10))
                sub(element, "cardCategory", "PARKINGCARD")
    for source in ("irisCareResult", "aviqResult", "dslResult"):
        _handicap_status(sub(results, source), MSG_NOT_INTEGRATED)
    return Answer(inhoud)


def _recognition(file: Element, dossier: Disability, person: Person | None, day: date) -> None:
    recognitions = sub(file, "handicapRecognitions")
    recognition = sub(recognitions, "handicapRecognition")
    status = sub(recognition, "recognitionStatus")
    if dossier.since is not None:
        sub(status, "dateOfDecision", dossier.since.isoformat())
        sub(status, "startDateRecognition", dossier.since.isoformat())
    sub(recognition, "legislation", 3)
    if dossier.points is not None:
        born = person.birth_date if person is not None else None
        child_age = born is not None and (day.year - born.year) < 21
        if child_age:
            pillars = sub(sub(recognition, "resultRecognitionChild"), "pillars")
            sub(pillars, "pillarsTotal", dossier.points)
        else:
            adult = sub(recognition, "resultRecognitionAdult")
            sub(sub(adult, "diminuationIndependence"), "totalPoints", dossier.points)
    sub(recognition, "decisionStatus", "RECOGNITION_DETERMINED")
    rights = sub(file, "rights")
    if dossier.since is not None:
        sub(sub(rights, "period"), "beginDate", dossier.since.isoformat())
    sub(rights, "legislation", 3)
    sub(rights, "decisionStatus", "POSITIVE" if dossier.recognised else "NEGATIVE")


def geef_leefloonbedragen(store: RegistryStore, vraag: Vraag, ctx: AnswerContext) -> Answer:
    """GeefLeefloonbedragen 02.00: leefloon paid per year and month (euros), for the asked year
    and the ``AantalJaarTerug`` years before it; a year without payment says so."""
    last = _int_criterion(vraag.criteria, "Jaar") or ctx.today.year
    back = max(0, _int_criterion(vraag.criteria, "AantalJaarTerug") or 0)
    found = _ksz_person(
        store, _insz(vraag, "INSZ"), ctx, date(last - back, 1, 1), date(last, 12, 31)
    )
    if isinstance(found, Answer):
        return found
    payments = store.leefloon.get(found.insz, [])
    inhoud = new_element("Inhoud")
    bedragen = sub(inhoud, "Leefloonbedragen")
    for year in range(last - back, last + 1):
        paid = [p for p in payments if p.month.year == year]
        bedrag = sub(bedragen, "Leefloonbedrag")
        sub(bedrag, "Jaar", year)
        if not paid:
            sub(bedrag, "Uitbetaling", 0, Beschrijving="Geen uitbetaling")
            continue
        tegemoetkoming = sub(bedrag, "Tegemoetkoming")
        jaarlijks = sub(sub(tegemoetkoming, "Jaarlijks", Jaar=str(year)), "Leefloon")
        sub(jaarlijks, "Bedrag", _eur(sum(p.amount for p in paid)))
        sub(jaarlijks, "TweedeGerechtigde", 0)
        sub(jaarlijks, "AantalMaandenZonderToelage", 12 - len({p.month for p in paid}))
        sub(jaarlijks, "MaximumLeefloonGekregen", 0)
        maandelijks = sub(tegemoetkoming, "Maandelijks")
        for payment in paid:
            month = payment.month
            maand = sub(maandelijks, "Maand", JaarMaand=f"{month:%Y-%m}")
            per = sub(maand, "LeefloonPerPeriode", LaatsteUitbetaling="1")
            periode = sub(per, "LeefloonPeriode", ID=f"{month:%Y%m%d}")
            sub(periode, "Bedrag", _eur(payment.amount))
            span = sub(periode, "Periode")
            sub(span, "Begin", month.isoformat())
            sub(span, "Einde", _month_end(month).isoformat())
            sub(sub(periode, "Begunstigde"), "INSZ", found.insz)
            ocmw = sub(periode, "OCMW")
            sub(ocmw, "Ondernemingsnummer", _OCMW_GENT)
            sub(ocmw, "Bestand", f"{month:%Y%m%d}")
            sub(ocmw, "Suffix", 0)
            sub(periode, "MaximumLeefloonGekregen", 0)
    return Answer(inhoud)


def _month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


# --- Onderwijs ----------------------------------------------------------------------------------


def geef_historiek_inschrijving(store: RegistryStore, vraag: Vraag, ctx: AnswerContext) -> Answer:
    """Onderwijs.GeefHistoriekInschrijving 02.01: compulsory-education enrolments (source LP)
    overlapping the asked period; the sources without data add their 30101."""
    insz = _insz(vraag, "INSZ")
    periode = child(vraag.criteria, "Periode")
    begin, end = _date_criterion(periode, "Begin"), _date_criterion(periode, "Einde")
    person = _person(store, insz)
    found = [] if person is None else store.enrolments.get(person.insz, [])
    found = [e for e in found if e.overlaps(begin, end)]
    if not found:
        return Answer.error(*EDUCATION_SOURCES.values())
    inhoud = new_element("Inhoud")
    inschrijvingen = sub(inhoud, "Inschrijvingen")
    for enrolment in found:
        level = _LEVELS.get((enrolment.level or "").lower(), _LEVELS["primary"])
        key = (insz, enrolment.school_id or "", str(enrolment.start))
        inschrijving = sub(inschrijvingen, "Inschrijving")
        sub(inschrijving, "Bron", "LP")
        sub(inschrijving, "Referte", _stable_uuid(*key))
        instelling = sub(inschrijving, "Instelling")
        sub(instelling, "Instellingsnummer", enrolment.school_id or "")
        sub(instelling, "OfficieleNaam", enrolment.school_name or "")
        sub(instelling, "Instantie", level[2])
        leerplicht = sub(inschrijving, "LeerplichtOnderwijs")
        _code(leerplicht, "SoortProgramma", "1", "Voltijds")
        if enrolment.start is not None:
            sub(leerplicht, "DatumInschrijving", enrolment.start.isoformat())
            sub(leerplicht, "Schooljaar", SchoolYear.of(enrolment.start).first)
        groep = sub(leerplicht, "InschrijvingAdministratieveGroep")
        sub(groep, "Referte", _stable_uuid(*key, "groep"))
        span = sub(groep, "Periode")
        if enrolment.start is not None:
            sub(span, "Begin", enrolment.start.isoformat())
        if enrolment.end is not None:
            sub(span, "Einde", enrolment.end.isoformat())
        administratief = sub(groep, "AdministratieveGroep")
        _code(administratief, "Niveau", level[0], level[1])
        _code(administratief, "SoortOnderwijs", "1", "Gewoon onderwijs")
    return Answer(inhoud, [EDUCATION_SOURCES["HO"], EDUCATION_SOURCES["VWO"]])


# --- the catalogue ------------------------------------------------------------------------------

# --- Repertorium ---------------------------------------------------------------------------------

_WEL = ("1", "Wel geslaagd")
_NIET = ("0", "Niet geslaagd")


def _resultaat(outcome: tuple[str, str]) -> Answer:
    inhoud = new_element("Inhoud")
    sub(inhoud, "Resultaat", outcome[0], Beschrijving=outcome[1])
    return Answer(inhoud)


def _registration(vraag: Vraag) -> tuple[str, str, str]:
    """Consumer, capacity and INSZ of an Inschrijving/Uitschrijving (02.00 ``INSZ`` or 02.01
    ``BetrokkenSubject/Subjecten/Subject/Sleutel``)."""
    consumer = child_text(vraag.criteria, "Identificatie")
    capacity = child_text(vraag.criteria, "Hoedanigheid")
    insz = child_text(vraag.criteria, "INSZ") or child_text(
        vraag.criteria, "BetrokkenSubject", "Subjecten", "Subject", "Sleutel"
    )
    if not consumer or not capacity or not insz:
        raise SoapRequestError("Inschrijving needs Identificatie, Hoedanigheid and a person")
    return consumer, capacity, insz


def registreer_inschrijving(store: RegistryStore, vraag: Vraag, ctx: AnswerContext) -> Answer:
    """Repertorium.RegistreerInschrijving 02.00/02.01: inscribe the person for the consumer's
    capacity over ``Periode`` (Begin, Einde: no end means one day). Resultaat 1 "Wel geslaagd";
    0 "Niet geslaagd" for a person the register does not know or a period that is over."""
    consumer, capacity, insz = _registration(vraag)
    start = _date_criterion(vraag.criteria, "Periode", "Begin") or ctx.today
    end = _date_criterion(vraag.criteria, "Periode", "Einde") or start
    if _person(store, insz) is None or end < start or end < ctx.today:
        return _resultaat(_NIET)
    if ctx.repertory is not None:
        ctx.repertory.inscribe(consumer, capacity, insz, start, end)
    return _resultaat(_WEL)


def registreer_uitschrijving(store: RegistryStore, vraag: Vraag, ctx: AnswerContext) -> Answer:
    """Repertorium.RegistreerUitschrijving 02.00: end the person's inscriptions for the consumer's
    capacity. Resultaat 1 (also when none was left: the directory is as asked)."""
    consumer, capacity, insz = _registration(vraag)
    if _person(store, insz) is None:
        return _resultaat(_NIET)
    if ctx.repertory is not None:
        ctx.repertory.deregister(consumer, capacity, insz)
    return _resultaat(_WEL)


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec(
            "GeefPersoon",
            "02.02.0000",
            "http://magda.vlaanderen.be/persoon/soap/geefpersoon/v02_02",
            "web",
            "Persoon",
            geef_persoon,
        ),
        ServiceSpec(
            "GeefGezinssamenstelling",
            "02.02.0000",
            "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02",
            "web",
            "Persoon",
            geef_gezinssamenstelling,
        ),
        ServiceSpec(
            "GeefHistoriekGezinssamenstelling",
            "02.02.0000",
            "http://magda.vlaanderen.be/persoon/soap/geefhistoriekgezinssamenstelling/v02_02",
            "web",
            "Persoon",
            geef_historiek_gezinssamenstelling,
        ),
        ServiceSpec(
            "GeefAanslagbiljetPersonenbelasting",
            "02.00.0000",
            "http://webservice.geefaanslagbiljetpersonenbelastingdienst-02_00"
            ".inkomen-02_00.vip.vlaanderen.be",
            "web",
            "Inkomen",
            geef_aanslagbiljet,
        ),
        ServiceSpec(
            "GeefSociaalStatuut",
            "03.00.0000",
            "http://magda.vlaanderen.be/soczek/soap/geefsociaalstatuut/v03_00",
            "v03",
            "SocZek",
            geef_sociaal_statuut,
        ),
        ServiceSpec(
            "GeefDossierHandicap",
            "03.00.0000",
            "http://magda.vlaanderen.be/soczek/soap/geefdossierhandicap/v03_00",
            "web",
            "SocZek",
            geef_dossier_handicap,
        ),
        ServiceSpec(
            "GeefLeefloonbedragen",
            "02.00.0000",
            "http://webservice.geefleefloonbedragendienst-02_00.soczek-02_00.vip.vlaanderen.be",
            "web",
            "SocZek",
            geef_leefloonbedragen,
        ),
        ServiceSpec(
            "GeefHistoriekInschrijving",
            "02.01.0000",
            "http://webservice.geefhistoriekinschrijvingdienst-02_01.onderwijs.vlaanderen.be",
            "web",
            "Onderwijs",
            geef_historiek_inschrijving,
            aliases=("Onderwijs.GeefHistoriekInschrijving",),
        ),
        ServiceSpec(
            "GeefPersoonMutatiesNotificaties",
            "02.00.0000",
            "http://magda.vlaanderen.be/persoon/soap/GeefPersoonMutatiesNotificaties/v02_00",
            "web",
            "Persoon",
            geef_persoon_mutaties_notificaties,
            aliases=("Persoon.GeefPersoonMutatiesNotificaties",),
        ),
        ServiceSpec(
            "GeefMutatiesNotificaties",
            "02.01.0000",
            "http://magda.vlaanderen.be/algemeen/soap/GeefMutatiesNotificaties/v02_01",
            "web",
            "Algemeen",
            geef_mutaties_notificaties,
            aliases=("Algemeen.GeefMutatiesNotificaties",),
        ),
        ServiceSpec(
            "RegistreerInschrijving",
            "02.00.0000",
            "http://webservice.registreerinschrijvingdienst-02_00.repertorium-02_00.vip.vlaanderen.be",
            "p",
            "Repertorium",
            registreer_inschrijving,
            aliases=("Repertorium.RegistreerInschrijving",),
            other_versions=(
                (
                    "02.01.0000",
                    "http://webservice.registreerinschrijvingdienst-02_01"
                    ".repertorium-02_01.vip.vlaanderen.be",
                ),
            ),
        ),
        ServiceSpec(
            "RegistreerUitschrijving",
            "02.00.0000",
            "http://webservice.registreeruitschrijvingdienst-02_00.repertorium-02_00.vip.vlaanderen.be",
            "p",
            "Repertorium",
            registreer_uitschrijving,
            aliases=("Repertorium.RegistreerUitschrijving",),
        ),
    )
}

_BY_NAME = {name.lower(): spec for spec in SERVICES.values() for name in (spec.name, *spec.aliases)}


def canonical_service(name: str) -> ServiceSpec | None:
    """The service for a name as MAGDA writes it (``Context/Naam``) or an alias, any case."""
    return _BY_NAME.get(name.strip().lower())
