"""Everything Entitle did about one person, from the desk and the campaigns alike.

Campaigns decide about households by the register's household id, the desk by the person's INSZ:
both are pseudonymised with the same key, so one person's pseudonyms are their own and their
household's (found in the register extract). `subject_pseudonyms` gives both; the other functions
read the campaign decisions, the letters (and their coupons' use) and the registry access log for
them. Used by the desk card (letter status) and the auditor's subject-access report (GDPR art. 15).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from entitle.sources import access_index
from entitle.sources.access import Pseudonymiser, monthly_files
from entitle.store import campaigns as store


@dataclass(frozen=True)
class SubjectPseudonyms:
    """The pseudonyms under which Entitle may have recorded something about one person."""

    person: str
    household: str | None  # the household in the register extract, when it is known

    @property
    def all(self) -> tuple[str, ...]:
        return (self.person,) if self.household is None else (self.person, self.household)


def household_of(register: Path | None, insz: str) -> str | None:
    """The person's household id in the register extract (None without an extract)."""
    if register is None:
        return None
    parquet, csv = register / "persons.parquet", register / "persons.csv"
    try:
        if parquet.is_file():
            frame = pl.scan_parquet(parquet)
        elif csv.is_file():
            frame = pl.scan_csv(csv, infer_schema=False)
        else:
            return None
        found = (
            frame.select(pl.col("person_id").cast(pl.String()), "household_id")
            .filter(pl.col("person_id") == insz)
            .collect()
        )
    except (OSError, pl.exceptions.PolarsError):
        return None
    return str(found["household_id"][0]) if found.height else None


def subject_pseudonyms(
    insz: str, pseudonymise: Pseudonymiser, register: Path | None
) -> SubjectPseudonyms:
    """The person's pseudonym and their household's (campaigns decide households)."""
    household = household_of(register, insz)
    return SubjectPseudonyms(
        pseudonymise(insz), pseudonymise(household) if household is not None else None
    )


def letters_about(session: Session, who: SubjectPseudonyms) -> list[store.LetterView]:
    """The letters sent about the person or their household, newest first."""
    return store.letters_about(session, who.all)


def campaign_entries(session: Session, who: SubjectPseudonyms) -> list[dict[str, Any]]:
    """The campaign decisions and letters about the person, as report entries (no values)."""
    entries: list[dict[str, Any]] = []
    for decision in store.decisions_about(session, who.all):
        entries.append(
            {
                "time": decision["started"],
                "kind": "campaign_decision",
                "actor": decision["started_by"],
                "purpose": None,
                "subject": decision["subject"],
                "outcome": decision["outcome"],
                "details": {
                    "campaign": decision["campaign"],
                    "run": decision["run"],
                    "benefit": decision["benefit"],
                    "as_of": decision["as_of"].isoformat(),
                    "change": decision["change"],
                    "facts": ", ".join(decision["facts_used"]),
                },
            }
        )
    for letter in store.letters_about(session, who.all):
        details: dict[str, Any] = {
            "campaign": letter.campaign,
            "period": letter.period,
            "run": letter.run_id,
            "letter": letter.seq,
            "letter_kind": letter.kind,
        }
        if letter.valid_until is not None:
            details["valid_until"] = letter.valid_until.isoformat()
        if letter.used is not None:
            details["used"] = letter.used.isoformat()
        entries.append(
            {
                "time": letter.issued,
                "kind": "letter",
                "actor": None,
                "purpose": None,
                "subject": letter.subject_pseudonym,
                "outcome": "issued",
                "details": details,
            }
        )
    return entries


def registry_accesses(access_log: Path | None, who: SubjectPseudonyms) -> list[dict[str, Any]]:
    """Every question to a registry or dataset about the person (the access log's monthly
    files, each read through its index by subject), as report entries: when, which source, for
    which purpose, with which result."""
    if access_log is None:
        return []
    entries: list[dict[str, Any]] = []
    for path in monthly_files(access_log).values():
        try:
            found = access_index.lookup(path, who.all)
        except (OSError, ValueError, sqlite3.Error):
            continue
        for record in found.records:
            entries.append(
                {
                    "time": record.get("time"),
                    "kind": "registry_access",
                    "actor": None,
                    "purpose": record.get("purpose"),
                    "subject": record.get("subject"),
                    "outcome": record.get("result"),
                    "details": {
                        "source": record.get("source"),
                        "facts": ", ".join(record.get("facts") or []),
                    },
                }
            )
    return entries


def _moment(entry: dict[str, Any]) -> str:
    value = entry.get("time")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value or "")


def in_time_order(*groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Report entries of several sources, oldest first."""
    merged = [entry for group in groups for entry in group]
    return sorted(merged, key=_moment)
