"""Issuing an approved run: letters (one merged PDF), billing lists, the notification file.

Issuing inserts letters under a unique (campaign, period, subject, kind) key before any file is
written, and files are written deterministically under a temporary name and then moved: issuing
again after a crash writes the same files and never a second letter or coupon.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from entitle.decide.atomic import remove_stale_partials
from entitle.decide.campaign.context import CampaignContext, audit_run
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.figures import granted_outputs, letters_to_issue
from entitle.decide.campaign.letters import (
    addressee_frame,
    addressee_map,
    build_letter,
    write_address_index,
)
from entitle.decide.campaign.notify import FILE_NAME as NOTIFICATIONS_FILE
from entitle.decide.campaign.notify import notifications, recipients, write_notifications
from entitle.decide.campaign.preflight import NotWritableError, database_problem
from entitle.decide.campaign.review import refuse_expired
from entitle.decide.campaign.sources import RegisterExtract, pupils_table, read_dataset
from entitle.decide.coupons import make_code
from entitle.decide.exports import BillingRow, write_billing_lists
from entitle.decide.letters import Letter, write_letters
from entitle.rules.periods import period_words
from entitle.sources.access import Pseudonymiser
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError, RunView

log = logging.getLogger(__name__)


def run_folder(ctx: CampaignContext, run: RunView) -> Path:
    """Where a run's files go: `<output>/<campaign>/run-<id>/`."""
    return ctx.output_dir / run.campaign / f"run-{run.id}"


@dataclass(frozen=True)
class IssueResult:
    run: RunView
    letters: dict[str, int]  # issued by this run, per kind
    new_letters: int  # inserted by this call (0 when issuing again)
    files: list[Path]
    pages: int
    seconds: float
    skipped: int  # due, but no address in the register extract


def issue_run(ctx: CampaignContext, campaign: Campaign, run_id: int, *, actor: str) -> IssueResult:
    """Issue an approved run: letters (merged PDF), billing lists and notifications, as the
    campaign's outputs say. Idempotent; removes what an earlier, killed attempt left half
    written. Checks first that the run's decisions still hold on `ctx.today()` (else
    `RunExpiredError`: letters and billing lists would be expired) and that the database takes
    a write (`NotWritableError`): no file is written for a run that could not then be marked
    issued."""
    started = time.perf_counter()
    with ctx.factory() as session:
        run = store.get_run(session, run_id)
        if run is None or run.campaign != campaign.name:
            raise CampaignStateError(f"no run {run_id} of campaign {campaign.name}")
        if run.week is not None:  # within the standing approval: `entitle watch issue`
            raise CampaignStateError(f"run {run_id} is week {run.week} of the weekly follow-up")
        if run.status not in ("approved", "issued"):
            raise CampaignStateError(
                f"run {run_id} is {run.status}: only an approved run issues letters and lists"
            )
    refuse_expired(campaign, run, ctx.today())
    problem = database_problem(ctx)  # the run must be able to become `issued` after the files
    if problem is not None:
        raise NotWritableError(f"run {run_id} not issued, no file written: {problem}")
    pseudonymise = ctx.pseudonymiser()
    extract = RegisterExtract.load(ctx.register)
    folder = run_folder(ctx, run)
    remove_stale_partials(folder)  # what an issue killed before it finished left behind
    files: list[Path] = []
    skipped = 0
    new = 0
    pages = 0
    on = (run.decided or datetime.now(UTC)).date()
    with ctx.factory() as session:
        decisions = store.decision_rows(session, run_id)
    by_pseudonym = {row.subject_pseudonym: row for row in decisions}
    if campaign.spec.outputs.letters:
        frame = addressee_frame(campaign, extract, pseudonymise)
        to = addressee_map(campaign, frame)
        key = ctx.coupon_key()
        with ctx.factory() as session:
            issued = store.letter_keys(session, campaign.name, run.period)
            due = letters_to_issue(campaign, decisions, issued, run.as_of)
            existing = store.letters_of_run(session, run_id)
            seq = max((letter.seq for letter in existing), default=0)
            rows = []
            order = {"coupon": 0, "invitation": 1}
            ready = []
            for kind, row in due:
                addressee = to.get(row.subject_pseudonym)
                if addressee is None:
                    skipped += 1
                    continue
                ready.append(
                    (
                        order[kind],
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
            for _, _, _, _, pseudonym, kind, row in ready:
                seq += 1
                rows.append(
                    {
                        "run_id": run_id,
                        "seq": seq,
                        "campaign": campaign.name,
                        "period": run.period,
                        "subject_pseudonym": pseudonym,
                        "kind": kind,
                        "code": make_code(key, campaign.name, run.period, pseudonym)
                        if kind == "coupon"
                        else None,
                        "band": row.band if kind == "coupon" else None,
                        # a partial decision's coupon grants its certain part
                        "value": (granted_outputs(campaign, run.as_of, row) or {})
                        if kind == "coupon"
                        else {},
                        "valid_until": row.valid_until if kind == "coupon" else None,
                        "issued": moment,
                    }
                )
            new = store.issue_letters(session, rows)
            session.commit()
        with ctx.factory() as session:
            letters = store.letters_of_run(session, run_id)

        def generate() -> Iterable[Letter]:
            for letter in letters:
                addressee = to.get(letter.subject_pseudonym)
                decision = by_pseudonym.get(letter.subject_pseudonym)
                if addressee is None or decision is None:
                    continue
                yield build_letter(campaign, letter, decision, addressee, on=on)

        path = folder / "letters.pdf"
        _, pages = write_letters(
            generate(), path, title=f"{campaign.spec.title.get('nl', campaign.name)} {run.period}"
        )
        files.append(path)
        try:  # after the print file: one letter opens without the whole address book
            write_address_index(folder, frame, {letter.subject_pseudonym for letter in letters})
        except OSError as exc:  # only slower: a letter then finds its addressee in the book
            log.warning("run %s: address index not written: %s", run_id, exc.strerror)
    lists = campaign.spec.outputs.billing_lists
    if lists:
        dataset = read_dataset(ctx.local, ctx.registry_url(), lists.dataset)
        rows_out = billing_rows(campaign, run, decisions, dataset, extract, pseudonymise)
        stamp = datetime.combine(run.as_of, datetime.min.time())
        label = period_words(campaign.benefit.period(run.as_of), "nl")  # "schooljaar 2025-2026"
        files += write_billing_lists(rows_out, folder / "billing", label=label, stamp=stamp)
    notified: int | None = None
    unknown = 0
    if campaign.spec.outputs.notifications:
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
        path = folder / NOTIFICATIONS_FILE
        notified = write_notifications(records, path)
        files.append(path)
    with ctx.factory() as session:
        counts = store.letter_counts(session, run_id)
        outputs = {
            "folder": str(folder),
            "files": [str(p.relative_to(folder)) for p in files],
            "letters": counts,
            "pages": pages,
            "skipped_no_address": skipped,
        }
        if notified is not None:
            outputs["notifications"] = notified
            outputs["notifications_not_in_register"] = unknown
        view, first = store.mark_issued(session, run_id, outputs)
        if first:
            audit_run(
                session,
                campaign,
                run_id,
                kind="export",
                actor=actor,
                outcome="campaign_issued",
                letters=counts,
                files=len(files),
            )
        session.commit()
    remove_stale_partials(folder)
    return IssueResult(
        view, counts, new, files, pages, round(time.perf_counter() - started, 3), skipped
    )


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
