"""A run's figures: the summary stored with a draft, and what the dashboard shows."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from string import Formatter
from typing import Any, cast

from sqlalchemy.orm import Session

from entitle.decide.campaign.definition import Campaign, CouponLetter, CouponTranslation
from entitle.decide.campaign.evaluate import undecided_conditions
from entitle.decide.campaign.reasons import NOT_IN_REGISTER_CODE, PENDING
from entitle.decide.campaign.sources import NOT_IN_REGISTER
from entitle.decide.reasons import NO_DATA, ours_in, reasons_of
from entitle.rules.certain import outputs_at_least
from entitle.rules.logic import OUTCOMES
from entitle.rules.model import Benefit
from entitle.store import campaigns as store
from entitle.store.campaigns import RunView

# a run's changes as the dashboard counts them: a pending household is counted as pending, never
# by its stored change ("none" or "unknown" against the previous run), so it is not read as
# "not eligible" or "undetermined"
RUN_CHANGES = (*store.CHANGES, PENDING)
# a run's outcomes: also `pending`, a household left for the next run by a failure of ours or
# of the source (never "not eligible" nor "undetermined", and never a letter)
RUN_OUTCOMES = (*OUTCOMES, PENDING)


def shown_change(outcome: str, change: str) -> str:
    """The change a decision is counted and shown under (`RUN_CHANGES`)."""
    return PENDING if outcome == PENDING else change


def _reason_key(benefit: Benefit, row: Any) -> list[str]:
    missing: list[str] = list(row.facts_missing or [])
    if missing:
        reasons = reasons_of(row.reasons)
        keys = []
        for fact in missing:
            why = reasons.get(fact)
            if why is None:
                kind = NO_DATA.kind
            elif why.code == NOT_IN_REGISTER_CODE:
                kind = NOT_IN_REGISTER
            else:
                kind = why.kind
            keys.append(f"{fact} ({kind})")
        return keys
    unknown = undecided_conditions(benefit, row.conditions or {}, row.facts_used or [])
    return [f"condition {name}" for name in unknown] or ["outputs unknown"]


def summarise(session: Session, campaign: Campaign, run: RunView) -> dict[str, Any]:
    """The run's figures: outcomes, changes, bands and their cost, undetermined reasons,
    fetch statistics, and the letters approval would issue."""
    rows = store.decision_rows(
        session,
        run.id,
        [
            "subject_pseudonym",
            "outcome",
            "change",
            "band",
            "outputs",
            "conditions",
            "facts_missing",
            "facts_used",
            "reasons",
            "at_least",
        ],
    )
    outcomes: Counter[str] = Counter()
    changes: Counter[str] = Counter()
    bands: Counter[str] = Counter()
    cost_by_band: dict[str, float] = defaultdict(float)
    reasons: Counter[str] = Counter()
    pending_reasons: Counter[str] = Counter()
    pending: list[str] = []
    partial: Counter[str] = Counter()
    for row in rows:
        outcomes[row.outcome] += 1
        changes[shown_change(row.outcome, row.change)] += 1
        if row.outcome == "eligible":
            band = row.band or "-"
            bands[band] += 1
            granted = granted_outputs(campaign, run.as_of, row)
            cost_by_band[band] += cost_of(campaign, granted or row.outputs or {}, row.band)
            for name, value in (row.outputs or {}).items():
                if value is None:
                    least = (row.at_least or {}).get(name)
                    partial[name if least is None else f"{name} ≥ {least}"] += 1
        elif row.outcome == "undetermined":
            for key in _reason_key(campaign.benefit, row):
                reasons[key] += 1
        elif row.outcome == PENDING:
            pending.append(row.subject_pseudonym)
            for fact, why in ours_in(row.reasons).items():
                pending_reasons[f"{fact} ({why.label()})"] += 1
    chunks = store.chunk_stats(session, run.id)
    fetched: Counter[str] = Counter()
    questions = 0
    seconds = 0.0
    bounded: Counter[str] = Counter()
    for chunk in chunks:
        fetched.update(chunk["stats"].get("fetched", {}))
        bounded.update(chunk["stats"].get("by_bounds", {}))
        questions += int(chunk["stats"].get("questions", 0))
        seconds += float(chunk["stats"].get("seconds", 0.0))
    due = letters_due(session, campaign, run, rows)
    return {
        "subjects": sum(outcomes[o] for o in RUN_OUTCOMES),
        "outcomes": {
            o: outcomes[o] for o in (*RUN_OUTCOMES, "absent") if outcomes[o] or o in RUN_OUTCOMES
        },
        "changes": {c: changes[c] for c in RUN_CHANGES},
        "bands": dict(sorted(bands.items())),
        "cost_by_band": {b: round(v, 2) for b, v in sorted(cost_by_band.items())},
        "cost": round(sum(cost_by_band.values()), 2),
        "undetermined_reasons": dict(reasons.most_common(20)),
        "pending": {
            "count": len(pending),
            "reasons": dict(sorted(pending_reasons.items())),
            "subjects": sorted(pending),
        },
        "partial": {
            "count": sum(1 for r in rows if r.outcome == "eligible" and _open(r)),
            "open": dict(sorted(partial.items())),
        },
        "by_bounds": dict(sorted(bounded.items())),
        "fetched": dict(sorted(fetched.items())),
        "questions": questions,
        "decide_seconds": round(seconds, 1),
        "letters_due": due,
    }


def cost_of(campaign: Campaign, outputs: dict[str, Any], band: str | None) -> float:
    """What one eligible decision costs, as the campaign's `cost` prices it."""
    cost = campaign.spec.cost
    if cost.outputs:
        return float(sum(float(outputs.get(name) or 0) for name in cost.outputs))
    if cost.per_band and band is not None:
        return float(cost.per_band.get(band, 0.0))
    return 0.0


def _open(row: Any) -> bool:
    return any(value is None for value in (row.outputs or {}).values())


def granted_outputs(campaign: Campaign, as_of: date, row: Any) -> dict[str, Any] | None:
    """What an eligible decision grants: its outputs, those of a partial decision at their
    certain minimum (`outputs_at_least`; None when that is not certain). A row stored before
    `at_least` was takes its certain band as the minimum of the band output."""
    outputs = dict(row.outputs or {})
    if row.outcome != "eligible" or not _open(row):
        return outputs
    at_least = dict(getattr(row, "at_least", None) or {})  # a row stored before: none
    band = campaign.spec.band
    if not at_least and band is not None and outputs.get(band) is None and row.band is not None:
        at_least = {band: row.band}
    return outputs_at_least(campaign.benefit, as_of, row.conditions or {}, outputs, at_least)


def letter_outputs(campaign: Campaign) -> set[str]:
    """The benefit's outputs that the coupon letter's texts (every language) quote."""
    letters = campaign.spec.outputs.letters
    if not letters:
        return set()
    texts: list[CouponLetter | CouponTranslation] = [letters.coupon]
    texts += [tr.coupon for tr in letters.translations.values()]
    names: set[str] = set()
    for coupon in texts:
        for text in (coupon.subject, coupon.what, coupon.how, *coupon.what_by_band.values()):
            names |= {field for _, field, _, _ in Formatter().parse(text) if field}
    return names & set(campaign.benefit.outputs)


def letters_to_issue(
    campaign: Campaign, rows: Iterable[Any], issued: set[tuple[str, str]], as_of: date
) -> list[tuple[str, Any]]:
    """(kind, decision row) of the letters approving this run (decided as of `as_of`) would
    issue. A partial decision gets the coupon letter for its certain part (`granted_outputs`),
    which also asks for what would settle the open part; when that part is not certain, the
    invitation where the campaign sends them.

    Never a letter for a `pending` household, nor an invitation for one with a fact missing
    through our failure: the citizen has nothing to bring, the next run decides it."""
    letters = campaign.spec.outputs.letters
    if not letters:
        return []
    quoted = letter_outputs(campaign)
    out = []
    for row in rows:
        pseudonym = row.subject_pseudonym
        # a partial decision's letter quotes its certain part (the reduced tariff's prices while
        # the exemption is open); when that is not certain, never a letter with a blank
        granted = granted_outputs(campaign, as_of, row) if row.outcome == "eligible" else None
        values = granted if granted is not None else (row.outputs or {})
        complete = not any(values.get(name) is None for name in quoted)
        if row.outcome == "eligible" and complete and (pseudonym, "coupon") not in issued:
            out.append(("coupon", row))
        elif (
            (row.outcome == "undetermined" or (row.outcome == "eligible" and not complete))
            and letters.invitation
            and not ours_in(row.reasons)
            and (pseudonym, "coupon") not in issued
            and (pseudonym, "invitation") not in issued
        ):
            out.append(("invitation", row))
    return out


def letters_due(
    session: Session, campaign: Campaign, run: RunView, rows: Sequence[Any]
) -> dict[str, int]:
    """How many letters of each kind approving the run would issue."""
    issued = store.letter_keys(session, campaign.name, run.period)
    counts = Counter(kind for kind, _ in letters_to_issue(campaign, rows, issued, run.as_of))
    return {"coupon": counts["coupon"], "invitation": counts["invitation"]}


@dataclass(frozen=True)
class Progress:
    """How far a run is: chunks and subjects decided, of all."""

    chunks_done: int
    chunks_total: int
    subjects_done: int
    subjects_total: int


@dataclass(frozen=True)
class Pending:
    """The subjects a run could not decide through failures of ours (decided next run)."""

    count: int
    reasons: dict[str, int]  # "fact (reason)" -> subjects
    subjects: list[str]  # pseudonyms


@dataclass(frozen=True)
class Partial:
    """Eligible decisions with an output still open ("name ≥ least" when a minimum is certain)."""

    count: int
    open: dict[str, int]


@dataclass(frozen=True)
class RunFigures:
    """Everything the campaign dashboard shows about one run (`run_figures`). The mappings are
    keyed by outcome, change, band, fact or letter kind; `pending` and `partial` are None while
    the run has no summary yet (running), `sample` and `sample_changes` while it runs."""

    run: RunView
    progress: Progress
    outcomes: dict[str, int]
    changes: dict[str, int]
    bands: dict[str, int]
    cost_by_band: dict[str, float]
    cost: float | None
    undetermined_reasons: dict[str, int]
    pending: Pending | None
    partial: Partial | None
    by_bounds: dict[str, int]
    paused: dict[str, Any] | None  # why a running run paused itself (`run.pause_line`)
    letters_due: dict[str, int]
    letters_issued: dict[str, int]
    fetched: dict[str, int]
    questions: int | None
    reach: dict[str, Any] | None  # against the ground truth (synthetic city)
    outputs: dict[str, Any] | None  # the issued run's files and counts
    sample: dict[str, list[dict[str, Any]]] | None  # outcome -> a few decisions, JSON-ready
    sample_changes: dict[str, list[dict[str, Any]]] | None  # new / changed / ended -> the same

    def to_json(self) -> dict[str, Any]:
        """The figures JSON-ready, as `entitle campaign show --run N --json` prints them."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["run"] = self.run.to_dict()
        out["progress"] = asdict(self.progress)
        out["pending"] = asdict(self.pending) if self.pending else {}
        out["partial"] = asdict(self.partial) if self.partial else {}
        for name in ("sample", "sample_changes"):
            if out[name] is None:
                del out[name]
        return cast(dict[str, Any], json.loads(json.dumps(out, default=str)))


def run_figures(session: Session, run_id: int, *, sample: int = 10) -> RunFigures:
    """Everything the campaign dashboard shows about one run: the run (status, verdicts),
    counts by outcome and by change (new / continued / changed / ended), bands and cost,
    undetermined reasons, letters due and issued, fetch statistics, reach against the ground
    truth (synthetic city), and a sample of decisions with their reasons."""
    run = store.get_run(session, run_id)
    if run is None:
        raise KeyError(f"no campaign run {run_id}")
    summary = dict(run.summary or {})
    done = store.chunk_stats(session, run_id)
    pending = summary.get("pending")
    partial = summary.get("partial")
    samples = changes = None
    if run.status != "running":
        samples = {
            outcome: _json(store.decision_sample(session, run_id, outcome=outcome, limit=sample))
            for outcome in RUN_OUTCOMES
        }
        changes = {
            change: _json(store.decision_sample(session, run_id, change=change, limit=sample))
            for change in ("new", "changed", "ended")
        }
    return RunFigures(
        run=run,
        progress=Progress(
            chunks_done=len(done),
            chunks_total=run.chunks_total,
            subjects_done=sum(c["subjects"] for c in done),
            subjects_total=run.subjects_total,
        ),
        outcomes=summary.get("outcomes", {}),
        changes=summary.get("changes", {}),
        bands=summary.get("bands", {}),
        cost_by_band=summary.get("cost_by_band", {}),
        cost=summary.get("cost"),
        undetermined_reasons=summary.get("undetermined_reasons", {}),
        pending=Pending(pending["count"], pending["reasons"], pending["subjects"])
        if pending
        else None,
        partial=Partial(partial["count"], partial["open"]) if partial else None,
        by_bounds=summary.get("by_bounds", {}),
        paused=summary.get("paused"),
        letters_due=summary.get("letters_due", {}),
        letters_issued=store.letter_counts(session, run_id),
        fetched=summary.get("fetched", {}),
        questions=summary.get("questions"),
        reach=summary.get("reach"),
        outputs=run.outputs,
        sample=samples,
        sample_changes=changes,
    )


def _json(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as JSON reads them back (dates and other values as strings)."""
    return cast(list[dict[str, Any]], json.loads(json.dumps(records, default=str)))


def campaign_runs(session: Session, campaign: str, limit: int = 20) -> list[dict[str, Any]]:
    """A campaign's runs, newest first, with their headline figures (for the runs table)."""
    out = []
    for run in store.list_runs(session, campaign, limit=limit):
        summary = run.summary or {}
        out.append(
            {
                "id": run.id,
                "as_of": run.as_of.isoformat(),
                "status": run.status,
                "started": run.started.isoformat(),
                "outcomes": summary.get("outcomes", {}),
                "changes": summary.get("changes", {}),
                "letters_issued": store.letter_counts(session, run.id),
                "approvals": list(run.approvals),
                "approvals_required": run.approvals_required,
                "period": run.period,
                "cost_by_band": summary.get("cost_by_band", {}),
            }
        )
    return out


WEEKS_SHOWN = 12


def take_up_by_week(session: Session, campaign: str) -> list[dict[str, Any]]:
    """Coupons issued and used per week (Monday first), the last `WEEKS_SHOWN` weeks with any."""
    issued: dict[date, int] = defaultdict(int)
    used: dict[date, int] = defaultdict(int)
    for sent, spent in store.coupon_moments(session, campaign):
        issued[_monday(sent.date())] += 1
        if spent is not None:
            used[_monday(spent.date())] += 1
    weeks = sorted(set(issued) | set(used))[-WEEKS_SHOWN:]
    return [{"week": w, "issued": issued.get(w, 0), "used": used.get(w, 0)} for w in weeks]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
