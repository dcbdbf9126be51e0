"""Where a campaign reads, fetches, stores and writes: `CampaignContext`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from entitle.decide.campaign.definition import CampaignError
from entitle.decide.campaign.sources import (
    CachingPseudonymiser,
    FactSource,
    GatewaySource,
)
from entitle.decide.coupons import coupon_key
from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.sources.access import JsonlAccessLog, Pseudonymiser
from entitle.store import audit

if TYPE_CHECKING:
    from entitle.decide.campaign.definition import Campaign, Target
    from entitle.rules.model import Benefit
    from entitle.settings import EntitleSettings


class ReachEvaluation(Protocol):
    """Measures a finished run against a ground truth the product does not have (a synthetic
    city's: `entitle.registry.reach.GroundTruth`, wired in by the demo, the benchmarks and the
    tests; never in production). It gets the run's outcome per subject pseudonym and returns the
    figures stored as the summary's `reach`."""

    def __call__(
        self,
        benefit: Benefit,
        target: Target,
        as_of: date,
        decided: Mapping[str, str],
        pseudonymise: Callable[[str], str],
        /,
    ) -> dict[str, Any]: ...


@dataclass
class CampaignContext:
    """Where a campaign reads, fetches, stores and writes. `from_env` fills it from settings."""

    factory: sessionmaker[Session]
    register: Path  # the register extract: persons.parquet + households.parquet
    state_dir: Path  # keys: pseudonym.key, coupon.key; the access log
    output_dir: Path  # letters and lists: <output_dir>/<campaign>/run-<id>/
    registry: str | None = None  # MAGDA / simulator URL (default: the MAGDA settings')
    local: str | None = None  # local datasets: folder or URL (default: the registry's /local)
    magda_overrides: dict[str, Any] = field(default_factory=dict)
    source: FactSource | None = None  # injected fact source (tests, offline); else the gateway
    reach: ReachEvaluation | None = None  # a ground truth to measure each run's reach against
    today: Callable[[], date] = date.today
    max_failure_share: float = 0.05  # our failures in a chunk above this share pause the run
    max_population_change: float = 0.02  # target size vs the last approved run: else stop
    probe_insz: str | None = None  # the preflight's test person (default: the first household)
    bytes_per_letter: int = 16 * 1024  # room the preflight wants per subject in the output
    metrics_file: Path | None = None  # a Prometheus textfile with each campaign's last run

    def pseudonymiser(self) -> Pseudonymiser:
        path = self.state_dir / "pseudonym.key"
        Pseudonymiser.from_key_file(path)  # creates the key when absent
        return CachingPseudonymiser(bytes.fromhex(path.read_text(encoding="utf-8").strip()))

    @property
    def catalogue(self) -> Catalogue:
        """The facts' catalogue the campaigns decide with (the pages name facts by it)."""
        return default_catalogue()

    def coupon_key(self) -> bytes:
        return coupon_key(self.state_dir / "coupon.key")

    def registry_url(self) -> str:
        from entitle.sources.magda.settings import load_settings

        overrides = dict(self.magda_overrides)
        if self.registry:
            overrides["base_url"] = self.registry
        return load_settings(**overrides).base_url

    def fact_source(self) -> FactSource:
        if self.source is not None:
            return self.source
        from entitle.decide.wiring import local_source
        from entitle.sources.magda.settings import load_settings

        overrides = dict(self.magda_overrides)
        if self.registry:
            overrides["base_url"] = self.registry
        settings = load_settings(**overrides)
        return GatewaySource(
            settings=settings,
            local=local_source(self.local, settings.base_url),
            log=JsonlAccessLog(self.state_dir / "access.jsonl"),
            pseudonymise=self.pseudonymiser(),
        )

    def close_source(self, source: FactSource) -> None:
        if source is not self.source:
            source.close()

    @classmethod
    def from_settings(
        cls,
        given: EntitleSettings,
        factory: sessionmaker[Session],
        *,
        state_dir: Path | None = None,
        register: Path | None = None,
        output_dir: Path | None = None,
        registry: str | None = None,
        local: str | None = None,
        magda_overrides: Mapping[str, Any] | None = None,
        reach: ReachEvaluation | None = None,
        today: Callable[[], date] | None = None,
    ) -> CampaignContext:
        """The context on `factory`'s database, the rest from the settings `given` unless
        passed: the state folder (`data_folder`), the register extract (`register_folder`), the
        output folder (`output_folder`), the run safeguards and the day taken as today
        (`campaign_today`, else the system's date) — the same for the command line and the
        dashboard. `registry`, `local`, `magda_overrides` and `reach` are taken as given."""
        state = state_dir or given.data_folder()
        return cls(
            factory=factory,
            register=register or given.register_folder(state),
            state_dir=state,
            output_dir=output_dir or given.output_folder(state),
            registry=registry,
            local=local,
            magda_overrides=dict(magda_overrides or {}),
            reach=reach,
            today=today or _today(given.campaign_today),
            max_failure_share=given.campaign_max_failure_share,
            max_population_change=given.campaign_max_population_change,
            probe_insz=given.campaign_probe_insz,
            bytes_per_letter=given.campaign_bytes_per_letter,
            metrics_file=given.campaign_metrics,
        )

    @classmethod
    def from_env(
        cls,
        *,
        database_url: str | None = None,
        register: Path | None = None,
        registry: str | None = None,
        local: str | None = None,
        output_dir: Path | None = None,
    ) -> CampaignContext:
        """From the environment: ENTITLE_DATABASE_URL, ENTITLE_DATA_DIR, ENTITLE_REGISTER_EXTRACT
        (default <data_dir>/register), ENTITLE_MAGDA_* (registry), ENTITLE_LOCAL,
        ENTITLE_CAMPAIGN_OUTPUT (default <data_dir>/campaigns); the safeguards:
        ENTITLE_CAMPAIGN_MAX_FAILURE_SHARE (0.05), ENTITLE_CAMPAIGN_MAX_POPULATION_CHANGE (0.02),
        ENTITLE_CAMPAIGN_PROBE_INSZ, ENTITLE_CAMPAIGN_BYTES_PER_LETTER and
        ENTITLE_CAMPAIGN_METRICS (a Prometheus textfile); ENTITLE_CAMPAIGN_TODAY (YYYY-MM-DD):
        the day the commands take as today (default the system's date), for rehearsals and
        tests — a run is approved and issued only while its decisions hold on that day."""
        from entitle.settings import SettingsError, settings
        from entitle.store.db import make_engine, session_factory

        try:
            given = settings()
        except SettingsError as exc:
            raise SettingError(str(exc)) from None
        return cls.from_settings(
            given,
            session_factory(make_engine(database_url)),
            register=register,
            output_dir=output_dir,
            registry=registry,
            local=local or given.local,
        )


class SettingError(CampaignError):
    """A campaign setting in the environment that cannot be read."""


def _today(day: date | None) -> Callable[[], date]:
    """Today: the system's date, or the fixed day of ENTITLE_CAMPAIGN_TODAY."""
    if day is None:
        return date.today
    return lambda: day


def audit_run(
    session: Session,
    campaign: Campaign,
    run_id: int,
    *,
    actor: str,
    outcome: str,
    kind: str = "admin",
    now: datetime | None = None,
    **details: Any,
) -> None:
    """One audit entry about a campaign run (under the benefit's purpose; no subject): its
    start, draft, verdicts, issue or abandonment, with small details — never personal data."""
    audit.append(
        session,
        kind=kind,
        actor=actor,
        purpose=campaign.benefit.purpose,
        subject=None,
        outcome=outcome,
        details={"campaign": campaign.name, "run": run_id, **details},
        now=now,
    )
