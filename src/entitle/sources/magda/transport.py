"""HTTP transport to MAGDA (or the registry simulator): sync and async clients.

`MagdaClient.ask(criteria, purpose=…)` (and `AsyncMagdaClient.ask`) takes any number of questions
of any of the services, batches them into requests of at most five questions, sends them and
returns one `QuestionResult` per question, in order. It never raises for a remote failure: every
question gets either its `Answer` or typed errors (``retry`` / ``refused`` / ``bad_request`` /
``error`` / ``no_data``).

Around each exchange:

- timeouts (connect, read, write, pool) from the settings;
- retries with exponential backoff and jitter, only for transient failures — reply-level or
  per-answer ``retry`` exceptions (99996, 60006, 9999x), time-outs, connection errors, HTTP 5xx,
  408 and 429, a SOAP Server fault — bounded by ``retry.max_attempts``; only the questions still
  failing transiently are asked again;
- a circuit breaker per service (closed → open after ``failure_threshold`` consecutive transient
  failures → half-open after ``reset_timeout`` → closed on a successful trial), with an injectable
  clock; while open, questions fail at once with ``CIRCUIT_OPEN`` (kind ``retry``);
- a concurrency limit (``max_concurrency`` requests in flight per client);
- mutual TLS (client certificate and key, CA file) and XML-DSig signing: ``signer`` is applied to
  the outgoing XML bytes (by default the one `signing.make_signer` builds from the settings; none
  only when ``signing.enabled`` is false); a reply saying the signature failed authentication
  raises `MagdaAuthenticationError` (a configuration error, never "no data");
- an ``audit`` hook called once per exchange with an `ExchangeRecord` (service, purpose, INSZ asked,
  outcome), for the gateway's purpose log.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import httpx

from entitle.sources.http11 import Http11Pool
from entitle.sources.magda.envelope import BuiltRequest, Criteria, batched, build_request
from entitle.sources.magda.errors import (
    ErrorKind,
    MagdaAuthenticationError,
    MagdaParseError,
    Uitzondering,
    worst_kind,
)
from entitle.sources.magda.facts import FactOutcome, map_facts
from entitle.sources.magda.parsers import Answer, MagdaResponse, parse_response
from entitle.sources.magda.services import ServiceSpec
from entitle.sources.magda.settings import BreakerSettings, MagdaSettings, RetrySettings
from entitle.sources.magda.signing import make_signer

__all__ = [
    "AsyncMagdaClient",
    "BreakerRegistry",
    "BreakerState",
    "CircuitBreaker",
    "ExchangeRecord",
    "MagdaClient",
    "QuestionResult",
    "Signer",
    "backoff_delay",
    "build_ssl_context",
    "facts_of",
]

log = logging.getLogger("entitle.sources.magda")

Signer = Callable[[bytes], bytes]
Clock = Callable[[], float]


def _identity(xml: bytes) -> bytes:
    return xml


# ---------------------------------------------------------------------------------------------
# circuit breaker


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` consecutive failures; open → half-open once
    ``reset_timeout`` seconds have passed on ``clock``; half-open lets ``half_open_max_calls``
    trials through: a success closes, a failure re-opens. Thread-safe."""

    def __init__(self, settings: BreakerSettings, clock: Clock = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0

    def _advance(self) -> None:
        if (
            self._state == BreakerState.OPEN
            and self._clock() - self._opened_at >= self.settings.reset_timeout
        ):
            self._state = BreakerState.HALF_OPEN
            self._trials = 0

    @property
    def state(self) -> BreakerState:
        with self._lock:
            self._advance()
            return self._state

    def allow(self) -> bool:
        """Whether a request may go out now (a half-open trial counts as one)."""
        with self._lock:
            self._advance()
            if self._state == BreakerState.CLOSED:
                return True
            if self._state == BreakerState.HALF_OPEN and (
                self._trials < self.settings.half_open_max_calls
            ):
                self._trials += 1
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trials = 0

    def record_failure(self) -> None:
        with self._lock:
            self._advance()
            self._failures += 1
            if (
                self._state == BreakerState.HALF_OPEN
                or self._failures >= self.settings.failure_threshold
            ):
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
                self._trials = 0


class BreakerRegistry:
    """One `CircuitBreaker` per service, created on first use; share it between clients."""

    def __init__(self, settings: BreakerSettings, clock: Clock = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, service: str) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(service)
            if breaker is None:
                breaker = CircuitBreaker(self.settings, self.clock)
                self._breakers[service] = breaker
            return breaker

    def states(self) -> dict[str, BreakerState]:
        with self._lock:
            items = list(self._breakers.items())
        return {name: breaker.state for name, breaker in items}


# ---------------------------------------------------------------------------------------------
# retries, TLS


def backoff_delay(attempt: int, settings: RetrySettings, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry)."""
    ceiling = min(settings.max_delay, settings.base_delay * (2 ** max(attempt - 1, 0)))
    return float(ceiling * (1.0 - settings.jitter * rng.random()))


def build_ssl_context(settings: MagdaSettings) -> ssl.SSLContext | bool:
    """``verify`` for httpx: an SSL context with the client certificate (mutual TLS) and CA file
    when configured, else True (system trust) or False (``tls.verify`` off)."""
    tls = settings.tls
    if tls.cert_file is None and tls.ca_file is None:
        return tls.verify
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.cert_file is not None:
        password = tls.key_password.get_secret_value() if tls.key_password else None
        context.load_cert_chain(
            str(tls.cert_file), str(tls.key_file) if tls.key_file else None, password
        )
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _timeout(settings: MagdaSettings) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.write_timeout,
        pool=settings.pool_timeout,
    )


# ---------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class QuestionResult:
    """What became of one question: its answer (if one came back) and the errors that hit it
    outside the answer (reply-level exceptions, HTTP/transport failures, an open circuit)."""

    criteria: Criteria
    answer: Answer | None
    errors: tuple[Uitzondering, ...] = ()
    attempts: int = 0
    request_referte: str | None = None

    @property
    def service(self) -> ServiceSpec:
        return self.criteria.service

    @property
    def insz(self) -> str:
        return self.criteria.insz

    @property
    def all_errors(self) -> tuple[Uitzondering, ...]:
        return self.errors + (self.answer.errors if self.answer is not None else ())

    @property
    def outcome(self) -> str:
        """``ok`` / ``partial`` (the answer has data) or the most actionable error kind."""
        if self.answer is not None and self.answer.has_content:
            return self.answer.outcome
        kind = worst_kind([e.kind for e in self.all_errors if e.blocking])
        return (kind or ErrorKind.NO_DATA).value

    def facts(self, *, as_of: date, wanted: Sequence[str] | None = None) -> dict[str, FactOutcome]:
        """The catalogue facts this answer gives for the person asked (see `map_facts`)."""
        return map_facts(
            self.service.naam,
            self.answer,
            subject=self.insz,
            as_of=as_of,
            wanted=wanted,
            context_errors=self.errors,
        )


def facts_of(
    results: Sequence[QuestionResult], *, as_of: date, wanted: Sequence[str] | None = None
) -> dict[str, FactOutcome]:
    """The catalogue facts of several questions about one person to one service, taken together
    (e.g. GeefAanslagbiljetPersonenbelasting asked for several income years: the latest
    assessment wins, and a newer year that failed transiently makes the income ``retry``)."""
    if not results:
        raise ValueError("facts_of needs at least one result")
    service, subject = results[0].service, results[0].insz
    if any(r.service != service or r.insz != subject for r in results):
        raise ValueError("facts_of takes results of one service about one person")
    answers = []
    for result in results:
        answer = result.answer
        if answer is None or result.errors:
            answer = Answer(
                referte=answer.referte if answer else None,
                insz=answer.insz if answer else None,
                has_content=answer.has_content if answer else False,
                facts=answer.facts if answer else {},
                errors=result.errors + (answer.errors if answer else ()),
            )
        answers.append(answer)
    return map_facts(service.naam, answers, subject=subject, as_of=as_of, wanted=wanted)


@dataclass(frozen=True)
class ExchangeRecord:
    """One HTTP exchange, for the purpose log (no response content)."""

    service: str
    purpose: str
    capacity: str
    request_referte: str
    insz: tuple[str, ...]
    attempt: int
    outcome: str
    http_status: int | None
    elapsed: float


@dataclass
class _Exchange:
    """The interpretation of one send."""

    response: MagdaResponse | None = None
    error: Uitzondering | None = None
    transient: bool = False
    http_status: int | None = None


def _transport_error(code: str, kind: ErrorKind, diagnosis: str) -> Uitzondering:
    return Uitzondering.transport(code, kind, diagnosis)


def _interpret(request: BuiltRequest, status: int, content: bytes) -> _Exchange:
    """Read an HTTP response: a MAGDA reply, a SOAP fault, or a failure of the exchange."""
    response: MagdaResponse | None = None
    parse_problem: str | None = None
    try:
        response = parse_response(content, service_hint=request.service.naam)
    except MagdaParseError as exc:
        parse_problem = str(exc)
    if response is not None and response.service not in (None, request.service):
        response, parse_problem = None, "reply of another service than asked"
    if 200 <= status < 300:
        if response is None:
            return _Exchange(
                error=_transport_error("MALFORMED", ErrorKind.ERROR, f"{parse_problem}"),
                http_status=status,
            )
        transient = response.fault is not None and response.errors[0].kind == ErrorKind.RETRY
        return _Exchange(response=response, transient=transient, http_status=status)
    if response is not None and response.fault is not None and response.fault.authentication:
        raise MagdaAuthenticationError(
            f"MAGDA refused the request's signature ({response.fault.code}: "
            f"{response.fault.detail or response.fault.message}): check the signing key and "
            "certificate (signing.* in the MAGDA settings) and that MAGDA knows the certificate"
        )
    if response is not None and response.fault is not None:
        # SOAP faults come with HTTP 500: the fault code decides.
        return _Exchange(
            response=response,
            transient=response.errors[0].kind == ErrorKind.RETRY,
            http_status=status,
        )
    if response is not None and (status >= 500 or status in (408, 429)):
        # A MAGDA reply with an HTTP error status: read the reply, retry if it says so.
        return _Exchange(response=response, transient=True, http_status=status)
    if status >= 500 or status in (408, 429):
        return _Exchange(
            error=_transport_error(f"HTTP_{status}", ErrorKind.RETRY, f"HTTP status {status}"),
            transient=True,
            http_status=status,
        )
    if status in (401, 403):
        kind = ErrorKind.REFUSED
    elif status == 400:
        kind = ErrorKind.BAD_REQUEST
    else:
        kind = ErrorKind.ERROR
    return _Exchange(
        error=_transport_error(f"HTTP_{status}", kind, f"HTTP status {status}"),
        http_status=status,
    )


def _exception_exchange(exc: Exception) -> _Exchange:
    if isinstance(exc, httpx.TimeoutException):
        return _Exchange(
            error=_transport_error("TIMEOUT", ErrorKind.RETRY, f"time-out: {type(exc).__name__}"),
            transient=True,
        )
    if isinstance(exc, httpx.TransportError):
        return _Exchange(
            error=_transport_error(
                "CONNECTION", ErrorKind.RETRY, f"connection failed: {type(exc).__name__}"
            ),
            transient=True,
        )
    return _Exchange(
        error=_transport_error("HTTP_ERROR", ErrorKind.ERROR, f"HTTP failure: {type(exc).__name__}")
    )


def _match_answers(request: BuiltRequest, response: MagdaResponse) -> list[Answer | None]:
    """The answer to each question: by ``Referte``, else by INSZ, else by position."""
    answers = list(response.answers)
    by_ref = {a.referte: a for a in answers if a.referte}
    matched: list[Answer | None] = [by_ref.get(q.referte) for q in request.questions]
    used = {id(a) for a in matched if a is not None}
    rest = [a for a in answers if id(a) not in used]
    if not rest:
        return matched
    for i, question in enumerate(request.questions):
        if matched[i] is None:
            same = [a for a in rest if a.insz == question.criteria.insz]
            if len(same) == 1:
                matched[i] = same[0]
                rest.remove(same[0])
    missing = [i for i, a in enumerate(matched) if a is None]
    if rest and len(rest) == len(missing):
        for i, answer in zip(missing, rest, strict=True):
            matched[i] = answer
    return matched


# ---------------------------------------------------------------------------------------------
# the batch state machine, shared by the sync and async clients


@dataclass
class _Batch:
    """The questions of one request (≤ 5) across attempts."""

    criteria: list[Criteria]
    results: dict[int, QuestionResult] = field(default_factory=dict)
    pending: list[int] = field(default_factory=list)
    attempts: int = 0
    # what the last attempt said, kept for the result if the breaker then stops the retries
    last_errors: tuple[Uitzondering, ...] = ()
    last_answers: dict[int, Answer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pending = list(range(len(self.criteria)))


class _Core:
    def __init__(
        self,
        settings: MagdaSettings,
        *,
        signer: Signer | None,
        breakers: BreakerRegistry | None,
        clock: Clock,
        rng: random.Random | None,
        audit: Callable[[ExchangeRecord], None] | None,
        now: Callable[[], datetime] | None,
    ) -> None:
        self.settings = settings
        self.signer = signer or make_signer(settings) or _identity
        self.breakers = breakers or BreakerRegistry(settings.breaker, clock)
        self.clock = clock
        self.rng = rng or random.Random()  # nosec B311  # retry jitter
        self.audit = audit
        self.now = now or datetime.now

    def batches(self, criteria: Sequence[Criteria]) -> list[tuple[list[int], _Batch]]:
        by_service: dict[str, list[int]] = {}
        for index, item in enumerate(criteria):
            by_service.setdefault(item.service.naam, []).append(index)
        out: list[tuple[list[int], _Batch]] = []
        for indexes in by_service.values():
            size = min(self.settings.max_questions, criteria[indexes[0]].service.max_questions)
            for group in batched(indexes, size):
                out.append((group, _Batch([criteria[i] for i in group])))
        return out

    def prepare(self, batch: _Batch, capacity: str) -> tuple[BuiltRequest, bytes]:
        request = build_request(
            [batch.criteria[i] for i in batch.pending],
            sender=self.settings.sender,
            capacity=capacity,
            now=self.now(),
            language=self.settings.language,
            max_questions=min(self.settings.max_questions, batch.criteria[0].service.max_questions),
        )
        return request, self.signer(request.xml)

    def fail_pending(self, batch: _Batch, error: Uitzondering, referte: str | None) -> None:
        for i in batch.pending:
            batch.results[i] = QuestionResult(
                batch.criteria[i],
                batch.last_answers.get(i),
                (error, *batch.last_errors),
                batch.attempts,
                referte,
            )
        batch.pending = []

    def start(self, batch: _Batch, capacity: str) -> tuple[BuiltRequest, bytes] | None:
        """The batch's next request and its signed body, the attempt counted; None when nothing is
        pending or the service's circuit breaker is open (every pending question then fails)."""
        if not batch.pending:
            return None
        request, body = self.prepare(batch, capacity)
        if not self.breakers.get(request.service.naam).allow():
            self.fail_pending(batch, self.circuit_open(request.service.naam), None)
            return None
        batch.attempts += 1
        return request, body

    def finish(
        self,
        batch: _Batch,
        request: BuiltRequest,
        purpose: str,
        exchange: _Exchange,
        elapsed: float,
    ) -> float | None:
        """Log, audit and settle one attempt: the wait before asking again, or None when done."""
        self.record(request, purpose, batch.attempts, exchange, elapsed)
        if self.settle(batch, request, exchange):
            return backoff_delay(batch.attempts, self.settings.retry, self.rng)
        return None

    def settle(self, batch: _Batch, request: BuiltRequest, exchange: _Exchange) -> bool:
        """Record an attempt's outcome. True: something should be asked again."""
        breaker = self.breakers.get(request.service.naam)
        last = batch.attempts >= self.settings.retry.max_attempts
        if exchange.response is None:
            assert exchange.error is not None
            if exchange.transient:
                breaker.record_failure()
                if not last:
                    batch.last_errors, batch.last_answers = (exchange.error,), {}
                    return True
            batch.last_errors, batch.last_answers = (), {}
            self.fail_pending(batch, exchange.error, request.referte)
            return False
        response = exchange.response
        reply_errors = response.errors
        if not response.answers:
            # the whole request failed (reply-level exception or SOAP fault)
            transient = exchange.transient or (
                worst_kind([e.kind for e in reply_errors if e.blocking]) == ErrorKind.RETRY
            )
            if transient:
                breaker.record_failure()
                if not last:
                    batch.last_errors, batch.last_answers = reply_errors, {}
                    return True
            else:
                breaker.record_success()
            error = next((e for e in reply_errors if e.blocking), None) or _transport_error(
                "NO_ANSWER", ErrorKind.ERROR, "the reply holds no answers"
            )
            for i in batch.pending:
                batch.results[i] = QuestionResult(
                    batch.criteria[i],
                    None,
                    reply_errors or (error,),
                    batch.attempts,
                    request.referte,
                )
            batch.pending = []
            return False
        matched = _match_answers(request, response)
        still: list[int] = []
        any_fine = False
        for i, answer in zip(batch.pending, matched, strict=True):
            errors = reply_errors
            if answer is None:
                missing = _transport_error(
                    "NO_ANSWER", ErrorKind.ERROR, "no answer to this question"
                )
                errors = (*errors, missing)
            retry_answer = (
                answer is not None
                and not answer.has_content
                and worst_kind([e.kind for e in answer.blocking_errors]) == ErrorKind.RETRY
            )
            if not retry_answer:
                any_fine = True
            if retry_answer and not last:
                assert answer is not None
                still.append(i)
                batch.last_answers[i] = answer
                continue
            batch.results[i] = QuestionResult(
                batch.criteria[i], answer, errors, batch.attempts, request.referte
            )
        if any_fine:
            breaker.record_success()
        else:
            breaker.record_failure()
        batch.pending = still
        batch.last_errors = reply_errors
        return bool(still)

    def record(
        self,
        request: BuiltRequest,
        purpose: str,
        attempt: int,
        exchange: _Exchange,
        elapsed: float,
    ) -> None:
        if exchange.response is not None:
            outcome = exchange.response.outcome
        elif exchange.error is not None:
            outcome = exchange.error.kind.value
        else:
            outcome = "error"
        log.info(
            "MAGDA %s purpose=%s referte=%s questions=%d attempt=%d status=%s outcome=%s %.3fs",
            request.service.naam,
            purpose,
            request.referte,
            len(request.questions),
            attempt,
            exchange.http_status,
            outcome,
            elapsed,
        )
        if self.audit is not None:
            self.audit(
                ExchangeRecord(
                    service=request.service.naam,
                    purpose=purpose,
                    capacity=request.capacity,
                    request_referte=request.referte,
                    insz=tuple(q.criteria.insz for q in request.questions),
                    attempt=attempt,
                    outcome=outcome,
                    http_status=exchange.http_status,
                    elapsed=elapsed,
                )
            )

    def circuit_open(self, service: str) -> Uitzondering:
        return _transport_error(
            "CIRCUIT_OPEN", ErrorKind.RETRY, f"circuit breaker open for {service}: not sent"
        )

    @staticmethod
    def assemble(size: int, done: list[tuple[list[int], _Batch]]) -> list[QuestionResult]:
        results: list[QuestionResult | None] = [None] * size
        for indexes, batch in done:
            for local_index, global_index in enumerate(indexes):
                results[global_index] = batch.results[local_index]
        assert all(r is not None for r in results)
        return [r for r in results if r is not None]


_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


class MagdaClient:
    """Synchronous MAGDA client. Use as a context manager, or call `close`.

    The network is reached through a lean keep-alive pool (`Http11Pool`); ``transport``
    replaces it (e.g. ``httpx.MockTransport`` in tests, sent through httpx); ``clock`` drives
    the circuit breakers and ``sleep`` the backoff waits (inject both in tests).
    """

    def __init__(
        self,
        settings: MagdaSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        signer: Signer | None = None,
        breakers: BreakerRegistry | None = None,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        audit: Callable[[ExchangeRecord], None] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._core = _Core(
            settings,
            signer=signer,
            breakers=breakers,
            clock=clock,
            rng=rng,
            audit=audit,
            now=now,
        )
        self.settings = settings
        self._sleep = sleep
        self._limit = threading.BoundedSemaphore(settings.max_concurrency)
        # The network: a lean keep-alive pool; an injected transport goes through httpx.
        self._pool: Http11Pool | None = None
        self._http: httpx.Client | None = None
        if transport is None:
            self._pool = Http11Pool(timeout=_timeout(settings), verify=build_ssl_context(settings))
        else:
            self._http = httpx.Client(transport=transport, timeout=_timeout(settings))

    @property
    def breakers(self) -> BreakerRegistry:
        return self._core.breakers

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> MagdaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def ask(self, criteria: Sequence[Criteria], *, purpose: str) -> list[QuestionResult]:
        """Ask every question (any services, any number) for ``purpose``; one result each."""
        if not criteria:
            return []
        capacity = self.settings.capacity(purpose)
        work = self._core.batches(criteria)
        if len(work) == 1 or self.settings.max_concurrency == 1:
            for _, batch in work:
                self._run(batch, capacity, purpose)
        else:
            workers = min(self.settings.max_concurrency, len(work))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(lambda item: self._run(item[1], capacity, purpose), work))
        return self._core.assemble(len(criteria), work)

    def _send(self, url: str, body: bytes) -> tuple[int, bytes]:
        with self._limit:
            if self._pool is not None:
                return self._pool.post(url, body, _HEADERS)
            assert self._http is not None
            response = self._http.post(url, content=body, headers=_HEADERS)
            return response.status_code, response.content

    def _run(self, batch: _Batch, capacity: str, purpose: str) -> None:
        core = self._core
        while (attempt := core.start(batch, capacity)) is not None:
            request, body = attempt
            started = time.perf_counter()
            try:
                status, content = self._send(self.settings.endpoint(request.service), body)
                exchange = _interpret(request, status, content)
            except httpx.HTTPError as exc:
                exchange = _exception_exchange(exc)
            delay = core.finish(batch, request, purpose, exchange, time.perf_counter() - started)
            if delay is not None:
                self._sleep(delay)


class AsyncMagdaClient:
    """Asynchronous MAGDA client (same behaviour as `MagdaClient`); batches run concurrently,
    at most ``max_concurrency`` requests in flight."""

    def __init__(
        self,
        settings: MagdaSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        signer: Signer | None = None,
        breakers: BreakerRegistry | None = None,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
        audit: Callable[[ExchangeRecord], None] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._core = _Core(
            settings,
            signer=signer,
            breakers=breakers,
            clock=clock,
            rng=rng,
            audit=audit,
            now=now,
        )
        self.settings = settings
        self._sleep = sleep
        self._limit: asyncio.Semaphore | None = None
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=_timeout(settings),
            verify=build_ssl_context(settings) if transport is None else True,
        )

    @property
    def breakers(self) -> BreakerRegistry:
        return self._core.breakers

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncMagdaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def ask(self, criteria: Sequence[Criteria], *, purpose: str) -> list[QuestionResult]:
        """Ask every question (any services, any number) for ``purpose``; one result each."""
        if not criteria:
            return []
        if self._limit is None:
            self._limit = asyncio.Semaphore(self.settings.max_concurrency)
        capacity = self.settings.capacity(purpose)
        work = self._core.batches(criteria)
        await asyncio.gather(*(self._run(batch, capacity, purpose) for _, batch in work))
        return self._core.assemble(len(criteria), work)

    async def _send(self, url: str, body: bytes) -> tuple[int, bytes]:
        assert self._limit is not None
        async with self._limit:
            response = await self._http.post(url, content=body, headers=_HEADERS)
            return response.status_code, response.content

    async def _run(self, batch: _Batch, capacity: str, purpose: str) -> None:
        core = self._core
        while (attempt := core.start(batch, capacity)) is not None:
            request, body = attempt
            started = time.perf_counter()
            try:
                status, content = await self._send(self.settings.endpoint(request.service), body)
                exchange = _interpret(request, status, content)
            except httpx.HTTPError as exc:
                exchange = _exception_exchange(exc)
            delay = core.finish(batch, request, purpose, exchange, time.perf_counter() - started)
            if delay is not None:
                await self._sleep(delay)
