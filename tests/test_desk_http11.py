"""The lean keep-alive client behind the desk's registry calls (`entitle.sources.http11`).

Against a real local HTTP/1.1 server: connections are reused, a connection the server closed
while idle is replaced without the caller noticing, and failures come out as httpx's exceptions
(which the MAGDA transport already reads).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from entitle.sources.http11 import Http11Pool

TIMEOUT = httpx.Timeout(connect=2.0, read=2.0, write=2.0, pool=2.0)


@dataclass
class Served:
    url: str
    connections: set[int] = field(default_factory=set)  # client ports seen
    bodies: list[bytes] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def served() -> Iterator[Served]:
    state = Served("")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.connections.add(self.client_address[1])
            state.bodies.append(body)
            if self.path == "/slow":
                state.hold.wait(5)
            if self.path == "/bye":  # answer, then close the connection while the client idles
                self.close_connection = True
            status = 404 if self.path == "/missing" else 200
            answer = b"<ok>" + body + b"</ok>"
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.hold.set()
        server.shutdown()
        server.server_close()


def test_answers_and_reuses_one_connection(served: Served) -> None:
    pool = Http11Pool(timeout=TIMEOUT, verify=True)
    try:
        answers = [pool.post(served.url + "/soap", f"q{i}".encode(), {}) for i in range(5)]
    finally:
        pool.close()
    assert answers == [(200, f"<ok>q{i}</ok>".encode()) for i in range(5)]
    assert served.bodies == [f"q{i}".encode() for i in range(5)]
    assert len(served.connections) == 1


def test_status_of_an_error_answer_is_returned(served: Served) -> None:
    pool = Http11Pool(timeout=TIMEOUT, verify=True)
    try:
        assert pool.post(served.url + "/missing", b"x", {}) == (404, b"<ok>x</ok>")
    finally:
        pool.close()


def test_a_connection_closed_while_idle_is_replaced(served: Served) -> None:
    pool = Http11Pool(timeout=TIMEOUT, verify=True)
    try:
        # HTTP/1.1 without "Connection: close": the client keeps the socket the server drops
        assert pool.post(served.url + "/bye", b"a", {})[0] == 200
        assert pool.post(served.url + "/soap", b"b", {}) == (200, b"<ok>b</ok>")
    finally:
        pool.close()
    assert served.bodies == [b"a", b"b"]
    assert len(served.connections) == 2


def test_read_timeout_is_httpx_read_timeout(served: Served) -> None:
    quick = httpx.Timeout(connect=2.0, read=0.1, write=2.0, pool=2.0)
    pool = Http11Pool(timeout=quick, verify=True)
    try:
        with pytest.raises(httpx.ReadTimeout):
            pool.post(served.url + "/slow", b"x", {})
    finally:
        served.hold.set()
        pool.close()


def test_refused_connection_is_httpx_connect_error() -> None:
    pool = Http11Pool(timeout=TIMEOUT, verify=True)
    with pytest.raises(httpx.ConnectError):
        pool.post("http://127.0.0.1:9/soap", b"x", {})


def test_only_http_and_https_urls() -> None:
    pool = Http11Pool(timeout=TIMEOUT, verify=True)
    with pytest.raises(httpx.UnsupportedProtocol):
        pool.post("ftp://127.0.0.1/x", b"x", {})
