"""The store as the web application uses it: one short transaction per operation.

Everything here goes through `entitle.store` (see ``docs/desk-contract.md``); the web layer holds
no state of its own, so several workers can serve the same database.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from entitle.rules.decision import Decision
from entitle.store import alerts, audit, db, decisions, sessions, throttle, users
from entitle.store.decisions import OverrideView
from entitle.store.ratelimit import allow as store_allow
from entitle.store.users import AuthError, TokenView, UserView

__all__ = ["AuthError", "Backend", "OverrideView", "TokenView", "UserView"]

R = TypeVar("R")


def _token_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Backend:
    """The store's operations, each in its own transaction (committed on success).

    On SQLite every transaction takes the database's write lock (``BEGIN IMMEDIATE``); the
    threads and worker processes queue for it on `db.WriterLock` instead of in SQLite's busy
    handler, which sleeps in steps of up to 100 ms. API tokens are cached for `token_ttl`
    seconds (a revoked token keeps working that long in a worker that saw it; 0 turns the cache
    off).
    """

    def __init__(
        self,
        url: str | None,
        *,
        migrate: bool = True,
        clock: Callable[[], datetime] | None = None,
        token_ttl: float = 10.0,
    ) -> None:
        self.url = url or db.database_url()
        self.clock = clock
        if migrate:
            db.migrate(self.url)
        self.engine = db.make_engine(self.url)
        self.factory: sessionmaker[Session] = db.session_factory(self.engine)
        self._writer = db.writer_lock(self.url)
        self._serial: AbstractContextManager[Any] = self._writer or nullcontext()
        self.token_ttl = token_ttl
        self._tokens: dict[str, tuple[float, TokenView | None]] = {}

    def now(self) -> datetime | None:
        """The time given to the store: the fixed clock's (tests), else None (the store's)."""
        return self.clock() if self.clock is not None else None

    def run(self, work: Callable[[Session], R]) -> R:
        with self._serial, self.factory() as session:
            try:
                result = work(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return result

    def run_core(self, work: Callable[[Connection], R]) -> R:
        """Like `run`, on a plain connection (Core statements, no ORM session): the hot path."""
        with self._serial, self.engine.begin() as connection:
            return work(connection)

    def close(self) -> None:
        self.engine.dispose()
        if self._writer is not None:
            self._writer.close()

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

    def save_decision(
        self,
        decision: Decision,
        *,
        actor: str,
        purpose: str,
        subject_pseudonym: str,
        reasons: dict[str, str],
    ) -> int:
        return self.run(
            lambda s: decisions.save_decision(
                s,
                decision,
                actor=actor,
                purpose=purpose,
                subject_pseudonym=subject_pseudonym,
                reasons=reasons,
                now=self.now(),
            )
        )

    def record_check(
        self,
        decision: Decision,
        *,
        kind: str,
        actor: str,
        purpose: str,
        subject_pseudonym: str,
        reasons: dict[str, str],
        details: dict[str, Any],
    ) -> tuple[int, OverrideView | None]:
        """Find the override in force, save the decision and append its audit entry, in one
        transaction; returns the decision id and the override."""

        def work(session: Connection) -> tuple[int, OverrideView | None]:
            override = decisions.active_override(
                session, decision.benefit, subject_pseudonym, decision.as_of
            )
            values = decisions.decision_values(
                decision,
                actor=actor,
                purpose=purpose,
                subject_pseudonym=subject_pseudonym,
                reasons=reasons,
                now=self.now(),
            )
            decision_id = decisions.insert_decision(session, values)
            effective = override.outcome if override is not None else str(decision.outcome)
            audit.append(
                session,
                kind=kind,
                actor=actor,
                purpose=purpose,
                subject=subject_pseudonym,
                outcome=str(decision.outcome),
                details={
                    **details,
                    "decision": decision_id,
                    "decision_sha256": decisions.record_digest(values, decisions.DECISION_FIELDS),
                    "overridden": override is not None,
                    "effective_outcome": effective,
                },
                now=self.now(),
            )
            return int(decision_id), override

        return self.run_core(work)

    def get_decision(self, decision_id: int) -> dict[str, Any] | None:
        return self.run(lambda s: decisions.get_decision(s, decision_id))

    def add_override(
        self,
        *,
        benefit: str,
        subject_pseudonym: str,
        outcome: str,
        reason: str,
        note: str,
        valid_until: date,
        actor: str,
        purpose: str,
        details: dict[str, Any],
        decision_id: int | None = None,
    ) -> OverrideView:
        """Record an override of decision `decision_id` and its audit entry, in one transaction
        (`OverrideTargetError` when that decision is of another benefit or subject)."""

        def work(session: Session) -> OverrideView:
            view = decisions.add_override(
                session,
                benefit=benefit,
                subject_pseudonym=subject_pseudonym,
                outcome=outcome,
                reason=reason,
                note=note,
                valid_until=valid_until,
                actor=actor,
                now=self.now(),
                decision_id=decision_id,
            )
            audit.append(
                session,
                kind="override",
                actor=actor,
                purpose=purpose,
                subject=subject_pseudonym,
                outcome=outcome,
                details={
                    **details,
                    "benefit": benefit,
                    "reason": reason,
                    "valid_until": valid_until.isoformat(),
                    "override": view.id,
                    "override_sha256": view.digest,
                    **({"decision": decision_id} if decision_id is not None else {}),
                },
                now=self.now(),
            )
            return view

        return self.run(work)

    def active_override(
        self, benefit: str, subject_pseudonym: str, on: date
    ) -> OverrideView | None:
        return self.run(lambda s: decisions.active_override(s, benefit, subject_pseudonym, on))

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
