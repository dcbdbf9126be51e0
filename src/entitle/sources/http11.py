"""A lean keep-alive HTTP/1.1 client for the registries: MAGDA's SOAP POSTs, the city's datasets.

httpx spends several times more CPU per request than the exchange itself needs (URL and header
models, the h11 state machine); a desk check sends a few requests, so at the desk that cost is a
large share of a worker's CPU. This pool keeps idle `http.client` connections per origin (HTTP, or
HTTPS with the configured SSL context: mutual TLS, CA file) and speaks just what the registries
need: a POST with a body, an answer with its status and body.

Failures are raised as httpx's exceptions (`httpx.ConnectError`, `httpx.ConnectTimeout`,
`httpx.ReadTimeout`, `httpx.ReadError`, `httpx.RemoteProtocolError`), so callers read them as
with httpx. A request that fails on a reused keep-alive connection before any answer came back
(the server closed it while idle) is sent once more on a fresh connection: these POSTs only read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = ["Http11Pool"]

Origin = tuple[str, str, int]  # scheme, host, port


def _one_write(connection: http.client.HTTPConnection, body: bytes) -> None:
    """Send the buffered request head and ``body`` in one write: one segment, one wake-up of
    the server (`http.client` writes them separately)."""
    buffer: list[bytes] = connection._buffer  # type: ignore[attr-defined]
    buffer.extend((b"", b""))
    head = b"\r\n".join(buffer)
    del buffer[:]
    connection.send(head + body)


class _Plain(http.client.HTTPConnection):
    def _send_output(self, message_body: Any = None, encode_chunked: bool = False) -> None:
        if isinstance(message_body, bytes):
            _one_write(self, message_body)
        else:
            super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


class _Tls(http.client.HTTPSConnection):
    def _send_output(self, message_body: Any = None, encode_chunked: bool = False) -> None:
        if isinstance(message_body, bytes):
            _one_write(self, message_body)
        else:
            super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


def _ssl_context(verify: ssl.SSLContext | bool) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        return verify
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Http11Pool:
    """Keep-alive connections per origin; thread-safe (a connection serves one thread at a time).

    ``timeout`` gives the connect timeout (connection and TLS handshake) and the read timeout
    (each wait for the answer); ``verify`` is httpx's: an SSL context, True or False.
    """

    def __init__(
        self, *, timeout: httpx.Timeout, verify: ssl.SSLContext | bool, max_idle: int = 64
    ) -> None:
        self.connect_timeout = timeout.connect
        self.read_timeout = timeout.read
        self.max_idle = max_idle
        self._verify = verify
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._targets: dict[str, tuple[Origin, str]] = {}

    def _target(self, url: str) -> tuple[Origin, str]:
        found = self._targets.get(url)
        if found is None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise httpx.UnsupportedProtocol(f"cannot send to {url!r}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            found = ((parts.scheme, parts.hostname, port), path)
            if len(self._targets) < 1000:
                self._targets[url] = found
        return found

    def _connect(self, origin: Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        connection: http.client.HTTPConnection
        if scheme == "https":
            if self._context is None:
                self._context = _ssl_context(self._verify)
            connection = _Tls(host, port, timeout=self.connect_timeout, context=self._context)
        else:
            connection = _Plain(host, port, timeout=self.connect_timeout)
        try:
            connection.connect()
        except TimeoutError as exc:
            connection.close()
            raise httpx.ConnectTimeout(f"connect to {host}:{port} timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            connection.close()
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        if connection.sock is not None:
            connection.sock.settimeout(self.read_timeout)
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _checkout(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        return self._connect(origin), False

    def _checkin(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.max_idle:
                idle.append(connection)
                return
        connection.close()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """POST ``body`` to ``url``; the answer's status and body."""
        origin, path = self._target(url)
        connection, reused = self._checkout(origin)
        try:
            return self._exchange(origin, connection, path, body, headers)
        except _Stale:
            if not reused:
                raise httpx.RemoteProtocolError("the server closed the connection") from None
        connection = self._connect(origin)
        try:
            return self._exchange(origin, connection, path, body, headers)
        except _Stale:
            raise httpx.RemoteProtocolError("the server closed the connection") from None

    def _exchange(
        self,
        origin: Origin,
        connection: http.client.HTTPConnection,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> tuple[int, bytes]:
        answered = False
        try:
            connection.request("POST", path, body, dict(headers))
            response = connection.getresponse()
            answered = True
            content = response.read()
        except TimeoutError as exc:
            connection.close()
            raise httpx.ReadTimeout("no answer within the read timeout") from exc
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
            connection.close()
            if not answered:
                raise _Stale from exc
            raise httpx.ReadError(f"connection lost: {type(exc).__name__}") from exc
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise httpx.ReadError(f"exchange failed: {type(exc).__name__}") from exc
        if response.will_close:
            connection.close()
        else:
            self._checkin(origin, connection)
        return response.status, content

    def close(self) -> None:
        """Close every idle connection (the pool stays usable)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


class _Stale(Exception):
    """The connection broke before any answer came back."""
