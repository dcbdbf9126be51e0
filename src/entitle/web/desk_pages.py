"""The desk's pages: the check of one citizen (and of the other benefits), the override and the
KSZ inscription. The work is `entitle.decide.desk.Desk`'s; here are the forms and the card."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from entitle.decide.desk import (
    OVERRIDE_OUTCOMES,
    OVERRIDE_REASONS,
    DeskCheck,
    OverrideTargetError,
    override_choices,
)
from entitle.decide.several import Refusal, automatic, other_benefits
from entitle.decide.wiring import MagdaConfigError
from entitle.insz import InvalidInszError, parse_insz
from entitle.rules.model import Benefit
from entitle.web import inszcheck
from entitle.web.auth import Officer, csrf_officer, require_desk, web_state
from entitle.web.curiosity import refused_window
from entitle.web.desk import Card, card_of
from entitle.web.desk_letters import letter_status
from entitle.web.forms import FormText
from entitle.web.i18n import Translator
from entitle.web.textcheck import checked_text
from entitle.web.views import is_partial, render, translator

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

NOTE_MAX = 500
REASON_MAX = 200
OVERRIDE_MAX_DAYS = 366

ReasonText = Annotated[str, Form(max_length=REASON_MAX * 4)]  # a check's reason, as typed


def _desk(
    request: Request,
    *,
    card: Card | None = None,
    insz: str = "",
    benefit_id: str | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    override_errors: dict[str, str] | None = None,
    override_values: dict[str, Any] | None = None,
    check_values: dict[str, str] | None = None,
    override_outcomes: tuple[str, ...] = OVERRIDE_OUTCOMES,
    others: Others | None = None,
    status: int = 200,
) -> Response:
    state = web_state(request)
    benefits = state.desk.ordered()
    if benefit_id is None or state.desk.benefit(benefit_id) is None:
        benefit_id = benefits[0].id if benefits else ""
    today = state.today()
    context = {
        "benefits": benefits,
        "selected": benefit_id,
        "insz": insz,
        "card": card,
        "errors": errors or {},
        "notice": notice,
        "override_errors": override_errors or {},
        "override_values": override_values or {},
        "today": today,
        "override_max": today + timedelta(days=OVERRIDE_MAX_DAYS),
        "reasons": OVERRIDE_REASONS,
        "override_outcomes": override_outcomes,
        "check_values": check_values or {},
        "reason_required": state.settings.check_reason_required,
        "others": others,
        "insz_messages": {code: translator(request)(f"insz.{code}") for code in inszcheck.PROBLEMS},
    }
    template = "_result.html" if is_partial(request) else "desk.html"
    if others is not None and card is None and is_partial(request):
        template = "_others.html"  # only the list of other benefits is replaced
    return render(request, template, context, status=status)


@router.get("/desk")
def desk(request: Request, officer: Annotated[Officer, Depends(require_desk)]) -> Response:
    return _desk(request, benefit_id=request.query_params.get("benefit"))


def _formatted(insz: str) -> str:
    try:
        return parse_insz(insz).formatted
    except InvalidInszError:
        return insz


@router.post("/desk/check")
def desk_check(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: FormText = "",
    benefit: FormText = "",
    purpose: FormText = "",
    visit: FormText = "",
    reason: ReasonText = "",
) -> Response:
    if not officer.can_check():
        return render(request, "error.html", {"message": "error.forbidden"}, status=403)
    state = web_state(request)
    t = translator(request)
    chosen, reason, errors = _check_form(request, benefit, insz, visit, reason, purpose)
    values = {"visit": "1" if visit else "", "reason": reason}
    if errors or chosen is None:
        return _desk(
            request, insz=insz, benefit_id=benefit, errors=errors, check_values=values, status=422
        )
    subject = state.desk.pseudonym(insz)
    refused = refused_window(request, officer, chosen.id, subject)
    if refused is not None:
        errors["form"] = _rate_limited(t, refused)
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=429)
    why_checked = _why_checked(visit, reason)
    try:
        card = run_check(
            request, chosen, insz, kind="check", actor=officer.username, details=why_checked
        )
        card.letters = letter_status(request, chosen, insz)
    except MagdaConfigError as exc:
        errors["form"] = _config_problem(t, exc)
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=503)
    others = check_others(request, officer, chosen, insz, why_checked, every=False)
    return _desk(request, card=card, insz=_formatted(insz), benefit_id=chosen.id, others=others)


@dataclass
class Others:
    """The municipality's other benefits after a check: decided now, or still to check."""

    checked: str  # the benefit checked first
    why: dict[str, Any]  # why the first was checked (a visit, a reason): the others share it
    cards: list[Card]
    unchecked: list[Benefit]
    automatic: bool  # the cards were checked without a click
    problem: str | None = None


def check_others(
    request: Request,
    officer: Officer,
    checked: Benefit,
    insz: str,
    why: dict[str, Any],
    *,
    every: bool,
) -> Others:
    """Check the other benefits the officer may check: all of them (`every`, the single click),
    else those whose purpose the municipality checks automatically. Each is decided, stored and
    audited under its own purpose, as a check of its own, within the officer's limits."""
    state = web_state(request)
    t = translator(request)
    others = other_benefits(state.desk.ordered(), checked.id, lambda _: officer.can_check())
    now = others if every else automatic(others, state.desk.auto_purposes)
    subject = state.desk.pseudonym(insz)

    def limited(benefit: Benefit) -> Refusal | None:
        refused = refused_window(request, officer, benefit.id, subject)
        if refused is None:
            return None
        return Refusal(benefit.id, 429, t("others.refused", why=_rate_limited(t, refused)))

    cards: list[Card] = []
    problem = None
    checks = state.desk.check_several(
        now,
        insz,
        kind="check",
        actor=officer.username,
        details={**why, "after": checked.id, "automatic": not every},
        refuse=limited,
    )
    try:
        for item in checks:
            if isinstance(item, Refusal):
                problem = item.detail
                break
            cards.append(card_of(state.desk, item))
    except MagdaConfigError as exc:
        problem = _config_problem(t, exc)
    done = {card.benefit.id for card in cards}
    unchecked = [b for b in others if b.id not in done]
    return Others(checked.id, why, cards, unchecked, bool(cards) and not every, problem)


@router.post("/desk/check-others")
def desk_check_others(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: FormText = "",
    benefit: FormText = "",
    visit: FormText = "",
    reason: ReasonText = "",
) -> Response:
    """The single click: check every other benefit of the municipality for this person, for the
    same visit or reason as the first check."""
    if not officer.can_check():
        return render(request, "error.html", {"message": "error.forbidden"}, status=403)
    checked, reason, errors = _check_form(request, benefit, insz, visit, reason)
    if errors or checked is None:
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=422)
    why_checked = _why_checked(visit, reason)
    others = check_others(request, officer, checked, insz, why_checked, every=True)
    return _desk(request, insz=_formatted(insz), benefit_id=checked.id, others=others)


def _check_form(
    request: Request, benefit: str, insz: str, visit: str, reason: str, purpose: str = ""
) -> tuple[Benefit | None, str, dict[str, str]]:
    """A check's form read: the benefit asked for, the reason as it may be stored, and the
    problems by field (an unknown benefit, or not of the `purpose` given; the number; the
    reason)."""
    state = web_state(request)
    t = translator(request)
    errors: dict[str, str] = {}
    chosen = state.desk.benefit(benefit)
    if chosen is None:
        errors["benefit"] = t("desk.benefit_unknown")
    elif purpose and purpose != chosen.purpose:
        errors["benefit"] = t("desk.purpose_wrong", purpose=purpose)
    invalid = inszcheck.invalid_message(insz, t)
    if invalid is not None:
        errors["insz"] = invalid
    reason, problem = checked_text(t, reason, REASON_MAX)
    if problem is not None:
        errors["reason"] = problem
    elif state.settings.check_reason_required and not visit and not reason:
        errors["reason"] = t("desk.reason_required")
    return chosen, reason, errors


def _rate_limited(t: Translator, refused: tuple[str, int]) -> str:
    """Why a check is refused: the officer's limit in a window (`refused_window`) is reached."""
    window, limit = refused
    key = "desk.rate_limited" if window == "minute" else f"desk.rate_limited_{window}"
    return t(key, limit=limit)


def _config_problem(t: Translator, exc: MagdaConfigError) -> str:
    """Log a MAGDA configuration error; the officer is told only its type."""
    log.error("MAGDA configuration: %s", exc)
    return t("desk.config_error", why=type(exc).__name__)


def _why_checked(visit: str, reason: str) -> dict[str, Any]:
    """Why a check was made, for its audit entry: a citizen's visit and/or the officer's reason."""
    why_checked: dict[str, Any] = {"visit": bool(visit)}
    if reason:
        why_checked["reason"] = reason
    return why_checked


def run_check(
    request: Request,
    benefit: Benefit,
    insz: str,
    *,
    kind: str,
    actor: str,
    details: dict[str, Any] | None = None,
) -> Card:
    """Check, store the decision and audit it (`Desk.check`, with `details`, e.g. the reason
    for the check), and build the card with any active override."""
    desk = web_state(request).desk
    checked: DeskCheck = desk.check(benefit, insz, kind=kind, actor=actor, details=details)
    return card_of(desk, checked)


def _computed_outcome(request: Request, decision_id: str) -> str | None:
    """The stored outcome of the decision an override is about (None when not given)."""
    if not decision_id.isdigit():
        return None
    return web_state(request).desk.stored_outcome(int(decision_id))


@router.post("/desk/inscribe")
def desk_inscribe(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: FormText = "",
    benefit: FormText = "",
) -> Response:
    """Inscribe the person in the KSZ directory for the benefit's purpose (an officer who may
    override), audited with the pseudonym; then check again."""
    if not officer.can_override():
        return render(request, "error.html", {"message": "error.forbidden"}, status=403)
    state = web_state(request)
    t = translator(request)
    chosen = state.desk.benefit(benefit)
    if chosen is None:
        errors = {"form": t("desk.benefit_unknown")}
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=422)
    invalid = inszcheck.invalid_message(insz, t)
    if invalid is not None:
        return _desk(request, insz=insz, benefit_id=benefit, errors={"form": invalid}, status=422)
    try:
        outcome = state.desk.inscribe(chosen, insz, actor=officer.username)
    except MagdaConfigError as exc:
        errors = {"form": _config_problem(t, exc)}
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=503)
    if outcome != "ok":
        errors = {"form": t("card.inscribe_failed", outcome=outcome)}
        return _desk(request, insz=insz, benefit_id=chosen.id, errors=errors, status=502)
    card = run_check(request, chosen, insz, kind="check", actor=officer.username)
    return _desk(
        request, card=card, insz=_formatted(insz), benefit_id=chosen.id, notice="card.inscribed"
    )


@router.post("/desk/override")
def desk_override(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: FormText = "",
    benefit: FormText = "",
    outcome: FormText = "",
    reason: FormText = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    valid_until: FormText = "",
    decision_id: FormText = "",
) -> Response:
    if not officer.can_override():
        return render(request, "error.html", {"message": "override.forbidden"}, status=403)
    state = web_state(request)
    t = translator(request)
    chosen = state.desk.benefit(benefit)
    errors: dict[str, str] = {}
    if chosen is None:
        errors["benefit"] = t("desk.benefit_unknown")
    invalid = inszcheck.invalid_message(insz, t)
    if invalid is not None:
        errors["insz"] = invalid
    computed = _computed_outcome(request, decision_id)
    allowed = override_choices(computed)
    if outcome not in OVERRIDE_OUTCOMES:
        errors["outcome"] = t("override.invalid_outcome")
    elif outcome not in allowed:
        errors["outcome"] = t("override.no_refusal_on_undetermined")
    if reason not in OVERRIDE_REASONS:
        errors["reason"] = t("override.invalid_reason")
    note, problem = checked_text(t, note, NOTE_MAX, required=True)
    if problem is not None:
        errors["note"] = problem if note else t("override.invalid_note")
    today = state.today()
    until: date | None = None
    try:
        until = date.fromisoformat(valid_until)
    except ValueError:
        until = None
    if until is None or not today <= until <= today + timedelta(days=OVERRIDE_MAX_DAYS):
        errors["valid_until"] = t("override.invalid_until")
    values = {
        "outcome": outcome,
        "reason": reason,
        "note": note,
        "valid_until": valid_until,
        "decision_id": decision_id,
    }
    if errors or chosen is None or until is None:
        return _desk(
            request,
            insz=insz,
            benefit_id=benefit,
            override_errors=errors,
            override_values=values,
            override_outcomes=allowed,
            errors={k: v for k, v in errors.items() if k in ("insz", "benefit")},
            status=422,
        )
    target: int | None = None  # the decision the card showed: its benefit and subject must match
    if decision_id.strip():
        target = int(decision_id) if decision_id.isdigit() and len(decision_id) < 19 else 0
    try:
        view = state.desk.override(
            chosen,
            insz,
            outcome=outcome,
            reason=reason,
            note=note,
            valid_until=until,
            actor=officer.username,
            decision_id=target,
        )
    except OverrideTargetError:
        return _desk(
            request,
            insz=insz,
            benefit_id=benefit,
            override_errors={"decision": t("override.decision_mismatch")},
            override_values=values,
            status=422,
        )
    return _desk(
        request,
        insz=_formatted(insz),
        benefit_id=chosen.id,
        notice="override.done",
        override_values={"view": view},
    )
