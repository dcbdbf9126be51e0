"""A run's decisions, one row per subject, for operators and auditors comparing runs.

Pseudonymised: a subject is its pseudonym. Only for a role that may see INSZ, and when asked,
a `subject_id` column adds the INSZ (or household id) from the register extract. Never an
income, an allowance or a condition value: outcome, change, band, validity and why facts were
missing (whose fault, and the code). Every export is audited.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from entitle.decide.atomic import atomic_file
from entitle.decide.campaign.context import CampaignContext, audit_run
from entitle.decide.campaign.definition import Campaign, CampaignError
from entitle.decide.campaign.sources import RegisterExtract
from entitle.decide.reasons import reasons_of
from entitle.store import campaigns as store

FORMATS = ("csv", "parquet")


def decisions_table(
    ctx: CampaignContext, campaign: Campaign, run_id: int, *, with_insz: bool = False
) -> pl.DataFrame:
    """The run's decisions as a table, in storage order."""
    with ctx.factory() as session:
        run = store.get_run(session, run_id)
        if run is None or run.campaign != campaign.name:
            raise CampaignError(f"no run {run_id} of campaign {campaign.name}")
        rows = store.decision_rows(session, run_id)
    records = []
    for row in rows:
        reasons = reasons_of(row.reasons)
        records.append(
            {
                "run": run_id,
                "subject": row.subject_pseudonym,
                "outcome": row.outcome,
                "change": row.change,
                "band": row.band,
                "previous_band": row.previous_band,
                "valid_until": row.valid_until,
                "facts_missing": ";".join(row.facts_missing or []),
                "ours": ";".join(f"{f}:{w.label()}" for f, w in reasons.items() if w.ours),
                "citizen": ";".join(f"{f}:{w.label()}" for f, w in reasons.items() if not w.ours),
            }
        )
    schema = {
        "run": pl.Int64(),
        "subject": pl.String(),
        "outcome": pl.String(),
        "change": pl.String(),
        "band": pl.String(),
        "previous_band": pl.String(),
        "valid_until": pl.Date(),
        "facts_missing": pl.String(),
        "ours": pl.String(),
        "citizen": pl.String(),
    }
    table = pl.DataFrame(records, schema=schema, orient="row")
    if with_insz:
        table = table.join(_identities(ctx), on="subject", how="left", maintain_order="left")
    return table


def _identities(ctx: CampaignContext) -> pl.DataFrame:
    """Pseudonym → person or household id, for everyone in the register extract."""
    extract = RegisterExtract.load(ctx.register)
    pseudonymise = ctx.pseudonymiser()
    ids = list(
        dict.fromkeys(
            extract.persons["person_id"].to_list() + extract.households["household_id"].to_list()
        )
    )
    return pl.DataFrame(
        {"subject": [pseudonymise(i) for i in ids], "subject_id": ids},
        schema={"subject": pl.String(), "subject_id": pl.String()},
    ).unique("subject", keep="first", maintain_order=True)


def export_run(
    ctx: CampaignContext,
    campaign: Campaign,
    run_id: int,
    *,
    fmt: str,
    actor: str,
    path: Path | None = None,
    with_insz: bool = False,
) -> tuple[Path, int]:
    """Write the run's decisions (CSV or Parquet, whole or not at all) and audit it: (file,
    rows). Default file: `<output>/<campaign>/run-<id>/decisions.<fmt>`."""
    if fmt not in FORMATS:
        raise CampaignError(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
    table = decisions_table(ctx, campaign, run_id, with_insz=with_insz)
    target = path or ctx.output_dir / campaign.name / f"run-{run_id}" / f"decisions.{fmt}"
    with atomic_file(target) as handle:
        if fmt == "csv":
            table.write_csv(handle)
        else:
            table.write_parquet(handle)
    with ctx.factory() as session:
        audit_run(
            session,
            campaign,
            run_id,
            actor=actor,
            outcome="campaign_decisions_exported",
            kind="export",
            rows=table.height,
            format=fmt,
            with_insz=with_insz,
        )
        session.commit()
    return target, table.height
