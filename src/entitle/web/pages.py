"""Pages: sign in and out, language, the desk check and the override."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from entitle.decide.wiring import MagdaConfigError
from entitle.insz import InvalidInszError, parse_insz
from entitle.rules.model import Benefit
from entitle.store.audit import looks_like_insz
from entitle.web import inszcheck
from entitle.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Officer,
    clear_cookie,
    csrf_officer,
    current_officer,
    new_login_token,
    require_desk,
    set_cookie,
    tokens_match,
    web_state,
)
from entitle.web.backend import AuthError
from entitle.web.desk import (
    OVERRIDE_OUTCOMES,
    OVERRIDE_REASONS,
    Card,
    build_card,
    override_choices,
)
from entitle.web.desk_letters import letter_status
from entitle.web.i18n import LANG_COOKIE, LANGUAGES
from entitle.web.views import is_partial, render, translator

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

NOTE_MAX = 500
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
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    notice = "login.logged_out" if request.query_params.get("bye") else None
    return _login_page(request, notice=notice)


@router.post("/login")
def login(  # nosec B107  # an empty form default, not a password
    request: Request,
    username: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    next: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    state = web_state(request)
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        return _login_page(request, error="login.expired", status=403)
    username = username.strip()
    try:
        user = state.backend.authenticate(username, password)
    except AuthError as exc:
        state.backend.audit(
            kind="login_failed",
            actor=_typed_name(username),
            outcome=exc.reason,
            details={"reason": exc.reason},
        )
        key = {"locked": "login.locked", "disabled": "login.disabled"}.get(
            exc.reason, "login.failed"
        )
        status = 423 if exc.reason == "locked" else 401
        kept = username if _typed_name(username) != "?" else ""  # never echo a typed INSZ
        return _login_page(request, error=key, status=status, username=kept)
    session_id, _csrf = state.backend.create_session(user.id, state.settings.session_ttl_seconds)
    state.backend.audit(kind="login", actor=user.username, details={"role": user.role})
    target = safe_next(next, "") or HOMES.get(user.role, "/desk")
    response = RedirectResponse(target, status_code=303)
    set_cookie(
        response, request, SESSION_COOKIE, session_id, max_age=state.settings.session_ttl_seconds
    )
    clear_cookie(response, request, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, officer: Annotated[Officer, Depends(csrf_officer)]) -> Response:
    state = web_state(request)
    state.backend.end_session(officer.session_id)
    state.backend.audit(kind="logout", actor=officer.username)
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
    override_outcomes: tuple[str, ...] = OVERRIDE_OUTCOMES,
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
        "insz_messages": {
            code: translator(request).text(messages)
            for code, messages in inszcheck.PROBLEMS.items()
        },
    }
    template = "_result.html" if is_partial(request) else "desk.html"
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
    why = inszcheck.explain(insz, t.lang)
    if why is not None:
        errors["insz"] = t("desk.insz_invalid", why=why)
    if errors or chosen is None:
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=422)
    limit = state.settings.checks_per_minute
    if not state.backend.allow(f"desk-check:{officer.user.id}", limit, 60):
        errors["form"] = t("desk.rate_limited", limit=limit)
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=429)
    try:
        card = run_check(request, officer, chosen, insz, kind="check")
        card.letters = letter_status(request, chosen, insz)
    except MagdaConfigError as exc:
        log.error("MAGDA configuration: %s", exc)
        errors["form"] = t("desk.config_error", why=type(exc).__name__)
        return _desk(request, insz=insz, benefit_id=benefit, errors=errors, status=503)
    return _desk(request, card=card, insz=_formatted(insz), benefit_id=chosen.id)


def run_check(
    request: Request,
    officer: Officer | None,
    benefit: Benefit,
    insz: str,
    *,
    kind: str,
    actor: str | None = None,
) -> Card:
    """Check, store the decision, audit it, and build the card with any active override."""
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
    who = actor or (officer.username if officer is not None else "?")
    card.decision_id, card.override = state.backend.record_check(
        result.decision,
        kind=kind,
        actor=who,
        purpose=benefit.purpose,
        subject_pseudonym=pseudonym,
        reasons=result.reasons,
        details={
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
    note = note.strip()
    if not note or len(note) > NOTE_MAX:
        errors["note"] = t("override.invalid_note")
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
    number = parse_insz(insz).normalized
    details: dict[str, Any] = {}
    if decision_id.isdigit():
        details["decision"] = int(decision_id)
    view = state.backend.add_override(
        benefit=chosen.id,
        subject_pseudonym=state.engine.pseudonymise(number),
        outcome=outcome,
        reason=reason,
        note=note,
        valid_until=until,
        actor=officer.username,
        purpose=chosen.purpose,
        details=details,
    )
    return _desk(
        request,
        insz=_formatted(insz),
        benefit_id=chosen.id,
        notice="override.done",
        override_values={"view": view},
    )
