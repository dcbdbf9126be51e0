"""One settings object for the MAGDA connector.

Sources, strongest first: keyword arguments, environment variables ``ENTITLE_MAGDA_*`` (nested
with ``__``, e.g. ``ENTITLE_MAGDA_RETRY__MAX_ATTEMPTS=5``; dicts as JSON, e.g.
``ENTITLE_MAGDA_CAPACITIES='{"social-benefit-uitpas": "ipdc2858"}'``), a TOML/YAML/JSON file
(`load_settings(path)` or ``ENTITLE_MAGDA_CONFIG_FILE``; its keys at the top or under ``magda``),
then the defaults below.

Endpoints: one POST URL per service, ``url_template`` filled with ``base_url``, ``service``
(``Context/Naam``, e.g. GeefPersoon), ``qualified`` (Persoon.GeefPersoon), ``domain``, ``version``
(02.02.0000) and ``short_version`` (02.02); ``endpoints`` overrides a service's URL outright.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from ruamel.yaml import YAML

from entitle.settings import SettingsError, settings
from entitle.sources.magda.errors import MagdaConfigError
from entitle.sources.magda.services import MAX_QUESTIONS, ServiceSpec, service_spec

__all__ = [
    "CONFIG_FILE_ENV",
    "BreakerSettings",
    "MagdaSettings",
    "RetrySettings",
    "SigningSettings",
    "TlsSettings",
    "load_settings",
]

CONFIG_FILE_ENV = "ENTITLE_MAGDA_CONFIG_FILE"
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("entitle_magda_config_file", default=None)


class RetrySettings(BaseModel):
    """Retries of transient failures only (99996, 60006, 9999x, time-outs, connection errors,
    HTTP 5xx/408/429): at most ``max_attempts`` sends in all; before attempt n+1 a delay of
    ``min(max_delay, base_delay * 2**(n-1))``, scaled by a random factor in [1 - jitter, 1]."""

    max_attempts: int = Field(default=3, ge=1, le=10)
    base_delay: float = Field(default=0.2, ge=0)
    max_delay: float = Field(default=5.0, ge=0)
    jitter: float = Field(default=0.5, ge=0, le=1)


class BreakerSettings(BaseModel):
    """A circuit breaker per service: ``failure_threshold`` consecutive transient failures open
    it; after ``reset_timeout`` seconds it lets ``half_open_max_calls`` trial requests through;
    a success closes it, a failure opens it again."""

    failure_threshold: int = Field(default=5, ge=1)
    reset_timeout: float = Field(default=30.0, ge=0)
    half_open_max_calls: int = Field(default=1, ge=1)


class TlsSettings(BaseModel):
    """Mutual TLS: the city's client certificate and key, and the CA that signed MAGDA's server
    certificate (the system's trust store when not given)."""

    cert_file: Path | None = None
    key_file: Path | None = None
    key_password: SecretStr | None = None
    ca_file: Path | None = None
    verify: bool = True


class SigningSettings(BaseModel):
    """XML-DSig signing of every request with the organisation's certificate (VO-DCBaaS).

    The key and certificate come either as PEM files (``key_file`` + ``cert_file``) or as one
    PKCS#12 file (``pkcs12_file``). A passphrase (of an encrypted PEM key or of the PKCS#12) comes
    from ``passphrase`` — the environment, ``ENTITLE_MAGDA_SIGNING__PASSPHRASE`` — or from
    ``passphrase_file``; never from the command line. ``enabled: false`` turns signing off: only
    for the registry simulator in development."""

    enabled: bool = True
    key_file: Path | None = None
    cert_file: Path | None = None
    pkcs12_file: Path | None = None
    passphrase: SecretStr | None = None
    passphrase_file: Path | None = None
    expiry_warning_days: int = Field(default=30, ge=0)


class MagdaSettings(BaseSettings):
    """Everything the MAGDA connector needs to reach MAGDA (or the registry simulator)."""

    model_config = SettingsConfigDict(
        env_prefix="ENTITLE_MAGDA_", env_nested_delimiter="__", extra="ignore"
    )

    base_url: str = "http://127.0.0.1:8089"
    url_template: str = "{base_url}/{service}/{version}"
    endpoints: dict[str, str] = Field(default_factory=dict)

    sender: str = "entitle.local"
    """``Afzender/Identificatie``: the city's MAGDA identification."""
    capacities: dict[str, str] = Field(default_factory=dict)
    """``Hoedanigheid`` per purpose (e.g. ``social-benefit-uitpas: ipdc2858``)."""
    default_capacity: str | None = None
    language: str = "nl"

    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    write_timeout: float = Field(default=10.0, gt=0)
    pool_timeout: float = Field(default=5.0, gt=0)
    max_concurrency: int = Field(default=4, ge=1)
    max_questions: int = Field(default=MAX_QUESTIONS, ge=1, le=MAX_QUESTIONS)

    retry: RetrySettings = Field(default_factory=RetrySettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    tls: TlsSettings = Field(default_factory=TlsSettings)
    signing: SigningSettings = Field(default_factory=SigningSettings)
    require_inscriptions: bool = False
    """Whether KSZ data needs the person inscribed in the KSZ directory (true for MAGDA; for the
    simulator only when it runs with ``--require-inscriptions``): campaign runs then check that
    their target is inscribed, and the desk offers to inscribe."""
    inscription_version: str = Field(default="02.00.0000", pattern=r"^02\.0[01]\.0000$")
    """The ``Repertorium.RegistreerInschrijving`` version to send (02.00.0000 or 02.01.0000)."""

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls))

    def endpoint(self, service: str | ServiceSpec) -> str:
        """The POST URL of a service."""
        spec = service if isinstance(service, ServiceSpec) else service_spec(service)
        for key in (spec.naam, spec.qualified):
            if key in self.endpoints:
                return self.endpoints[key]
        return self.url_template.format(
            base_url=self.base_url,
            service=spec.naam,
            qualified=spec.qualified,
            domain=spec.domain,
            version=spec.version,
            short_version=spec.short_version,
        )

    def capacity(self, purpose: str) -> str:
        """The ``Hoedanigheid`` to send for a purpose; `MagdaConfigError` when none is set."""
        value = self.capacities.get(purpose, self.default_capacity)
        if not value:
            raise MagdaConfigError(
                f"no MAGDA Hoedanigheid configured for purpose {purpose!r} "
                "(set capacities or default_capacity)"
            )
        return value


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MagdaConfigError(f"cannot read MAGDA settings file {path}: {exc.strerror}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        elif suffix in (".yaml", ".yml"):
            data = YAML(typ="safe").load(raw.decode("utf-8"))
        elif suffix == ".json":
            data = json.loads(raw)
        else:
            raise MagdaConfigError(f"MAGDA settings file {path}: use .toml, .yaml, .yml or .json")
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise MagdaConfigError(f"MAGDA settings file {path} cannot be read: {exc}") from None
    except Exception as exc:  # ruamel's YAML errors share no public base class
        if isinstance(exc, MagdaConfigError):
            raise
        raise MagdaConfigError(f"MAGDA settings file {path} cannot be read: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MagdaConfigError(f"MAGDA settings file {path} must hold a mapping")
    section = data.get("magda")
    if isinstance(section, dict):
        return dict(section)
    return dict(data)


class _FileSource(PydanticBaseSettingsSource):
    """Settings from the file named by `load_settings` or ``ENTITLE_MAGDA_CONFIG_FILE``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _CONFIG_FILE.get()
        if path is None:
            try:
                path = settings().magda_config_file  # CONFIG_FILE_ENV
            except SettingsError as exc:
                raise MagdaConfigError(str(exc)) from None
        return _read_config_file(path) if path is not None else {}


@contextmanager
def _config_file(path: Path | None) -> Iterator[None]:
    token = _CONFIG_FILE.set(path)
    try:
        yield
    finally:
        _CONFIG_FILE.reset(token)


def load_settings(path: str | Path | None = None, **overrides: Any) -> MagdaSettings:
    """Settings from ``overrides``, the environment, then the file ``path`` (or the one named by
    ``ENTITLE_MAGDA_CONFIG_FILE``), then the defaults."""
    with _config_file(Path(path) if path is not None else None):
        return MagdaSettings(**overrides)
