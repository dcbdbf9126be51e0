"""The registry simulator: a MAGDA-compatible SOAP server over a synthetic city (ASGI, Starlette).

URL scheme (documented in ``docs/registry-simulator.md``):

- ``POST /{Service}/{Versie}`` — one service, e.g. ``/GeefPersoon/02.02.0000`` (or ``/02.02``);
  the body's ``Context/Naam`` must name the same service;
- ``POST /soap`` — one endpoint for every service, dispatched on ``Context/Naam``;
- ``GET /health`` — readiness;
- ``GET /local``, ``GET /local/{dataset}.parquet|.csv``, ``GET /local/{dataset}?insz=…``,
  ``POST /local/{dataset}`` ``{"insz": [...]}`` — the city's own datasets;
- ``/_admin/…`` — fault injection at run time, statistics, ``POST /_admin/advance`` (the city's
  clock: ``{"weeks": N}``).

A request goes: parse → service → outage? → purpose check → injected latency and fault → question
limit → one answer per question. Logs name the service, sender, capacity, counts and outcome,
never an INSZ, a name or an amount; uvicorn's access log (which would print query strings) is off.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import io
import json
import logging
import ssl
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from entitle.registry.authz import Authorisations, Grant
from entitle.registry.faults import FaultInjector, FaultsConfig
from entitle.registry.repertory import Repertory
from entitle.registry.services import (
    SERVICES,
    AnswerContext,
    ServiceSpec,
    canonical_service,
    requested_statuses,
)
from entitle.registry.signature import SignatureRejected, SignatureVerifier
from entitle.registry.soap import (
    MAX_QUESTIONS,
    NO_ANSWER_FROM_SOURCE,
    OVERLOAD,
    UNEXPECTED_SOURCE_ERROR,
    Answer,
    Element,
    MagdaRequest,
    SoapRequestError,
    Uitzondering,
    build_fault,
    build_reply,
    build_security_fault,
    parse_request,
    remove_all,
    serialize,
    too_many_questions,
)
from entitle.registry.store import LocalDatasets, RegistryStore

__all__ = ["SimulatorConfig", "create_app", "load_config", "serve"]

log = logging.getLogger("entitle.registry")

XML = "text/xml; charset=utf-8"
MAX_BODY_BYTES = 1 << 20  # five questions fit in a few kilobytes
Handler = Callable[[Request], Awaitable[Response]]
# What a proxy in between answers when the back end fails: HTML, not even well-formed XML.
_PROXY_ERROR_PAGE = (
    "<!DOCTYPE html><html><head><meta charset=utf-8><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><hr><p>nginx</p></body></html>"
)


class SimulatorConfig(BaseModel):
    """The simulator's configuration file (YAML or JSON)."""

    model_config = ConfigDict(extra="forbid")

    authorisations: list[Grant] | None = None
    faults: FaultsConfig = Field(default_factory=FaultsConfig)
    max_questions: int = Field(default=MAX_QUESTIONS, ge=1)
    admin_token: str | None = None
    signature_ca: Path | None = None
    """Require signed requests, by certificates this CA (PEM) issued (``--require-signature``)."""
    require_inscriptions: bool = False
    """KSZ-sourced data only for persons inscribed in the repertory (``--require-inscriptions``)."""
    repertory_file: Path | None = None
    """Keep the repertory across restarts in this journal (``--repertory``); else in memory."""


def load_config(path: Path | None) -> SimulatorConfig:
    """Read a configuration file (``.json``, else YAML); no path gives the defaults.

    Raises ValueError (with the file name) when the file cannot be read or is not valid."""
    if path is None:
        return SimulatorConfig()
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            from ruamel.yaml import YAML

            data = YAML(typ="safe").load(text)
        return SimulatorConfig.model_validate(data or {})
    except Exception as exc:  # unreadable file, JSON/YAML syntax, invalid values
        raise ValueError(f"{path}: {exc}") from exc


def _printable(text: str, limit: int = 80) -> str:
    """A caller-supplied identifier made safe for a log line (no control characters, short)."""
    cleaned = "".join(c if c.isprintable() else "?" for c in text)
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "…"


def _xml(envelope: Element, status: int = 200) -> Response:
    return Response(serialize(envelope), status_code=status, media_type=XML)


def _fault(code: Literal["Client", "Server"], message: str, reason: str) -> Response:
    return _xml(build_fault(code, message, reason), status=500)


class _Refused(Exception):
    """A request answered with a SOAP fault before any data was touched."""

    def __init__(self, code: Literal["Client", "Server"], message: str, reason: str) -> None:
        super().__init__(message)
        self.code, self.message, self.reason = code, message, reason


class Simulator:
    """The state behind the app: the city, local datasets, purpose matrix, faults, statistics."""

    def __init__(self, data_dir: Path, config: SimulatorConfig) -> None:
        self.config = config
        self.data_dir = data_dir
        self.store = RegistryStore.load(data_dir)
        self.local = LocalDatasets(data_dir)
        self.authz = Authorisations(config.authorisations)
        self.faults = FaultInjector(config.faults)
        self.stats: Counter[tuple[str, str]] = Counter()
        self.repertory = Repertory(config.repertory_file)
        self.signatures = (
            SignatureVerifier(config.signature_ca) if config.signature_ca is not None else None
        )
        if self.authz.permissive:
            log.warning("no authorisation matrix configured: every sender may call every service")
        log.info(
            "registry loaded: %d persons, %d households, local datasets: %s",
            len(self.store.persons),
            len(self.store.households),
            ", ".join(self.local.names()) or "none",
        )

    # --- SOAP ---------------------------------------------------------------------------------

    async def soap(self, request: Request) -> Response:
        started = time.perf_counter()
        service = "?"
        magda: MagdaRequest | None = None
        try:
            path_spec = self._path_service(request)
            service = path_spec.name if path_spec else service
            if path_spec is not None and self._down(path_spec) == "http503":
                return self._done(service, None, "down:http503", started, self._unavailable())
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                raise _Refused("Client", "Verzoek te groot", "request-too-large")
            if self.signatures is not None:
                self.signatures.verify(body)
            magda = parse_request(body)
            spec = self._resolve(magda, path_spec)
            service = spec.name
            response, outcome = await self._answer(spec, magda)
            return self._done(service, magda, outcome, started, response)
        except SoapRequestError as exc:
            return self._done(
                service,
                magda,
                "fault:invalid-request",
                started,
                _fault("Client", str(exc), "invalid-request"),
            )
        except SignatureRejected as exc:
            log.warning("refused an unauthenticated request to %s: %s", service, exc.reason)
            return self._done(
                service,
                None,
                f"fault:signature-{exc.reason}",
                started,
                _xml(build_security_fault(exc.reason), status=500),
            )
        except _Refused as exc:
            return self._done(
                service,
                magda,
                f"fault:{exc.reason}",
                started,
                _fault(exc.code, exc.message, exc.reason),
            )
        except Exception as exc:  # never leak data: the class name only
            log.error("internal error in %s: %s", service, type(exc).__name__)
            return self._done(
                service,
                magda,
                "fault:internal",
                started,
                _fault("Server", "Interne fout", "internal"),
            )

    def _path_service(self, request: Request) -> ServiceSpec | None:
        name = request.path_params.get("service")
        if name is None:
            return None
        spec = canonical_service(str(name))
        if spec is None:
            raise _Refused("Client", "Onbekende dienst", "unknown-service")
        version = str(request.path_params.get("version"))
        variant = spec.variant(version)
        if variant is None:
            raise _Refused("Client", f"Versie niet ondersteund voor {spec.name}", "unknown-version")
        return variant

    def _resolve(self, magda: MagdaRequest, path_spec: ServiceSpec | None) -> ServiceSpec:
        spec = canonical_service(magda.naam)
        if spec is None:
            raise _Refused("Client", "Onbekende dienst in Context/Naam", "unknown-service")
        if path_spec is not None and spec.name != path_spec.name:
            raise _Refused("Client", "Context/Naam past niet bij de URL", "service-mismatch")
        variant = spec.variant(magda.versie)
        if variant is None or (path_spec is not None and variant.version != path_spec.version):
            raise _Refused("Client", f"Versie niet ondersteund voor {spec.name}", "unknown-version")
        spec = variant
        if magda.operation != spec.name or magda.operation_ns != spec.namespace:
            raise _Refused(
                "Client",
                f"Verwacht element {spec.name} in namespace {spec.namespace}",
                "wrong-operation",
            )
        return spec

    def _down(self, spec: ServiceSpec) -> str | None:
        faults = self.faults.config.for_service(spec.name)
        return faults.down_mode if faults.down else None

    @staticmethod
    def _unavailable() -> Response:
        return PlainTextResponse("Service Unavailable", status_code=503)

    async def _answer(self, spec: ServiceSpec, magda: MagdaRequest) -> tuple[Response, str]:
        down = self._down(spec)
        if down == "http503":
            return self._unavailable(), "down:http503"
        if down == "60006":
            answers = [(v, Answer.error(NO_ANSWER_FROM_SOURCE)) for v in magda.vragen]
            return _xml(self._reply(spec, magda, answers)), "down:60006"

        statuses = (
            [s for v in magda.vragen for s in requested_statuses(v)]
            if spec.name == "GeefSociaalStatuut"
            else []
        )
        decision = self.authz.check(magda.sender, magda.capacity, spec.name, statuses)
        if not decision.allowed:
            log.warning(
                "refused %s for sender=%s capacity=%s: %s",
                spec.name,
                _printable(magda.sender),
                _printable(magda.capacity),
                decision.reason,
            )
            raise _Refused(
                "Client",
                f"Geen machtiging voor deze hoedanigheid: {decision.reason}",
                "not-authorised",
            )

        plan = self.faults.plan(spec.name)
        if plan.latency_s > 0:
            await asyncio.sleep(plan.latency_s)
        if plan.outcome == "timeout":
            await asyncio.sleep(plan.hold_s)
            return PlainTextResponse("Gateway Timeout", status_code=504), "injected:timeout"
        if plan.outcome == "error":
            if plan.error_mode == "uitzondering":
                return _xml(
                    self._reply(spec, magda, None, [UNEXPECTED_SOURCE_ERROR])
                ), "injected:99994"
            return _fault("Server", "Interne fout bij de bron", "source-error"), "injected:error"
        if plan.outcome == "overload":
            return _xml(self._reply(spec, magda, None, [OVERLOAD])), "injected:99996"
        limit = self.config.max_questions
        if len(magda.vragen) > limit:
            return _xml(
                self._reply(spec, magda, None, [too_many_questions(limit)])
            ), "uitzondering:20110"

        now = datetime.now()
        context = AnswerContext(
            today=self.store.reference_date or now.date(),
            now=now,
            sender=magda.sender,
            capacity=magda.capacity,
            repertory=self.repertory,
            require_inscriptions=self.config.require_inscriptions,
        )
        answers = [(v, spec.build(self.store, v, context)) for v in magda.vragen]
        envelope = self._reply(spec, magda, answers)
        codes = sorted({u.code for _, a in answers for u in a.uitzonderingen})
        outcome = "ok" if not codes else "uitzondering:" + ",".join(codes)
        if plan.outcome == "malformed":
            return self._malformed(envelope, plan.malformed_kind), f"injected:{plan.malformed_kind}"
        return _xml(envelope), outcome

    def _reply(
        self,
        spec: ServiceSpec,
        magda: MagdaRequest,
        answers: list[tuple[Any, Answer]] | None,
        uitzonderingen: list[Uitzondering] | None = None,
    ) -> Element:
        return build_reply(
            namespace=spec.namespace,
            prefix=spec.prefix,
            request=magda,
            version=spec.version,
            now=datetime.now(),
            answers=answers,
            uitzonderingen=uitzonderingen or [],
        )

    @staticmethod
    def _malformed(envelope: Element, kind: str | None) -> Response:
        if kind == "missing_inhoud":
            remove_all(envelope, "Inhoud")
            return _xml(envelope)
        if kind == "missing_antwoorden":
            remove_all(envelope, "Antwoorden")
            return _xml(envelope)
        if kind == "not_xml":
            return Response(_PROXY_ERROR_PAGE, status_code=200, media_type="text/html")
        raw = serialize(envelope)
        return Response(raw[: len(raw) // 2], status_code=200, media_type=XML)

    def _done(
        self,
        service: str,
        magda: MagdaRequest | None,
        outcome: str,
        started: float,
        response: Response,
    ) -> Response:
        self.stats[(service, outcome)] += 1
        log.info(
            "%s sender=%s capacity=%s questions=%s outcome=%s status=%d ms=%.0f",
            service,
            _printable(magda.sender) if magda else "-",
            _printable(magda.capacity) if magda else "-",
            len(magda.vragen) if magda else "-",
            outcome,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    # --- health, admin ------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "persons": len(self.store.persons),
                "households": len(self.store.households),
                "services": {s.name: s.version for s in SERVICES.values()},
                "local": self.local.names(),
            }
        )

    def _admin(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            token = self.config.admin_token
            given = request.headers.get("x-admin-token", "")
            if token is not None and not hmac.compare_digest(given, token):
                return JSONResponse({"error": "admin token required"}, status_code=401)
            try:
                return await handler(request)
            except ValidationError as exc:
                errors = json.loads(exc.json(include_url=False, include_input=False))
                return JSONResponse(
                    {"error": "invalid fault configuration", "details": errors}, 400
                )
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return guarded

    def _faults_json(self) -> Response:
        return JSONResponse(self.faults.config.model_dump(mode="json"))

    async def get_faults(self, request: Request) -> Response:
        return self._faults_json()

    async def put_faults(self, request: Request) -> Response:
        self.faults.replace(FaultsConfig.model_validate(await _json_body(request)))
        log.info("fault configuration replaced")
        return self._faults_json()

    async def patch_faults(self, request: Request) -> Response:
        self.faults.patch(await _json_body(request))
        log.info("fault configuration changed")
        return self._faults_json()

    async def reset_faults(self, request: Request) -> Response:
        self.faults.replace(self.faults.initial)
        log.info("fault configuration reset")
        return self._faults_json()

    async def service_down(self, request: Request) -> Response:
        body = await _json_body(request, default={})
        mode = request.query_params.get("mode") or body.get("mode")
        spec = _known(request.path_params["service"])
        self.faults.set_down(spec.name, True, mode)
        log.warning("%s taken down (%s)", spec.name, self._down(spec))
        return self._faults_json()

    async def service_up(self, request: Request) -> Response:
        spec = _known(request.path_params["service"])
        self.faults.set_down(spec.name, False)
        log.warning("%s back up", spec.name)
        return self._faults_json()

    async def advance(self, request: Request) -> Response:
        """Move the city forward (body ``{"weeks": N}``) and serve the new registry view."""
        from entitle.registry.advance import AdvanceError, advance_city

        body = await _json_body(request, {"weeks": 1})
        weeks = body.get("weeks", 1)
        if not isinstance(weeks, int) or isinstance(weeks, bool):
            return JSONResponse({"error": "weeks must be an integer"}, status_code=400)
        try:
            reports = await asyncio.to_thread(advance_city, self.data_dir, weeks)
        except AdvanceError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        self.store = RegistryStore.load(self.data_dir)
        self.local = LocalDatasets(self.data_dir)
        return JSONResponse(
            {
                "reference_date": reports[-1].reference_date.isoformat(),
                "weeks": [
                    {
                        "week": r.week,
                        "reference_date": r.reference_date.isoformat(),
                        "events": r.events,
                        "registry_changes": r.registry_changes,
                        "notifications": r.notifications,
                    }
                    for r in reports
                ],
            }
        )

    async def get_stats(self, request: Request) -> Response:
        table: dict[str, dict[str, int]] = {}
        for (service, outcome), count in sorted(self.stats.items()):
            table.setdefault(service, {})[outcome] = count
        return JSONResponse(table)

    async def get_repertory(self, request: Request) -> Response:
        """The simulated KSZ repertory: counts, and every inscription (synthetic persons only)."""
        entries = [
            {"consumer": c, "capacity": h, "insz": i, "start": s.isoformat(), "end": e.isoformat()}
            for c, h, i, s, e in self.repertory.entries()
        ]
        return JSONResponse({**self.repertory.snapshot(), "inscriptions": entries})

    # --- local datasets -----------------------------------------------------------------------

    async def local_index(self, request: Request) -> Response:
        return JSONResponse({"datasets": self.local.describe()})

    async def local_get(self, request: Request) -> Response:
        name = str(request.path_params["name"])
        stem, _, suffix = name.rpartition(".")
        if suffix in ("parquet", "csv") and stem:
            return self._local_file(stem, suffix)
        insz = [
            part.strip()
            for value in request.query_params.getlist("insz")
            for part in value.split(",")
            if part.strip()
        ]
        if not insz:
            return JSONResponse(
                {"error": f"ask by ?insz=…, POST {{'insz': [...]}}, or fetch {name}.parquet"}, 400
            )
        return self._local_rows(name, insz)

    async def local_post(self, request: Request) -> Response:
        body = await _json_body(request, default={})
        insz = body.get("insz")
        if not isinstance(insz, list) or not all(isinstance(i, str) for i in insz):
            return JSONResponse({"error": 'expected {"insz": ["…", …]}'}, status_code=400)
        return self._local_rows(str(request.path_params["name"]), insz)

    def _local_rows(self, name: str, insz: list[str]) -> Response:
        if self.local.frame(name) is None:
            return JSONResponse({"error": f"no local dataset {name!r}"}, status_code=404)
        rows = self.local.lookup(name, insz)
        found = {str(row.get("person_id")) for row in rows}
        log.info("local %s: %d asked, %d found", name, len(insz), len(found))
        answer: dict[str, Any] = {
            "dataset": name,
            "rows": rows,
            "not_found": [i for i in insz if i not in found],
        }
        years = self.local.school_years(name)
        if years is not None:  # what the dataset covers: an absent year is unknown, not "no"
            answer["school_years"] = years
        return JSONResponse(answer)

    def _local_file(self, name: str, suffix: str) -> Response:
        frame = self.local.frame(name)
        if frame is None:
            return JSONResponse({"error": f"no local dataset {name!r}"}, status_code=404)
        path = self.local.file(name, suffix)
        media = "text/csv" if suffix == "csv" else "application/vnd.apache.parquet"
        if path is not None:
            return FileResponse(path, media_type=media, filename=path.name)
        buffer = io.BytesIO()
        if suffix == "csv":
            frame.write_csv(buffer)
        else:
            frame.write_parquet(buffer)
        disposition = f'attachment; filename="{name}.{suffix}"'
        return Response(
            buffer.getvalue(), media_type=media, headers={"content-disposition": disposition}
        )


async def _json_body(request: Request, default: dict[str, Any] | None = None) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if default is not None:
            return default
        raise ValueError("expected a JSON object")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _known(name: object) -> ServiceSpec:
    spec = canonical_service(str(name))
    if spec is None:
        raise ValueError(f"unknown service {name!r}")
    return spec


def create_app(data_dir: Path, config: SimulatorConfig | None = None) -> Starlette:
    """The ASGI app over the city in ``data_dir`` (``registry/`` and ``local/``)."""
    sim = Simulator(data_dir, config or SimulatorConfig())
    admin = sim._admin
    routes = [
        Route("/health", sim.health, methods=["GET"]),
        Route("/soap", sim.soap, methods=["POST"]),
        Route("/local", sim.local_index, methods=["GET"]),
        Route("/local/{name}", sim.local_get, methods=["GET"]),
        Route("/local/{name}", sim.local_post, methods=["POST"]),
        Route("/_admin/faults", admin(sim.get_faults), methods=["GET"]),
        Route("/_admin/faults", admin(sim.put_faults), methods=["PUT"]),
        Route("/_admin/faults", admin(sim.patch_faults), methods=["POST", "PATCH"]),
        Route("/_admin/faults/reset", admin(sim.reset_faults), methods=["POST"]),
        Route("/_admin/services/{service}/down", admin(sim.service_down), methods=["POST"]),
        Route("/_admin/services/{service}/up", admin(sim.service_up), methods=["POST"]),
        Route("/_admin/stats", admin(sim.get_stats), methods=["GET"]),
        Route("/_admin/advance", admin(sim.advance), methods=["POST"]),
        Route("/_admin/repertory", admin(sim.get_repertory), methods=["GET"]),
        Route("/{service}/{version}", sim.soap, methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            sim.repertory.close()  # its journal (every change is flushed already)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.simulator = sim
    return app


def serve(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8089,
    config: SimulatorConfig | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    tls_ca: Path | None = None,
    log_level: str = "info",
) -> None:
    """Run the simulator with uvicorn (blocking). ``tls_ca`` turns on mutual TLS."""
    import uvicorn

    app = create_app(data_dir, config)
    tls: dict[str, Any] = {}
    if tls_cert is not None:
        tls.update(ssl_certfile=str(tls_cert), ssl_keyfile=str(tls_key) if tls_key else None)
    if tls_ca is not None:
        tls.update(ssl_ca_certs=str(tls_ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,  # it would print query strings, e.g. /local/…?insz=
        log_level=log_level,
        timeout_graceful_shutdown=2,  # do not wait for held (injected timeout) requests
        **tls,
    )
