"""The campaigns' set-up in the web app (`CampaignSetup`: the campaign context, the
definitions read once, the runs being issued) and who may manage campaigns.

Where the campaigns are: `CampaignSetup.from_settings` reads ``ENTITLE_CAMPAIGNS`` (default
``campaigns``), ``ENTITLE_REGISTER_EXTRACT`` (default ``<data dir>/register``),
``ENTITLE_CAMPAIGN_OUTPUT`` (default ``<data dir>/campaigns``) like the ``entitle campaign``
command; the benefits, registry and database are the web app's own. A ground truth to measure
each run's reach against (the demo's synthetic city) is wired in by whoever builds the app.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import BackgroundTasks, Request

from entitle.decide.campaign import CampaignContext, issue_run
from entitle.decide.campaign.definition import Campaign, CampaignError, load_campaigns
from entitle.web.auth import Officer, PageError, require_officer
from entitle.web.i18n import LANGUAGES, Translator

if TYPE_CHECKING:
    from entitle.decide.campaign import ReachEvaluation
    from entitle.web.backend import Backend
    from entitle.web.settings import Settings

log = logging.getLogger(__name__)

CAMPAIGN_ROLES = frozenset({"campaign_manager", "administrator"})
# the notifications file names every recipient (register references, coupon codes): only the
# role that hands it to the city's sending channel downloads it
NOTIFICATION_ROLES = frozenset({"administrator"})


@dataclass
class CampaignSetup:
    """Where the campaigns are and how they run; one per application (`app.state.campaigns`)."""

    context: CampaignContext
    campaigns_dir: Path
    benefits_dir: Path
    _campaigns: dict[str, Campaign] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _issuing: set[int] = field(default_factory=set, repr=False)
    load_error: str | None = None
    warming: threading.Thread | None = field(default=None, repr=False)  # `warm_up`

    @classmethod
    def from_settings(
        cls, settings: Settings, backend: Backend, reach: ReachEvaluation | None = None
    ) -> CampaignSetup:
        """The web app's database, registry, benefits and clock; the rest, safeguards included,
        from the settings as `entitle campaign` reads them (`CampaignContext.from_settings`);
        `reach` measures each run against a ground truth."""
        from entitle.settings import settings as entitle_settings

        given = entitle_settings()
        context = CampaignContext.from_settings(
            given,
            backend.factory,
            state_dir=settings.data_dir,
            registry=settings.registry_url,
            local=settings.local,
            magda_overrides=settings.magda,
            reach=reach,
            today=lambda: settings.now().date(),
        )
        return cls(
            context=context,
            campaigns_dir=given.campaigns,
            benefits_dir=settings.benefits,
        )

    def campaigns(self) -> dict[str, Campaign]:
        """The campaign definitions, read once (a broken folder is said on the page)."""
        with self._lock:
            if self._campaigns is not None:
                return self._campaigns
            try:
                loaded = load_campaigns(self.campaigns_dir, self.benefits_dir)
            except CampaignError as exc:
                log.error("campaign definitions: %s", exc)
                self.load_error = str(exc)
                return {}
            self.load_error = None
            self._campaigns = {c.name: c for c in loaded}
            return self._campaigns

    def campaign(self, name: str) -> Campaign | None:
        return self.campaigns().get(name)

    def warm_up(self, templates: Any = None) -> threading.Thread:
        """Read the campaign definitions, compile the run page's templates and load the
        languages' number and date formats in a thread at start-up, so that a worker's first
        dashboard page does not wait for them (0.8 s and more)."""

        def work() -> None:
            self.campaigns()
            if templates is not None:
                for name in ("base.html", "campaign_chart.html", "campaign_run.html"):
                    templates.get_template(name)
            for language in LANGUAGES:  # babel reads a locale's data on first use
                t = Translator(language)
                t.day(date(2026, 1, 1))
                t.money(1.0)

        self.warming = threading.Thread(target=work, name="campaigns-warm-up", daemon=True)
        self.warming.start()
        return self.warming

    def issuing(self, run_id: int) -> bool:
        with self._lock:
            return run_id in self._issuing

    def start_issue(
        self, campaign: Campaign, run_id: int, actor: str, tasks: BackgroundTasks
    ) -> bool:
        """Issue the run after the response (letters take a while); False when this worker is
        issuing it already. `issue_run` is idempotent, so a second worker doing it is harmless."""
        with self._lock:
            if run_id in self._issuing:
                return False
            self._issuing.add(run_id)
        tasks.add_task(self._issue, campaign, run_id, actor)
        return True

    def _issue(self, campaign: Campaign, run_id: int, actor: str) -> None:
        try:
            issue_run(self.context, campaign, run_id, actor=actor)
        except Exception:  # the page offers to try again
            log.exception("issuing run %s of %s failed", run_id, campaign.name)
        finally:
            with self._lock:
                self._issuing.discard(run_id)


def campaign_setup(request: Request) -> CampaignSetup:
    setup: CampaignSetup = request.app.state.campaigns
    return setup


def can_manage(officer: Officer) -> bool:
    return officer.role in CAMPAIGN_ROLES


def require_manager(request: Request) -> Officer:
    officer = require_officer(request)
    if not can_manage(officer):
        raise PageError(403, "error.forbidden")
    return officer


def as_manager(officer: Officer) -> Officer:
    if not can_manage(officer):
        raise PageError(403, "error.forbidden")
    return officer
