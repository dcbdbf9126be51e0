"""Where the weekly follow-up keeps things: its state folder and each week's output folder."""

from __future__ import annotations

import json
from pathlib import Path

from entitle.decide.campaign.context import CampaignContext

__all__ = ["stored_week", "watch_dir", "week_folder"]


def watch_dir(ctx: CampaignContext) -> Path:
    """The follow-up's state: ``<state>/watch/`` (the cursor, each week's decisions and reach)."""
    return ctx.state_dir / "watch"


def week_folder(ctx: CampaignContext, campaign: str, week: int) -> Path:
    """Where a week's letters, billing lists and notification file go:
    `<output>/<campaign>/week-NNNN/`."""
    return ctx.output_dir / campaign / f"week-{week:04d}"


def stored_week(ctx: CampaignContext) -> int:
    """The last week committed (its cursor moved); 0 before the first."""
    path = watch_dir(ctx) / "state.json"
    if not path.is_file():
        return 0
    try:
        return int(json.loads(path.read_text(encoding="utf-8")).get("week") or 0)
    except ValueError:
        return 0
