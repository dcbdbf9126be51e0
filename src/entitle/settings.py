"""Every ``ENTITLE_*`` setting in one typed model: the one module that reads the environment.

`settings()` reads the environment on every call (the model is rebuilt only when an ``ENTITLE_*``
variable changed, so a test's ``monkeypatch.setenv`` takes effect at once and nothing needs a
reset); `settings(env)` reads a given mapping instead. A variable is
``ENTITLE_<FIELD>`` (``ENTITLE_CAMPAIGN_OUTPUT`` is ``campaign_output``); an empty one counts as
unset. Two groups keep models of their own, reached from here: the MAGDA connector
(``ENTITLE_MAGDA_*`` and its file, `EntitleSettings.magda`) and the retention periods
(``ENTITLE_RETENTION_*``, `RetentionPolicy`). The operations guide's table of settings is checked
against this model (tests/test_settings.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources import EnvSettingsSource

if TYPE_CHECKING:
    from entitle.sources.magda.settings import MagdaSettings

PREFIX = "ENTITLE_"
CookiePolicy = Literal["auto", "always", "never"]
_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("entitle_env", default=None)
_SECRET = {"password"}  # never echoed in an error


class SettingsError(ValueError):
    """A setting that cannot be read; the message names the variable."""


def env_name(field: str) -> str:
    """The variable of a field of `EntitleSettings` (KeyError for an unknown one)."""
    if field not in EntitleSettings.model_fields:
        raise KeyError(field)
    return PREFIX + field.upper()


class _Environment(PydanticBaseSettingsSource):
    """The environment, or the mapping `settings(env)` was given."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._env = EnvSettingsSource(settings_cls)
        # names in capitals only, as the rest of the system spells them
        self._env.env_vars = {k.lower(): v for k, v in _entitle_variables(_ENVIRONMENT.get())}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._env.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        return self._env()


def _entitle_variables(env: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    """The set ``ENTITLE_*`` variables of `env` (default: the environment), sorted."""
    source = os.environ if env is None else env
    return tuple(sorted((k, v) for k, v in source.items() if k.startswith(PREFIX) and v != ""))


class RetentionPolicy(BaseSettings):
    """How long each kind of record is kept, in days (``ENTITLE_RETENTION_<NAME>``)."""

    model_config = SettingsConfigDict(env_prefix="ENTITLE_RETENTION_", extra="ignore")

    decisions: int = Field(default=730, ge=1, description="desk decisions, from the check")
    overrides: int = Field(default=365, ge=0, description="overrides, after their validity ended")
    audit: int = Field(default=3650, ge=30, description="audit log entries")
    access_log: int = Field(default=3650, ge=30, description="registry access log, by month")
    campaigns: int = Field(
        default=730, ge=30, description="per-subject data of older campaign runs"
    )
    rate_events: int = Field(default=2, ge=1, description="rate-limit counters")


def _count(default: int, description: str, *, least: int = 1) -> Any:
    return Field(default=default, ge=least, description=description)


def _unset(description: str) -> Any:
    return Field(default=None, description=description)


class EntitleSettings(BaseSettings):
    """Entitle's settings (``ENTITLE_<FIELD>``); every field has a default."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    # where things are
    data_dir: Path | None = Field(
        default=None,
        description="the data folder: keys, access log, default database, campaign output",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database (default: SQLite in the data folder)",
    )
    benefits: Path = Field(default=Path("benefits"), description="folder of benefit files")
    campaigns: Path = Field(default=Path("campaigns"), description="folder of campaign files")
    municipality: str | None = Field(
        default=None,
        description="which municipality (default ghent): its benefits and campaigns folders",
    )
    municipalities: Path | None = _unset(
        "folder of municipality definitions (default ./municipalities)"
    )
    local: str | None = Field(
        default=None,
        description="the city's own datasets: a folder or URL (default: MAGDA URL's /local)",
    )
    magda_config_file: Path | None = Field(
        default=None,
        description="a TOML, YAML or JSON file with the MAGDA settings (ENTITLE_MAGDA_*)",
    )
    # campaigns
    register_extract: Path | None = Field(
        default=None,
        description="the register extract campaigns read (default <data folder>/register)",
    )
    campaign_output: Path | None = Field(
        default=None,
        description="where letters and billing lists go (default <data folder>/campaigns)",
    )
    campaign_workers: int = Field(default=1, ge=1, le=16, description="processes deciding chunks")
    campaign_max_failure_share: float = Field(
        default=0.05,
        ge=0,
        description="share of a chunk's subjects pending on errors that stops a run",
    )
    campaign_max_population_change: float = Field(
        default=0.02, ge=0, description="rise or drop of the target population that stops a run"
    )
    campaign_probe_insz: str | None = _unset(
        "the test person a run's pre-flight asks each purpose about"
    )
    campaign_bytes_per_letter: int = Field(
        default=16 * 1024, ge=0, description="free disk a run needs per subject (plus 1 MiB)"
    )
    campaign_metrics: Path | None = _unset("a Prometheus textfile each campaign attempt updates")
    campaign_today: date | None = _unset(
        "the day campaign commands take as today (rehearsals, tests): a run is approved and "
        "issued only while its decisions hold on that day"
    )
    # who is at the command line
    user: str | None = _unset("the account `--as` names on the command line")
    password: SecretStr | None = _unset("that account's password (else a hidden prompt)")
    audit_checkpoint_key: Path | None = Field(
        default=None,
        description="the key audit checkpoints are signed with (default in the data folder)",
    )
    truth: Path | None = Field(
        default=None,
        description="the demo's dashboard: a synthetic city's truth (never in production)",
    )
    # the web application
    secure_cookies: CookiePolicy = Field(
        default="auto", description="Secure cookies: auto (on HTTPS), true or false"
    )
    checks_per_minute: int = _count(30, "desk checks one officer may make per minute")
    checks_per_hour: int = _count(200, "desk checks one officer may make per hour")
    checks_per_day: int = _count(600, "desk checks one officer may make per day")
    check_reason_required: bool = Field(
        default=False, description="a check without the citizen present needs a reason"
    )
    api_checks_per_minute: int = _count(600, "API checks one client may make per minute")
    api_reads_per_minute: int = _count(120, "stored decisions one API client may read per minute")
    worker_threads: int = _count(16, "checks served at once per worker process")
    session_idle_minutes: int = _count(30, "a session ends after this long without a request")
    max_body_bytes: int = _count(1_000_000, "largest request body (refused before sign-in)")
    login_free_failures: int = _count(
        3, "failed sign-ins per name before each attempt waits longer"
    )
    login_free_failures_per_address: int = _count(10, "the same per client address")
    alert_webhook: str | None = _unset("URL that gets each security alert as a JSON POST")
    alert_mail: str | None = _unset("address that gets each security alert")
    smtp_host: str = Field(
        default="localhost", description="mail server for alerts (host or host:port)"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _Environment(settings_cls))

    @field_validator("municipality", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("secure_cookies", mode="before")
    @classmethod
    def _cookies(cls, value: Any) -> Any:
        word = str(value).strip().lower()
        for policy, words in (("auto", ("auto",)), ("always", ("1", "true", "yes", "always"))):
            if word in words:
                return policy
        if word in ("0", "false", "no", "never"):
            return "never"
        raise ValueError("use auto, true or false")

    def is_set(self, field: str) -> bool:
        """Whether `field`'s variable is set (else the default applies)."""
        return field in self.model_fields_set

    def data_folder(self) -> Path:
        """Where Entitle keeps its state: `data_dir`, else ``$XDG_DATA_HOME/entitle``, else
        ``~/.local/share/entitle``."""
        if self.data_dir is not None:
            return self.data_dir
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "entitle"

    def register_folder(self, state: Path | None = None) -> Path:
        """The register extract: `register_extract`, else ``<state>/register``."""
        return self.register_extract or (state or self.data_folder()) / "register"

    def output_folder(self, state: Path | None = None) -> Path:
        """Campaign output: `campaign_output`, else ``<state>/campaigns``."""
        return self.campaign_output or (state or self.data_folder()) / "campaigns"

    def magda(self, path: str | Path | None = None, **overrides: Any) -> MagdaSettings:
        """The MAGDA connector's settings (``ENTITLE_MAGDA_*``, the file `path` or
        `magda_config_file`)."""
        from entitle.sources.magda.settings import load_settings

        return load_settings(path or self.magda_config_file, **overrides)


@contextmanager
def _reading(env: Mapping[str, str] | None) -> Iterator[None]:
    token = _ENVIRONMENT.set(env)
    try:
        yield
    finally:
        _ENVIRONMENT.reset(token)


_LAST: dict[tuple[tuple[str, str], ...], EntitleSettings] = {}  # building one takes ms


def settings(env: Mapping[str, str] | None = None) -> EntitleSettings:
    """The settings from the environment (or `env`), read now (the last reading is reused while
    the variables are the same); `SettingsError` names a bad variable."""
    key = _entitle_variables(env)
    known = _LAST.get(key)
    if known is not None:
        return known
    try:
        with _reading(dict(key)):
            read = EntitleSettings()
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None
    _LAST.clear()
    _LAST[key] = read
    return read


def magda_base_url(env: Mapping[str, str] | None = None) -> str | None:
    """``ENTITLE_MAGDA_BASE_URL`` as set, for a caller that passes it on (None: unset, the MAGDA
    settings then apply their own file and default)."""
    return dict(_entitle_variables(env)).get("ENTITLE_MAGDA_BASE_URL")


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        shown = "" if field in _SECRET else f"={error.get('input')!r}"
        problems.append(f"{PREFIX}{field.upper()}{shown}: {error['msg']}")
    return "; ".join(problems)


def export(values: Mapping[str, object | None], *, keep_set: bool = False) -> None:
    """Set variables for this process and the processes it starts (`entitle serve`'s workers);
    None leaves a variable as it is, `keep_set` leaves one that is already set."""
    for name, value in values.items():
        if value is not None and not (keep_set and name in os.environ):
            os.environ[name] = str(value)


def child_environment(**entitle: str) -> dict[str, str]:
    """This process's environment without any ``ENTITLE_*`` variable, plus `entitle`: for a
    process that must not inherit this one's settings (the demo's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(entitle)
    return env
