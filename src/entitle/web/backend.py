"""The store as the web application uses it: one short transaction per operation.

Everything here goes through `entitle.store` (see ``docs/desk-contract.md``); the web layer holds
no state of its own, so several workers can serve the same database.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from entitle.store import alerts, audit, decisions, sessions, throttle, users
from entitle.store.ratelimit import allow as store_allow
from entitle.store.transactions import Transactions
from entitle.store.users import AuthError, TokenView, UserView

__all__ = ["AuthError", "Backend", "TokenView", "UserView"]


def _token_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Backend(Transactions):
    """The store's operations for the web app, each in its own transaction (committed on
    success). The desk's checks and overrides are `entitle.decide.desk`'s.

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

    # ------------------------------------------------------------------ accounts

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
        `policies`: the delays per username and per address.
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

    def list_sessions(self, user_id: int, current_id: str) -> list[sessions.SessionInfo]:
        return self.run(lambda s: sessions.list_sessions(s, user_id, current_id, now=self.now()))

    def end_user_sessions(self, user_id: int, keep: str | None = None) -> int:
        return self.run(lambda s: sessions.end_user_sessions(s, user_id, keep=keep))

    def add_user(self, username: str, password: str, role: str) -> UserView:
        return self.run(lambda s: users.add_user(s, username, password, role))

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
        hit, token = self.cached_token(secret)
        if hit:
            return token
        token = self.run(lambda s: users.check_api_token(s, secret))
        if self.token_ttl > 0:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[_token_key(secret)] = (time.monotonic(), token)
        return token

    def create_session(self, user_id: int, ttl_seconds: int) -> tuple[str, str]:
        return self.run(
            lambda s: sessions.create_session(s, user_id, ttl_seconds=ttl_seconds, now=self.now())
        )

    def load_session(self, session_id: str, idle_seconds: int) -> tuple[UserView, str] | None:
        return self.run(
            lambda s: sessions.load_session(
                s, session_id, now=self.now(), idle_seconds=idle_seconds
            )
        )

    def end_session(self, session_id: str) -> None:
        self.run(lambda s: sessions.end_session(s, session_id))

    # ------------------------------------------------------------------ decisions

    def get_decision(self, decision_id: int) -> dict[str, Any] | None:
        return self.run(lambda s: decisions.get_decision(s, decision_id))

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        *,
        kind: str,
        actor: str,
        purpose: str | None = None,
        subject: str | None = None,
        outcome: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        return self.run(
            lambda s: audit.append(
                s,
                kind=kind,
                actor=actor,
                purpose=purpose,
                subject=subject,
                outcome=outcome,
                details=details,
                now=self.now(),
            )
        )

    def search(self, **filters: Any) -> list[dict[str, Any]]:
        return self.run(lambda s: audit.search(s, **filters))

    def subject_report(self, subject_pseudonym: str) -> list[dict[str, Any]]:
        return self.run(lambda s: audit.subject_report(s, subject_pseudonym))

    def unusual_activity(self) -> list[dict[str, Any]]:
        return self.run(lambda s: audit.unusual_activity(s, now=self.now()))

    def verify(self) -> Any:
        return self.run(audit.verify)

    def raise_alert(
        self, *, kind: str, actor: str, details: dict[str, Any], window_seconds: int
    ) -> dict[str, Any] | None:
        """Store an alert (once per actor, kind and window); the alert, or None if known."""

        def work(session: Session) -> dict[str, Any] | None:
            alert_id = alerts.raise_alert(
                session,
                kind=kind,
                actor=actor,
                details=details,
                window_seconds=window_seconds,
                now=self.now(),
            )
            if alert_id is None:
                return None
            moment = (self.now() or datetime.now().astimezone()).isoformat()
            return {"id": alert_id, "kind": kind, "actor": actor, "time": moment, **details}

        return self.run(work)

    def alert_sent(self, alert_id: int, sent_to: str | None, error: str | None) -> None:
        self.run(lambda s: alerts.mark_sent(s, alert_id, sent_to=sent_to, error=error))

    def recent_alerts(self) -> list[dict[str, Any]]:
        return self.run(lambda s: alerts.recent_alerts(s, now=self.now()))

    def allow(self, key: str, limit: int, per_seconds: int) -> bool:
        return self.run_core(lambda c: store_allow(c, key, limit, per_seconds, now=self.now()))
