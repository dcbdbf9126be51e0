"""Preflight: before a run decides anyone, check that what it needs works.

Each check is a function of a `Preflight` (the context, the campaign, the date and the target)
that returns None when all is well, or one line saying what is wrong. `CHECKS` holds the checks
every run makes, in order; another check is plugged in by appending to it (or by passing
`checks=` to `preflight`). The first failure stops the run before anything is stored or asked
of a registry for a citizen: `PreflightError`, exit code 2 on the command line.

The checks: the database is writable; the letters folder is writable and has room for what the
run may produce; every registry service and local dataset the benefit reads answers a probe
(the test person of `ENTITLE_CAMPAIGN_PROBE_INSZ`, else the first household of the target) under
the benefit's purpose, without a failure of ours — after, when the MAGDA settings require KSZ
inscriptions, every target person is inscribed (synced first when the campaign file says so).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign, CampaignError
from entitle.decide.campaign.sources import Target
from entitle.rules.catalogue import default_catalogue
from entitle.rules.plan import plan_benefit

MIB = 1024 * 1024


class PreflightError(CampaignError):
    """A preflight check failed: the run did not start (one line: what and why)."""


@dataclass(frozen=True)
class Preflight:
    """What a check may look at."""

    ctx: CampaignContext
    campaign: Campaign
    as_of: date
    target: Target


PreflightCheck = Callable[[Preflight], str | None]


def _short(exc: BaseException) -> str:
    words = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return words if len(words) <= 160 else words[:159] + "…"


class NotWritableError(Exception):
    """The database or a folder cannot be written (input/output: exit code 3)."""


def database_problem(ctx: CampaignContext) -> str | None:
    """Why the database does not take a write (tried, then rolled back), or None."""
    try:
        with ctx.factory() as session:
            session.execute(text("UPDATE alembic_version SET version_num = version_num"))
            session.flush()
            session.rollback()
    except SQLAlchemyError as exc:
        return f"the database is not writable: {_short(exc)}"
    return None


def database_writable(check: Preflight) -> str | None:
    """The database takes a write (rolled back at once)."""
    return database_problem(check.ctx)


def letters_folder(check: Preflight) -> str | None:
    """The campaign's output folder (or the nearest folder above it that exists: nothing is
    created) is writable and has room for a letter per subject."""
    folder = check.ctx.output_dir / check.campaign.name
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    probe = existing / f".entitle-preflight-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        if not existing.is_dir():
            return f"the letters folder {folder} cannot be made: {existing} is not a folder"
        probe.write_bytes(b"entitle preflight\n")
        probe.unlink()
        free = shutil.disk_usage(existing).free
    except OSError as exc:
        return f"the letters folder {folder} is not writable: {exc.strerror or exc}"
    needed = check.target.size * check.ctx.bytes_per_letter + MIB
    if free < needed:
        return (
            f"the letters folder {folder} has {free // MIB:,} MiB free; a run of "
            f"{check.target.size:,} subjects may need {needed // MIB:,} MiB"
        )
    return None


def _probe_population(check: Preflight) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The probe's persons and households: the test person alone, or the target's first
    household (None when the target is empty)."""
    insz = check.ctx.probe_insz
    if insz:
        persons = pl.DataFrame(
            {"person_id": [insz], "household_id": ["preflight"], "position_code": ["01"]}
        )
        return persons, pl.DataFrame({"household_id": ["preflight"]})
    if check.target.chunks == 0:
        return None
    _, persons, households = check.target.chunk(0)
    first = households.head(1)
    return persons.join(first.select("household_id"), on="household_id", how="semi"), first


def sources_answer(check: Preflight) -> str | None:
    """Every registry service and local dataset the benefit reads answers the probe, under the
    benefit's purpose (a `no data` answer is an answer; a failure of ours is not)."""
    population = _probe_population(check)
    if population is None:
        return None
    persons, households = population
    benefit = check.campaign.benefit
    plan = plan_benefit(benefit, default_catalogue())
    register = set(check.campaign.spec.facts_from_register)
    one_per_source: dict[tuple[str, str], str] = {}
    for fact in sorted(plan.facts):
        origin = plan.facts[fact].source
        name = str(origin.get("service") or origin.get("dataset") or "")
        if fact in register or origin.get("kind") not in ("magda", "local"):
            continue
        one_per_source.setdefault((str(origin["kind"]), name), fact)
    source = check.ctx.fact_source()
    try:
        provider = source.open_chunk(
            benefit, check.as_of, persons, households, None, tuple(register)
        )
        for (kind, name), fact in sorted(one_per_source.items(), key=lambda i: i[0][0] != "magda"):
            entity = (households if fact.startswith("household.") else persons)[
                "household_id" if fact.startswith("household.") else "person_id"
            ].head(1)
            provider.fetch(fact, entity)
            failed = [why for (_, f), why in provider.reasons().items() if f == fact and why.ours]
            if failed:
                why = failed[0]
                what = "registry service" if kind == "magda" else "local dataset"
                return (
                    f"{what} {name} did not answer the probe under purpose {benefit.purpose}: "
                    f"{why.label()} ({why.detail[:120]})"
                )
    finally:
        check.ctx.close_source(source)
    return None


def inscriptions_held(check: Preflight) -> str | None:
    """Every target person is inscribed in the KSZ directory (when that is required)."""
    from entitle.decide.campaign.inscriptions import preflight_inscriptions  # imports the run

    return preflight_inscriptions(check.ctx, check.campaign, check.as_of, check.target)


CHECKS: list[PreflightCheck] = [
    database_writable,
    letters_folder,
    inscriptions_held,
    sources_answer,
]


def preflight(
    ctx: CampaignContext,
    campaign: Campaign,
    as_of: date,
    target: Target,
    checks: Sequence[PreflightCheck] | None = None,
) -> None:
    """Run the checks in order; the first that fails raises `PreflightError` with its line."""
    subject = Preflight(ctx, campaign, as_of, target)
    for check in CHECKS if checks is None else checks:
        problem = check(subject)
        if problem is not None:
            raise PreflightError(f"preflight failed for {campaign.name}: {problem}")
