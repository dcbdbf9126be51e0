"""A week's billing lists (school tariff): only the pupils the week made newly eligible or gave
another tariff, per school, in the same format as a run's lists (`write_billing_lists`: one XLSX
and one CSV per school and a ZIP of all, nine columns with the period in words)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from entitle.decide.campaign.billing import billing_rows
from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.sources import RegisterExtract, read_dataset
from entitle.decide.exports import write_billing_lists
from entitle.rules.periods import period_words
from entitle.sources.access import Pseudonymiser
from entitle.store.campaigns import RunView

__all__ = ["BILLED_CHANGES", "WeekBilling", "week_billing"]

BILLED_CHANGES: Final = ("new", "changed")  # newly eligible, another tariff


@dataclass(frozen=True)
class WeekBilling:
    pupils: int = 0  # lines on the week's lists
    files: list[Path] = field(default_factory=list)


def week_billing(
    ctx: CampaignContext,
    campaign: Campaign,
    run: RunView,
    decisions: Sequence[Any],
    extract: RegisterExtract,
    pseudonymise: Pseudonymiser,
    folder: Path,
) -> WeekBilling:
    """Write the week's billing lists into ``folder/billing/`` when the campaign has billing
    lists and the week made a pupil newly eligible or changed a pupil's tariff; nothing else."""
    lists = campaign.spec.outputs.billing_lists
    billed = [d for d in decisions if d.change in BILLED_CHANGES and d.outcome == "eligible"]
    if not lists or not billed:
        return WeekBilling()
    dataset = read_dataset(ctx.local, ctx.registry_url(), lists.dataset)
    rows = billing_rows(campaign, run, billed, dataset, extract, pseudonymise)
    stamp = datetime.combine(run.as_of, datetime.min.time())
    label = period_words(campaign.benefit.period(run.as_of), "nl")  # "schooljaar 2025-2026"
    return WeekBilling(
        len(rows), write_billing_lists(rows, folder / "billing", label=label, stamp=stamp)
    )
