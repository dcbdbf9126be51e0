"""The web application: `create_app(settings)` builds the desk UI, the auditor pages and the API.

```python
from entitle.web.app import create_app
from entitle.web.settings import Settings
app = create_app(Settings.from_env())            # what `entitle serve` runs
```

Pages are rendered on the server (Jinja2). Forms work without JavaScript; with it, ``desk.js``
checks the INSZ as it is typed and swaps only the result card in (requests with the header
``HX-Request: true`` get the fragment, as with HTMX).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from entitle.decide.desk import Desk
from entitle.decide.wiring import Registries
from entitle.rules.logic import OUTCOMES
from entitle.web.auth import LoginRequired, PageError
from entitle.web.backend import Backend
from entitle.web.bodylimit import BodyLimit
from entitle.web.i18n import BRUSSELS
from entitle.web.security import SecurityHeaders
from entitle.web.settings import Settings
from entitle.web.views import is_partial, render

if TYPE_CHECKING:
    from entitle.decide.campaign import ReachEvaluation

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
API_PREFIX = "/api/"


class EntitleApp(FastAPI):
    """FastAPI with the security headers outside everything, even Starlette's handler of
    unhandled errors: a 500 carries them too."""

    behind_tls = False

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), behind_tls=self.behind_tls)


@dataclass
class WebState:
    """What every request needs: settings, the store, the desk, the templates."""

    settings: Settings
    backend: Backend
    desk: Desk
    templates: Jinja2Templates

    def today(self) -> date:
        """The decision date: today in Brussels (or the fixed clock's date)."""
        return today_in_brussels(self.settings)


def today_in_brussels(settings: Settings) -> date:
    """Today in Brussels, or the fixed clock's date."""
    if settings.clock is not None:
        return settings.clock().date()
    from datetime import datetime

    return datetime.now(BRUSSELS).date()


def open_desk(settings: Settings, backend: Backend) -> Desk:
    """The desk of one worker: its registries (one MAGDA client, shared by every check of the
    worker), the benefits, and the store."""
    magda: dict[str, Any] = dict(settings.magda)
    magda.setdefault("max_concurrency", settings.magda_concurrency)
    registries = Registries(
        registry=settings.registry_url,
        local=settings.local,
        state=settings.data_dir,
        magda=magda,
        database_url=settings.database_url,
    )
    return Desk.open(
        settings.benefits,
        registries,
        backend,
        today=lambda: today_in_brussels(settings),
        auto_purposes=settings.auto_check_purposes,
    )


def _api_error_message(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    problems: list[dict[str, Any]] = []
    parts: list[str] = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        where = ".".join(p for p in loc if p != "body") or "body"
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":
            where, message = "body", "the body is not valid JSON"
        elif error.get("type") == "missing":
            message = "this field is required"
        elif error.get("type") == "extra_forbidden":
            message = "this field is not allowed"
        problems.append({"field": where, "message": message, "type": error.get("type")})
        parts.append(f"{where}: {message}")
    return "invalid request: " + "; ".join(parts), problems


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if is_partial(request):
            response = Response(status_code=401)
            response.headers["HX-Redirect"] = "/login"
            return response
        target = request.url.path if request.method == "GET" else "/desk"
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(PageError)
    async def _page(request: Request, exc: PageError) -> Response:
        template = "_error.html" if is_partial(request) else "error.html"
        return render(request, template, {"message": exc.message}, status=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(API_PREFIX):
            message, problems = _api_error_message(exc)
            return JSONResponse({"detail": message, "errors": problems}, status_code=422)
        return render(request, "error.html", {"message": "error.csrf"}, status=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(API_PREFIX):
            if exc.status_code == 400:  # a body that cannot be read at all: malformed too
                message = "the body cannot be read (send UTF-8 JSON)"
                return JSONResponse(
                    {
                        "detail": f"invalid request: body: {message}",
                        "errors": [{"field": "body", "message": message, "type": "body_error"}],
                    },
                    status_code=422,
                )
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        key = {403: "error.forbidden", 404: "error.not_found"}.get(exc.status_code, "error.server")
        return render(request, "error.html", {"message": key}, status=exc.status_code)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        """Anything else: a plain 500 (logged with its type, not its values)."""
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        if request.url.path.startswith(API_PREFIX):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        return Response("Er ging iets mis / Something went wrong", status_code=500)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def _database(request: Request, exc: Exception) -> Response:
        """The database is unreachable (connection lost, server restarting, locked): 503."""
        cause = getattr(exc, "orig", None) or exc
        log.error("database unavailable: %s", type(cause).__name__)  # no statement, no values
        retry = {"Retry-After": "5"}
        if request.url.path.startswith(API_PREFIX):
            detail = "the database is unavailable for a moment: try again shortly"
            return JSONResponse({"detail": detail}, status_code=503, headers=retry)
        if not hasattr(request.state, "officer"):
            request.state.officer = None  # the session cannot be loaded either
        response = render(request, "error.html", {"message": "error.database"}, status=503)
        response.headers.update(retry)
        return response


def create_app(
    settings: Settings | None = None, *, reach: ReachEvaluation | None = None
) -> FastAPI:
    """The application for these settings (default: from the environment); `reach` measures
    each campaign run against a ground truth (the demo's synthetic city; never in production)."""
    settings = settings or Settings.from_env()
    backend = Backend(
        settings.database_url,
        migrate=settings.migrate,
        clock=settings.clock,
        token_ttl=settings.token_cache_seconds,
    )
    desk = open_desk(settings, backend)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["outcomes"] = OUTCOMES

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        # Checks wait on the registries in worker threads. A few more threads than the
        # registries' latency needs: many more only fight over the GIL (and the database lock).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        campaigns = getattr(app.state, "campaigns", None)
        if campaigns is not None:  # a worker's first dashboard page without the wait
            campaigns.warm_up(templates.env)
        try:
            yield
        finally:
            desk.close()
            backend.close()

    from entitle.web.account_pages import router as account_router
    from entitle.web.api import router as api_router
    from entitle.web.audit_pages import router as audit_router
    from entitle.web.campaigns.routes import install as install_campaigns
    from entitle.web.desk_letters import router as desk_letters_router
    from entitle.web.desk_pages import router as desk_router
    from entitle.web.pages import router as pages_router

    app = EntitleApp(
        title="Entitle desk API",
        version="1",
        description=(
            "Desk checks of one subject for one benefit, decisions by id, and the benefits' "
            "rules in words. Authenticate with `Authorization: Bearer <token>`; a token is "
            "scoped to purposes and benefits. Answers hold outcomes and reasons, never the "
            "values read from the registries."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = WebState(settings, backend, desk, templates)
    install_handlers(app)
    app.behind_tls = settings.secure_cookies == "always"
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(pages_router)
    app.include_router(desk_router)
    app.include_router(account_router)
    app.include_router(desk_letters_router)
    app.include_router(audit_router)
    app.include_router(api_router)
    install_campaigns(app, settings, backend, reach)  # campaign dashboard, coupons
    return app
