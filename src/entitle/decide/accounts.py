"""Signing in: accounts, passwords, sessions and API tokens, each operation in its own transaction.

The web pages and the REST API reach the accounts through `Accounts` (and its types, re-exported
here), the command line through `sign_in_on_command_line`; the store keeps the accounts, the
server-side sessions and the sign-in delays.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from entitle.store import audit, sessions, throttle, users
from entitle.store.audit import looks_like_insz
from entitle.store.roles import ROLES
from entitle.store.sessions import SessionInfo
from entitle.store.transactions import Transactions
from entitle.store.users import MIN_PASSWORD_LENGTH, AuthError, TokenView, UserError, UserView

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "Accounts",
    "AuthError",
    "SessionInfo",
    "TokenView",
    "UserError",
    "UserView",
    "sign_in_on_command_line",
    "sign_in_policies",
    "typed_name",
]


def sign_in_policies(
    free_failures: int, free_failures_per_address: int
) -> tuple[throttle.Policy, throttle.Policy]:
    """The growing delays after failed sign-ins, per username and per address: `free_failures`
    (`free_failures_per_address`) failures cost nothing, then the delay doubles up to the cap."""
    return (
        throttle.Policy(free_failures, throttle.USERNAME.cap_seconds),
        throttle.Policy(free_failures_per_address, throttle.ADDRESS.cap_seconds),
    )


def typed_name(username: str) -> str:
    """The name typed at a failed sign-in, as the audit log may hold it: "?" for anything that
    could be an INSZ typed by mistake."""
    name = username[:64]
    if not name or looks_like_insz(name) or sum(c.isdigit() for c in name) >= 11:
        return "?"
    return name


def sign_in_on_command_line(
    factory: sessionmaker[Session], username: str, password: str
) -> UserView:
    """A sign-in on the command line (a campaign command's `--as`): the user, or `AuthError`
    (unknown, bad_password, disabled). Audited like a sign-in on the web, marked `"via": "cli"`:
    `login`, or `login_failed` under the typed name unless it could be an INSZ (`typed_name`).
    Without the web's sign-in delays (`Accounts.sign_in`)."""
    with factory() as session:
        try:
            user = users.authenticate(session, username, password)
        except AuthError as exc:
            session.rollback()
            audit.append(
                session,
                kind="login_failed",
                actor=typed_name(username),
                purpose=None,
                subject=None,
                outcome=exc.reason,
                details={"reason": exc.reason, "via": "cli"},
            )
            session.commit()
            raise
        audit.append(
            session,
            kind="login",
            actor=user.username,
            purpose=None,
            subject=None,
            outcome=None,
            details={"role": user.role, "via": "cli"},
        )
        session.commit()
        return user


def _token_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts(Transactions):
    """Sign-in, passwords, sessions and API tokens on one database.

    API tokens are cached for `token_ttl` seconds (a revoked token keeps working that long in a
    worker that saw it; 0 turns the cache off).
    """

    def __init__(
        self,
        url: str | None,
        *,
        migrate: bool = True,
        clock: Callable[[], datetime] | None = None,
        token_ttl: float = 10.0,
    ) -> None:
        super().__init__(url, migrate=migrate, clock=clock)
        self.token_ttl = token_ttl
        self._tokens: dict[str, tuple[float, TokenView | None]] = {}

    def sign_in(
        self,
        username: str,
        password: str,
        address: str,
        policies: tuple[throttle.Policy, throttle.Policy] = (throttle.USERNAME, throttle.ADDRESS),
    ) -> UserView:
        """The user, or `AuthError` (unknown, bad_password, throttled, disabled).

        An attempt made before the delay of its username or address is over is refused as
        `throttled`, after spending the time a password check takes (so it looks like a wrong
        password from outside); a failure lengthens both delays, a success clears the name's.
        `policies`: the delays per username and per address (`sign_in_policies`).
        """
        keys = (throttle.username_key(username), throttle.address_key(address))
        with self._serial, self.factory() as session:
            if throttle.wait_seconds(session, list(keys), now=self.now()) > 0:
                users.spend_password_time(password)
                raise AuthError("throttled")
            try:
                user = users.authenticate(session, username, password, now=self.now())
            except AuthError as exc:
                if exc.reason in ("unknown", "bad_password"):
                    for key, policy in zip(keys, policies, strict=True):
                        throttle.record_failure(session, key, policy, now=self.now())
                session.commit()
                raise
            throttle.clear(session, keys[0])
            session.commit()
            return user

    def change_password(self, user_id: int, current: str, new: str) -> None:
        """The user's own password change: every session of the account ends."""
        self.run(lambda s: users.change_password(s, user_id, current, new))

    def add_user(self, username: str, password: str, role: str) -> UserView:
        return self.run(lambda s: users.add_user(s, username, password, role))

    # ------------------------------------------------------------------ sessions

    def create_session(self, user_id: int, ttl_seconds: int) -> tuple[str, str]:
        """A new session of the user: (session id, CSRF token)."""
        return self.run(
            lambda s: sessions.create_session(s, user_id, ttl_seconds=ttl_seconds, now=self.now())
        )

    def load_session(self, session_id: str, idle_seconds: int) -> tuple[UserView, str] | None:
        """The session's user and CSRF token, or None when it has ended or was idle too long."""
        return self.run(
            lambda s: sessions.load_session(
                s, session_id, now=self.now(), idle_seconds=idle_seconds
            )
        )

    def list_sessions(self, user_id: int, current_id: str) -> list[SessionInfo]:
        return self.run(lambda s: sessions.list_sessions(s, user_id, current_id, now=self.now()))

    def end_session(self, session_id: str) -> None:
        self.run(lambda s: sessions.end_session(s, session_id))

    def end_user_sessions(self, user_id: int, keep: str | None = None) -> int:
        """End every session of the user but `keep`; how many ended."""
        return self.run(lambda s: sessions.end_user_sessions(s, user_id, keep=keep))

    # ------------------------------------------------------------------ API tokens

    def create_api_token(self, client: str, purposes: list[str], benefits: list[str]) -> str:
        return self.run(lambda s: users.create_api_token(s, client, purposes, benefits))

    def cached_token(self, secret: str) -> tuple[bool, TokenView | None]:
        """(True, the token) when this worker checked the secret less than `token_ttl` ago."""
        if self.token_ttl <= 0:
            return False, None
        cached = self._tokens.get(_token_key(secret))
        if cached is not None and time.monotonic() - cached[0] < self.token_ttl:
            return True, cached[1]
        return False, None

    def check_api_token(self, secret: str) -> TokenView | None:
        """The token of a secret (None: unknown or revoked), cached for `token_ttl` seconds."""
        hit, token = self.cached_token(secret)
        if hit:
            return token
        token = self.run(lambda s: users.check_api_token(s, secret))
        if self.token_ttl > 0:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[_token_key(secret)] = (time.monotonic(), token)
        return token
