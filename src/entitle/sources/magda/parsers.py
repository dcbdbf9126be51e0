"""Reply parser: a MAGDA reply (or SOAP fault) → `MagdaResponse` with typed errors and facts.

Accepted documents: a SOAP envelope whose body holds ``<ns:XxxResponse>`` or a ``Fault``, or
the body content alone (``<ns:XxxResponse>`` as root, as in ``../shared/magda-mock/responses``,
or a bare ``Fault``). ``Repliek`` holds ``Context``, then ``Antwoorden/Antwoord`` (``Referte``,
``Inhoud`` and/or ``Uitzonderingen``) and/or ``Uitzonderingen`` for the whole reply.

Each answer's ``Inhoud`` is read by the service's reader into JSON-ready ``facts``; see the reader
functions for the keys. Amounts and codes are kept as the message writes them (strings); years
are ints. Nothing here decides anything: mapping to catalogue facts is in `facts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from entitle.sources.magda import _xml
from entitle.sources.magda._xml import Element, attr, child, children, elements, local, text
from entitle.sources.magda.errors import (
    ErrorKind,
    MagdaParseError,
    NotMagdaResponseError,
    Uitzondering,
    UnsupportedServiceError,
    classify,
    worst_kind,
)
from entitle.sources.magda.mutations import read_general_mutations, read_person_mutations
from entitle.sources.magda.repertorium import read_resultaat
from entitle.sources.magda.services import (
    SERVICES,
    ServiceSpec,
    service_by_namespace,
    service_spec,
)

__all__ = [
    "Answer",
    "MagdaResponse",
    "SoapFault",
    "parse_response",
]


@dataclass(frozen=True)
class Answer:
    """One ``Antwoord``: the question's ``Referte``, the person it is about (when the answer says
    so), the service's facts read from ``Inhoud``, and its exceptions (answer- and source-level;
    reply-level ones are on `MagdaResponse.errors`)."""

    referte: str | None
    insz: str | None
    has_content: bool
    facts: dict[str, Any]
    errors: tuple[Uitzondering, ...] = ()

    @property
    def blocking_errors(self) -> tuple[Uitzondering, ...]:
        return tuple(e for e in self.errors if e.blocking)

    @property
    def outcome(self) -> str:
        """``ok`` (content, nothing missing), ``partial`` (content, but some source failed), or
        the most actionable error kind when there is no content (``no_data`` if MAGDA said
        nothing at all)."""
        blocking = self.blocking_errors
        if self.has_content:
            return "partial" if blocking else "ok"
        kind = worst_kind([e.kind for e in blocking])
        return (kind or ErrorKind.NO_DATA).value

    def to_json(self) -> dict[str, Any]:
        return {
            "referte": self.referte,
            "insz": self.insz,
            "outcome": self.outcome,
            "errors": [e.to_json() for e in self.errors],
            "facts": self.facts,
        }


# WS-Security 1.1 fault codes: the security header failed (a signature missing, invalid or
# made with a certificate that is not trusted).
SECURITY_FAULTS = frozenset(
    {
        "FailedAuthentication",
        "FailedCheck",
        "InvalidSecurity",
        "InvalidSecurityToken",
        "SecurityTokenUnavailable",
        "UnsupportedSecurityToken",
    }
)


@dataclass(frozen=True)
class SoapFault:
    code: str
    message: str
    detail: str | None = None

    @property
    def authentication(self) -> bool:
        """Whether MAGDA refused the request's security (its signature), not its content."""
        return self.code.rpartition(":")[2] in SECURITY_FAULTS


@dataclass(frozen=True)
class MagdaResponse:
    """A parsed reply. ``service`` is None only for a SOAP fault whose service is not known."""

    service: ServiceSpec | None
    version: str | None
    referte: str | None  # Ontvanger/Referte: the Referte of the request this answers
    errors: tuple[Uitzondering, ...] = ()  # reply-level exceptions (and a SOAP fault)
    answers: tuple[Answer, ...] = ()
    fault: SoapFault | None = None
    sender_capacity: str | None = None  # Ontvanger/Hoedanigheid echoed by MAGDA

    @property
    def all_errors(self) -> tuple[Uitzondering, ...]:
        return self.errors + tuple(e for a in self.answers for e in a.errors)

    @property
    def outcome(self) -> str:
        """``ok`` / ``partial`` / an error kind, over the whole reply."""
        if self.answers and not self.errors:
            outcomes = {a.outcome for a in self.answers}
            if outcomes == {"ok"}:
                return "ok"
            if "ok" in outcomes or "partial" in outcomes:
                return "partial"
            kind = worst_kind([ErrorKind(o) for o in outcomes])
            return (kind or ErrorKind.NO_DATA).value
        kind = worst_kind([e.kind for e in self.all_errors if e.blocking])
        if self.answers and any(a.has_content for a in self.answers):
            return "partial"
        return (kind or ErrorKind.NO_DATA).value

    def to_json(self) -> dict[str, Any]:
        """The normalised form printed by ``entitle magda parse``: service, version, insz, outcome,
        errors (reply-level and of every answer), facts (of the answer, when there is exactly
        one), the request's referte, and ``answers`` (each answer, when there are several)."""
        single = self.answers[0] if len(self.answers) == 1 else None
        data: dict[str, Any] = {
            "service": self.service.naam if self.service else None,
            "version": self.version,
            "insz": single.insz if single else None,
            "outcome": self.outcome,
            "errors": [e.to_json() for e in self.all_errors],
            "facts": single.facts if single else {},
            "referte": self.referte,
        }
        if len(self.answers) > 1:
            data["answers"] = [a.to_json() for a in self.answers]
        if self.fault is not None:
            data["fault"] = {
                "code": self.fault.code,
                "message": self.fault.message,
                "detail": self.fault.detail,
            }
        return data


# ---------------------------------------------------------------------------------------------
# envelope and exceptions


def _uitzonderingen(parent: Element | None, level: str) -> tuple[Uitzondering, ...]:
    found: list[Uitzondering] = []
    for item in children(child(parent, "Uitzonderingen"), "Uitzondering"):
        code = text(item, "Identificatie") or ""
        severity = (text(item, "Type") or "FOUT").upper()
        diagnosis = text(item, "Diagnose") or ""
        annotations = tuple(
            (text(a, "Naam") or "", text(a, "Waarde") or "")
            for a in children(child(item, "Annotaties"), "Annotatie")
        )
        found.append(
            Uitzondering(
                code=code,
                kind=classify(code, severity, diagnosis),
                diagnosis=diagnosis,
                severity=severity,
                origin=text(item, "Oorsprong"),
                level="reply" if level == "reply" else "answer",
                circumstance=text(item, "Omstandigheid"),
                annotations=annotations,
            )
        )
    return tuple(found)


# A Client fault that says the sender or capacity is not authorised is a refusal (the registry
# simulator answers "Geen machtiging voor deze hoedanigheid", detail "not-authorised").
_FAULT_REFUSAL_WORDS = (
    "machtiging",
    "gemachtigd",
    "not authorised",
    "not authorized",
    "unauthorized",
    "forbidden",
    "geen toegang",
)


def _fault(fault: Element) -> tuple[SoapFault, Uitzondering]:
    code = text(fault, "faultcode") or text(fault, "Code", "Value") or "Fault"
    message = text(fault, "faultstring") or text(fault, "Reason", "Text") or ""
    detail_el = child(fault, "detail")
    if detail_el is None:
        detail_el = child(fault, "Detail")
    detail = None
    if detail_el is not None:
        detail = " ".join(t.strip() for t in detail_el.itertext() if t.strip()) or None
    short = code.rpartition(":")[2]
    words = f"{message} {detail or ''}".lower().replace("-", " ")
    refusal = short in ("Client", "Sender") and any(w in words for w in _FAULT_REFUSAL_WORDS)
    if short in SECURITY_FAULTS or refusal:
        kind = ErrorKind.REFUSED
    elif short in ("Client", "Sender"):
        kind = ErrorKind.BAD_REQUEST
    elif short in ("Server", "Receiver"):
        kind = ErrorKind.RETRY
    else:
        kind = ErrorKind.ERROR
    error = Uitzondering(
        code=f"soap:{short}",
        kind=kind,
        diagnosis=message,
        severity="FOUT",
        origin="SOAP",
        level="reply",
    )
    return SoapFault(code=code, message=message, detail=detail), error


def _root_and_body(data: bytes | str) -> Element:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data.strip():
        raise NotMagdaResponseError("empty document: not a MAGDA reply")
    try:
        root = _xml.parse_bytes(data)
    except _xml.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise NotMagdaResponseError(f"not well-formed XML{where}: not a MAGDA reply") from None
    if _xml.namespace(root) in _xml.ENVELOPE_NAMESPACES and local(root) == "Envelope":
        body = child(root, "Body")
        if body is None:
            raise NotMagdaResponseError("SOAP envelope without a Body: not a MAGDA reply")
        content = elements(body)
        if not content:
            raise NotMagdaResponseError("empty SOAP Body: not a MAGDA reply")
        return content[0]
    return root


def _spec_for(hint: str | None) -> ServiceSpec | None:
    if hint is None:
        return None
    try:
        return service_spec(hint)
    except KeyError:
        return None


def parse_response(data: bytes | str, *, service_hint: str | None = None) -> MagdaResponse:
    """Read a MAGDA reply of one of the `SERVICES`, or a SOAP fault.

    ``service_hint`` names the service for a SOAP fault (which does not say it). Raises
    `NotMagdaResponseError` for anything that is not a MAGDA reply, `UnsupportedServiceError` for
    a reply of another service, and `MagdaParseError` for a reply whose content is malformed.
    """
    element = _root_and_body(data)
    name = local(element)
    if name == "Fault" and _xml.namespace(element) in _xml.ENVELOPE_NAMESPACES:
        fault, error = _fault(element)
        spec = _spec_for(service_hint)
        return MagdaResponse(
            service=spec,
            version=spec.version if spec else None,
            referte=None,
            errors=(error,),
            fault=fault,
        )
    repliek = child(element, "Repliek")
    context = child(repliek, "Context")
    if not name.endswith("Response") or repliek is None or context is None:
        raise NotMagdaResponseError(
            f"element <{name}> is not a MAGDA reply (…Response/Repliek/Context) nor a SOAP fault"
        )
    naam = text(context, "Naam")
    spec = SERVICES.get(name[: -len("Response")])
    repertorium = service_by_namespace(_xml.namespace(element)) if spec is None else None
    if repertorium is not None and repertorium.naam == name[: -len("Response")]:
        spec = repertorium
    if spec is None:
        raise UnsupportedServiceError(
            f"MAGDA reply of service {naam or name!r}, which Entitle does not read; "
            f"known: {', '.join(sorted(SERVICES))}"
        )
    if naam != spec.naam:
        raise NotMagdaResponseError(
            f"Context/Naam {naam!r} does not match the reply element <{name}>"
        )
    message_type = text(context, "Bericht", "Type")
    if message_type is not None and message_type != "ANTWOORD":
        raise NotMagdaResponseError(f"Bericht/Type is {message_type!r}, not ANTWOORD: not a reply")
    ontvanger = child(context, "Bericht", "Ontvanger")
    reader = _READERS.get(spec.naam, _read_registration)
    answers: list[Answer] = []
    reply_errors = _uitzonderingen(repliek, "reply")
    antwoorden = children(child(repliek, "Antwoorden"), "Antwoord")
    if not antwoorden and not reply_errors:
        raise MagdaParseError("malformed reply: neither Antwoorden nor Uitzonderingen")
    for number, antwoord in enumerate(antwoorden, start=1):
        inhoud = child(antwoord, "Inhoud")
        errors = _uitzonderingen(antwoord, "answer")
        if inhoud is None and not errors:
            raise MagdaParseError(
                f"malformed reply: answer {number} has neither Inhoud nor Uitzonderingen"
            )
        insz: str | None = None
        facts: dict[str, Any] = {}
        has_content = False
        if inhoud is not None:
            result = reader(inhoud)
            insz, facts, has_content = result.insz, result.facts, result.has_data
            errors = errors + result.source_errors
        answers.append(
            Answer(
                referte=text(antwoord, "Referte"),
                insz=insz,
                has_content=has_content,
                facts=facts,
                errors=errors,
            )
        )
    return MagdaResponse(
        service=spec,
        version=text(context, "Versie"),
        referte=text(ontvanger, "Referte"),
        errors=reply_errors,
        answers=tuple(answers),
        sender_capacity=text(ontvanger, "Hoedanigheid"),
    )


# ---------------------------------------------------------------------------------------------
# service readers


@dataclass
class _Read:
    insz: str | None
    facts: dict[str, Any]
    source_errors: tuple[Uitzondering, ...] = ()
    has_data: bool = True


def _required(parent: Element, *path: str) -> Element:
    found = child(parent, *path)
    if found is None:
        raise MagdaParseError(f"malformed answer: Inhoud has no {'/'.join(path)}")
    return found


def _current(items: list[Element]) -> Element | None:
    """The element without a ``DatumEinde`` (the last one otherwise)."""
    if not items:
        return None
    open_ended = [i for i in items if attr(i, "DatumEinde") is None]
    return (open_ended or items)[-1]


def _localised(parent: Element | None, name: str) -> str | None:
    """``<Name><String>…</String><Taal>nl</Taal></Name>`` (several: Dutch preferred)."""
    options = children(parent, name)
    for option in options:
        if text(option, "Taal") in (None, "nl"):
            value = text(option, "String")
            if value:
                return value
    for option in options:
        value = text(option, "String")
        if value:
            return value
    return None


def _address(place: Element | None) -> dict[str, Any] | None:
    """A register address (``Hoofdverblijfplaats`` and siblings)."""
    if place is None:
        return None
    reference = child(place, "ReferentieAdres")
    return {
        "street": _localised(place, "Straatnaam")
        or text(place, "NietGestandaardiseerdeStraatnaam", "String"),
        "street_code": text(place, "StraatCode"),
        "house_number": text(place, "Huisnummer"),
        "box": text(place, "Busnummer"),
        "postal_code": text(place, "Postcode"),
        "municipality": _localised(place, "Gemeentenaam")
        or text(place, "NietGestandaardiseerdeGemeentenaam", "String"),
        "municipality_nis": text(place, "NISCodeGemeente"),
        "country": _localised(place, "Land"),
        "country_nis": text(place, "NISCodeLand"),
        "country_iso": text(place, "ISOCodeLand"),
        "since": attr(place, "DatumBegin"),
        "until": attr(place, "DatumEinde"),
        "reference_address": reference is not None,
        "reference_address_period": None
        if reference is None
        else {"begin": text(reference, "Begindatum"), "end": text(reference, "Einddatum")},
    }


def _member(item: Element) -> dict[str, Any]:
    return {
        "insz": text(item, "INSZ"),
        "position_code": text(item, "Positie", "Code"),
        "position": text(item, "Positie", "Omschrijving"),
        "birth_date": text(item, "Geboortedatum"),
        "sex": text(item, "Geslacht", "Code"),
        "since": attr(item, "DatumBegin"),
        "until": attr(item, "DatumEinde"),
    }


def _read_persoon(inhoud: Element) -> _Read:
    """GeefPersoon: birth_date (as written, possibly partial: ``1960-00-00``), death_date, sex,
    register, main residence (``address`` and its ``municipality``, ``municipality_nis``,
    ``reference_address``), ``abroad`` (a current residence abroad), the person's
    ``position_code`` towards the ``reference_person``, and ``household_members`` when given."""
    persoon = _required(inhoud, "Persoon")
    adressen = child(persoon, "Adressen")
    main = _address(_current(children(adressen, "Hoofdverblijfplaats")))
    abroad_el = _current(children(adressen, "VerblijfplaatsBuitenland"))
    abroad = None
    if abroad_el is not None and attr(abroad_el, "DatumEinde") is None:
        abroad = {
            "country_nis": text(abroad_el, "Land", "NISCode"),
            "country": text(abroad_el, "Land", "Naam"),
            "since": attr(abroad_el, "DatumBegin"),
        }
    reference = _current(children(persoon, "Referentiepersoon"))
    members = [_member(m) for m in children(child(persoon, "Gezinsleden"), "Gezinslid")]
    facts: dict[str, Any] = {
        "birth_date": text(persoon, "Geboorte", "Datum"),
        "death_date": text(persoon, "Overlijden", "Datum"),
        "sex": text(persoon, "Geslacht", "Code"),
        "register": text(persoon, "Register", "Code"),
        "municipality": main["municipality"] if main else None,
        "municipality_nis": main["municipality_nis"] if main else None,
        "reference_address": main["reference_address"] if main else None,
        "address": main,
        "abroad": abroad,
        "reference_person": None
        if reference is None
        else {"insz": text(reference, "INSZ"), "since": attr(reference, "DatumBegin")},
        "position_code": text(reference, "Positie", "Code"),
    }
    if members:
        facts["household_members"] = members
    return _Read(text(persoon, "INSZ"), facts)


def _household(members_el: Element | None) -> dict[str, Any]:
    items = children(members_el, "Gezinslid")
    members = [_member(m) for m in items]
    addresses = [
        _address(_current(children(child(m, "Adressen"), "Hoofdverblijfplaats"))) for m in items
    ]
    pairs = list(zip(members, addresses, strict=True))
    head = next((a for m, a in pairs if m["position_code"] == "01" and a), None)
    address = head or next((a for a in addresses if a), None)
    return {
        "members": members,
        # each member's own main residence, by INSZ (MAGDA lists it per member)
        "member_addresses": {m["insz"]: a for m, a in pairs if m["insz"]},
        "size": len(members),
        "collective": any(m["position_code"] == "20" for m in members),
        "address": address,
        "municipality": address["municipality"] if address else None,
        "municipality_nis": address["municipality_nis"] if address else None,
        "reference_address": address["reference_address"] if address else None,
    }


def _read_gezinssamenstelling(inhoud: Element) -> _Read:
    """GeefGezinssamenstelling: ``members`` (insz, position_code …), ``size``, ``collective``
    (a member with position 20), the household's address (of the reference person, 01) and
    ``member_addresses`` (each member's own main residence, by INSZ)."""
    return _Read(None, _household(_required(inhoud, "Gezinsleden")))


def _read_historiek_gezinssamenstelling(inhoud: Element) -> _Read:
    """GeefHistoriekGezinssamenstelling: every ``composition`` (members, begin, end) and, at the
    top, the ``members``/``size``/``collective`` of the current (open-ended or last) one."""
    historiek = _required(inhoud, "HistoriekGezinssamenstelling")
    items = children(historiek, "Gezinssamenstelling")
    compositions = [
        {
            "begin": attr(item, "DatumBegin"),
            "end": attr(item, "DatumEinde"),
            "members": [_member(m) for m in children(child(item, "Gezinsleden"), "Gezinslid")],
        }
        for item in items
    ]
    current = _current(items)
    facts = _household(child(current, "Gezinsleden")) if current is not None else _household(None)
    facts["compositions"] = compositions
    return _Read(None, facts, has_data=bool(items))


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _read_aanslagbiljet(inhoud: Element) -> _Read:
    """GeefAanslagbiljetPersonenbelasting: ``income_year`` (int), ``items`` (code → value as in the
    message; amounts in cents), ``fiscal_status`` (A titular, B partner) of the latest assessment,
    and every assessment under ``assessments``."""
    items = children(inhoud, "AanslagbiljetPersonenbelasting")
    if not items:
        raise MagdaParseError("malformed answer: Inhoud has no AanslagbiljetPersonenbelasting")
    assessments: list[dict[str, Any]] = []
    for item in items:
        codes: dict[str, str] = {}
        for line in children(child(item, "Items"), "Item"):
            code = text(line, "Code")
            if code is not None:
                codes[code] = text(line, "Waarde") or ""
        assessments.append(
            {
                "insz": text(item, "GevraagdePersoon", "INSZ"),
                "fiscal_status": text(item, "GevraagdePersoon", "FiscaleStatus", "Code"),
                "income_year": _int(text(item, "Inkomensjaar")),
                "article_number": text(item, "Artikelnummer"),
                "items": codes,
            }
        )
    latest = max(assessments, key=lambda a: a["income_year"] or 0)
    facts = {
        "income_year": latest["income_year"],
        "items": latest["items"],
        "fiscal_status": latest["fiscal_status"],
        "assessments": assessments,
    }
    return _Read(latest["insz"], facts)


def _result_bool(code: str | None) -> bool | None:
    return {"1": True, "0": False}.get(code or "")


def _read_sociaal_statuut(inhoud: Element) -> _Read:
    """GeefSociaalStatuut: ``statuses`` (name → true/false from ``Resultaat/Code`` 1/0; null for any
    other code) and ``status_details`` (result, periods, KSZ status code) per name."""
    persoon = _required(inhoud, "Persoon")
    statuses: dict[str, bool | None] = {}
    details: dict[str, dict[str, Any]] = {}
    for statuut in children(child(persoon, "SocialeStatuten"), "SociaalStatuut"):
        name = text(statuut, "Naam")
        if name is None:
            continue
        code = text(statuut, "Resultaat", "Code")
        value = _result_bool(code)
        previous = statuses.get(name)
        statuses[name] = True if (previous or value) else (value if previous is None else previous)
        details.setdefault(name, {"result_codes": [], "periods": [], "status_codes": []})
        details[name]["result_codes"].append(code)
        details[name]["result"] = text(statuut, "Resultaat", "Omschrijving")
        details[name]["periods"].extend(
            {"begin": text(p, "Begindatum"), "end": text(p, "Einddatum")}
            for p in children(child(statuut, "Periodes"), "Periode")
        )
        status_code = text(statuut, "Status", "Code")
        if status_code is not None:
            details[name]["status_codes"].append(status_code)
    return _Read(text(persoon, "INSZ"), {"statuses": statuses, "status_details": details})


def _status_error(status: Element | None, origin: str) -> Uitzondering | None:
    code = text(status, "code")
    if status is None or code is None or code == "MSG00000":
        return None
    description = text(status, "description") or text(status, "value") or ""
    return Uitzondering(
        code=code,
        kind=classify(code, "FOUT", description + " " + (text(status, "value") or "")),
        diagnosis=description,
        severity="FOUT",
        origin=origin,
        level="source",
    )


def _read_dossier_handicap(inhoud: Element) -> _Read:
    """GeefDossierHandicap: per source (dgph, aviq, irisCare, dsl) its status; from the files:
    ``recognitions``, ``rights`` (without amounts), ``social_cards`` and ``parking_card``
    (PARKINGCARD among the cards; false when a file was found without one, null without a file).
    A source status other than MSG00000 becomes a source-level error (MSG00021: no data)."""
    response = _required(inhoud, "ConsultFilesByDateResponse")
    errors: list[Uitzondering] = []
    top = _status_error(child(response, "status"), "ConsultFilesByDate")
    if top is not None:
        errors.append(top)
    sources: dict[str, dict[str, str | None]] = {}
    recognitions: list[dict[str, Any]] = []
    rights: list[dict[str, Any]] = []
    cards: list[dict[str, Any]] = []
    files = 0
    for result in elements(child(response, "results")):
        name = local(result).removesuffix("Result")
        status = child(result, "status")
        sources[name] = {"value": text(status, "value"), "code": text(status, "code")}
        error = _status_error(status, name)
        if error is not None:
            errors.append(error)
        for file in children(result, "file"):
            files += 1
            for rec in children(child(file, "handicapRecognitions"), "handicapRecognition"):
                recognitions.append(
                    {
                        "source": name,
                        "legislation": text(rec, "legislation"),
                        "decision_status": text(rec, "decisionStatus"),
                        "decision_date": text(rec, "recognitionStatus", "dateOfDecision"),
                        "start": text(rec, "recognitionStatus", "startDateRecognition"),
                        "end": text(rec, "recognitionStatus", "endDateRecognition"),
                    }
                )
            for right in children(file, "rights"):
                rights.append(
                    {
                        "source": name,
                        "legislation": text(right, "legislation"),
                        "decision_status": text(right, "decisionStatus"),
                        "begin": text(right, "period", "beginDate"),
                        "end": text(right, "period", "endDate"),
                    }
                )
            for card in children(child(file, "socialCards"), "socialCard"):
                cards.append(
                    {
                        "source": name,
                        "category": text(card, "cardCategory"),
                        "delivery_date": text(card, "deliveryDate"),
                        "end_date": text(card, "endDate"),
                    }
                )
    parking: bool | None = None
    if files:
        parking = any(c["category"] == "PARKINGCARD" for c in cards)
    facts = {
        "sources": sources,
        "recognitions": recognitions,
        "rights": rights,
        "social_cards": cards,
        "parking_card": parking,
    }
    return _Read(text(response, "ssin"), facts, tuple(errors), has_data=files > 0)


def _read_leefloon(inhoud: Element) -> _Read:
    """GeefLeefloonbedragen: per ``years`` entry the yearly amounts in euros as written
    (``leefloon``, ``equivalent_leefloon``, ``child_benefit``), the payment flag, and the months
    with a (equivalent) leefloon period; ``months_with_leefloon`` lists them all (YYYY-MM)."""
    container = _required(inhoud, "Leefloonbedragen")
    years: list[dict[str, Any]] = []
    months_with: set[str] = set()
    for entry in children(container, "Leefloonbedrag"):
        jaarlijks = child(entry, "Tegemoetkoming", "Jaarlijks")
        months: list[str] = []
        for maand in children(child(entry, "Tegemoetkoming", "Maandelijks"), "Maand"):
            label = attr(maand, "JaarMaand")
            if label and (
                child(maand, "LeefloonPerPeriode") is not None
                or child(maand, "EquivalentLeefloonPerPeriode") is not None
            ):
                months.append(label)
                months_with.add(label)
        uitbetaling = child(entry, "Uitbetaling")
        years.append(
            {
                "year": _int(text(entry, "Jaar")),
                "payment": text(uitbetaling),
                "payment_description": attr(uitbetaling, "Beschrijving"),
                "leefloon": text(jaarlijks, "Leefloon", "Bedrag"),
                "equivalent_leefloon": text(jaarlijks, "EquivalentLeefloon", "Bedrag"),
                "child_benefit": text(jaarlijks, "Kinderbijslag", "Bedrag"),
                "months": months,
            }
        )
    return _Read(None, {"years": years, "months_with_leefloon": sorted(months_with)})


_EDUCATION_KINDS = {
    "LeerplichtOnderwijs": "compulsory",
    "HogerOnderwijs": "higher",
    "Volwassenenonderwijs": "adult",
}


def _read_inschrijving(inhoud: Element) -> _Read:
    """Onderwijs.GeefHistoriekInschrijving: ``enrolments`` (source LP/HO/VWO, institution number,
    name and NIS code, kind, school years, enrolment dates, periods)."""
    container = _required(inhoud, "Inschrijvingen")
    enrolments: list[dict[str, Any]] = []
    for item in children(container, "Inschrijving"):
        kind = None
        school_years: list[str] = []
        enrolled: list[str] = []
        unenrolled: list[str] = []
        periods: list[dict[str, str | None]] = []
        for part in elements(item):
            part_kind = _EDUCATION_KINDS.get(local(part))
            if part_kind is None:
                continue
            kind = kind or part_kind
            for year in (text(part, "Schooljaar"), text(part, "Academiejaar")):
                if year:
                    school_years.append(year)
            if day := text(part, "DatumInschrijving"):
                enrolled.append(day)
            if day := text(part, "DatumUitschrijving"):
                unenrolled.append(day)
            for group in children(part, "InschrijvingAdministratieveGroep"):
                periods.append(
                    {
                        "begin": text(group, "Periode", "Begin"),
                        "end": text(group, "Periode", "Einde"),
                    }
                )
        enrolments.append(
            {
                "source": text(item, "Bron"),
                "institution_number": text(item, "Instelling", "Instellingsnummer"),
                "institution_name": text(item, "Instelling", "OfficieleNaam"),
                "institution_nis": text(item, "Instelling", "Adres", "Gemeente", "NISCode"),
                "location_number": text(item, "OnderwijsLocatie", "Nummer"),
                "kind": kind,
                "school_years": school_years,
                "enrolled_on": min(enrolled) if enrolled else None,
                "unenrolled_on": max(unenrolled) if unenrolled else None,
                "periods": periods,
            }
        )
    return _Read(None, {"enrolments": enrolments})


def _read_registration(inhoud: Element) -> _Read:
    """Repertorium.RegistreerInschrijving / RegistreerUitschrijving: ``result`` (1 or 0) and its
    ``description``; a 0 is an ``error`` on the answer (see `repertorium.read_resultaat`)."""
    facts, done, errors = read_resultaat(inhoud)
    return _Read(None, facts, errors, has_data=done)


_READERS: dict[str, Callable[[Element], _Read]] = {
    "GeefPersoon": _read_persoon,
    "GeefGezinssamenstelling": _read_gezinssamenstelling,
    "GeefHistoriekGezinssamenstelling": _read_historiek_gezinssamenstelling,
    "GeefAanslagbiljetPersonenbelasting": _read_aanslagbiljet,
    "GeefSociaalStatuut": _read_sociaal_statuut,
    "GeefDossierHandicap": _read_dossier_handicap,
    "GeefLeefloonbedragen": _read_leefloon,
    "GeefHistoriekInschrijving": _read_inschrijving,
    "GeefPersoonMutatiesNotificaties": lambda inhoud: _Read(None, read_person_mutations(inhoud)),
    "GeefMutatiesNotificaties": lambda inhoud: _Read(None, read_general_mutations(inhoud)),
}
assert set(_READERS) == set(SERVICES)
