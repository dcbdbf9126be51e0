"""Coupon verification: a page for shops and the waste company, and an API for till systems.

A coupon code (printed on a campaign letter, and in its QR code as a verification URL) is checked
with `verify_coupon` and marked used, once, with `use_coupon` (which audits the use). Either way
the answer says the campaign, period, value and whether the coupon was used — never whose it is.

- The page ``/coupons`` checks a code for anyone signed in; ``/coupons/{code}`` opens it on a
  code (a city web server can send the QR code's URL there). Marking a coupon used is a POST
  with the session's CSRF token, for the coupon-verifier role (a shop or IVAGO) and
  administrators only: the other roles (auditors above all) only look.
- The API ``POST /api/v1/coupons/verify`` and ``POST /api/v1/coupons/use`` takes a bearer token
  whose purposes include ``coupon-verification`` (and whose benefits cover the coupon's benefit,
  ``*`` for any). A second use answers 409 "already used on <date>". The API has its own OpenAPI
  document, ``/api/v1/coupons/openapi.json``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from entitle.decide.coupons import CouponStatus, use_coupon, verify_coupon
from entitle.rules.expr import T
from entitle.web.api import ERRORS, Problem, allows, bearer_token
from entitle.web.auth import (
    Officer,
    PageError,
    csrf_officer,
    current_officer,
    require_officer,
    web_state,
)
from entitle.web.backend import TokenView
from entitle.web.campaigns.setup import campaign_setup
from entitle.web.i18n import BRUSSELS
from entitle.web.views import render, translator

USE_ROLES = frozenset({"coupon_verifier", "administrator"})
PURPOSE = "coupon-verification"
CODE_MAX = 200

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/coupons", tags=["coupons"])


# --------------------------------------------------------------------------- shared


def _now(request: Request) -> datetime:
    return web_state(request).settings.now()


def _check(request: Request, code: str) -> CouponStatus:
    state = web_state(request)
    key = campaign_setup(request).context.coupon_key()
    today = _now(request).date()
    return state.backend.run(lambda s: verify_coupon(s, code, key=key, today=today))


def _use(request: Request, code: str, actor: str) -> tuple[str, CouponStatus]:
    state = web_state(request)
    key = campaign_setup(request).context.coupon_key()
    now = _now(request)
    return state.backend.run(lambda s: use_coupon(s, code, key=key, actor=actor, now=now))


def _local(moment: datetime) -> datetime:
    return moment.astimezone(BRUSSELS) if moment.tzinfo else moment


# --------------------------------------------------------------------------- the page


def _status_view(request: Request, status: CouponStatus | None) -> dict[str, Any] | None:
    if status is None:
        return None
    t = translator(request)
    campaign = campaign_setup(request).campaign(status.campaign or "")
    values = []
    for name, value in (status.value or {}).items():
        output = campaign.benefit.outputs.get(name) if campaign else None
        label = t.text(output.text) if output is not None and output.text else name
        if output is not None and output.type == T.MONEY and isinstance(value, int | float):
            values.append((label, t.money(float(value))))
        elif value is not None:
            values.append((label, str(value)))
    return {
        "status": status,
        "campaign": t.text(campaign.spec.title) if campaign else (status.campaign or ""),
        "amounts": values,
        "valid_until": t.day(status.valid_until) if status.valid_until else "",
        "used": t.moment(_local(status.used)) if status.used else "",
    }


def _page(
    request: Request,
    *,
    code: str = "",
    status: CouponStatus | None = None,
    result: str | None = None,
    error: str | None = None,
    http_status: int = 200,
) -> Response:
    return render(
        request,
        "coupon.html",
        {
            "code": code,
            "coupon": _status_view(request, status),
            "result": result,
            "error": error,
            "can_use": _may_use(request),
        },
        status=http_status,
    )


def _may_use(request: Request) -> bool:
    officer = current_officer(request)
    return officer is not None and officer.role in USE_ROLES


def _rate_limited(request: Request, officer: Officer) -> Response | None:
    state = web_state(request)
    limit = state.settings.api_checks_per_minute
    if state.backend.allow(f"coupon-page:{officer.user.id}", limit, 60):
        return None
    t = translator(request)
    return _page(request, error=t("coupon.rate_limited", limit=limit), http_status=429)


@router.get("/coupons")
def coupon_page(
    request: Request, officer: Annotated[Officer, Depends(require_officer)]
) -> Response:
    code = request.query_params.get("code", "")[:CODE_MAX].strip()
    if not code:
        return _page(request)
    limited = _rate_limited(request, officer)
    if limited is not None:
        return limited
    status = _check(request, code)
    return _page(request, code=status.code if status.valid else code, status=status)


@router.get("/coupons/{code}")
def coupon_link(
    request: Request, code: str, officer: Annotated[Officer, Depends(require_officer)]
) -> Response:
    """The page opened on one code (e.g. the QR code's URL, sent here by the city's server)."""
    return RedirectResponse(f"/coupons?code={quote(code[:CODE_MAX])}", status_code=303)


@router.post("/coupons/use")
def coupon_use(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    code: Annotated[str, Form(max_length=CODE_MAX)] = "",
) -> Response:
    if officer.role not in USE_ROLES:
        raise PageError(403, "error.forbidden")
    limited = _rate_limited(request, officer)
    if limited is not None:
        return limited
    result, status = _use(request, code, officer.username)
    shown = status.code if status.valid else code.strip()
    http_status = {"used": 200, "unknown": 404}.get(result, 409)
    return _page(request, code=shown, status=status, result=result, http_status=http_status)


# --------------------------------------------------------------------------- the API


class CouponRequest(BaseModel):
    """A coupon code as printed, typed or scanned."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"code": "7KQ2-M9XD-4HTR-ZB1C"}]}
    )

    code: str = Field(
        min_length=1,
        max_length=CODE_MAX,
        description=(
            "The code on the letter (XXXX-XXXX-XXXX-XXXX); case, spaces, dashes and O/0, I/1 "
            "are forgiven, and the QR code's verification URL is accepted too."
        ),
    )


class CouponOut(BaseModel):
    code: str = Field(description="The code in its printed form (as sent when not a code).")
    valid: bool = Field(description="Issued by the city and authentic.")
    usable: bool = Field(description="Valid, not used and not expired.")
    campaign: str | None
    period: str | None
    value: dict[str, Any] | None = Field(description="What the coupon is worth, e.g. amounts.")
    band: str | None
    valid_until: str | None
    used: str | None = Field(description="When it was used (ISO 8601), or null.")
    expired: bool


class CouponVerified(BaseModel):
    detail: str = Field(description="The answer in words.")
    coupon: CouponOut


class CouponUsed(BaseModel):
    result: Literal["used", "already_used", "unknown", "expired"]
    detail: str = Field(description="The answer in words, e.g. 'already used on 2026-03-02'.")
    coupon: CouponOut


COUPON_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    429: {"model": Problem, "description": "Rate limit reached."},
}


def _api_token(request: Request, token: TokenView) -> None:
    if not allows(token.purposes, PURPOSE):
        raise HTTPException(
            403, f"token of client {token.client!r} is not authorised for purpose {PURPOSE!r}"
        )
    state = web_state(request)
    limit = state.settings.api_checks_per_minute
    if not state.backend.allow(f"api-coupon:{token.client}", limit, 60):
        message = f"rate limit: {limit} coupon requests a minute for this client"
        raise HTTPException(429, message, {"Retry-After": "60"})


def _benefit_scope(request: Request, token: TokenView, status: CouponStatus) -> None:
    """A token scoped to benefits only sees the coupons of those benefits' campaigns."""
    if not status.valid:
        return
    campaign = campaign_setup(request).campaign(status.campaign or "")
    benefit = campaign.benefit.id if campaign is not None else "*"
    if not allows(token.benefits, benefit):
        raise HTTPException(
            403, f"token of client {token.client!r} is not authorised for benefit {benefit!r}"
        )


def _when(moment: datetime | None) -> str:
    return _local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _words(status: CouponStatus) -> str:
    if not status.valid:
        return f"unknown or invalid coupon code {status.code!r}"
    if status.used is not None:
        return f"coupon {status.code} was already used on {_when(status.used)}"
    if status.expired:
        return f"coupon {status.code} expired: it was valid until {status.valid_until}"
    until = f" until {status.valid_until}" if status.valid_until else ""
    return f"coupon {status.code} is valid and not used yet{until}"


@api_router.post(
    "/verify",
    response_model=CouponVerified,
    responses=COUPON_ERRORS,
    summary="Check a coupon code (does not use it)",
)
def api_verify(
    request: Request, body: CouponRequest, token: Annotated[TokenView, Depends(bearer_token)]
) -> Any:
    _api_token(request, token)
    status = _check(request, body.code)
    _benefit_scope(request, token, status)
    return {"detail": _words(status), "coupon": status.to_dict()}


@api_router.post(
    "/use",
    response_model=CouponUsed,
    responses={
        **COUPON_ERRORS,
        404: {"model": CouponUsed, "description": "Unknown or invalid code: nothing used."},
        409: {"model": CouponUsed, "description": "Already used (says when) or expired."},
    },
    summary="Use a coupon: marks it used, once",
)
def api_use(
    request: Request, body: CouponRequest, token: Annotated[TokenView, Depends(bearer_token)]
) -> Any:
    _api_token(request, token)
    _benefit_scope(request, token, _check(request, body.code))
    result, status = _use(request, body.code, f"api:{token.client}")
    if result == "used":
        detail = f"coupon {status.code} is now used ({_when(status.used)})"
    else:
        detail = _words(status)
    answer = {"result": result, "detail": detail, "coupon": status.to_dict()}
    if result == "used":
        return answer
    return JSONResponse(answer, status_code=404 if result == "unknown" else 409)


_DOCUMENT: dict[str, Any] = {}


@api_router.get("/openapi.json", include_in_schema=False)
def api_document() -> dict[str, Any]:
    """The coupon API's own OpenAPI document (for shops and the waste company)."""
    if not _DOCUMENT:
        _DOCUMENT.update(
            get_openapi(
                title="Entitle coupon API",
                version="1",
                description=(
                    "Check and use the coupons of the city's campaign letters. Authenticate with "
                    "`Authorization: Bearer <token>`; the token's purposes must include "
                    f"`{PURPOSE}`. Answers say the campaign, period, value and use of a coupon, "
                    "never whose it is."
                ),
                routes=api_router.routes,
            )
        )
    return _DOCUMENT
