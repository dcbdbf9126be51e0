"""Pages: sign in and out, language, health (the desk's pages are `entitle.web.desk_pages`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from entitle.decide.accounts import AuthError, sign_in_policies, typed_name
from entitle.web.auth import (
    SESSION_COOKIE,
    Officer,
    clear_cookie,
    cross_site,
    csrf_officer,
    current_officer,
    login_cookie,
    new_login_token,
    set_cookie,
    tokens_match,
    web_state,
)
from entitle.web.forms import FormText
from entitle.web.i18n import LANG_COOKIE, LANGUAGES
from entitle.web.views import render

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a local path (no scheme, no host, no backslash tricks)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value):
        return default
    return value


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


@router.post("/login")
def login(  # nosec B107  # an empty form default, not a password
    request: Request,
    username: FormText = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: FormText = "",
    next: FormText = "",
) -> Response:
    state = web_state(request)
    if cross_site(request) or not tokens_match(
        request.cookies.get(login_cookie(request), ""), csrf_token
    ):
        return _login_page(request, error="login.expired", status=403)
    username = username.strip()
    address = request.client.host if request.client is not None else "?"
    try:
        policies = sign_in_policies(
            state.settings.login_free_failures, state.settings.login_free_failures_per_address
        )
        user = state.backend.sign_in(username, password, address, policies)
    except AuthError as exc:
        state.backend.audit(
            kind="login_failed",
            actor=typed_name(username),
            outcome=exc.reason,
            details={"reason": exc.reason},
        )
        # one answer for an unknown name, a wrong password and a throttled attempt; "disabled"
        # is only ever said to someone who gave the right password
        key = "login.disabled" if exc.reason == "disabled" else "login.failed"
        kept = username if typed_name(username) != "?" else ""  # never echo a typed INSZ
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
    everywhere: FormText = "",
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
