"""Settings of the web application, from the environment or given by tests.

``create_app(Settings(...))`` takes everything it needs from here: where the database is, where
MAGDA (or the registry simulator) answers, where the benefit files are, and optionally a fixed
clock. `Settings.from_env()` takes them from `entitle.settings` (the ``ENTITLE_*`` variables,
described there and in the operations guide).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from entitle.settings import CookiePolicy, magda_base_url
from entitle.settings import settings as entitle_settings


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
        given = entitle_settings(env)
        settings = cls(
            database_url=given.database_url,
            registry_url=magda_base_url(env),
            local=given.local,
            benefits=given.benefits,
            data_dir=given.data_dir,
            secure_cookies=given.secure_cookies,
            checks_per_minute=given.checks_per_minute,
            api_checks_per_minute=given.api_checks_per_minute,
            worker_threads=given.worker_threads,
            checks_per_hour=given.checks_per_hour,
            checks_per_day=given.checks_per_day,
            check_reason_required=given.check_reason_required,
            api_reads_per_minute=given.api_reads_per_minute,
            session_idle_seconds=60 * given.session_idle_minutes,
            max_body_bytes=given.max_body_bytes,
            login_free_failures=given.login_free_failures,
            login_free_failures_per_address=given.login_free_failures_per_address,
            alert_webhook=given.alert_webhook,
            alert_mail=given.alert_mail,
            smtp_host=given.smtp_host,
        )
        return replace(settings, **overrides)

    def now(self) -> datetime:
        """The current local time (or the fixed clock's)."""
        return self.clock() if self.clock is not None else datetime.now().astimezone()
