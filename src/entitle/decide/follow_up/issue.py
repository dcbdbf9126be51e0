"""Sending a week's batch within the standing approval: letters, billing lists, notifications.

What a batch sends: a coupon letter to each newly eligible subject and an invitation to each
newly undetermined one (the same rule as a run, `letters_to_issue`); for a campaign with billing
lists, the week's lists (`entitle.decide.follow_up.billing`: the pupils newly eligible or with
another tariff); a notification record (when the campaign has notifications) for new subjects,
and for changed and ended ones when the campaign's policy says ``notify`` — otherwise they are
only recorded. The letters are stored under the week's own run. Idempotent and resumable: the
letters to send are fixed in the week's run before any is inserted, letters are keyed
(campaign, period, subject, kind) in the database, and the files are written whole; issuing a
killed batch again gives the same letters and files, never a second one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from entitle.decide.campaign.context import CampaignContext, audit_run
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.figures import granted_outputs, letters_to_issue
from entitle.decide.campaign.letters import addressees, build_letter
from entitle.decide.campaign.notify import ORDER, Notification, recipients, write_notifications
from entitle.decide.campaign.sources import RegisterExtract
from entitle.decide.coupons import make_code
from entitle.decide.follow_up.batches import batch_of, week_view
from entitle.decide.follow_up.billing import week_billing
from entitle.decide.follow_up.folders import week_folder
from entitle.decide.follow_up.standing import FollowUpError, locked, standing_of
from entitle.decide.letters import Letter, write_letters
from entitle.store import campaigns as store
from entitle.store import weeks as week_store
from entitle.store.campaigns import CampaignStateError

__all__ = ["issue_batch"]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _notifications(
    campaign: Campaign,
    run_id: int,
    period: str,
    rows: Sequence[Any],
    to: dict[str, tuple[str, str]],
    coupons: set[str],
    key: bytes,
    week: int,
) -> list[Notification]:
    spec = campaign.spec.outputs.notifications
    if not spec:
        return []
    policy = campaign.spec.follow_up
    changes = {"new"} | {c for c in ("changed", "ended") if getattr(policy, c) == "notify"}
    letters = campaign.spec.outputs.letters
    languages = tuple(letters.languages) if letters else ("nl",)
    out = []
    for row in rows:
        found = to.get(row.subject_pseudonym)
        if row.change not in changes or row.change not in spec.changes or found is None:
            continue
        eligible = row.outcome == "eligible"
        has_coupon = eligible and row.subject_pseudonym in coupons
        ident = f"{campaign.name}|week {week}|{row.subject_pseudonym}|{row.change}"
        out.append(
            Notification(
                id=_digest(ident),
                campaign=campaign.name,
                period=period,
                run=run_id,
                reference=found[0],
                person=found[1],
                change=row.change,
                outcome=row.outcome,
                coupon=make_code(key, campaign.name, period, row.subject_pseudonym)
                if has_coupon
                else None,
                valid_until=row.valid_until.isoformat() if eligible and row.valid_until else None,
                languages=languages,
            )
        )
    out.sort(key=lambda n: (ORDER[n.change], n.reference, n.id))
    return out


def _postcode(to: dict[str, Any], pseudonym: str) -> str:
    """Print order: by postcode (a letter whose addressee moved away since: first)."""
    found = to.get(pseudonym)
    return str(found.postcode) if found is not None else ""


def issue_batch(
    ctx: CampaignContext,
    campaign: Campaign,
    week: int,
    *,
    actor: str = "scheduler",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Send a week's batch within the standing approval: letters (one merged PDF, under the
    week's run), the week's billing lists and the notification file. Refused for a held or
    unapproved batch; an issued batch is returned as it is (idempotent); a batch killed while
    issuing is finished with the same letters."""
    moment = now or datetime.now(UTC)
    with locked(ctx, campaign.name):
        view = week_view(ctx, campaign.name, week)
        if view.status == "issued":
            return batch_of(view)
        if view.status not in ("ready", "issuing"):
            raise FollowUpError(f"the batch of week {week} is {view.status}: not sent")
        standing = standing_of(ctx, campaign.name)
        if standing is None or not standing.covers(view.as_of):
            raise FollowUpError(f"no standing approval of {campaign.name} covers week {week}")
        run_id, period, as_of = view.id, view.period, view.as_of
        summary = dict(view.summary or {})
        with ctx.factory() as session:
            rows = store.decision_rows(session, run_id)
        by_pseudonym = {r.subject_pseudonym: r for r in rows}
        pseudonymise = ctx.pseudonymiser()
        extract = RegisterExtract.load(ctx.register)
        to = addressees(campaign, extract, pseudonymise) if campaign.spec.outputs.letters else {}
        if summary.get("planned") is None:  # fixed once, before any letter is inserted
            with ctx.factory() as session:
                issued = store.letter_keys(session, campaign.name, period)
                summary["planned"] = [
                    [row.subject_pseudonym, kind]
                    for kind, row in letters_to_issue(campaign, rows, issued, as_of)
                    if row.subject_pseudonym in to
                ]
                summary["standing_run"] = standing.run_id
                view = week_store.turn_week(
                    session, run_id, before=("ready",), status="issuing", summary=summary
                )
                session.commit()
        planned = {(p, k) for p, k in summary["planned"]}
        key = ctx.coupon_key()
        with ctx.factory() as session:
            seq = max((x.seq for x in store.letters_of_run(session, run_id)), default=0)
            inserts = []
            for pseudonym, kind in sorted(planned, key=lambda pk: (pk[1], _postcode(to, pk[0]))):
                row = by_pseudonym[pseudonym]
                seq += 1
                coupon = kind == "coupon"
                code = make_code(key, campaign.name, period, pseudonym) if coupon else None
                inserts.append(
                    {
                        "run_id": run_id,
                        "seq": seq,
                        "campaign": campaign.name,
                        "period": period,
                        "subject_pseudonym": pseudonym,
                        "kind": kind,
                        "code": code,
                        "band": row.band if coupon else None,
                        "value": (granted_outputs(campaign, as_of, row) or {}) if coupon else {},
                        "valid_until": row.valid_until if coupon else None,
                        "issued": moment,
                    }
                )
            store.issue_letters(session, inserts)
            session.commit()
            sent = store.letters_of_run(session, run_id)
        folder = week_folder(ctx, campaign.name, week)
        files = []
        on = (view.decided or moment).date()
        if campaign.spec.outputs.letters:

            def generate() -> Iterator[Letter]:
                for letter in sent:
                    if letter.subject_pseudonym not in to:  # moved away since it was planned
                        continue
                    yield build_letter(
                        campaign,
                        letter,
                        by_pseudonym[letter.subject_pseudonym],
                        to[letter.subject_pseudonym],
                        on=on,
                    )

            title = f"{campaign.spec.title.get('nl', campaign.name)} week {week}"
            write_letters(generate(), folder / "letters.pdf", title=title)
            files.append("letters.pdf")
        billing = week_billing(ctx, campaign, view, rows, extract, pseudonymise, folder)
        files += [str(p.relative_to(folder)) for p in billing.files]
        coupons = {x.subject_pseudonym for x in sent if x.kind == "coupon"}
        with ctx.factory() as session:
            coupons |= {
                p for p, k in store.letter_keys(session, campaign.name, period) if k == "coupon"
            }
        records = _notifications(
            campaign,
            run_id,
            period,
            rows,
            recipients(campaign, extract, pseudonymise),
            coupons,
            key,
            week,
        )
        if campaign.spec.outputs.notifications:
            write_notifications(records, folder / "notifications.jsonl")
            files.append("notifications.jsonl")
        changed_on = summary.get("changed_on", {})
        days = sorted(
            (moment.date() - date.fromisoformat(changed_on[x.subject_pseudonym])).days
            for x in sent
            if x.subject_pseudonym in changed_on
        )
        counts = {kind: sum(1 for x in sent if x.kind == kind) for kind in ("coupon", "invitation")}
        by_change = {c: sum(1 for n in records if n.change == c) for c in ORDER}
        summary.update(
            letters=counts,
            notifications=len(records),
            notified={c: n for c, n in by_change.items() if n},
            billing=billing.pupils,
            days=days,
            files=files,
        )
        summary["history"] = [
            *summary.get("history", []),
            {"status": "issued", "actor": actor, "time": moment.isoformat()},
        ]
        outputs = {
            "folder": str(folder),
            "files": files,
            "letters": counts,
            "notifications": len(records),
            "billing_rows": billing.pupils,
        }
        with ctx.factory() as session:
            try:
                view = week_store.turn_week(
                    session,
                    run_id,
                    before=("ready", "issuing"),
                    status="issued",
                    summary=summary,
                    outputs=outputs,
                    now=moment,
                )
            except CampaignStateError as exc:
                raise FollowUpError(str(exc)) from None
            audit_run(
                session,
                campaign,
                run_id,
                kind="export",
                actor=actor,
                outcome="follow_up_issued",
                now=moment,
                week=week,
                standing_run=standing.run_id,
                letters=counts,
                notifications=len(records),
                billing=billing.pupils,
            )
            session.commit()
    return batch_of(view)
