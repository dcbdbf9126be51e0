"""Issuing step: a run's billing lists, per school, the pupils with a social tariff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.sources import RegisterExtract, pupils_table, read_dataset
from entitle.decide.exports import BillingRow, write_billing_lists
from entitle.rules.periods import period_words
from entitle.sources.access import Pseudonymiser
from entitle.store.campaigns import RunView


def write_billing(
    ctx: CampaignContext,
    campaign: Campaign,
    run: RunView,
    decisions: Sequence[Any],
    extract: RegisterExtract,
    pseudonymise: Pseudonymiser,
    folder: Path,
) -> list[Path]:
    """The run's billing lists under `folder/billing/`, from the dataset the campaign's
    `outputs.billing_lists` names (written deterministically: issuing again writes the same)."""
    lists = campaign.spec.outputs.billing_lists
    assert lists
    dataset = read_dataset(ctx.local, ctx.registry_url(), lists.dataset)
    rows = billing_rows(campaign, run, decisions, dataset, extract, pseudonymise)
    stamp = datetime.combine(run.as_of, datetime.min.time())
    label = period_words(campaign.benefit.period(run.as_of), "nl")  # "schooljaar 2025-2026"
    return write_billing_lists(rows, folder / "billing", label=label, stamp=stamp)


def billing_rows(
    campaign: Campaign,
    run: RunView,
    decisions: Sequence[Any],
    dataset: pl.DataFrame,
    extract: RegisterExtract,
    pseudonymise: Pseudonymiser,
) -> list[BillingRow]:
    """Per school: the pupils with a social tariff, their class, category, the school year in
    words and validity; a partial decision's certain category, marked as a minimum (a better
    one may apply)."""
    period = period_words(campaign.benefit.period(run.as_of), "nl")
    band_name = campaign.spec.band or next(iter(campaign.benefit.outputs))
    eligible = {
        row.subject_pseudonym: (
            (row.outputs or {}).get(band_name),
            row.band,
            row.valid_until,
        )
        for row in decisions
        if row.outcome == "eligible"
    }
    rows = pupils_table(dataset, run.as_of)
    names = dict(
        zip(
            extract.persons["person_id"].to_list(),
            zip(
                extract.persons["last_name"].to_list(),
                extract.persons["first_name"].to_list(),
                strict=True,
            ),
            strict=True,
        )
    )
    out = []
    pseudonyms: dict[str, str] = {}
    for record in rows.iter_rows(named=True):
        person = str(record["person_id"])
        pseudonym = pseudonyms.get(person) or pseudonymise(person)
        pseudonyms[person] = pseudonym
        if pseudonym not in eligible:
            continue
        category, least, valid_until = eligible[pseudonym]
        if category is None and least is None:
            continue  # open, and no certain minimum: nothing to bill yet
        last, first = names.get(person, ("", ""))
        out.append(
            BillingRow(
                school_id=str(record.get("school_id") or ""),
                school_name=str(record.get("school_name") or ""),
                last_name=last or "",
                first_name=first or "",
                class_name=str(record.get("class") or ""),
                category=str(category if category is not None else least),
                valid_until=valid_until,
                minimum=category is None,
                period=period,
            )
        )
    return out
