"""Fault injection: make the simulated registries slow, flaky, broken or down, per service.

Per service (or ``default`` for every service without its own entry)::

    latency_ms: {distribution: lognormal, median: 80, sigma: 0.5}  # fixed, uniform, normal, …
    error_rate: 0.01        # SOAP Server fault, HTTP 500 (error_mode: fault) or 99994
    timeout_rate: 0.0       # hold the request timeout_hold_s seconds, then HTTP 504
    timeout_hold_s: 30
    malformed_rate: 0.0     # a reply that is broken XML or lacks elements (malformed_kinds)
    malformed_kinds: [truncated, missing_inhoud]
    overload_rate: 0.0      # 99996 "Te veel gelijktijdige bevragingen", no answers
    down: false             # out of service: HTTP 503 (down_mode: http503) or 60006 answers
    down_mode: http503

Every request to a service draws from its own random stream seeded with ``(seed, service,
request number)``, so a seeded run gives the same faults in the same order, whatever the other
services do. Without a seed the streams are seeded from the OS.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from entitle.registry.services import SERVICES, canonical_service

__all__ = [
    "FaultInjector",
    "FaultPlan",
    "FaultsConfig",
    "Latency",
    "ServiceFaults",
    "canonical_name",
]

MalformedKind = Literal["truncated", "missing_inhoud", "missing_antwoorden", "not_xml"]
Outcome = Literal["timeout", "error", "overload", "malformed"]


class Latency(BaseModel):
    """A latency distribution in milliseconds (never negative; ``max`` caps any draw)."""

    model_config = ConfigDict(extra="forbid")

    distribution: Literal["fixed", "uniform", "normal", "lognormal", "exponential"] = "fixed"
    value: float = Field(default=0.0, ge=0, description="fixed: the latency")
    min: float = Field(default=0.0, ge=0, description="uniform: lower bound")
    max: float | None = Field(default=None, ge=0, description="uniform: upper bound; others: a cap")
    mean: float = Field(default=0.0, ge=0, description="normal, exponential: the mean")
    stddev: float = Field(default=0.0, ge=0, description="normal: the standard deviation")
    median: float = Field(default=0.0, ge=0, description="lognormal: the median")
    sigma: float = Field(default=0.5, ge=0, description="lognormal: sigma of the underlying normal")

    @model_validator(mode="after")
    def _uniform_has_bounds(self) -> Latency:
        if self.distribution == "uniform" and (self.max is None or self.max < self.min):
            raise ValueError("uniform latency needs max >= min")
        return self

    def draw_ms(self, rng: random.Random) -> float:
        if self.distribution == "fixed":
            value = self.value
        elif self.distribution == "uniform":
            value = rng.uniform(self.min, self.max or self.min)
        elif self.distribution == "normal":
            value = rng.gauss(self.mean, self.stddev)
        elif self.distribution == "lognormal":
            value = self.median * math.exp(rng.gauss(0.0, self.sigma)) if self.median else 0.0
        else:
            value = rng.expovariate(1.0 / self.mean) if self.mean else 0.0
        value = max(0.0, value)
        return value if self.max is None or self.distribution == "uniform" else min(value, self.max)


class ServiceFaults(BaseModel):
    """The faults of one service."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: Latency = Field(default_factory=Latency)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_mode: Literal["fault", "uitzondering"] = "fault"
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_hold_s: float = Field(default=30.0, ge=0)
    malformed_rate: float = Field(default=0.0, ge=0, le=1)
    malformed_kinds: list[MalformedKind] = Field(
        default_factory=lambda: list[MalformedKind](("truncated", "missing_inhoud")), min_length=1
    )
    overload_rate: float = Field(default=0.0, ge=0, le=1)
    down: bool = False
    down_mode: Literal["http503", "60006"] = "http503"

    @model_validator(mode="after")
    def _rates_add_up(self) -> ServiceFaults:
        total = self.timeout_rate + self.error_rate + self.overload_rate + self.malformed_rate
        if total > 1 + 1e-9:
            raise ValueError(f"timeout, error, overload and malformed rates add up to {total} > 1")
        return self


def canonical_name(name: str) -> str:
    """The service's MAGDA name (``Context/Naam``) for a name or alias; ValueError if unknown."""
    spec = canonical_service(name)
    if spec is None:
        raise ValueError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    return spec.name


class FaultsConfig(BaseModel):
    """Fault injection for every service: a seed, defaults and per-service overrides."""

    model_config = ConfigDict(extra="forbid")

    seed: int | None = None
    default: ServiceFaults = Field(default_factory=ServiceFaults)
    services: dict[str, ServiceFaults] = Field(default_factory=dict)

    @field_validator("services", mode="before")
    @classmethod
    def _known_services(cls, services: object) -> object:
        if not isinstance(services, dict):
            return services
        return {canonical_name(str(name)): value for name, value in services.items()}

    def for_service(self, service: str) -> ServiceFaults:
        return self.services.get(service, self.default)


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one request: its latency, and at most one injected outcome."""

    latency_s: float
    outcome: Outcome | None = None
    malformed_kind: MalformedKind | None = None
    hold_s: float = 0.0
    error_mode: Literal["fault", "uitzondering"] = "fault"


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``patch``, nested dictionaries merged key by key."""
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class FaultInjector:
    """Holds the live fault configuration and decides, per request, what goes wrong."""

    config: FaultsConfig
    _seed: int

    def __init__(self, config: FaultsConfig) -> None:
        self.initial = config
        self._counters: dict[str, int] = {}
        self.replace(config)

    def replace(self, config: FaultsConfig) -> None:
        """A new configuration; request counters restart (so a seed replays from the start)."""
        self.config = config
        self._counters.clear()
        self._seed = config.seed if config.seed is not None else int.from_bytes(os.urandom(8))

    def patch(self, changes: dict[str, Any]) -> FaultsConfig:
        """Merge partial changes (``seed``, ``default``, ``services: {name: {...}}``) into the live
        configuration. A service entry starts from the current ``default`` when it has none yet.
        Raises pydantic's ValidationError on a bad value; the live configuration then stays."""
        current = self.config.model_dump()
        changes = dict(changes)
        services = changes.get("services") or {}
        if not isinstance(services, dict):
            raise ValueError("services must be an object {service: {...}}")
        changes["services"] = {canonical_name(str(k)): v for k, v in services.items()}
        for name in changes["services"]:
            current["services"].setdefault(name, current["default"])
        merged = FaultsConfig.model_validate(deep_merge(current, changes))
        if "seed" in changes:
            self.replace(merged)
        else:
            self.config = merged
        return merged

    def set_down(self, service: str, down: bool, mode: str | None = None) -> FaultsConfig:
        entry: dict[str, Any] = {"down": down}
        if mode is not None:
            entry["down_mode"] = mode
        return self.patch({"services": {service: entry}})

    def plan(self, service: str) -> FaultPlan:
        """Draw this request's latency and outcome (outages are checked by the caller first)."""
        faults = self.config.for_service(service)
        number = self._counters.get(service, 0)
        self._counters[service] = number + 1
        rng = random.Random(f"{self._seed}:{service}:{number}")  # nosec B311  # faults
        latency_s = faults.latency_ms.draw_ms(rng) / 1000.0
        draw = rng.random()
        kind = rng.choice(faults.malformed_kinds)
        outcomes: tuple[tuple[Outcome, float], ...] = (
            ("timeout", faults.timeout_rate),
            ("error", faults.error_rate),
            ("overload", faults.overload_rate),
            ("malformed", faults.malformed_rate),
        )
        for outcome, rate in outcomes:
            if draw < rate:
                return FaultPlan(
                    latency_s,
                    outcome,
                    kind if outcome == "malformed" else None,
                    faults.timeout_hold_s,
                    faults.error_mode,
                )
            draw -= rate
        return FaultPlan(latency_s)
