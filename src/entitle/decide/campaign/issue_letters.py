"""Issuing step: a run's letters — inserted under their unique key, then printed.

The letters due (`letters_to_issue`) are inserted under a unique (campaign, period, subject,
kind) key and committed before any file is written; then every letter of the run is printed into
one merged PDF, in a fixed order (coupons, then invitations; by postcode, street and name), and
the run's address index is written beside it. Issuing again inserts nothing and prints the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.figures import granted_outputs, letters_to_issue
from entitle.decide.campaign.letters import (
    Addressee,
    addressee_frame,
    addressee_map,
    build_letter,
    write_address_index,
)
from entitle.decide.campaign.sources import RegisterExtract
from entitle.decide.coupons import make_code
from entitle.decide.letters import Letter, write_letters
from entitle.sources.access import Pseudonymiser
from entitle.store import campaigns as store
from entitle.store.campaigns import RunView

log = logging.getLogger(__name__)

PRINT_FILE = "letters.pdf"
KIND_ORDER = {"coupon": 0, "invitation": 1}  # in the print file: coupons first


@dataclass(frozen=True)
class IssuedLetters:
    path: Path  # the merged print file
    pages: int
    new: int  # inserted by this call (0 when issuing again)
    skipped: int  # due, but no address in the register extract


def issue_letters(
    ctx: CampaignContext,
    campaign: Campaign,
    run: RunView,
    decisions: Sequence[Any],
    extract: RegisterExtract,
    pseudonymise: Pseudonymiser,
    folder: Path,
) -> IssuedLetters:
    """Insert the run's letters due (committed), then print every letter of the run into
    `folder/letters.pdf` and write the run's address index."""
    frame = addressee_frame(campaign, extract, pseudonymise)
    to = addressee_map(campaign, frame)
    new, skipped = _insert_due(ctx, campaign, run, decisions, to)
    with ctx.factory() as session:
        letters = store.letters_of_run(session, run.id)
    by_pseudonym = {row.subject_pseudonym: row for row in decisions}
    on = (run.decided or datetime.now(UTC)).date()

    def generate() -> Iterable[Letter]:
        for letter in letters:
            addressee = to.get(letter.subject_pseudonym)
            decision = by_pseudonym.get(letter.subject_pseudonym)
            if addressee is None or decision is None:
                continue
            yield build_letter(campaign, letter, decision, addressee, on=on)

    path = folder / PRINT_FILE
    _, pages = write_letters(
        generate(), path, title=f"{campaign.spec.title.get('nl', campaign.name)} {run.period}"
    )
    try:  # after the print file: one letter opens without the whole address book
        write_address_index(folder, frame, {letter.subject_pseudonym for letter in letters})
    except OSError as exc:  # only slower: a letter then finds its addressee in the book
        log.warning("run %s: address index not written: %s", run.id, exc.strerror)
    return IssuedLetters(path, pages, new, skipped)


def _insert_due(
    ctx: CampaignContext,
    campaign: Campaign,
    run: RunView,
    decisions: Sequence[Any],
    to: dict[str, Addressee],
) -> tuple[int, int]:
    """Insert the letters due that have an addressee, numbered after the run's letters so far;
    (how many were inserted, how many had no address)."""
    key = ctx.coupon_key()
    skipped = 0
    with ctx.factory() as session:
        issued = store.letter_keys(session, campaign.name, run.period)
        due = letters_to_issue(campaign, decisions, issued, run.as_of)
        existing = store.letters_of_run(session, run.id)
        seq = max((letter.seq for letter in existing), default=0)
        ready = []
        for kind, row in due:
            addressee = to.get(row.subject_pseudonym)
            if addressee is None:
                skipped += 1
                continue
            ready.append(
                (
                    KIND_ORDER[kind],
                    addressee.postcode,
                    addressee.street,
                    addressee.name,
                    row.subject_pseudonym,
                    kind,
                    row,
                )
            )
        ready.sort()
        moment = datetime.now(UTC)
        rows = []
        for _, _, _, _, pseudonym, kind, row in ready:
            seq += 1
            coupon = kind == "coupon"
            rows.append(
                {
                    "run_id": run.id,
                    "seq": seq,
                    "campaign": campaign.name,
                    "period": run.period,
                    "subject_pseudonym": pseudonym,
                    "kind": kind,
                    "code": make_code(key, campaign.name, run.period, pseudonym)
                    if coupon
                    else None,
                    "band": row.band if coupon else None,
                    # a partial decision's coupon grants its certain part
                    "value": (granted_outputs(campaign, run.as_of, row) or {}) if coupon else {},
                    "valid_until": row.valid_until if coupon else None,
                    "issued": moment,
                }
            )
        new = store.issue_letters(session, rows)
        session.commit()
    return new, skipped
