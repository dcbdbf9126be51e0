"""Settings of the web application, from the environment or given by tests.

``create_app(Settings(...))`` takes everything it needs from here: where the database is, where
MAGDA (or the registry simulator) answers, where the benefit files are, and optionally a fixed
clock. `Settings.from_env()` reads the environment:

| variable | meaning | default |
|---|---|---|
| ``ENTITLE_DATABASE_URL`` | SQLAlchemy URL of the store | ``sqlite:///<data dir>/entitle.db`` |
| ``ENTITLE_MAGDA_BASE_URL`` | MAGDA or the simulator (every other ``ENTITLE_MAGDA_*`` too) | |
| ``ENTITLE_LOCAL`` | the city's datasets: a folder or URL | the registry URL's ``/local`` |
| ``ENTITLE_BENEFITS`` | folder of benefit files | ``./benefits`` |
| ``ENTITLE_DATA_DIR`` | state: pseudonym key, access log | the user's data folder |
| ``ENTITLE_SECURE_COOKIES`` | ``auto`` (Secure on https), ``true`` or ``false`` | ``auto`` |
| ``ENTITLE_CHECKS_PER_MINUTE`` | desk checks one officer may make per minute | 30 |
| ``ENTITLE_API_CHECKS_PER_MINUTE`` | API checks one client may make per minute | 600 |
| ``ENTITLE_WORKER_THREADS`` | blocking requests (checks) served at once per worker | 16 |
| ``ENTITLE_CHECKS_PER_HOUR`` | desk checks one officer may make per hour | 200 |
| ``ENTITLE_CHECKS_PER_DAY`` | desk checks one officer may make per day | 600 |
| ``ENTITLE_CHECK_REASON_REQUIRED`` | a check without the citizen present needs a reason | false |
| ``ENTITLE_API_READS_PER_MINUTE`` | stored decisions one API client may read per minute | 120 |
| ``ENTITLE_SESSION_IDLE_MINUTES`` | a session ends after this long without a request | 30 |
| ``ENTITLE_MAX_BODY_BYTES`` | largest request body (refused before sign-in) | 1000000 |
| ``ENTITLE_LOGIN_FREE_FAILURES`` | failed sign-ins per name before each attempt waits longer | 3 |
| ``ENTITLE_LOGIN_FREE_FAILURES_PER_ADDRESS`` | the same per client address | 10 |
| ``ENTITLE_ALERT_WEBHOOK`` | URL that gets each security alert as a JSON POST | |
| ``ENTITLE_ALERT_MAIL`` | address that gets each security alert by mail | |
| ``ENTITLE_SMTP_HOST`` | mail server for the alerts (``host`` or ``host:port``) | ``localhost`` |
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

CookiePolicy = Literal["auto", "always", "never"]


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{name}={raw!r} must be at least 1")
    return value


def _cookies(raw: str | None) -> CookiePolicy:
    value = (raw or "auto").strip().lower()
    if value in ("auto", ""):
        return "auto"
    if value in ("1", "true", "yes", "always"):
        return "always"
    if value in ("0", "false", "no", "never"):
        return "never"
    raise ValueError(f"ENTITLE_SECURE_COOKIES={raw!r}: use auto, true or false")


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ValueError(f"{name}={raw!r}: use true or false")


@dataclass(frozen=True)
class Settings:
    """What the web application needs; every field has a sensible default."""

    database_url: str | None = None  # None: the store's default (ENTITLE_DATABASE_URL or SQLite)
    registry_url: str | None = None  # None: MagdaSettings' own (ENTITLE_MAGDA_BASE_URL, file)
    magda: Mapping[str, Any] = field(default_factory=dict)  # more MagdaSettings overrides
    local: str | None = None  # the city's datasets: a folder or URL (None: registry's /local)
    benefits: Path = Path("benefits")
    data_dir: Path | None = None  # None: entitle.datadir.data_dir()
    secure_cookies: CookiePolicy = "auto"
    checks_per_minute: int = 30
    api_checks_per_minute: int = 600
    session_ttl_seconds: int = 8 * 3600
    migrate: bool = True  # bring the database schema up to date at start-up
    clock: Callable[[], datetime] | None = None  # a fixed clock for tests (local time)
    magda_concurrency: int = 64  # requests in flight to MAGDA across all checks of one worker
    worker_threads: int = 16  # checks (and other blocking work) running at once per worker
    token_cache_seconds: float = 10.0  # how long a worker trusts an API token it has checked
    checks_per_hour: int = 200  # curiosity limits per officer, besides checks_per_minute
    checks_per_day: int = 600
    check_reason_required: bool = False  # a check outside a citizen's visit needs a reason
    api_reads_per_minute: int = 120  # stored decisions one API client may read per minute
    session_idle_seconds: int = 30 * 60
    max_body_bytes: int = 1_000_000
    login_free_failures: int = 3  # then 1, 2, 4 … s between attempts (up to a minute)
    login_free_failures_per_address: int = 10  # then 1, 2, 4 … s (up to five minutes)
    alert_webhook: str | None = None
    alert_mail: str | None = None
    smtp_host: str = "localhost"
    # purposes whose benefits the desk checks without a click after another check (None: the
    # municipality's `desk_checks_automatically`)
    auto_check_purposes: tuple[str, ...] | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from the environment (see the module docstring), then `overrides`."""
        env = os.environ if env is None else env
        data_dir = env.get("ENTITLE_DATA_DIR")
        settings = cls(
            database_url=env.get("ENTITLE_DATABASE_URL") or None,
            registry_url=env.get("ENTITLE_MAGDA_BASE_URL") or None,
            local=env.get("ENTITLE_LOCAL") or None,
            benefits=Path(env.get("ENTITLE_BENEFITS") or "benefits"),
            data_dir=Path(data_dir) if data_dir else None,
            secure_cookies=_cookies(env.get("ENTITLE_SECURE_COOKIES")),
            checks_per_minute=_int(env, "ENTITLE_CHECKS_PER_MINUTE", 30),
            api_checks_per_minute=_int(env, "ENTITLE_API_CHECKS_PER_MINUTE", 600),
            worker_threads=_int(env, "ENTITLE_WORKER_THREADS", 16),
            checks_per_hour=_int(env, "ENTITLE_CHECKS_PER_HOUR", 200),
            checks_per_day=_int(env, "ENTITLE_CHECKS_PER_DAY", 600),
            check_reason_required=_flag(env, "ENTITLE_CHECK_REASON_REQUIRED"),
            api_reads_per_minute=_int(env, "ENTITLE_API_READS_PER_MINUTE", 120),
            session_idle_seconds=60 * _int(env, "ENTITLE_SESSION_IDLE_MINUTES", 30),
            max_body_bytes=_int(env, "ENTITLE_MAX_BODY_BYTES", 1_000_000),
            login_free_failures=_int(env, "ENTITLE_LOGIN_FREE_FAILURES", 3),
            login_free_failures_per_address=_int(
                env, "ENTITLE_LOGIN_FREE_FAILURES_PER_ADDRESS", 10
            ),
            alert_webhook=env.get("ENTITLE_ALERT_WEBHOOK") or None,
            alert_mail=env.get("ENTITLE_ALERT_MAIL") or None,
            smtp_host=env.get("ENTITLE_SMTP_HOST") or "localhost",
        )
        return replace(settings, **overrides)

    def now(self) -> datetime:
        """The current local time (or the fixed clock's)."""
        return self.clock() if self.clock is not None else datetime.now().astimezone()
