"""Notifications: one record per subject whose situation changed, for the city's channel.

An issued run with `outputs.notifications` writes `run-<id>/notifications.jsonl` (JSON Lines,
UTF-8): a record per subject that is `new` (eligible now, not in the previous approved run),
`changed` (eligible, another band) or `ended` (no longer eligible), for the city's e-mail, SMS
or my-city inbox to pick up. A record says who (the register's reference of the household or
person, and the person the letter goes to), what changed, the coupon code and until when it
holds, and the languages of the letter — never an income, a status or an amount.

Exactly once: the file is made only when an approved run is issued, from the run's stored
decisions, in a fixed order, and moved into place whole; issuing again (after a crash) writes
the same bytes. Each record's `id` is derived from the campaign, run, subject and change, so a
channel that reads the file twice can tell. Across runs each change is reported once because a
run is compared with the previous approved run, and a draft whose baseline is no longer the
latest approved run cannot be approved (`campaign.review`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from entitle.decide.atomic import write_atomic
from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.sources import RegisterExtract
from entitle.decide.coupons import make_code
from entitle.sources.access import Pseudonymiser
from entitle.store import campaigns as store
from entitle.store.campaigns import RunView

FILE_NAME = "notifications.jsonl"
ORDER = {"new": 0, "changed": 1, "ended": 2}


@dataclass(frozen=True)
class Notification:
    id: str
    campaign: str
    period: str
    run: int
    reference: str  # the register's household id (household campaigns) or person id
    person: str  # whom the letter is addressed to: the household's reference person, or the person
    change: str  # new | changed | ended
    outcome: str  # eligible | not_eligible | absent
    coupon: str | None
    valid_until: str | None  # ISO date
    languages: tuple[str, ...]

    def line(self) -> str:
        record: dict[str, Any] = asdict(self)
        record["languages"] = list(self.languages)
        return json.dumps(record, ensure_ascii=False, sort_keys=True)


def recipients(
    campaign: Campaign, extract: RegisterExtract, pseudonymise: Pseudonymiser
) -> dict[str, tuple[str, str]]:
    """Pseudonym → (the subject's register reference, the person a message goes to)."""
    if campaign.benefit.subject == "household":
        frame = extract.households.select("household_id", "reference_person_id")
    else:
        frame = extract.persons.select("person_id", pl.col("person_id").alias("to"))
    return {
        pseudonymise(str(subject)): (str(subject), str(to))
        for subject, to in frame.iter_rows()
        if to is not None
    }


def notifications(
    campaign: Campaign,
    run: RunView,
    decisions: Iterable[Any],
    to: dict[str, tuple[str, str]],
    coupons: set[str],
    key: bytes,
) -> tuple[list[Notification], int]:
    """The run's notification records, in a fixed order, and how many changed subjects have no
    entry in the register extract (left the municipality: nobody to notify). `coupons`: the
    pseudonyms with a coupon letter in the run's period."""
    spec = campaign.spec.outputs.notifications
    if not spec:
        return [], 0
    letters = campaign.spec.outputs.letters
    languages = tuple(letters.languages) if letters else ("nl",)
    out = []
    missing = 0
    for row in decisions:
        if row.change not in spec.changes:
            continue
        found = to.get(row.subject_pseudonym)
        if found is None:
            missing += 1
            continue
        reference, person = found
        eligible = row.outcome == "eligible"
        has_coupon = eligible and row.subject_pseudonym in coupons
        digest = hashlib.sha256(
            f"{campaign.name}|{run.id}|{row.subject_pseudonym}|{row.change}".encode()
        ).hexdigest()[:24]
        out.append(
            Notification(
                id=digest,
                campaign=campaign.name,
                period=run.period,
                run=run.id,
                reference=reference,
                person=person,
                change=row.change,
                outcome=row.outcome,
                coupon=make_code(key, campaign.name, run.period, row.subject_pseudonym)
                if has_coupon
                else None,
                valid_until=row.valid_until.isoformat() if eligible and row.valid_until else None,
                languages=languages,
            )
        )
    out.sort(key=lambda n: (ORDER[n.change], n.reference, n.id))
    return out, missing


def write_notifications(records: Sequence[Notification], path: Path) -> int:
    """The records as JSON Lines, written whole; returns how many."""
    write_atomic(path, "".join(f"{record.line()}\n" for record in records).encode("utf-8"))
    return len(records)


@dataclass(frozen=True)
class Notified:
    path: Path  # the notification file
    count: int  # records written
    not_in_register: int  # changed subjects with nobody to notify


def notify_run(
    ctx: CampaignContext,
    campaign: Campaign,
    run: RunView,
    decisions: Sequence[Any],
    extract: RegisterExtract,
    pseudonymise: Pseudonymiser,
    folder: Path,
) -> Notified:
    """Issuing step: the run's notification file, `folder/notifications.jsonl`, after its
    letters (a record quotes the coupon of a subject with a coupon letter in the period)."""
    with ctx.factory() as session:
        coupons = {
            pseudonym
            for pseudonym, kind in store.letter_keys(session, campaign.name, run.period)
            if kind == "coupon"
        }
    records, unknown = notifications(
        campaign,
        run,
        decisions,
        recipients(campaign, extract, pseudonymise),
        coupons,
        ctx.coupon_key(),
    )
    path = folder / FILE_NAME
    return Notified(path, write_notifications(records, path), unknown)
