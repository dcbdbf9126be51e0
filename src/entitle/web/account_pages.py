"""The user's own account: open sessions (listed, ended) and a password change.

Every role has this page; it changes nothing but the user's own sessions and password. A new
password ends every session of the account, this one included, and starts a fresh one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from entitle.decide.accounts import MIN_PASSWORD_LENGTH, AuthError, UserError
from entitle.web.auth import (
    SESSION_COOKIE,
    Officer,
    csrf_officer,
    require_officer,
    set_cookie,
    web_state,
)
from entitle.web.views import render, translator

router = APIRouter(include_in_schema=False)
PASSWORD_MAX = 1024


def _page(
    request: Request,
    officer: Officer,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    state = web_state(request)
    listed = state.backend.list_sessions(officer.user.id, officer.session_id)
    context = {"sessions": listed, "notice": notice, "error": error}
    return render(request, "account.html", context, status=status)


@router.get("/account")
def account(request: Request, officer: Annotated[Officer, Depends(require_officer)]) -> Response:
    return _page(request, officer)


@router.post("/account/sessions/end")
def end_other_sessions(
    request: Request, officer: Annotated[Officer, Depends(csrf_officer)]
) -> Response:
    state = web_state(request)
    ended = state.backend.end_user_sessions(officer.user.id, keep=officer.session_id)
    state.backend.audit(
        kind="session", actor=officer.username, outcome="ended_others", details={"ended": ended}
    )
    return _page(request, officer, notice=translator(request).plural("account.ended", ended))


@router.post("/account/password")
def change_password(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    current: Annotated[str, Form(max_length=PASSWORD_MAX)] = "",
    new: Annotated[str, Form(max_length=PASSWORD_MAX)] = "",
) -> Response:
    state = web_state(request)
    t = translator(request)
    if len(new) < MIN_PASSWORD_LENGTH:
        return _page(request, officer, error=t("account.password_weak"), status=422)
    try:
        state.backend.change_password(officer.user.id, current, new)
    except AuthError:
        return _page(request, officer, error=t("account.password_wrong"), status=422)
    except UserError:
        return _page(request, officer, error=t("account.password_weak"), status=422)
    state.backend.audit(kind="session", actor=officer.username, outcome="password_changed")
    session_id, csrf = state.backend.create_session(
        officer.user.id, state.settings.session_ttl_seconds
    )
    fresh = Officer(session_id, officer.user, csrf)
    request.state.officer = fresh  # the page below shows the new session and its token
    response = _page(request, fresh, notice=t("account.password_changed"))
    set_cookie(
        response, request, SESSION_COOKIE, session_id, max_age=state.settings.session_ttl_seconds
    )
    return response
