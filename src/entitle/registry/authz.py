"""Purpose binding: which sender, in which capacity, may call which service (and status).

MAGDA and the KSZ let a city call a service only for a purpose the Information Security Committee
approved: the request's ``Afzender/Identificatie`` (who) and ``Afzender/Hoedanigheid`` (the
capacity, i.e. the purpose code) must hold a grant for the service, and for
``GeefSociaalStatuut`` for every status name asked. Everything else is refused.

A grant (YAML or JSON, under ``authorisations:`` in the simulator's config)::

    - sender: gent.be/entitle        # Afzender/Identificatie ("*": any)
      capacity: "ENTITLE_UITPAS"     # Afzender/Hoedanigheid ("*": any)
      services: [GeefPersoon, GeefSociaalStatuut]     # "*": every service
      statuses: [BIM_BVT, LIVING_WAGES_PCSA_HELP]     # required with GeefSociaalStatuut ("*": all)

Grants add up. No ``authorisations`` at all means development mode: everything is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from entitle.registry.services import SERVICES, canonical_service

__all__ = ["Authorisations", "AuthzDecision", "Grant"]

ANY = "*"
_STATUS_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")  # names safe to log; anything else is masked
STATUS_SERVICE = "GeefSociaalStatuut"


class Grant(BaseModel):
    """One line of the authorisation matrix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender: str
    capacity: str
    services: list[str]
    statuses: list[str] | None = None

    @field_validator("sender", "capacity", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        # YAML reads an unquoted capacity such as 188 as a number.
        return str(value) if isinstance(value, int | float) else value

    @field_validator("services")
    @classmethod
    def _known_services(cls, services: list[str]) -> list[str]:
        names: list[str] = []
        for name in services:
            if name == ANY:
                names.append(ANY)
                continue
            spec = canonical_service(name)
            if spec is None:
                raise ValueError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
            names.append(spec.name)
        return names

    @model_validator(mode="after")
    def _statuses_with_status_service(self) -> Grant:
        if (STATUS_SERVICE in self.services or ANY in self.services) and self.statuses is None:
            raise ValueError(
                f"a grant for {STATUS_SERVICE} must list its statuses (use ['*'] for all)"
            )
        return self

    def matches(self, sender: str, capacity: str) -> bool:
        return self.sender in (ANY, sender) and self.capacity in (ANY, capacity)

    def allows_service(self, service: str) -> bool:
        return ANY in self.services or service in self.services


@dataclass(frozen=True)
class AuthzDecision:
    allowed: bool
    reason: str


class Authorisations:
    """The authorisation matrix; ``None`` grants means everything is allowed (development)."""

    def __init__(self, grants: Sequence[Grant] | None) -> None:
        self.grants = None if grants is None else list(grants)

    @property
    def permissive(self) -> bool:
        return self.grants is None

    def check(
        self, sender: str, capacity: str, service: str, statuses: Sequence[str] = ()
    ) -> AuthzDecision:
        """Whether this sender, in this capacity, may ask this service (and these statuses)."""
        if self.grants is None:
            return AuthzDecision(True, "no authorisation matrix configured")
        mine = [g for g in self.grants if g.matches(sender, capacity)]
        if not mine:
            return AuthzDecision(False, "no grant for this sender and capacity")
        for_service = [g for g in mine if g.allows_service(service)]
        if not for_service:
            return AuthzDecision(False, f"capacity not authorised for {service}")
        if service == STATUS_SERVICE:
            allowed: set[str] = set()
            for grant in for_service:
                allowed.update(grant.statuses or ())
            refused = sorted(
                {s for s in statuses if s not in allowed} if ANY not in allowed else ()
            )
            if refused:
                shown = ", ".join(
                    s if _STATUS_NAME.fullmatch(s) else "<invalid name>" for s in refused
                )
                return AuthzDecision(False, f"capacity not authorised for status {shown}")
        return AuthzDecision(True, "authorised")
