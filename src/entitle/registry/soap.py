"""MAGDA's SOAP envelopes: read a request (`Verzoek`), write a reply (`Repliek`) or a SOAP fault.

A request is ``Envelope/Body/<ns:Operation>/Verzoek`` with ``Context`` (service ``Naam``,
``Versie``, ``Bericht`` with ``Type`` VRAAG, ``Tijdstip`` and ``Afzender``: ``Identificatie``,
``Referte``, ``Hoedanigheid``) and ``Vragen/Vraag`` (``Referte``, ``Inhoud/Criteria``; some services
put ``Criteria`` straight under ``Vraag``).

A reply is ``Envelope/Body/<ns:OperationResponse>/Repliek`` with ``Context`` (``Type`` ANTWOORD,
``Afzender`` the MAGDA gateway, ``Ontvanger`` echoing the caller's ``Identificatie``, ``Referte``
and ``Hoedanigheid``), then either ``Antwoorden/Antwoord`` (one per question: ``Referte``,
``Inhoud`` and/or ``Uitzonderingen``) or, when the whole request failed, ``Uitzonderingen`` right
under ``Repliek`` — the same shapes as the MAGDA mock messages in ``../shared/magda-mock``.

Everything under the operation element is unqualified (no namespace), as in MAGDA.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "MAX_QUESTIONS",
    "NO_ANSWER_FROM_SOURCE",
    "OVERLOAD",
    "SOAP_ENV",
    "UNEXPECTED_SOURCE_ERROR",
    "Answer",
    "Element",
    "MagdaRequest",
    "SoapRequestError",
    "Uitzondering",
    "Vraag",
    "build_fault",
    "build_reply",
    "child",
    "child_text",
    "children",
    "new_element",
    "parse_request",
    "remove_all",
    "serialize",
    "sub",
    "too_many_questions",
    "uitzonderingen_element",
]

# lxml ships no type information; elements are typed loosely on purpose.
Element = Any

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE_NAMESPACES = (SOAP_ENV, "http://www.w3.org/2003/05/soap-envelope")
MAX_QUESTIONS = 5

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True
)


class SoapRequestError(ValueError):
    """The body is not a MAGDA SOAP request. The message says why and never quotes its content."""


@dataclass(frozen=True)
class Uitzondering:
    """One MAGDA exception (``Uitzondering``): identification code, origin, type, diagnosis."""

    code: str
    origin: str
    kind: Literal["FOUT", "WAARSCHUWING", "INFORMATIE"]
    diagnosis: str
    circumstance: str | None = None


# Request-level exceptions, worded as the MAGDA mock messages word them.
OVERLOAD = Uitzondering("99996", "MAGDA", "FOUT", "Te veel gelijktijdige bevragingen")
NO_ANSWER_FROM_SOURCE = Uitzondering("60006", "MAGDA", "FOUT", "Geen antwoord van bron ontvangen")
UNEXPECTED_SOURCE_ERROR = Uitzondering("99994", "MAGDA", "FOUT", "Onverwachte fout bij de bron")


def too_many_questions(limit: int = MAX_QUESTIONS) -> Uitzondering:
    """``20110``: more questions in one request than the operation allows."""
    return Uitzondering(
        "20110",
        "MAGDA",
        "FOUT",
        "Het maximum aantal vragen voor deze operatie is overschreden, maximum aantal toegelaten "
        f"vragen voor deze operatie is {limit}",
    )


@dataclass
class Answer:
    """The answer to one question: an ``Inhoud`` element, exceptions, or both."""

    inhoud: Element | None = None
    uitzonderingen: list[Uitzondering] = field(default_factory=list)

    @classmethod
    def error(cls, *uitzonderingen: Uitzondering) -> Answer:
        return cls(None, list(uitzonderingen))


@dataclass(frozen=True)
class Vraag:
    """One question: its reference (echoed in the answer) and its ``Criteria`` element."""

    referte: str | None
    criteria: Element | None


@dataclass(frozen=True)
class MagdaRequest:
    """A parsed request. ``operation_ns`` is the namespace of the Body's operation element."""

    operation: str
    operation_ns: str | None
    naam: str
    versie: str
    sender: str
    referte: str
    capacity: str
    user: str | None
    vragen: tuple[Vraag, ...]


def _local(element: Element) -> str:
    return str(element.tag).rpartition("}")[2]  # Clark notation: "{namespace}local"


def child(parent: Element | None, *path: str) -> Element | None:
    """The first descendant along a path of local names (namespaces ignored), or None."""
    node = parent
    for name in path:
        if node is None:
            return None
        node = node.find("{*}" + name)  # any namespace or none, in C
    return node


def child_text(parent: Element | None, *path: str) -> str | None:
    """The stripped text along a path of local names; None when absent or empty."""
    node = child(parent, *path)
    if node is None or node.text is None:
        return None
    text = str(node.text).strip()
    return text or None


def children(parent: Element | None, name: str) -> list[Element]:
    """All direct children with this local name."""
    if parent is None:
        return []
    return list(parent.iterchildren("{*}" + name))


def parse_request(body: bytes) -> MagdaRequest:
    """Parse a MAGDA SOAP request; raise `SoapRequestError` when it is not one."""
    if not body.strip():
        raise SoapRequestError("empty request body")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapRequestError(f"request is not well-formed XML (line {exc.lineno})") from None
    qname = etree.QName(root)
    if qname.localname != "Envelope" or qname.namespace not in _ENVELOPE_NAMESPACES:
        raise SoapRequestError("root element is not a SOAP Envelope")
    soap_body = child(root, "Body")
    if soap_body is None:
        raise SoapRequestError("SOAP Envelope has no Body")
    operation = next((c for c in soap_body if isinstance(c.tag, str)), None)
    if operation is None:
        raise SoapRequestError("SOAP Body is empty")
    verzoek = child(operation, "Verzoek")
    if verzoek is None:
        raise SoapRequestError("operation element has no Verzoek")
    context = child(verzoek, "Context")
    if context is None:
        raise SoapRequestError("Verzoek has no Context")
    required = {
        "Context/Naam": child_text(context, "Naam"),
        "Context/Versie": child_text(context, "Versie"),
        "Bericht/Type": child_text(context, "Bericht", "Type"),
        "Afzender/Identificatie": child_text(context, "Bericht", "Afzender", "Identificatie"),
        "Afzender/Referte": child_text(context, "Bericht", "Afzender", "Referte"),
        "Afzender/Hoedanigheid": child_text(context, "Bericht", "Afzender", "Hoedanigheid"),
    }
    missing = [name for name, value in required.items() if value is None]
    if missing:
        raise SoapRequestError(f"missing {', '.join(missing)}")
    if required["Bericht/Type"] != "VRAAG":
        raise SoapRequestError("Bericht/Type must be VRAAG")
    vragen = tuple(
        Vraag(referte=child_text(vraag, "Referte"), criteria=_criteria(vraag))
        for vraag in children(child(verzoek, "Vragen"), "Vraag")
    )
    if not vragen:
        raise SoapRequestError("Verzoek has no Vragen/Vraag")
    return MagdaRequest(
        operation=_local(operation),
        operation_ns=qname_namespace(operation),
        naam=str(required["Context/Naam"]),
        versie=str(required["Context/Versie"]),
        sender=str(required["Afzender/Identificatie"]),
        referte=str(required["Afzender/Referte"]),
        capacity=str(required["Afzender/Hoedanigheid"]),
        user=child_text(context, "Bericht", "Afzender", "Gebruiker"),
        vragen=vragen,
    )


def _criteria(vraag: Element) -> Element | None:
    """``Vraag/Inhoud/Criteria``, ``Vraag/Criteria`` (GeefDossierHandicap), or the Repertorium's
    ``Vraag/Inhoud/Inschrijving`` / ``Uitschrijving``."""
    for path in (("Inhoud", "Criteria"), ("Criteria",), ("Inhoud", "Inschrijving")):
        found = child(vraag, *path)
        if found is not None:
            return found
    return child(vraag, "Inhoud", "Uitschrijving")


def qname_namespace(element: Element) -> str | None:
    namespace = etree.QName(element).namespace
    return None if namespace is None else str(namespace)


def sub(parent: Element, tag: str, text: object = None, **attributes: str) -> Element:
    """Append an unqualified child element, with text (``str()`` of any value) if given."""
    element = etree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = str(text)
    return element


def new_element(tag: str) -> Element:
    return etree.Element(tag)


def _tijdstip(parent: Element, now: datetime) -> None:
    tijdstip = sub(parent, "Tijdstip")
    sub(tijdstip, "Datum", now.date().isoformat())
    sub(tijdstip, "Tijd", now.strftime("%H:%M:%S.") + f"{now.microsecond // 1000:03d}")


def uitzonderingen_element(
    parent: Element, uitzonderingen: Sequence[Uitzondering], now: datetime
) -> None:
    container = sub(parent, "Uitzonderingen")
    for u in uitzonderingen:
        element = sub(container, "Uitzondering")
        sub(element, "Identificatie", u.code)
        sub(element, "Oorsprong", u.origin)
        sub(element, "Type", u.kind)
        _tijdstip(element, now)
        sub(element, "Diagnose", u.diagnosis)
        if u.circumstance is not None:
            sub(element, "Omstandigheid", u.circumstance)


def build_reply(
    *,
    namespace: str,
    prefix: str,
    request: MagdaRequest,
    version: str,
    now: datetime,
    answers: Sequence[tuple[Vraag, Answer]] | None,
    uitzonderingen: Sequence[Uitzondering] = (),
) -> Element:
    """The reply envelope. ``answers`` None: no ``Antwoorden`` (a request-level failure)."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    response = etree.SubElement(
        body, f"{{{namespace}}}{request.naam}Response", nsmap={prefix: namespace}
    )
    repliek = sub(response, "Repliek")
    context = sub(repliek, "Context")
    sub(context, "Naam", request.naam)
    sub(context, "Versie", version)
    bericht = sub(context, "Bericht")
    sub(bericht, "Type", "ANTWOORD")
    _tijdstip(bericht, now)
    afzender = sub(bericht, "Afzender")
    sub(afzender, "Identificatie", "vip.vlaanderen.be")
    sub(afzender, "Naam", "MagdaGateway")
    sub(afzender, "Referte", uuid.uuid4())
    ontvanger = sub(bericht, "Ontvanger")
    sub(ontvanger, "Identificatie", request.sender)
    sub(ontvanger, "Referte", request.referte)
    sub(ontvanger, "Hoedanigheid", request.capacity)
    if request.user is not None:
        sub(ontvanger, "Gebruiker", request.user)
    if answers is not None:
        antwoorden = sub(repliek, "Antwoorden")
        for vraag, answer in answers:
            antwoord = sub(antwoorden, "Antwoord")
            sub(antwoord, "Referte", vraag.referte or uuid.uuid4())
            if answer.inhoud is not None:
                antwoord.append(answer.inhoud)
            if answer.uitzonderingen:
                uitzonderingen_element(antwoord, answer.uitzonderingen, now)
    if uitzonderingen:
        uitzonderingen_element(repliek, uitzonderingen, now)
    return envelope


def build_fault(code: Literal["Client", "Server"], message: str, reason: str) -> Element:
    """A SOAP 1.1 fault; ``reason`` is a stable machine-readable word in ``detail/Reden``."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    sub(fault, "faultcode", f"soapenv:{code}")
    sub(fault, "faultstring", message)
    detail = sub(fault, "detail")
    sub(detail, "Reden", reason)
    return envelope


WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def build_security_fault(reason: str) -> Element:
    """The WS-Security fault for a request whose signature does not authenticate it
    (``wsse:FailedAuthentication``); ``reason`` goes to ``detail/Reden``."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "wsse": WSSE})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    sub(fault, "faultcode", "wsse:FailedAuthentication")
    sub(fault, "faultstring", "The security token could not be authenticated or authorized")
    sub(sub(fault, "detail"), "Reden", reason)
    return envelope


def remove_all(root: Element, name: str) -> None:
    """Remove every unqualified element with this name (to simulate a reply missing it)."""
    for element in list(root.iter(name)):
        element.getparent().remove(element)


def serialize(envelope: Element) -> bytes:
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
