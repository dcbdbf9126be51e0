"""The campaign pages mounted on the application, in one call (`install`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from entitle.web.campaigns import coupons, downloads, overview, review, runs, weeks, whatif
from entitle.web.campaigns.setup import CampaignSetup

if TYPE_CHECKING:
    from fastapi import FastAPI

    from entitle.decide.campaign import ReachEvaluation
    from entitle.web.backend import Backend
    from entitle.web.settings import Settings


def install(
    app: FastAPI, settings: Settings, backend: Backend, reach: ReachEvaluation | None = None
) -> None:
    """Add the campaign and coupon pages and the coupon API to the application (`reach`: see
    `CampaignSetup.from_settings`)."""
    app.state.campaigns = CampaignSetup.from_settings(settings, backend, reach)
    for module in (overview, runs, review, downloads, whatif, weeks, coupons):
        app.include_router(module.router)
    # documented in its own OpenAPI document (/api/v1/coupons/openapi.json), for shops
    app.include_router(coupons.api_router, include_in_schema=False)
