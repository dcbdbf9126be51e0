"""The MAGDA services Entitle uses: name, version, SOAP namespace, domain."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GEEF_AANSLAGBILJET",
    "GEEF_DOSSIER_HANDICAP",
    "GEEF_GEZINSSAMENSTELLING",
    "GEEF_HISTORIEK_GEZINSSAMENSTELLING",
    "GEEF_HISTORIEK_INSCHRIJVING",
    "GEEF_LEEFLOONBEDRAGEN",
    "GEEF_MUTATIES_NOTIFICATIES",
    "GEEF_PERSOON",
    "GEEF_PERSOON_MUTATIES_NOTIFICATIES",
    "GEEF_SOCIAAL_STATUUT",
    "MAX_QUESTIONS",
    "REGISTREER_INSCHRIJVING",
    "REGISTREER_INSCHRIJVING_0201",
    "REGISTREER_UITSCHRIJVING",
    "REPERTORIUM_SERVICES",
    "SERVICES",
    "ServiceSpec",
    "service_by_namespace",
    "service_spec",
]

MAX_QUESTIONS = 5
"""MAGDA's limit of questions (``Vraag``) in one request; more gives Uitzondering 20110."""


@dataclass(frozen=True)
class ServiceSpec:
    """One MAGDA service. ``naam`` is the ``Context/Naam`` of its messages."""

    naam: str
    version: str
    domain: str
    namespace: str
    max_questions: int = MAX_QUESTIONS
    """Questions one request may hold (the Repertorium operations take one)."""

    @property
    def qualified(self) -> str:
        """Domain-qualified name, e.g. ``Onderwijs.GeefHistoriekInschrijving``."""
        return f"{self.domain}.{self.naam}"

    @property
    def short_version(self) -> str:
        """``02.02`` for ``02.02.0000``."""
        return ".".join(self.version.split(".")[:2])

    @property
    def response_tag(self) -> str:
        return f"{self.naam}Response"


GEEF_PERSOON = ServiceSpec(
    "GeefPersoon",
    "02.02.0000",
    "Persoon",
    "http://magda.vlaanderen.be/persoon/soap/geefpersoon/v02_02",
)
GEEF_GEZINSSAMENSTELLING = ServiceSpec(
    "GeefGezinssamenstelling",
    "02.02.0000",
    "Persoon",
    "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02",
)
GEEF_HISTORIEK_GEZINSSAMENSTELLING = ServiceSpec(
    "GeefHistoriekGezinssamenstelling",
    "02.02.0000",
    "Persoon",
    "http://magda.vlaanderen.be/persoon/soap/geefhistoriekgezinssamenstelling/v02_02",
)
GEEF_AANSLAGBILJET = ServiceSpec(
    "GeefAanslagbiljetPersonenbelasting",
    "02.00.0000",
    "Inkomen",
    "http://webservice.geefaanslagbiljetpersonenbelastingdienst-02_00.inkomen-02_00.vip.vlaanderen.be",
)
GEEF_SOCIAAL_STATUUT = ServiceSpec(
    "GeefSociaalStatuut",
    "03.00.0000",
    "SocZek",
    "http://magda.vlaanderen.be/soczek/soap/geefsociaalstatuut/v03_00",
)
GEEF_DOSSIER_HANDICAP = ServiceSpec(
    "GeefDossierHandicap",
    "03.00.0000",
    "SocZek",
    "http://magda.vlaanderen.be/soczek/soap/geefdossierhandicap/v03_00",
)
GEEF_LEEFLOONBEDRAGEN = ServiceSpec(
    "GeefLeefloonbedragen",
    "02.00.0000",
    "SocZek",
    "http://webservice.geefleefloonbedragendienst-02_00.soczek-02_00.vip.vlaanderen.be",
)
GEEF_HISTORIEK_INSCHRIJVING = ServiceSpec(
    "GeefHistoriekInschrijving",
    "02.01.0000",
    "Onderwijs",
    "http://webservice.geefhistoriekinschrijvingdienst-02_01.onderwijs.vlaanderen.be",
)
GEEF_PERSOON_MUTATIES_NOTIFICATIES = ServiceSpec(
    "GeefPersoonMutatiesNotificaties",
    "02.00.0000",
    "Persoon",
    "http://magda.vlaanderen.be/persoon/soap/GeefPersoonMutatiesNotificaties/v02_00",
)
"""The national register's weekly person mutations (namespace as in the mock's real replies)."""
GEEF_MUTATIES_NOTIFICATIES = ServiceSpec(
    "GeefMutatiesNotificaties",
    "02.01.0000",
    "Algemeen",
    "http://magda.vlaanderen.be/algemeen/soap/GeefMutatiesNotificaties/v02_01",
)
"""The generic mutation notifications (KSZ social statuses, FOD Financiën assessments); the mock
has no message of it, so the namespace follows the pattern of the person service."""

SERVICES: dict[str, ServiceSpec] = {
    spec.naam: spec
    for spec in (
        GEEF_PERSOON,
        GEEF_GEZINSSAMENSTELLING,
        GEEF_HISTORIEK_GEZINSSAMENSTELLING,
        GEEF_AANSLAGBILJET,
        GEEF_SOCIAAL_STATUUT,
        GEEF_DOSSIER_HANDICAP,
        GEEF_LEEFLOONBEDRAGEN,
        GEEF_HISTORIEK_INSCHRIJVING,
        GEEF_PERSOON_MUTATIES_NOTIFICATIES,
        GEEF_MUTATIES_NOTIFICATIES,
    )
}


REGISTREER_INSCHRIJVING = ServiceSpec(
    "RegistreerInschrijving",
    "02.00.0000",
    "Repertorium",
    "http://webservice.registreerinschrijvingdienst-02_00.repertorium-02_00.vip.vlaanderen.be",
    max_questions=1,
)
REGISTREER_INSCHRIJVING_0201 = ServiceSpec(
    "RegistreerInschrijving",
    "02.01.0000",
    "Repertorium",
    "http://webservice.registreerinschrijvingdienst-02_01.repertorium-02_01.vip.vlaanderen.be",
    max_questions=1,
)
REGISTREER_UITSCHRIJVING = ServiceSpec(
    "RegistreerUitschrijving",
    "02.00.0000",
    "Repertorium",
    "http://webservice.registreeruitschrijvingdienst-02_00.repertorium-02_00.vip.vlaanderen.be",
    max_questions=1,
)
REPERTORIUM_SERVICES = (
    REGISTREER_INSCHRIJVING,
    REGISTREER_INSCHRIJVING_0201,
    REGISTREER_UITSCHRIJVING,
)
"""The KSZ reference directory (Repertorium): inscribe and deregister persons for a capacity.
Not fact services: they change the directory, one person per request."""


def service_spec(name: str) -> ServiceSpec:
    """A service by ``Context/Naam`` (``GeefPersoon``) or qualified name (``Persoon.GeefPersoon``,
    ``Onderwijs.GeefHistoriekInschrijving``); raise `KeyError` for any other name."""
    if name in SERVICES:
        return SERVICES[name]
    _, _, short = name.rpartition(".")
    spec = SERVICES.get(short)
    if spec is None or name not in (short, spec.qualified):
        raise KeyError(f"unknown MAGDA service {name!r}; known: {', '.join(sorted(SERVICES))}")
    return spec


def service_by_namespace(namespace: str | None) -> ServiceSpec | None:
    for spec in (*SERVICES.values(), *REPERTORIUM_SERVICES):
        if spec.namespace == namespace:
            return spec
    return None
