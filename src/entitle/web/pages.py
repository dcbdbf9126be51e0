"""Pages: sign in and out, language, the desk check and the override."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from entitle.decide.several import automatic, other_benefits
from entitle.decide.wiring import MagdaConfigError
from entitle.insz import InvalidInszError, parse_insz
from entitle.rules.model import Benefit
from entitle.store import throttle
from entitle.store.audit import looks_like_insz
from entitle.store.decisions import OVERRIDE_REASONS, OverrideTargetError
from entitle.web import inszcheck
from entitle.web.auth import (
    SESSION_COOKIE,
    Officer,
    clear_cookie,
    cross_site,
    csrf_officer,
    current_officer,
    login_cookie,
    new_login_token,
    require_desk,
    set_cookie,
    tokens_match,
    web_state,
)
from entitle.web.backend import AuthError
from entitle.web.curiosity import refused_window
from entitle.web.desk import (
    OVERRIDE_OUTCOMES,
    Card,
    build_card,
    override_choices,
)
from entitle.web.desk_letters import letter_status
from entitle.web.i18n import LANG_COOKIE, LANGUAGES
from entitle.web.textcheck import checked_text
from entitle.web.views import is_partial, render, translator

if TYPE_CHECKING:
    from entitle.web.app import WebState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

NOTE_MAX = 500
REASON_MAX = 200
OVERRIDE_MAX_DAYS = 366
MAX_FIELD = 200


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a local path (no scheme, no host, no backslash tricks)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value):
        return default
    return value


def _typed_name(username: str) -> str:
    """The name typed at a failed sign-in, for the audit log (never an INSZ typed by mistake)."""
    name = username[:64]
    if not name or looks_like_insz(name) or sum(c.isdigit() for c in name) >= 11:
        return "?"
    return name


HOMES = {"auditor": "/audit", "coupon_verifier": "/coupons", "campaign_manager": "/campaigns"}


def home_for(officer: Officer | None) -> str:
    """Where a user lands: the page of their role (the desk for most)."""
    if officer is None:
        return "/login"
    return HOMES.get(officer.role, "/desk")


# ---------------------------------------------------------------------- sign in and out


@router.get("/")
def index(request: Request) -> Response:
    return RedirectResponse(home_for(current_officer(request)), status_code=303)


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says: the SVG icon."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}


def _login_page(
    request: Request,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    username: str = "",
) -> Response:
    token = new_login_token()
    next_path = safe_next(request.query_params.get("next"), "")
    response = render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "error": error,
            "notice": notice,
            "next": next_path,
            "username": username,
        },
        status=status,
    )
    set_cookie(response, request, login_cookie(request), token, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    notice = "login.logged_out" if request.query_params.get("bye") else None
    return _login_page(request, notice=notice)


def sign_in_policies(state: WebState) -> tuple[throttle.Policy, throttle.Policy]:
    """The growing delays after failed sign-ins, per username and per address (settings)."""
    settings = state.settings
    return (
        throttle.Policy(settings.login_free_failures, throttle.USERNAME.cap_seconds),
        throttle.Policy(settings.login_free_failures_per_address, throttle.ADDRESS.cap_seconds),
    )


@router.post("/login")
def login(  # nosec B107  # an empty form default, not a password
    request: Request,
    username: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    next: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    state = web_state(request)
    if cross_site(request) or not tokens_match(
        request.cookies.get(login_cookie(request), ""), csrf_token
    ):
        return _login_page(request, error="login.expired", status=403)
    username = username.strip()
    address = request.client.host if request.client is not None else "?"
    try:
        user = state.backend.sign_in(username, password, address, sign_in_policies(state))
    except AuthError as exc:
        state.backend.audit(
            kind="login_failed",
            actor=_typed_name(username),
            outcome=exc.reason,
            details={"reason": exc.reason},
        )
        # one answer for an unknown name, a wrong password and a throttled attempt; "disabled"
        # is only ever said to someone who gave the right password
        key = "login.disabled" if exc.reason == "disabled" else "login.failed"
        kept = username if _typed_name(username) != "?" else ""  # never echo a typed INSZ
        return _login_page(request, error=key, status=401, username=kept)
    session_id, _csrf = state.backend.create_session(user.id, state.settings.session_ttl_seconds)
    state.backend.audit(kind="login", actor=user.username, details={"role": user.role})
    target = safe_next(next, "") or HOMES.get(user.role, "/desk")
    response = RedirectResponse(target, status_code=303)
    set_cookie(
        response, request, SESSION_COOKIE, session_id, max_age=state.settings.session_ttl_seconds
    )
    clear_cookie(response, request, login_cookie(request))
    return response


@router.post("/logout")
def logout(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    everywhere: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    """Sign out of this session, or (``everywhere``) out of every session of the account."""
    state = web_state(request)
    if everywhere:
        ended = state.backend.end_user_sessions(officer.user.id)
    else:
        state.backend.end_session(officer.session_id)
        ended = 1
    state.backend.audit(kind="logout", actor=officer.username, details={"sessions": ended})
    response = RedirectResponse("/login?bye=1", status_code=303)
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/lang/{code}")
def set_language(request: Request, code: str) -> Response:
    """Switch the language (a preference cookie; no state on the server)."""
    target = safe_next(request.query_params.get("next"), "/")
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, path="/", samesite="strict")
    return response


# ---------------------------------------------------------------------- the desk


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
    benefits = state.engine.ordered()
    if benefit_id is None or state.engine.benefit(benefit_id) is None:
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
        "insz_messages": {
            code: translator(request).text(messages)
            for code, messages in inszcheck.PROBLEMS.items()
        },
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
    insz: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    benefit: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    purpose: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    visit: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    reason: Annotated[str, Form(max_length=REASON_MAX * 4)] = "",
) -> Response:
    if not officer.can_check():
        return render(request, "error.html", {"message": "error.forbidden"}, status=403)
    state = web_state(request)
    t = translator(request)
    errors: dict[str, str] = {}
    chosen = state.engine.benefit(benefit)
    if chosen is None:
        errors["benefit"] = t("desk.benefit_unknown")
    elif purpose and purpose != chosen.purpose:
        errors["benefit"] = t("desk.purpose_wrong", purpose=purpose)
    reason = _check_request_errors(request, insz, visit, reason, errors)
    values = {"visit": "1" if visit else "", "reason": reason}
    if errors or chosen is None:
        return _desk(
            request, insz=insz, benefit_id=benefit, errors=errors, check_values=values, status=422
        )
    subject = state.engine.pseudonymise(parse_insz(insz).normalized)
    refused = refused_window(request, officer, chosen.id, subject)
    if refused is not None:
        window, limit = refused
        key = "desk.rate_limited" if window == "minute" else f"desk.rate_limited_{window}"
        errors["form"] = t(key, limit=limit)
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=429)
    why_checked = _why_checked(visit, reason)
    try:
        card = run_check(request, officer, chosen, insz, kind="check", details=why_checked)
        card.letters = letter_status(request, chosen, insz)
    except MagdaConfigError as exc:
        log.error("MAGDA configuration: %s", exc)
        errors["form"] = t("desk.config_error", why=type(exc).__name__)
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
    others = other_benefits(state.engine.ordered(), checked.id, lambda _: officer.can_check())
    now = others if every else automatic(others, state.engine.auto_purposes)
    subject = state.engine.pseudonymise(parse_insz(insz).normalized)
    cards: list[Card] = []
    problem = None
    for benefit in now:
        refused = refused_window(request, officer, benefit.id, subject)
        if refused is not None:
            window, limit = refused
            key = "desk.rate_limited" if window == "minute" else f"desk.rate_limited_{window}"
            problem = t("others.refused", why=t(key, limit=limit))
            break
        details = {**why, "after": checked.id, "automatic": not every}
        try:
            cards.append(run_check(request, officer, benefit, insz, kind="check", details=details))
        except MagdaConfigError as exc:
            log.error("MAGDA configuration: %s", exc)
            problem = t("desk.config_error", why=type(exc).__name__)
            break
    done = {card.benefit.id for card in cards}
    unchecked = [b for b in others if b.id not in done]
    return Others(checked.id, why, cards, unchecked, bool(cards) and not every, problem)


@router.post("/desk/check-others")
def desk_check_others(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    benefit: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    visit: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    reason: Annotated[str, Form(max_length=REASON_MAX * 4)] = "",
) -> Response:
    """The single click: check every other benefit of the municipality for this person, for the
    same visit or reason as the first check."""
    if not officer.can_check():
        return render(request, "error.html", {"message": "error.forbidden"}, status=403)
    state = web_state(request)
    t = translator(request)
    errors: dict[str, str] = {}
    checked = state.engine.benefit(benefit)
    if checked is None:
        errors["benefit"] = t("desk.benefit_unknown")
    reason = _check_request_errors(request, insz, visit, reason, errors)
    if errors or checked is None:
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=422)
    why_checked = _why_checked(visit, reason)
    others = check_others(request, officer, checked, insz, why_checked, every=True)
    return _desk(request, insz=_formatted(insz), benefit_id=checked.id, others=others)


def _check_request_errors(
    request: Request, insz: str, visit: str, reason: str, errors: dict[str, str]
) -> str:
    """Add the number's and the reason's problems to `errors`; the reason as it may be stored."""
    t = translator(request)
    why = inszcheck.explain(insz, t.lang)
    if why is not None:
        errors["insz"] = t("desk.insz_invalid", why=why)
    reason, problem = checked_text(t, reason, REASON_MAX)
    if problem is not None:
        errors["reason"] = problem
    elif web_state(request).settings.check_reason_required and not visit and not reason:
        errors["reason"] = t("desk.reason_required")
    return reason


def _why_checked(visit: str, reason: str) -> dict[str, Any]:
    """Why a check was made, for its audit entry: a citizen's visit and/or the officer's reason."""
    why_checked: dict[str, Any] = {"visit": bool(visit)}
    if reason:
        why_checked["reason"] = reason
    return why_checked


def run_check(
    request: Request,
    officer: Officer | None,
    benefit: Benefit,
    insz: str,
    *,
    kind: str,
    actor: str | None = None,
    details: dict[str, Any] | None = None,
) -> Card:
    """Check, store the decision, audit it (with `details`, e.g. the reason for the check), and
    build the card with any active override."""
    state = web_state(request)
    as_of = state.today()
    number = parse_insz(insz).normalized
    result = state.engine.check(benefit, number, as_of)
    pseudonym = state.engine.pseudonymise(number)
    card = build_card(
        benefit,
        result,
        benefit.purpose,
        state.engine.catalogue,
        state.engine.reads_household(benefit),
        state.engine.source_labels,
    )
    if card.missing and state.engine.not_inscribed(benefit, number, as_of):
        card.extra["not_inscribed"] = True  # the KSZ gave no data: not inscribed by Entitle
    who = actor or (officer.username if officer is not None else "?")
    card.decision_id, card.override = state.backend.record_check(
        result.decision,
        kind=kind,
        actor=who,
        purpose=benefit.purpose,
        subject_pseudonym=pseudonym,
        reasons=result.reasons,
        details={
            **(details or {}),
            "benefit": benefit.id,
            "version": benefit.version,
            "questions": result.questions,
        },
    )
    return card


def _computed_outcome(request: Request, decision_id: str) -> str | None:
    """The stored outcome of the decision an override is about (None when not given)."""
    if not decision_id.isdigit():
        return None
    stored = web_state(request).backend.get_decision(int(decision_id))
    return str(stored["outcome"]) if stored else None


@router.post("/desk/inscribe")
def desk_inscribe(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    benefit: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    """Inscribe the person in the KSZ directory for the benefit's purpose (an officer who may
    override), audited with the pseudonym; then check again."""
    if not officer.can_override():
        return render(request, "error.html", {"message": "error.forbidden"}, status=403)
    state = web_state(request)
    t = translator(request)
    chosen = state.engine.benefit(benefit)
    why = inszcheck.explain(insz, t.lang)
    if chosen is None or why is not None:
        errors = {
            "form": t("desk.benefit_unknown") if chosen is None else t("desk.insz_invalid", why=why)
        }
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=422)
    number = parse_insz(insz).normalized
    today = state.today()
    try:
        outcome = state.engine.inscribe(chosen, number, today, today)
    except MagdaConfigError as exc:
        log.error("MAGDA configuration: %s", exc)
        errors = {"form": t("desk.config_error", why=type(exc).__name__)}
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=503)
    state.backend.audit(
        kind="inscription",
        actor=officer.username,
        purpose=chosen.purpose,
        subject=state.engine.pseudonymise(number),
        outcome="inscribed" if outcome == "ok" else f"not inscribed: {outcome}",
        details={"benefit": chosen.id, "until": chosen.valid_until(today).isoformat()},
    )
    if outcome != "ok":
        errors = {"form": t("card.inscribe_failed", outcome=outcome)}
        return _desk(request, insz=insz, benefit_id=chosen.id, errors=errors, status=502)
    card = run_check(request, officer, chosen, insz, kind="check")
    return _desk(
        request, card=card, insz=_formatted(insz), benefit_id=chosen.id, notice="card.inscribed"
    )


@router.post("/desk/override")
def desk_override(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    benefit: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    outcome: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    reason: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    valid_until: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    decision_id: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    if not officer.can_override():
        return render(request, "error.html", {"message": "override.forbidden"}, status=403)
    state = web_state(request)
    t = translator(request)
    chosen = state.engine.benefit(benefit)
    errors: dict[str, str] = {}
    if chosen is None:
        errors["benefit"] = t("desk.benefit_unknown")
    why = inszcheck.explain(insz, t.lang)
    if why is not None:
        errors["insz"] = t("desk.insz_invalid", why=why)
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
    pseudonym = state.engine.pseudonymise(parse_insz(insz).normalized)
    target: int | None = None  # the decision the card showed: its benefit and subject must match
    if decision_id.strip():
        target = int(decision_id) if decision_id.isdigit() and len(decision_id) < 19 else 0
    try:
        view = state.backend.add_override(
            benefit=chosen.id,
            subject_pseudonym=pseudonym,
            outcome=outcome,
            reason=reason,
            note=note,
            valid_until=until,
            actor=officer.username,
            purpose=chosen.purpose,
            details={},
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
