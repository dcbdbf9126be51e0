"""The evaluation step: a chunk of the target population in, its decision rows out.

`evaluate_chunk` decides a chunk with the columnar engine through a fact provider;
`decide_chunk_rows` opens the provider on a fact source and turns the decisions into the
minimised rows a run stores. Swappable: anything that maps (campaign, as-of date, subjects,
persons, households, source) to the same rows can replace it (worker processes call it too).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

import polars as pl

from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.missing import Places, stored_items
from entitle.decide.campaign.reasons import NOT_IN_REGISTER_CODE, PENDING
from entitle.decide.campaign.sources import NOT_IN_REGISTER, ChunkProvider, FactSource
from entitle.decide.check import condition_facts
from entitle.decide.reasons import MissingReason
from entitle.rules.columnar import Population, evaluate_population, fact_names
from entitle.rules.expr import T
from entitle.rules.model import Benefit
from entitle.sources.access import Pseudonymiser


def band_of(campaign: Campaign, outputs: dict[str, Any]) -> str | None:
    """The value of the campaign's band output as stored (money with two decimals)."""
    name = campaign.spec.band
    if name is None or name not in outputs or outputs[name] is None:
        return None
    value = outputs[name]
    if campaign.benefit.outputs[name].type == T.MONEY:
        return f"{float(value):.2f}"
    return str(value)


def certain_band(campaign: Campaign, row: dict[str, Any]) -> str | None:
    """The certain minimum of an open band output (a partial decision grants the certain part)."""
    name = campaign.spec.band
    if name is None or row["outcome"] != "eligible":
        return None
    least = row.get(f"least_{name}")
    return None if least is None else str(least)


def previous_state(
    outcome: str, band: str | None, change: str, previous_band: str | None
) -> tuple[str, str | None]:
    """What a previous run's row says the subject was, for the next run's change: a `pending`
    row is skipped (it decided nothing), so it passes on the state before it (eligible with its
    band when its change was `unknown`, i.e. eligible before the failure)."""
    if outcome != PENDING:
        return outcome, band
    return ("eligible", previous_band) if change == "unknown" else (PENDING, None)


def _change(outcome: str, band: str | None, previous: tuple[str, str | None] | None) -> str:
    was_eligible = previous is not None and previous[0] == "eligible"
    if outcome == "eligible":
        if not was_eligible:
            return "new"
        return "continued" if previous is not None and previous[1] == band else "changed"
    if was_eligible:
        return "ended" if outcome in ("not_eligible", "absent") else "unknown"
    return "undetermined" if outcome == "undetermined" else "none"


def _subject_entities(
    kind: str, subjects: Sequence[str], persons: pl.DataFrame
) -> dict[str, list[str]]:
    """Entity id (household or person) → the subjects whose decision may read it."""
    household_of = dict(
        zip(persons["person_id"].to_list(), persons["household_id"].to_list(), strict=True)
    )
    out: dict[str, list[str]] = defaultdict(list)
    if kind == "household":
        for subject in subjects:
            out[subject].append(subject)
        for person, household in household_of.items():
            out[person].append(household)
        return out
    by_household: dict[str, list[str]] = defaultdict(list)
    for subject in subjects:
        by_household[household_of[subject]].append(subject)
    for person, household in household_of.items():
        out[person].extend(by_household.get(household, ()))
    for household, members in by_household.items():
        out[household].extend(members)
    return out


def evaluate_chunk(
    campaign: Campaign,
    as_of: date,
    subjects: list[str],
    persons: pl.DataFrame,
    households: pl.DataFrame,
    provider: ChunkProvider,
    benefit: Benefit | None = None,
    *,
    whose: bool = False,
) -> pl.DataFrame:
    """The columnar decisions of a chunk's subjects (the campaign's benefit, or `benefit` with
    changed parameters), their facts asked through `provider`; with `whose`, whose each missing
    fact is (the `missing` column)."""
    population = Population(
        persons.select("person_id", "household_id"), households.select("household_id"), subjects
    )
    return evaluate_population(
        benefit or campaign.benefit, population, as_of, provider, whose=whose
    )


def _rows_of(
    campaign: Campaign,
    frame: pl.DataFrame,
    reasons: dict[tuple[str, str], MissingReason],
    entities: dict[str, list[str]],
    pseudonymise: Pseudonymiser,
    persons: pl.DataFrame,
) -> list[dict[str, Any]]:
    """Decision rows to store (the change against the previous run is added by the caller):
    with whose facts are missing (`campaign.missing`) and a partial decision's certain minimum.

    An undetermined subject with a fact missing through our failure is stored `pending`."""
    benefit = campaign.benefit
    places = Places(persons)
    household_of = dict(
        zip(persons["person_id"].to_list(), persons["household_id"].to_list(), strict=True)
    )
    levelled = [name for name, output in benefit.outputs.items() if output.levels]
    names: dict[int, list[str]] = {}

    def decode(mask: int) -> list[str]:
        if mask not in names:
            names[mask] = fact_names(benefit, mask)
        return names[mask]

    by_subject: dict[str, dict[str, MissingReason]] = defaultdict(dict)
    for (entity, fact), why in reasons.items():
        for subject in entities.get(entity, ()):
            known = by_subject[subject].get(fact)
            if known is None or (why.ours and not known.ours):  # ours wins: no invitation
                by_subject[subject][fact] = why
    rows = []
    for row in frame.iter_rows(named=True):
        outcome = row["outcome"]
        outputs = (
            {name: row[f"out_{name}"] for name in benefit.outputs} if outcome == "eligible" else {}
        )
        missing = decode(row["facts_missing"])
        found = by_subject.get(row["subject_id"], {})
        missed = {f: w for f, w in found.items() if f in missing}
        if outcome == "undetermined" and any(w.ours for w in missed.values()):
            outcome = PENDING
        subject = row["subject_id"]
        household = subject if benefit.subject == "household" else household_of.get(subject, "")
        at_least = {
            name: row[f"least_{name}"]
            for name in levelled
            if outcome == "eligible" and row[f"least_{name}"] is not None
        }
        rows.append(
            {
                "subject_pseudonym": pseudonymise(row["subject_id"]),
                "outcome": outcome,
                "band": band_of(campaign, outputs) or certain_band(campaign, row),
                "outputs": outputs,
                "conditions": {name: row[f"cond_{name}"] for name in benefit.conditions},
                "facts_used": decode(row["facts_used"]),
                "facts_missing": missing,
                "reasons": {f: w.to_json() for f, w in missed.items()},
                "valid_until": row["valid_until"],
                "at_least": at_least,
                "missing": stored_items(
                    row.get("missing"), subject, household, benefit.subject, places, reasons
                ),
            }
        )
    return rows


def decide_chunk_rows(
    campaign: Campaign,
    as_of: date,
    subjects: list[str],
    persons: pl.DataFrame,
    households: pl.DataFrame,
    source: FactSource,
    pseudonymise: Pseudonymiser,
    on_fetch: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Decide one chunk through the fact source: (decision rows, fetch statistics)."""
    started = time.perf_counter()
    provider = source.open_chunk(
        campaign.benefit, as_of, persons, households, on_fetch, campaign.spec.facts_from_register
    )
    frame = evaluate_chunk(campaign, as_of, subjects, persons, households, provider, whose=True)
    entities = _subject_entities(campaign.benefit.subject, subjects, persons)
    rows = _rows_of(campaign, frame, provider.reasons(), entities, pseudonymise, persons)
    stats = provider.stats()
    # decisions a comparison over unknown values settled by its bounds, per outcome
    bounded = frame.filter(pl.col("by_bounds"))["outcome"].value_counts()
    stats["by_bounds"] = dict(
        zip(bounded["outcome"].to_list(), bounded["count"].to_list(), strict=True)
    )
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return rows, stats


def with_change(
    rows: list[dict[str, Any]], previous: dict[str, tuple[str, str | None]]
) -> list[dict[str, Any]]:
    """The rows with their change against the previous run (pseudonym → outcome, band)."""
    for row in rows:
        before = previous.get(row["subject_pseudonym"])
        row["change"] = _change(row["outcome"], row["band"], before)
        row["previous_band"] = before[1] if before else None
    return rows


def unknown_rows(
    campaign: Campaign, subjects: Sequence[str], pseudonymise: Pseudonymiser
) -> list[dict[str, Any]]:
    """Target subjects missing from the register extract: no household, so undetermined."""
    return [
        {
            "subject_pseudonym": pseudonymise(subject),
            "outcome": "undetermined",
            "band": None,
            "outputs": {},
            "conditions": {name: None for name in campaign.benefit.conditions},
            "facts_used": [],
            "facts_missing": ["household.members"],
            "reasons": {
                "household.members": MissingReason(
                    "no_data", NOT_IN_REGISTER_CODE, NOT_IN_REGISTER
                ).to_json()
            },
            "valid_until": None,
            "at_least": {},
            "missing": [
                {
                    "fact": "household.members",
                    "whose": "household",
                    "member": None,
                    "position": None,
                    "relation": None,
                    "settles": ["eligible"],
                    "reason": "no_data",
                }
            ],
        }
        for subject in subjects
    ]


def undecided_conditions(
    benefit: Benefit, conditions: dict[str, Any], facts_used: Iterable[str]
) -> list[str]:
    """Conditions unknown by the rule itself (e.g. a reference address, a shared residence),
    which an officer must settle: unknown, and reading a fact that was fetched (call it only
    when no fact is missing)."""
    used = set(facts_used)
    reads = condition_facts(benefit)
    return [
        name
        for name, value in conditions.items()
        if value is None and reads.get(name, set()) & used  # a name the benefit lacks reads none
    ]
