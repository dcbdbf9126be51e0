"""A campaign's target in the KSZ directory: is it inscribed (the preflight check
`preflight_inscriptions` a run makes before it fetches anything), and the sync that inscribes it
for the campaign's period and capacity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.run import load_target
from entitle.decide.campaign.sources import Target
from entitle.decide.inscriptions import (
    InscriptionLedger,
    SyncPlan,
    SyncResult,
    not_inscribed,
    sync_inscriptions,
)
from entitle.sources.magda import MagdaClient, MagdaConfigError, MagdaSettings, load_settings

__all__ = [
    "InscriptionGap",
    "campaign_period",
    "inscription_gap",
    "ledger_of",
    "magda_settings",
    "preflight_inscriptions",
    "sync_campaign",
]


def ledger_of(ctx: CampaignContext) -> InscriptionLedger:
    """The inscription ledger: the ``inscriptions`` table of the campaign's store."""
    return InscriptionLedger(ctx.factory)


def magda_settings(ctx: CampaignContext) -> MagdaSettings:
    overrides = dict(ctx.magda_overrides)
    if ctx.registry:
        overrides["base_url"] = ctx.registry
    return load_settings(**overrides)


def campaign_period(campaign: Campaign, as_of: date) -> tuple[date, date]:
    """The period a run on `as_of` needs KSZ data for: as-of date to the decision's validity."""
    return as_of, campaign.benefit.valid_until(as_of)


def _target_persons(
    ctx: CampaignContext, campaign: Campaign, as_of: date, target: Target | None = None
) -> list[str]:
    """Every member of the target's households (their KSZ facts decide)."""
    if target is None:
        _, target = load_target(ctx, campaign, as_of, None)
    return [str(i) for i in target.persons["person_id"].to_list()]


@dataclass(frozen=True)
class InscriptionGap:
    """How many target persons are not inscribed (0 when inscriptions are not required)."""

    required: bool
    persons: int
    not_inscribed: int
    capacity: str | None

    @property
    def message(self) -> str:
        return (
            f"{self.not_inscribed:,} of {self.persons:,} persons of the target are not inscribed "
            f"in the KSZ directory for capacity {self.capacity}: their KSZ facts will be "
            "undetermined (not inscribed); run `entitle inscriptions sync` first, or set "
            "inscriptions.sync_first in the campaign file"
        )


def inscription_gap(
    ctx: CampaignContext, campaign: Campaign, as_of: date, target: Target | None = None
) -> InscriptionGap:
    """The pre-check before a run: the target persons Entitle holds no inscription for on
    `as_of`, for the benefit's purpose and capacity. Counts only."""
    settings = magda_settings(ctx)
    if not settings.require_inscriptions:
        return InscriptionGap(False, 0, 0, None)
    purpose = campaign.benefit.purpose
    capacity = settings.capacity(purpose)
    persons = _target_persons(ctx, campaign, as_of, target)
    missing = not_inscribed(
        ledger_of(ctx), purpose=purpose, capacity=capacity, insz=persons, on=as_of
    )
    return InscriptionGap(True, len(persons), len(missing), capacity)


def sync_campaign(
    ctx: CampaignContext,
    campaign: Campaign,
    as_of: date,
    *,
    today: date,
    batch_size: int = 200,
    on_plan: Callable[[SyncPlan], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    persons: Sequence[str] | None = None,
) -> SyncResult:
    """Inscribe the campaign's target (or `persons`, its members when known) for its period and
    capacity; extend, deregister leavers."""
    start, end = campaign_period(campaign, as_of)
    if persons is None:
        persons = _target_persons(ctx, campaign, as_of)
    with MagdaClient(magda_settings(ctx)) as client:
        return sync_inscriptions(
            client,
            ledger_of(ctx),
            purpose=campaign.benefit.purpose,
            wanted=persons,
            start=start,
            end=end,
            today=today,
            batch_size=batch_size,
            on_plan=on_plan,
            on_progress=on_progress,
        )


def preflight_inscriptions(
    ctx: CampaignContext, campaign: Campaign, as_of: date, target: Target
) -> str | None:
    """The preflight check (when the MAGDA settings require inscriptions): every target person
    is inscribed for the benefit's capacity on `as_of` — after a sync first when the campaign
    file says ``inscriptions: {sync_first: true}``. Otherwise the line saying how many are not
    (the run stops before it fetches anything, instead of deciding them undetermined)."""
    if not magda_settings(ctx).require_inscriptions:
        return None
    if campaign.spec.inscriptions.sync_first:
        persons = _target_persons(ctx, campaign, as_of, target)
        try:
            result = sync_campaign(ctx, campaign, as_of, today=ctx.today(), persons=persons)
        except MagdaConfigError as exc:
            return f"the inscription sync (sync_first) failed: {exc}"
        if result.failed:
            failed = ", ".join(f"{kind} {n:,}" for kind, n in sorted(result.failed.items()))
            return f"the inscription sync (sync_first) did not inscribe everyone: {failed}"
    gap = inscription_gap(ctx, campaign, as_of, target)
    return gap.message if gap.not_inscribed else None
