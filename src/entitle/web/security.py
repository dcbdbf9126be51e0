"""Security headers on every response of the web application (pages, API, static files).

- ``Content-Security-Policy``: scripts, styles and everything else only from this origin; no
  inline script or style (the templates have none: ``desk.js``, ``desk.css`` and
  ``campaigns.css`` are static files), no plug-ins, forms only to this origin, and no page may
  frame ours (``frame-ancestors 'none'``, with ``X-Frame-Options: DENY`` for old browsers).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (a URL may hold a coupon
  code), a ``Permissions-Policy`` that turns off the powerful browser features the desk never
  uses, and ``Cross-Origin-Opener-Policy: same-origin``.
- ``Strict-Transport-Security`` only when the request came over TLS, or when the application is
  declared to be behind TLS (``ENTITLE_SECURE_COOKIES=true``: a proxy terminates TLS). Sent over
  plain HTTP it would be ignored at best and lock a misconfigured site out at worst.
- ``Cache-Control: no-store`` on everything but static files: pages show personal outcomes.

A header that a route set itself is left alone.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
PERMISSIONS = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "hid=(), midi=(), display-capture=(), interest-cohort=()"
)
HSTS = "max-age=31536000; includeSubDomains"

ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", PERMISSIONS.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """ASGI middleware adding the headers above; ``behind_tls`` sends HSTS on every response."""

    def __init__(self, app: ASGIApp, *, behind_tls: bool = False) -> None:
        self.app = app
        self.behind_tls = behind_tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(ALWAYS)
        if self.behind_tls or scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))
        if not str(scope.get("path", "")).startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
