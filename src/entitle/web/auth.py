"""Sessions, roles and CSRF for the pages; bearer tokens for the API.

- The session cookie holds only a random session id; the session (user, CSRF token, expiry) is in
  the database, so any worker can serve any request. Cookie: HttpOnly, SameSite=Strict, Path=/,
  Secure on https (or always, per settings).
- Every POST of a page carries the session's CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``), compared in constant time. The login form, before any session exists, uses a
  double-submit token: a random cookie that the form must repeat (``__Host-`` prefixed over TLS,
  so no sub-domain can plant one), and a sign-in the browser marks as cross-site is refused.
- Roles: desk_officer, campaign_manager, administrator, auditor. Auditor pages are for auditors
  only (an officer must not audit their own work); the desk is for the other three.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Form, Request
from starlette.responses import Response

from entitle.decide.accounts import ROLES as ROLES  # the web app's roles are the accounts'

if TYPE_CHECKING:
    from entitle.decide.accounts import UserView
    from entitle.web.app import WebState

SESSION_COOKIE = "entitle_session"
LOGIN_CSRF_COOKIE = "entitle_login_csrf"
HOST_PREFIX = "__Host-"  # over TLS: a cookie no sibling sub-domain can set or overwrite
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

DESK_ROLES = frozenset({"desk_officer", "campaign_manager", "administrator"})
OVERRIDE_ROLES = frozenset({"desk_officer", "administrator"})
AUDIT_ROLES = frozenset({"auditor"})


@dataclass(frozen=True)
class Officer:
    """The signed-in user of this request."""

    session_id: str
    user: UserView
    csrf: str

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> str:
        return self.user.role

    def can_check(self) -> bool:
        return self.role in DESK_ROLES

    def can_override(self) -> bool:
        return self.role in OVERRIDE_ROLES

    def can_audit(self) -> bool:
        return self.role in AUDIT_ROLES


class LoginRequired(Exception):
    """No valid session: the page handler redirects to the login page."""


class PageError(Exception):
    """An error page: HTTP status and a message key of the catalogue."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def secure(request: Request) -> bool:
    """Whether cookies get the Secure flag."""
    policy = web_state(request).settings.secure_cookies
    if policy == "always":
        return True
    if policy == "never":
        return False
    return request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=secure(request))


def current_officer(request: Request) -> Officer | None:
    """The signed-in user (the session is loaded once per request)."""
    if hasattr(request.state, "officer"):
        cached: Officer | None = request.state.officer
        return cached
    officer: Officer | None = None
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id and len(session_id) <= 256:
        state = web_state(request)
        loaded = state.backend.load_session(session_id, state.settings.session_idle_seconds)
        if loaded is not None and loaded[0].active:
            officer = Officer(session_id, loaded[0], loaded[1])
    request.state.officer = officer
    return officer


def require_officer(request: Request) -> Officer:
    officer = current_officer(request)
    if officer is None:
        raise LoginRequired()
    return officer


def require_desk(request: Request) -> Officer:
    officer = require_officer(request)
    if not officer.can_check():
        raise PageError(403, "error.forbidden")
    return officer


def require_auditor(request: Request) -> Officer:
    officer = require_officer(request)
    if not officer.can_audit():
        raise PageError(403, "error.forbidden")
    return officer


def tokens_match(expected: str, given: str | None) -> bool:
    if not expected or not given:
        return False
    return secrets.compare_digest(expected.encode(), given.encode())


def csrf_officer(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> Officer:
    """A signed-in user whose POST carries their session's CSRF token (field or header)."""
    officer = require_officer(request)
    given = request.headers.get(CSRF_HEADER) or csrf_token
    if not tokens_match(officer.csrf, given):
        raise PageError(403, "error.csrf")
    return officer


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def login_cookie(request: Request) -> str:
    """The login form's cookie name: ``__Host-`` prefixed when cookies are Secure, so a sibling
    sub-domain cannot plant a token pair of its own (login CSRF)."""
    return HOST_PREFIX + LOGIN_CSRF_COOKIE if secure(request) else LOGIN_CSRF_COOKIE


def cross_site(request: Request) -> bool:
    """Whether the browser says the request came from another site (``Sec-Fetch-Site``; the
    ``Origin`` is not compared: behind a TLS proxy the application does not see its own)."""
    return request.headers.get("sec-fetch-site", "") == "cross-site"
