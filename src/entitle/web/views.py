"""Rendering helpers shared by the pages: translator, fragment detection, `render`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from entitle.web.auth import current_officer
from entitle.web.i18n import LANG_COOKIE, Translator, negotiate

if TYPE_CHECKING:
    from entitle.web.app import WebState


def translator(request: Request) -> Translator:
    return Translator(negotiate(request.cookies.get(LANG_COOKIE)))


def is_partial(request: Request) -> bool:
    """A fragment request (the desk's script, or HTMX) rather than a full page."""
    return request.headers.get("hx-request", "").lower() == "true"


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """A page (or fragment) with the translator, the user and their CSRF token."""
    state: WebState = request.app.state.web
    t = translator(request)
    officer = current_officer(request)
    values: dict[str, Any] = {
        "t": t,
        "lang": t.lang,
        "officer": officer,
        "csrf": officer.csrf if officer is not None else "",
        "path": request.url.path,
    }
    values.update(context or {})
    return state.templates.TemplateResponse(request, name, values, status_code=status)
