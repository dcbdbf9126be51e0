"""The weekly follow-up's figures for the dashboard: per week, what changed and what was sent,
and the days from registry change to letter."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from typing import Any

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.follow_up.batches import list_batches
from entitle.decide.follow_up.folders import watch_dir

__all__ = ["days_figures", "weeks_of"]


def days_figures(days: Sequence[int]) -> dict[str, float | None]:
    """Median and 95th percentile (nearest rank) of days from registry change to letter."""
    if not days:
        return {"median": None, "p95": None, "count": 0}
    ordered = sorted(days)
    rank = max(0, -(-95 * len(ordered) // 100) - 1)
    return {"median": statistics.median(ordered), "p95": ordered[rank], "count": len(ordered)}


def weeks_of(ctx: CampaignContext, campaign: str) -> list[dict[str, Any]]:
    """The campaign's weeks, oldest first, for the dashboard: the week's new, changed and ended
    subjects, its batch (its run, status, letters, notification records, billing-list lines,
    what happened) and the days from registry change to letter (one per letter: no one
    named)."""
    batches = {int(b["week"]): b for b in list_batches(ctx, campaign)}
    out = []
    for path in sorted(watch_dir(ctx).glob("week-[0-9][0-9][0-9][0-9]/summary.json")):
        summary = json.loads(path.read_text(encoding="utf-8"))
        figures = summary.get("campaigns", {}).get(campaign)
        if figures is None:
            continue
        batch = batches.get(int(summary["week"]), {})
        out.append(
            {
                "week": int(summary["week"]),
                "as_of": summary["as_of"],
                **{c: int(figures.get(c, 0)) for c in ("new", "changed", "ended")},
                "pending": int(figures.get("pending", 0)),
                "run": batch.get("run"),
                "status": batch.get("status", "baseline"),
                "letters": dict(batch.get("letters") or {}),
                "notifications": int(batch.get("notifications") or 0),
                "billing": int(batch.get("billing") or 0),
                "history": list(batch.get("history") or []),
                "days": list(batch.get("days") or []),
            }
        )
    return out
