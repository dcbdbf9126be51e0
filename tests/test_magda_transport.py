"""MAGDA transport: batching, retries with backoff, circuit breaker, time-outs, concurrency limit,
signing hook, audit — against httpx.MockTransport and a real local HTTP server."""

from __future__ import annotations

import asyncio
import http.server
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from entitle.insz import make_insz
from entitle.sources.magda import (
    AsyncMagdaClient,
    BreakerState,
    CircuitBreaker,
    ErrorKind,
    ExchangeRecord,
    Known,
    MagdaClient,
    MagdaConfigError,
    MagdaSettings,
    PersoonCriteria,
    SociaalStatuutCriteria,
    Unavailable,
)
from entitle.sources.magda.settings import BreakerSettings, RetrySettings
from entitle.sources.magda.transport import backoff_delay

DAY = date(2025, 1, 1)
PURPOSE = "social-benefit-uitpas"


def people(n: int) -> list[str]:
    return [make_insz(date(1970, 1, 1 + i % 28), 1 + i, kind="test").normalized for i in range(n)]


def statuses(insz: list[str]) -> list[SociaalStatuutCriteria]:
    return [SociaalStatuutCriteria(i, statuses=("BIM_BVT",), on=DAY) for i in insz]


def settings(**overrides: object) -> MagdaSettings:
    base: dict[str, object] = {
        "base_url": "http://magda.test",
        "sender": "gent.be/entitle",
        "capacities": {PURPOSE: "ipdc2858"},
        "retry": RetrySettings(max_attempts=3, base_delay=0.1, max_delay=1.0, jitter=0.5),
        "breaker": BreakerSettings(failure_threshold=100, reset_timeout=10.0),
    }
    base.update(overrides)
    return MagdaSettings(**base)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# a fake MAGDA: reads the request, answers every question


UITZ = (
    "<Uitzondering><Identificatie>{code}</Identificatie><Oorsprong>MAGDA</Oorsprong>"
    "<Type>FOUT</Type><Diagnose>{diag}</Diagnose></Uitzondering>"
)


def uitzonderingen(code: str, diag: str = "test") -> str:
    return "<Uitzonderingen>" + UITZ.format(code=code, diag=diag) + "</Uitzonderingen>"


def status_inhoud(insz: str, value: bool) -> str:
    return (
        f"<Inhoud><Persoon><INSZ>{insz}</INSZ><SocialeStatuten><SociaalStatuut>"
        f"<Naam>BIM_BVT</Naam><Resultaat><Code>{int(value)}</Code></Resultaat>"
        "</SociaalStatuut></SocialeStatuten></Persoon></Inhoud>"
    )


@dataclass
class Asked:
    naam: str
    namespace: str
    referte: str
    capacity: str
    questions: list[tuple[str, str]]  # (Vraag Referte, INSZ)
    body: bytes


def read_request(body: bytes) -> Asked:
    root = etree.fromstring(body)
    operation = root.find(".//{*}Body/*")
    verzoek = operation.find("Verzoek")
    questions = [
        (v.findtext("Referte"), (v.xpath(".//INSZ/text() | .//ssin/text()") or [""])[0])
        for v in verzoek.iterfind("Vragen/Vraag")
    ]
    return Asked(
        naam=verzoek.findtext("Context/Naam"),
        namespace=etree.QName(operation).namespace,
        referte=verzoek.findtext("Context/Bericht/Afzender/Referte"),
        capacity=verzoek.findtext("Context/Bericht/Afzender/Hoedanigheid"),
        questions=questions,
        body=body,
    )


def reply(
    asked: Asked,
    answer: Callable[[str], str] | None,
    reply_errors: str = "",
    reverse: bool = False,
) -> bytes:
    antwoorden = ""
    if answer is not None:
        items = [
            f"<Antwoord><Referte>{ref}</Referte>{answer(insz)}</Antwoord>"
            for ref, insz in asked.questions
        ]
        if reverse:
            items.reverse()
        antwoorden = "<Antwoorden>" + "".join(items) + "</Antwoorden>"
    xml = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f'<web:{asked.naam}Response xmlns:web="{asked.namespace}"><Repliek><Context>'
        f"<Naam>{asked.naam}</Naam><Versie>03.00.0000</Versie><Bericht><Type>ANTWOORD</Type>"
        f"<Ontvanger><Referte>{asked.referte}</Referte><Hoedanigheid>{asked.capacity}"
        "</Hoedanigheid></Ontvanger></Bericht></Context>"
        f"{antwoorden}{reply_errors}</Repliek></web:{asked.naam}Response>"
        "</soapenv:Body></soapenv:Envelope>"
    )
    return xml.encode()


def fault(code: str, message: str, reason: str = "x") -> bytes:
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f"<soapenv:Fault><faultcode>soapenv:{code}</faultcode><faultstring>{message}</faultstring>"
        f"<detail><Reden>{reason}</Reden></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


def ok(asked: Asked) -> httpx.Response:
    return httpx.Response(200, content=reply(asked, lambda i: status_inhoud(i, i.endswith("7"))))


Behaviour = Callable[[Asked], httpx.Response]


@dataclass
class FakeMagda:
    """Serves a script of behaviours, one per request (the last one repeats)."""

    script: list[Behaviour]
    asked: list[Asked] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        asked = read_request(request.content)
        with self.lock:
            self.asked.append(asked)
            self.urls.append(str(request.url))
            behaviour = self.script[min(len(self.asked) - 1, len(self.script) - 1)]
        return behaviour(asked)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client(fake: FakeMagda, sleeps: Sleeps | None = None, **kwargs: object) -> MagdaClient:
    s = kwargs.pop("settings", None) or settings()
    return MagdaClient(
        s,  # type: ignore[arg-type]
        transport=fake.transport,
        sleep=sleeps or Sleeps(),
        rng=random.Random(1),
        **kwargs,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------------------------------
# batching, correlation, facts


def test_many_people_are_asked_in_requests_of_at_most_five() -> None:
    insz = people(12)
    fake = FakeMagda([ok])
    with client(fake, settings=settings(max_concurrency=1)) as magda:
        results = magda.ask(statuses(insz), purpose=PURPOSE)
    assert [len(a.questions) for a in fake.asked] == [5, 5, 2]
    assert [r.insz for r in results] == insz
    assert all(r.outcome == "ok" and r.attempts == 1 for r in results)
    assert all(a.capacity == "ipdc2858" for a in fake.asked)
    assert fake.urls[0] == "http://magda.test/GeefSociaalStatuut/03.00.0000"
    for result in results:
        facts = result.facts(as_of=DAY)
        assert facts["person.increased_allowance"] == Known(result.insz.endswith("7"))


def test_answers_are_matched_by_referte() -> None:
    insz = people(4)
    fake = FakeMagda(
        [
            lambda a: httpx.Response(
                200,
                content=reply(a, lambda i: status_inhoud(i, i == insz[0]), reverse=True),
            )
        ]
    )
    with client(fake) as magda:
        results = magda.ask(statuses(insz), purpose=PURPOSE)
    values = [r.facts(as_of=DAY)["person.increased_allowance"] for r in results]
    assert values == [Known(True), Known(False), Known(False), Known(False)]
    assert [r.answer.insz for r in results if r.answer] == insz


def test_mixed_services_go_to_their_own_endpoints() -> None:
    insz = people(3)

    def behave(asked: Asked) -> httpx.Response:
        if asked.naam == "GeefPersoon":
            return httpx.Response(200, content=reply(asked, None, uitzonderingen("30001")))
        return ok(asked)

    fake = FakeMagda([behave])
    criteria = [*statuses(insz), PersoonCriteria(insz[0])]
    with client(fake) as magda:
        results = magda.ask(criteria, purpose=PURPOSE)
    assert sorted(fake.urls) == [
        "http://magda.test/GeefPersoon/02.02.0000",
        "http://magda.test/GeefSociaalStatuut/03.00.0000",
    ]
    person = results[-1]
    assert person.outcome == "no_data"
    outcome = person.facts(as_of=DAY)["person.birth_date"]
    assert isinstance(outcome, Unavailable) and outcome.kind == ErrorKind.NO_DATA


def test_unknown_purpose_is_a_config_error() -> None:
    with client(FakeMagda([ok])) as magda, pytest.raises(MagdaConfigError):
        magda.ask(statuses(people(1)), purpose="no-such-purpose")


def test_signer_and_audit_hooks() -> None:
    records: list[ExchangeRecord] = []

    def sign(xml: bytes) -> bytes:
        return xml.replace(b"<soapenv:Header/>", b"<soapenv:Header><Signed/></soapenv:Header>")

    fake = FakeMagda([ok])
    insz = people(2)
    with client(fake, signer=sign, audit=records.append) as magda:
        magda.ask(statuses(insz), purpose=PURPOSE)
    assert b"<Signed/>" in fake.asked[0].body
    assert len(records) == 1
    assert records[0].purpose == PURPOSE and records[0].capacity == "ipdc2858"
    assert records[0].insz == tuple(insz) and records[0].outcome == "ok"


# ------------------------------------------------------------------------------------------
# retries


def overload(asked: Asked) -> httpx.Response:
    return httpx.Response(
        200,
        content=reply(asked, None, uitzonderingen("99996", "Te veel gelijktijdige bevragingen")),
    )


def test_overload_is_retried_with_backoff() -> None:
    sleeps = Sleeps()
    fake = FakeMagda([overload, ok])
    with client(fake, sleeps) as magda:
        results = magda.ask(statuses(people(3)), purpose=PURPOSE)
    assert len(fake.asked) == 2
    assert all(r.outcome == "ok" and r.attempts == 2 for r in results)
    assert len(sleeps.calls) == 1
    assert 0.05 <= sleeps.calls[0] <= 0.1  # base 0.1 with up to 50 % jitter
    assert fake.asked[0].referte != fake.asked[1].referte  # a fresh request each time


def test_retries_are_bounded_and_delays_grow_within_the_cap() -> None:
    sleeps = Sleeps()
    fake = FakeMagda([overload])
    s = settings(retry=RetrySettings(max_attempts=5, base_delay=0.2, max_delay=0.5, jitter=0.5))
    with client(fake, sleeps, settings=s) as magda:
        results = magda.ask(statuses(people(2)), purpose=PURPOSE)
    assert len(fake.asked) == 5
    assert len(sleeps.calls) == 4
    ceilings = [0.2, 0.4, 0.5, 0.5]
    for delay, ceiling in zip(sleeps.calls, ceilings, strict=True):
        assert ceiling * 0.5 <= delay <= ceiling
    for result in results:
        assert result.outcome == "retry" and result.attempts == 5
        outcome = result.facts(as_of=DAY)["person.increased_allowance"]
        assert isinstance(outcome, Unavailable) and outcome.retryable
        assert outcome.codes == ("99996",)


def test_backoff_delay() -> None:
    s = RetrySettings(max_attempts=10, base_delay=1.0, max_delay=8.0, jitter=0.0)
    rng = random.Random(0)
    assert [backoff_delay(n, s, rng) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    jittered = RetrySettings(max_attempts=10, base_delay=1.0, max_delay=8.0, jitter=1.0)
    assert all(0.0 <= backoff_delay(3, jittered, rng) <= 4.0 for _ in range(100))


def test_only_questions_failing_transiently_are_asked_again() -> None:
    insz = people(4)
    flaky = insz[2]

    def first(asked: Asked) -> httpx.Response:
        return httpx.Response(
            200,
            content=reply(
                asked,
                lambda i: uitzonderingen("60006") if i == flaky else status_inhoud(i, True),
            ),
        )

    fake = FakeMagda([first, ok])
    with client(fake) as magda:
        results = magda.ask(statuses(insz), purpose=PURPOSE)
    assert [len(a.questions) for a in fake.asked] == [4, 1]
    assert fake.asked[1].questions[0][1] == flaky
    assert [r.attempts for r in results] == [1, 1, 2, 1]
    assert all(r.outcome == "ok" for r in results)


@pytest.mark.parametrize(
    ("behaviour", "kind", "code"),
    [
        (
            lambda a: httpx.Response(200, content=reply(a, lambda i: uitzonderingen("30003"))),
            ErrorKind.BAD_REQUEST,
            "30003",
        ),
        (
            lambda a: httpx.Response(200, content=reply(a, lambda i: uitzonderingen("30001"))),
            ErrorKind.NO_DATA,
            "30001",
        ),
        (
            lambda a: httpx.Response(200, content=reply(a, None, uitzonderingen("20110"))),
            ErrorKind.BAD_REQUEST,
            "20110",
        ),
        (lambda a: httpx.Response(403, text="Forbidden"), ErrorKind.REFUSED, "HTTP_403"),
        (lambda a: httpx.Response(404, text="Not found"), ErrorKind.ERROR, "HTTP_404"),
        (
            lambda a: httpx.Response(500, content=fault("Client", "Verzoek ongeldig")),
            ErrorKind.BAD_REQUEST,
            "soap:Client",
        ),
        (
            lambda a: httpx.Response(
                500,
                content=fault(
                    "Client", "Geen machtiging voor deze hoedanigheid: …", "not-authorised"
                ),
            ),
            ErrorKind.REFUSED,
            "soap:Client",
        ),
        (
            lambda a: httpx.Response(200, text="<html>proxy error</html>"),
            ErrorKind.ERROR,
            "MALFORMED",
        ),
        (lambda a: httpx.Response(200, content=ok(a).content[:200]), ErrorKind.ERROR, "MALFORMED"),
    ],
)
def test_permanent_failures_are_not_retried(
    behaviour: Behaviour, kind: ErrorKind, code: str
) -> None:
    sleeps = Sleeps()
    fake = FakeMagda([behaviour])
    with client(fake, sleeps) as magda:
        results = magda.ask(statuses(people(2)), purpose=PURPOSE)
    assert len(fake.asked) == 1 and sleeps.calls == []
    for result in results:
        assert result.outcome == kind.value
        assert code in [e.code for e in result.all_errors]
        outcome = result.facts(as_of=DAY)["person.increased_allowance"]
        assert isinstance(outcome, Unavailable) and outcome.kind == kind


@pytest.mark.parametrize(
    "failure",
    [
        lambda a: httpx.Response(503, text="Service Unavailable"),
        lambda a: httpx.Response(504, text="Gateway Timeout"),
        lambda a: httpx.Response(429, text="Slow down"),
        lambda a: httpx.Response(500, content=fault("Server", "Interne fout bij de bron")),
        lambda a: httpx.Response(200, content=reply(a, None, uitzonderingen("99994"))),
        lambda a: httpx.Response(200, content=reply(a, lambda i: uitzonderingen("60006"))),
    ],
)
def test_transient_failures_are_retried(failure: Behaviour) -> None:
    fake = FakeMagda([failure, ok])
    with client(fake) as magda:
        results = magda.ask(statuses(people(2)), purpose=PURPOSE)
    assert len(fake.asked) == 2
    assert all(r.outcome == "ok" for r in results)


def test_timeouts_and_connection_errors_are_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("slow", request=request)
        if calls["n"] == 2:
            raise httpx.ConnectError("refused", request=request)
        return ok(read_request(request.content))

    sleeps = Sleeps()
    with MagdaClient(
        settings(), transport=httpx.MockTransport(handler), sleep=sleeps, rng=random.Random(0)
    ) as magda:
        results = magda.ask(statuses(people(1)), purpose=PURPOSE)
    assert calls["n"] == 3 and len(sleeps.calls) == 2
    assert results[0].outcome == "ok"

    def always_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with MagdaClient(
        settings(), transport=httpx.MockTransport(always_timeout), sleep=Sleeps()
    ) as magda:
        result = magda.ask(statuses(people(1)), purpose=PURPOSE)[0]
    assert result.outcome == "retry"
    assert [e.code for e in result.errors] == ["TIMEOUT"]


# ------------------------------------------------------------------------------------------
# circuit breaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_states_with_an_injected_clock() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        BreakerSettings(failure_threshold=3, reset_timeout=30.0, half_open_max_calls=1), clock
    )
    assert breaker.state == BreakerState.CLOSED
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # a success resets the count
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.allow() and breaker.state == BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state == BreakerState.OPEN and not breaker.allow()
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.state == BreakerState.HALF_OPEN
    assert breaker.allow()  # the one trial
    assert not breaker.allow()  # no second trial while it runs
    breaker.record_failure()  # trial failed: open again, for a full timeout
    assert breaker.state == BreakerState.OPEN
    clock.now += 30
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == BreakerState.CLOSED and breaker.allow()


def test_client_breaker_opens_half_opens_and_closes() -> None:
    clock = FakeClock()
    down = lambda a: httpx.Response(503, text="down")  # noqa: E731
    fake = FakeMagda([down, down, down, ok])
    s = settings(
        retry=RetrySettings(max_attempts=1),
        breaker=BreakerSettings(failure_threshold=2, reset_timeout=10.0),
    )
    with client(fake, settings=s, clock=clock) as magda:
        ask = lambda: magda.ask(statuses(people(1)), purpose=PURPOSE)[0]  # noqa: E731
        assert ask().outcome == "retry"
        assert ask().outcome == "retry"
        assert magda.breakers.get("GeefSociaalStatuut").state == BreakerState.OPEN
        blocked = ask()
        assert [e.code for e in blocked.errors] == ["CIRCUIT_OPEN"]
        assert blocked.outcome == "retry" and blocked.attempts == 0
        assert len(fake.asked) == 2  # nothing was sent
        # another service has its own breaker
        assert magda.breakers.get("GeefPersoon").state == BreakerState.CLOSED
        clock.now += 10
        assert magda.breakers.get("GeefSociaalStatuut").state == BreakerState.HALF_OPEN
        assert ask().outcome == "retry"  # the trial fails: open again
        assert len(fake.asked) == 3
        assert [e.code for e in ask().errors] == ["CIRCUIT_OPEN"]
        clock.now += 10
        assert ask().outcome == "ok"  # the trial succeeds: closed
        assert magda.breakers.get("GeefSociaalStatuut").state == BreakerState.CLOSED
        assert ask().outcome == "ok"
    assert len(fake.asked) == 5


def test_no_data_does_not_trip_the_breaker() -> None:
    no_data = lambda a: httpx.Response(200, content=reply(a, lambda i: uitzonderingen("30001")))  # noqa: E731
    s = settings(breaker=BreakerSettings(failure_threshold=1, reset_timeout=10.0))
    with client(FakeMagda([no_data]), settings=s) as magda:
        for _ in range(3):
            assert magda.ask(statuses(people(1)), purpose=PURPOSE)[0].outcome == "no_data"
        assert magda.breakers.get("GeefSociaalStatuut").state == BreakerState.CLOSED


# ------------------------------------------------------------------------------------------
# concurrency limit


class InFlight:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def test_sync_concurrency_limit() -> None:
    gauge = InFlight()

    def slow(asked: Asked) -> httpx.Response:
        with gauge:
            time.sleep(0.03)
            return ok(asked)

    fake = FakeMagda([slow])
    with client(fake, settings=settings(max_concurrency=2)) as magda:
        results = magda.ask(statuses(people(30)), purpose=PURPOSE)
    assert len(fake.asked) == 6
    assert gauge.peak == 2
    assert all(r.outcome == "ok" for r in results)


def test_async_client_batches_retries_and_limits_concurrency() -> None:
    gauge = InFlight()
    calls = {"n": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        asked = read_request(request.content)
        calls["n"] += 1
        number = calls["n"]
        with gauge:
            await asyncio.sleep(0.02)
        if number == 1:
            return overload(asked)
        return ok(asked)

    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def run() -> list[str]:
        async with AsyncMagdaClient(
            settings(max_concurrency=3),
            transport=httpx.MockTransport(handler),
            sleep=fake_sleep,
            rng=random.Random(0),
        ) as magda:
            results = await magda.ask(statuses(people(40)), purpose=PURPOSE)
        return [r.outcome for r in results]

    outcomes = asyncio.run(run())
    assert outcomes == ["ok"] * 40
    assert calls["n"] == 9  # 8 batches, one retried once
    assert gauge.peak == 3
    assert len(sleeps) == 1


def test_async_breaker_and_timeout() -> None:
    clock = FakeClock()

    async def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("no route", request=request)

    async def no_sleep(seconds: float) -> None:
        return None

    async def run() -> list[list[str]]:
        s = settings(
            retry=RetrySettings(max_attempts=2),
            breaker=BreakerSettings(failure_threshold=2, reset_timeout=5.0),
        )
        async with AsyncMagdaClient(
            s, transport=httpx.MockTransport(handler), sleep=no_sleep, clock=clock
        ) as magda:
            first = await magda.ask(statuses(people(1)), purpose=PURPOSE)
            second = await magda.ask(statuses(people(1)), purpose=PURPOSE)
            return [[e.code for e in first[0].errors], [e.code for e in second[0].errors]]

    assert asyncio.run(run()) == [["TIMEOUT"], ["CIRCUIT_OPEN"]]


# ------------------------------------------------------------------------------------------
# a real local HTTP server: time-outs over a socket


@pytest.fixture
def slow_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if b"SLOW" in body or self.path.startswith("/slow"):
                time.sleep(0.6)
            content = ok(read_request(body)).content
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_real_server_round_trip_and_read_timeout(slow_server: str) -> None:
    fast = settings(base_url=slow_server, read_timeout=2.0)
    with MagdaClient(fast) as magda:
        results = magda.ask(statuses(people(3)), purpose=PURPOSE)
    assert all(r.outcome == "ok" for r in results)

    slow = settings(
        base_url=slow_server + "/slow",
        read_timeout=0.15,
        retry=RetrySettings(max_attempts=2, base_delay=0.01, max_delay=0.01),
    )
    started = time.perf_counter()
    with MagdaClient(slow) as magda:
        result = magda.ask(statuses(people(1)), purpose=PURPOSE)[0]
    elapsed = time.perf_counter() - started
    assert result.outcome == "retry"
    assert [e.code for e in result.errors] == ["TIMEOUT"]
    assert result.attempts == 2
    assert elapsed < 1.5


def test_connection_refused_is_transient() -> None:
    with MagdaClient(
        settings(base_url="http://127.0.0.1:9", retry=RetrySettings(max_attempts=2, base_delay=0)),
    ) as magda:
        result = magda.ask(statuses(people(1)), purpose=PURPOSE)[0]
    assert result.outcome == "retry"
    assert [e.code for e in result.errors] == ["CONNECTION"]


def test_breaker_opening_during_retries_keeps_the_last_error() -> None:
    fake = FakeMagda([overload])
    s = settings(
        retry=RetrySettings(max_attempts=3, base_delay=0.0),
        breaker=BreakerSettings(failure_threshold=2, reset_timeout=60.0),
    )
    with client(fake, settings=s, clock=FakeClock()) as magda:
        result = magda.ask(statuses(people(1)), purpose=PURPOSE)[0]
    assert len(fake.asked) == 2
    assert result.attempts == 2
    assert [e.code for e in result.errors] == ["CIRCUIT_OPEN", "99996"]
    assert result.outcome == "retry"


# ------------------------------------------------------------------------------------------
# mutual TLS against a local HTTPS server that requires a client certificate


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil
    import subprocess

    script = Path(__file__).resolve().parents[1] / "scripts" / "make-test-ca.sh"
    if shutil.which("openssl") is None or not script.is_file():
        pytest.skip("openssl or scripts/make-test-ca.sh not available")
    out = tmp_path_factory.mktemp("ca")
    subprocess.run(["bash", str(script), str(out)], check=True, capture_output=True)
    return out


@pytest.fixture
def mtls_server(test_ca: Path) -> Iterator[str]:
    import ssl

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            content = ok(read_request(body)).content
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args: object) -> None:
            return

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(test_ca / "server.crt", test_ca / "server.key")
    context.load_verify_locations(test_ca / "ca.crt")
    context.verify_mode = ssl.CERT_REQUIRED
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_mutual_tls(mtls_server: str, test_ca: Path) -> None:
    from entitle.sources.magda.settings import TlsSettings

    tls = TlsSettings(
        cert_file=test_ca / "client.crt",
        key_file=test_ca / "client.key",
        ca_file=test_ca / "ca.crt",
    )
    with MagdaClient(settings(base_url=mtls_server, tls=tls)) as magda:
        results = magda.ask(statuses(people(2)), purpose=PURPOSE)
    assert [r.outcome for r in results] == ["ok", "ok"]

    no_client_cert = TlsSettings(ca_file=test_ca / "ca.crt")
    s = settings(base_url=mtls_server, tls=no_client_cert, retry=RetrySettings(max_attempts=1))
    with MagdaClient(s) as magda:
        result = magda.ask(statuses(people(1)), purpose=PURPOSE)[0]
    assert result.outcome == "retry"  # the handshake fails: a connection error, no data read
    assert [e.code for e in result.errors] == ["CONNECTION"]


def test_facts_of_several_income_years() -> None:
    from entitle.sources.magda import AanslagbiljetCriteria, facts_of

    def assessment(year: str, cents: str) -> str:
        return (
            "<Inhoud><AanslagbiljetPersonenbelasting><GevraagdePersoon><INSZ>x</INSZ>"
            "<FiscaleStatus><Code>A</Code></FiscaleStatus></GevraagdePersoon>"
            f"<Inkomensjaar>{year}</Inkomensjaar><Items><Item><Code>A7555</Code>"
            f"<Waarde>{cents}</Waarde></Item></Items></AanslagbiljetPersonenbelasting></Inhoud>"
        )

    def by_year(newest: Callable[[], str]) -> Behaviour:
        def behave(asked: Asked) -> httpx.Response:
            years = iter(etree.fromstring(asked.body).xpath(".//Inkomensjaar/text()"))

            def answer(insz: str) -> str:
                year = next(years)
                return newest() if year == "2024" else assessment(year, "2000000")

            return httpx.Response(200, content=reply(asked, answer))

        return behave

    person = people(1)[0]
    years = [AanslagbiljetCriteria(person, income_year=y) for y in (2023, 2024)]
    s = settings(retry=RetrySettings(max_attempts=1), max_concurrency=1)
    cases = {
        "newest there": (
            lambda: assessment("2024", "2500000"),
            Known(2500000, "A7555, income year 2024"),
        ),
        "newest not assessed yet": (
            lambda: uitzonderingen("45008"),
            Known(2000000, "A7555, income year 2023"),
        ),
    }
    for newest, expected in cases.values():
        with client(FakeMagda([by_year(newest)]), settings=s) as magda:
            results = magda.ask(years, purpose=PURPOSE)
        assert facts_of(results, as_of=DAY)["person.taxable_income"] == expected
    # the newest year failed transiently: no falling back on the older one
    with client(FakeMagda([by_year(lambda: uitzonderingen("60006"))]), settings=s) as magda:
        results = magda.ask(years, purpose=PURPOSE)
    outcome = facts_of(results, as_of=DAY)["person.taxable_income"]
    assert isinstance(outcome, Unavailable) and outcome.kind == ErrorKind.RETRY
    with pytest.raises(ValueError):
        facts_of([], as_of=DAY)
