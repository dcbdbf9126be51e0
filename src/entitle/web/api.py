"""REST API ``/api/v1``: checks, decisions by id, benefits and their rules.

Clients authenticate with ``Authorization: Bearer <token>``. A token is scoped to purposes and
benefits (``*`` for any): asking a check for a purpose or benefit outside its scope gives 403 with
a message naming both. ``POST /checks`` with ``benefits: [...]`` checks several benefits, each
under its own purpose, and answers one result each (a benefit outside the scope gets status 403
in its result, the others are checked). Malformed bodies get 422 with a message naming each
field. Benefit rules are public (they are the city's regulations in words); checks and decisions
need a token. A client reads back only the decisions it made (or those of a purpose its token
names as ``decisions:read:<purpose>``), with protected conditions hidden as on the desk.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from entitle.decide.several import MAX_BENEFITS, Refusal, choose
from entitle.decide.wiring import MagdaConfigError
from entitle.insz import InvalidInszError, parse_insz
from entitle.rules.logic import Outcome
from entitle.rules.model import Benefit
from entitle.web.auth import web_state
from entitle.web.backend import TokenView
from entitle.web.desk import Mark, card_of, rendered_rules
from entitle.web.desk_pages import run_check
from entitle.web.visibility import Caller, decision_access, visible_decision

router = APIRouter(prefix="/api/v1", tags=["desk"])

WILDCARD = "*"


class Problem(BaseModel):
    detail: str


class FieldProblem(BaseModel):
    field: str
    message: str
    type: str | None = None


class ValidationProblem(BaseModel):
    detail: str
    errors: list[FieldProblem]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No or unknown bearer token."},
    403: {"model": Problem, "description": "The token's scope does not cover this request."},
    422: {"model": ValidationProblem, "description": "The request is malformed."},
}


BenefitId = Annotated[str, Field(min_length=1, max_length=100)]


class CheckRequest(BaseModel):
    """One subject and one benefit with its purpose — or several benefits, each checked under its
    own purpose (`benefits`, without `benefit` and `purpose`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"insz": "85.07.30-033.28", "benefit": "ghent.uitpas", "purpose": "ghent-uitpas"},
                {"insz": "85.07.30-033.28", "benefits": ["ghent.uitpas", "ghent.lez"]},
            ]
        },
    )

    insz: str = Field(
        min_length=11,
        max_length=20,
        description="National register or bis number: 11 digits, dots, spaces and a dash allowed.",
    )
    benefit: BenefitId | None = Field(
        default=None, description="Benefit id, e.g. ghent.uitpas (required without `benefits`)"
    )
    purpose: BenefitId | None = Field(
        default=None,
        description="The purpose: the benefit's own purpose (required with `benefit`).",
    )
    benefits: list[BenefitId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_BENEFITS,
        description="Several benefit ids: each is checked under its own purpose, which the "
        "token must allow; one result each.",
    )


class Text(BaseModel):
    nl: str = ""
    en: str = ""


class ConditionOut(BaseModel):
    name: str
    text: dict[str, str]
    value: bool | None = Field(description="true/false; null when unknown, skipped or protected")
    status: Mark
    missing: list[str]


class MissingOut(BaseModel):
    fact: str
    description: dict[str, str]
    reason: str
    whose: dict[str, str] = Field(
        default_factory=dict,
        description="whose fact it is when not the subject's own: members by role (nl, en)",
    )
    relation: dict[str, str] = Field(
        default_factory=dict,
        description="the same, by relation to the subject when known ('uw partner'; nl, en)",
    )


class OwnerFactsOut(BaseModel):
    facts: list[dict[str, str]] = Field(description="the missing facts in words (nl, en)")
    whose: dict[str, str] = Field(description="whose they are; empty: the subject's own")


class OpenPartOut(BaseModel):
    output: str
    certain: dict[str, str] = Field(description="the certain minimum in words (nl, en)")
    possible: list[dict[str, str]] = Field(description="the better levels still possible")
    missing: list[OwnerFactsOut] = Field(description="the missing facts that would settle it")


class SourceOut(BaseModel):
    name: str = Field(description="MAGDA service or local dataset")
    kind: Literal["magda", "local"]
    label: dict[str, str]


class OverrideOut(BaseModel):
    outcome: str
    reason: str
    note: str
    valid_until: str | None
    actor: str
    created: str


class CheckResponse(BaseModel):
    id: int | None
    benefit: str
    version: str
    purpose: str
    as_of: str
    subject_kind: str
    outcome: Outcome
    computed_outcome: Outcome
    number_known: bool = True  # false: the national register does not know the INSZ
    valid_until: str | None
    outputs: dict[str, Any] = Field(description="null for an open output of an eligible decision")
    open_outputs: list[str] = Field(description="outputs still unknown although eligible")
    at_least: dict[str, Any] = Field(description="the certain minimum of open outputs")
    open_parts: list[OpenPartOut] = Field(
        default_factory=list,
        description="per open output with levels: what is certain, what is open, what settles it",
    )
    conditions: list[ConditionOut]
    missing: list[MissingOut]
    sources: list[SourceOut]
    guidance: dict[str, str]
    override: OverrideOut | None
    questions: int


class CheckResult(BaseModel):
    """The result for one of several benefits: a check (status 201), or why not."""

    benefit: str
    status: int = Field(
        description="201 checked; 403 outside the token's scope; 422 unknown; 429 rate limit"
    )
    check: CheckResponse | None = None
    detail: str | None = None


class ChecksResponse(BaseModel):
    """One result per benefit asked, in the order asked."""

    results: list[CheckResult]


class BenefitSummary(BaseModel):
    id: str
    version: str
    title: dict[str, str]
    purpose: str
    subject: str


class ConditionRule(BaseModel):
    name: str
    text: dict[str, str]
    rule: str


class OutputRule(BaseModel):
    name: str
    text: dict[str, str]
    type: str
    rule: str


class BenefitRules(BaseModel):
    id: str
    version: str
    title: dict[str, str]
    description: dict[str, str]
    authority: str
    legal_basis: dict[str, Any]
    purpose: str
    subject: str
    validity: str | dict[str, int]
    as_of: str
    conditions: list[ConditionRule]
    eligible: str
    outputs: list[OutputRule]
    guidance: dict[str, dict[str, str]]


async def bearer_token(request: Request) -> TokenView:
    """The client's token, or 401 (async: a token this worker checked recently costs no thread)."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    challenge = {"WWW-Authenticate": 'Bearer realm="entitle"'}
    if scheme.lower() != "bearer" or not secret:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)", challenge)
    if len(secret) > 512:
        raise HTTPException(401, "unknown or revoked token", challenge)
    backend = web_state(request).backend
    hit, token = backend.cached_token(secret)
    if not hit:
        token = await run_in_threadpool(backend.check_api_token, secret)
    if token is None:
        raise HTTPException(401, "unknown or revoked token", challenge)
    return token


def allows(scope: tuple[str, ...], value: str) -> bool:
    return WILDCARD in scope or value in scope


def refusal(token: TokenView, benefit: Benefit) -> str | None:
    """Why the token may not check this benefit under its purpose (None: it may)."""
    if not allows(token.purposes, benefit.purpose):
        return f"token of client {token.client!r} is not authorised for purpose {benefit.purpose!r}"
    if not allows(token.benefits, benefit.id):
        return f"token of client {token.client!r} is not authorised for benefit {benefit.id!r}"
    return None


@router.post(
    "/checks",
    status_code=201,
    response_model=CheckResponse | ChecksResponse,
    responses={**ERRORS, 429: {"model": Problem, "description": "Rate limit reached."}},
    summary="Check one subject for one benefit, or for several (one result each)",
)
def post_check(
    request: Request, body: CheckRequest, token: Annotated[TokenView, Depends(bearer_token)]
) -> Any:
    state = web_state(request)
    if body.benefits is not None:
        if body.benefit is not None or body.purpose is not None:
            return _invalid(
                "benefits",
                "give benefits (each checked under its own purpose) or one benefit with its "
                "purpose, not both",
            )
        return _check_several(request, body.insz, body.benefits, token)
    if body.benefit is None:
        return _invalid("benefit", "this field is required (or benefits: a list of ids)")
    if body.purpose is None:
        return _invalid("purpose", "this field is required")
    if not allows(token.purposes, body.purpose):
        raise HTTPException(
            403,
            f"token of client {token.client!r} is not authorised for purpose {body.purpose!r}",
        )
    if not allows(token.benefits, body.benefit):
        raise HTTPException(
            403,
            f"token of client {token.client!r} is not authorised for benefit {body.benefit!r}",
        )
    benefit = state.desk.benefit(body.benefit)
    if benefit is None:
        return _invalid("benefit", f"unknown benefit {body.benefit!r}")
    if body.purpose != benefit.purpose:
        return _invalid(
            "purpose",
            f"benefit {benefit.id!r} may only be checked for its purpose {benefit.purpose!r}, "
            f"not {body.purpose!r}",
        )
    limit = state.settings.api_checks_per_minute
    if not state.backend.allow(f"api-check:{token.client}", limit, 60):
        raise HTTPException(
            429, f"rate limit: {limit} checks a minute for this client", {"Retry-After": "60"}
        )
    try:
        card = run_check(request, benefit, body.insz, kind="api_check", actor=f"api:{token.client}")
    except InvalidInszError as exc:
        return _invalid("insz", f"not a valid INSZ: {exc}")
    except MagdaConfigError as exc:
        raise HTTPException(503, f"registry configuration: {exc}") from None
    # Serialised here (the card is already plain JSON): FastAPI would validate it against the
    # response model once more. The model still documents the answer in the OpenAPI schema.
    content = orjson.dumps(card.to_json(), default=jsonable_encoder)
    return Response(content, 201, media_type="application/json")


def _check_several(request: Request, insz: str, asked: list[str], token: TokenView) -> Response:
    """Each benefit asked, checked under its own purpose as a check of its own."""
    state = web_state(request)
    try:
        parse_insz(insz)
    except InvalidInszError as exc:
        return _invalid("insz", f"not a valid INSZ: {exc}")
    limit = state.settings.api_checks_per_minute

    def limited(benefit: Benefit) -> Refusal | None:
        if state.backend.allow(f"api-check:{token.client}", limit, 60):
            return None
        return Refusal(benefit.id, 429, f"rate limit: {limit} checks a minute for this client")

    checks = state.desk.check_several(
        choose(asked, state.desk.benefits, lambda b: refusal(token, b)),
        insz,
        kind="api_check",
        actor=f"api:{token.client}",
        refuse=limited,
    )
    results: list[dict[str, Any]] = []
    try:
        for done in checks:
            if isinstance(done, Refusal):
                refused = {"benefit": done.benefit, "status": done.status, "detail": done.detail}
                results.append({**refused, "check": None})
                continue
            card = card_of(state.desk, done)
            results.append(
                {"benefit": done.benefit.id, "status": 201, "check": card.to_json(), "detail": None}
            )
    except MagdaConfigError as exc:
        raise HTTPException(503, f"registry configuration: {exc}") from None
    content = orjson.dumps({"results": results}, default=jsonable_encoder)
    return Response(content, 201, media_type="application/json")


def _invalid(field: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "detail": f"invalid request: {field}: {message}",
            "errors": [{"field": field, "message": message, "type": "value_error"}],
        },
        status_code=422,
    )


@router.get(
    "/decisions/{decision_id}",
    response_model=dict[str, Any],
    responses={
        **ERRORS,
        404: {"model": Problem, "description": "No such decision."},
        429: {"model": Problem, "description": "Rate limit reached."},
    },
    summary="A stored decision (one this client made, or of a purpose it may read)",
)
def get_decision(
    request: Request, decision_id: int, token: Annotated[TokenView, Depends(bearer_token)]
) -> Any:
    """A stored decision, as `entitle.web.visibility` lets this client see it; every read (and
    every refused read of an existing decision) is audited with the decision's subject."""
    state = web_state(request)
    limit = state.settings.api_reads_per_minute
    if not state.backend.allow(f"api-read:{token.client}", limit, 60):
        message = f"rate limit: {limit} decision reads a minute for this client"
        raise HTTPException(429, message, {"Retry-After": "60"})
    found = None
    if 1 <= decision_id <= 2**62:
        found = state.backend.get_decision(decision_id)
    if found is None:
        raise HTTPException(404, f"no decision {decision_id}")
    caller = Caller.token(token.client, token.purposes, token.benefits)
    access = decision_access(caller, found)
    state.backend.audit(
        kind="decision_read",
        actor=caller.name,
        purpose=str(found["purpose"]),
        subject=str(found["subject"]["pseudonym"]),
        outcome="read" if access.allowed else "refused",
        details={"decision": decision_id, "benefit": found["benefit"]},
    )
    if not access.allowed:
        raise HTTPException(403, access.why)
    benefit = state.desk.benefit(str(found["benefit"]))
    return visible_decision(caller, found, benefit, state.desk.catalogue)


@router.get("/benefits", response_model=list[BenefitSummary], summary="The benefits")
def list_benefits(request: Request) -> Any:
    return [
        {
            "id": b.id,
            "version": b.version,
            "title": b.title,
            "purpose": b.purpose,
            "subject": b.subject,
        }
        for b in web_state(request).desk.ordered()
    ]


@router.get(
    "/benefits/{benefit_id}",
    response_model=BenefitRules,
    responses={
        404: {"model": Problem, "description": "No such benefit."},
        422: ERRORS[422],
    },
    summary="A benefit and its rules in words",
)
def get_benefit(request: Request, benefit_id: str, as_of: date | None = None) -> Any:
    state = web_state(request)
    benefit = state.desk.benefit(benefit_id)
    if benefit is None:
        raise HTTPException(404, f"no benefit {benefit_id!r}")
    return rendered_rules(benefit, as_of or state.today())
