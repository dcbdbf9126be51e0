"""The desk use case: check one citizen live, store the decision and audit it; override it.

One `Desk` per process serves the desk's pages, the REST API and `entitle check` alike. It holds
the benefits (loaded once from the benefit folder), the registries (one MAGDA client, the city's
datasets, the access log and the pseudonymiser) and the store. A check of several benefits is
several checks: each benefit is decided under its own purpose — a registry access is bound to one
purpose and logged under it — and stored and audited on its own. Every decision and override is
stored under the subject's pseudonym, never the number, and the audit entry holds the decision's
digest, so the log proves what was decided.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from entitle.decide.check import CheckResult, check, needs_household
from entitle.decide.several import Refusal
from entitle.decide.wiring import Registries
from entitle.insz import parse_insz
from entitle.municipality import Municipality, configured_municipality
from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.decision import Decision
from entitle.rules.folder import load_benefits
from entitle.rules.logic import Outcome
from entitle.rules.model import Benefit
from entitle.store import audit, decisions
from entitle.store.decisions import OVERRIDE_REASONS, OverrideTargetError, OverrideView
from entitle.store.transactions import Transactions

__all__ = [
    "OVERRIDE_OUTCOMES",
    "OVERRIDE_REASONS",
    "Desk",
    "DeskCheck",
    "OverrideTargetError",
    "OverrideView",
    "add_override",
    "override_choices",
    "record_check",
]

# what an officer may set over a computed outcome: a decision, never "undetermined"
OVERRIDE_OUTCOMES: tuple[str, ...] = (Outcome.ELIGIBLE.value, Outcome.NOT_ELIGIBLE.value)


def override_choices(computed: str | None) -> tuple[str, ...]:
    """The outcomes an officer may set over a computed one: never "not eligible" over an
    undetermined decision (missing data is no refusal)."""
    if computed == Outcome.UNDETERMINED:
        return (Outcome.ELIGIBLE.value,)
    return OVERRIDE_OUTCOMES


@dataclass
class DeskCheck:
    """One stored desk check: the decision and why facts are missing, the subject's pseudonym,
    the stored decision's id and the override in force for it."""

    benefit: Benefit
    result: CheckResult
    pseudonym: str
    decision_id: int
    override: OverrideView | None
    not_inscribed: bool = False  # the KSZ gave no data: Entitle has not inscribed the person

    @property
    def effective_outcome(self) -> str:
        """The outcome in force: the override's, else the decision's."""
        if self.override is not None:
            return str(self.override.outcome)
        return str(self.result.decision.outcome)


def record_check(
    store: Transactions,
    decision: Decision,
    *,
    kind: str,
    actor: str,
    purpose: str,
    subject_pseudonym: str,
    reasons: Mapping[str, str],
    details: Mapping[str, Any],
) -> tuple[int, OverrideView | None]:
    """Find the override in force, save the decision and append its audit entry, in one
    transaction; returns the decision id and the override."""

    def work(connection: Connection) -> tuple[int, OverrideView | None]:
        override = decisions.active_override(
            connection, decision.benefit, subject_pseudonym, decision.as_of
        )
        values = decisions.decision_values(
            decision,
            actor=actor,
            purpose=purpose,
            subject_pseudonym=subject_pseudonym,
            reasons=dict(reasons),
            now=store.now(),
        )
        decision_id = decisions.insert_decision(connection, values)
        effective = override.outcome if override is not None else str(decision.outcome)
        audit.append(
            connection,
            kind=kind,
            actor=actor,
            purpose=purpose,
            subject=subject_pseudonym,
            outcome=str(decision.outcome),
            details={
                **details,
                "decision": decision_id,
                "decision_sha256": decisions.record_digest(values, decisions.DECISION_FIELDS),
                "overridden": override is not None,
                "effective_outcome": effective,
            },
            now=store.now(),
        )
        return int(decision_id), override

    return store.run_core(work)


def add_override(
    store: Transactions,
    *,
    benefit: str,
    subject_pseudonym: str,
    outcome: str,
    reason: str,
    note: str,
    valid_until: date,
    actor: str,
    purpose: str,
    details: Mapping[str, Any],
    decision_id: int | None = None,
) -> OverrideView:
    """Record an override of decision `decision_id` and its audit entry, in one transaction
    (`OverrideTargetError` when that decision is of another benefit or subject)."""

    def work(session: Session) -> OverrideView:
        view = decisions.add_override(
            session,
            benefit=benefit,
            subject_pseudonym=subject_pseudonym,
            outcome=outcome,
            reason=reason,
            note=note,
            valid_until=valid_until,
            actor=actor,
            now=store.now(),
            decision_id=decision_id,
        )
        audit.append(
            session,
            kind="override",
            actor=actor,
            purpose=purpose,
            subject=subject_pseudonym,
            outcome=outcome,
            details={
                **details,
                "benefit": benefit,
                "reason": reason,
                "valid_until": valid_until.isoformat(),
                "override": view.id,
                "override_sha256": view.digest,
                **({"decision": decision_id} if decision_id is not None else {}),
            },
            now=store.now(),
        )
        return view

    return store.run(work)


class Desk:
    """The desk's checks and overrides for one process: benefits, registries, store.

    `today`: the decision date when a check names none (the desk: today in Brussels); `order`:
    the benefits' ids in the municipality's desk order; `auto_purposes`: the purposes whose
    benefits are checked without a click after another check.
    """

    def __init__(
        self,
        benefits: Mapping[str, Benefit],
        registries: Registries,
        store: Transactions,
        *,
        today: Callable[[], date] = date.today,
        catalogue: Catalogue | None = None,
        order: Sequence[str] = (),
        auto_purposes: Collection[str] = (),
        municipality: Municipality | None = None,
    ) -> None:
        self.benefits = dict(benefits)
        self.registries = registries
        self.store = store
        self.today = today
        self.catalogue = catalogue or default_catalogue()
        self.order = {b: i for i, b in enumerate(order)}
        self.auto_purposes = frozenset(auto_purposes)
        self.municipality = municipality
        self._household = {b.id: needs_household(b) for b in self.benefits.values()}

    @classmethod
    def open(
        cls,
        folder: Path,
        registries: Registries,
        store: Transactions,
        *,
        today: Callable[[], date] = date.today,
        auto_purposes: Collection[str] | None = None,
    ) -> Desk:
        """The desk of the configured municipality (ENTITLE_MUNICIPALITY: its desk order and
        automatic purposes, unless `auto_purposes` is given) over the benefits in `folder`
        (`BenefitFolderError` when one is not valid)."""
        municipality = configured_municipality()
        if auto_purposes is None:
            auto_purposes = municipality.desk_auto_purposes if municipality is not None else ()
        return cls(
            load_benefits(folder),
            registries,
            store,
            today=today,
            order=municipality.desk_order if municipality is not None else (),
            auto_purposes=auto_purposes,
            municipality=municipality,
        )

    # ------------------------------------------------------------------ the benefits

    def benefit(self, benefit_id: str) -> Benefit | None:
        return self.benefits.get(benefit_id)

    def reads_household(self, benefit: Benefit) -> bool:
        """Whether deciding `benefit` needs the household composition (worked out once)."""
        known = self._household.get(benefit.id)
        if known is None or self.benefits.get(benefit.id) is not benefit:
            return needs_household(benefit)
        return known

    def ordered(self) -> Sequence[Benefit]:
        """The municipality's desk order, then the others by Dutch title."""
        last = len(self.order)
        return sorted(
            self.benefits.values(),
            key=lambda b: (self.order.get(b.id, last), b.title.get("nl", b.id)),
        )

    def pseudonym(self, insz: str) -> str:
        """The subject's pseudonym for an INSZ (`InvalidInszError` for a malformed one)."""
        return self.registries.pseudonymise(parse_insz(insz).normalized)

    # ------------------------------------------------------------------ checks

    def check(
        self,
        benefit: Benefit,
        insz: str,
        *,
        kind: str,
        actor: str,
        details: Mapping[str, Any] | None = None,
        as_of: date | None = None,
        explain: bool = True,
    ) -> DeskCheck:
        """Decide `insz` for `benefit` live under the benefit's purpose, store the decision and
        append its audit entry (`kind`, `actor`, `details` such as the reason for the check).
        Raises `InvalidInszError` for a malformed number, `MagdaConfigError` for bad settings."""
        when = as_of or self.today()
        number = parse_insz(insz).normalized
        gateway = self.registries.gateway(benefit.purpose, when, self.catalogue)
        result = check(benefit, number, gateway, when, explain=explain)
        pseudonym = self.registries.pseudonymise(number)
        not_inscribed = bool(result.decision.facts_missing) and self.registries.not_inscribed(
            benefit.purpose, number, when
        )
        decision_id, override = record_check(
            self.store,
            result.decision,
            kind=kind,
            actor=actor,
            purpose=benefit.purpose,
            subject_pseudonym=pseudonym,
            reasons={fact: why.text() for fact, why in result.reasons.items()},
            details={
                **(details or {}),
                "benefit": benefit.id,
                "version": benefit.version,
                "questions": result.questions,
            },
        )
        return DeskCheck(benefit, result, pseudonym, decision_id, override, not_inscribed)

    def check_several(
        self,
        chosen: Iterable[Benefit | Refusal],
        insz: str,
        *,
        kind: str,
        actor: str,
        details: Mapping[str, Any] | None = None,
        refuse: Callable[[Benefit], Refusal | None] | None = None,
        as_of: date | None = None,
    ) -> Iterator[DeskCheck | Refusal]:
        """Each benefit checked as a check of its own (`check`), in order; a refusal (given, or
        from `refuse` just before the benefit's turn, e.g. a rate limit) is passed on unchecked.
        Lazy: a caller that stops early checks no further benefit."""
        for item in chosen:
            if isinstance(item, Refusal):
                yield item
                continue
            refused = refuse(item) if refuse is not None else None
            if refused is not None:
                yield refused
                continue
            yield self.check(item, insz, kind=kind, actor=actor, details=details, as_of=as_of)

    # ------------------------------------------------------------------ overrides

    def override(
        self,
        benefit: Benefit,
        insz: str,
        *,
        outcome: str,
        reason: str,
        note: str,
        valid_until: date,
        actor: str,
        decision_id: int | None = None,
    ) -> OverrideView:
        """An officer's override of the decision `decision_id` with its reason (one of
        `OVERRIDE_REASONS`) and note, stored and audited under the benefit's purpose.
        `OverrideTargetError` when that decision is of another benefit or subject."""
        if outcome not in OVERRIDE_OUTCOMES:
            raise ValueError(f"an override sets one of {', '.join(OVERRIDE_OUTCOMES)}")
        return add_override(
            self.store,
            benefit=benefit.id,
            subject_pseudonym=self.pseudonym(insz),
            outcome=outcome,
            reason=reason,
            note=note,
            valid_until=valid_until,
            actor=actor,
            purpose=benefit.purpose,
            details={},
            decision_id=decision_id,
        )

    def active_override(
        self, benefit: str, subject_pseudonym: str, on: date
    ) -> OverrideView | None:
        """The override in force on `on` for a benefit and subject, if any."""
        return self.store.run(
            lambda s: decisions.active_override(s, benefit, subject_pseudonym, on)
        )

    def stored_outcome(self, decision_id: int) -> str | None:
        """The outcome of a stored decision (None: no such decision)."""
        stored = self.store.run(lambda s: decisions.get_decision(s, decision_id))
        return str(stored["outcome"]) if stored else None

    # ------------------------------------------------------------------ inscriptions

    def inscribe(self, benefit: Benefit, insz: str, *, actor: str) -> str:
        """Inscribe the person in the KSZ directory for the benefit's purpose over the validity
        of a decision of today, audited with the pseudonym; the outcome (``ok`` when done)."""
        today = self.today()
        number = parse_insz(insz).normalized
        until = benefit.valid_until(today)
        outcome = self.registries.inscribe(benefit.purpose, number, today, until, today)
        subject = self.registries.pseudonymise(number)
        self.store.run(
            lambda s: audit.append(
                s,
                kind="inscription",
                actor=actor,
                purpose=benefit.purpose,
                subject=subject,
                outcome="inscribed" if outcome == "ok" else f"not inscribed: {outcome}",
                details={"benefit": benefit.id, "until": until.isoformat()},
                now=self.store.now(),
            )
        )
        return outcome

    def close(self) -> None:
        """Close the network clients (reopened on the next check); the store stays open."""
        self.registries.close()
