"""The audit log and what watches it: entries appended and searched, a subject's access report,
the chain verified, the stored decisions the entries name, rate limits and security alerts — each
operation in its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from entitle.store import alerts, audit, decisions
from entitle.store.audit import KIND_ORDER
from entitle.store.ratelimit import allow
from entitle.store.transactions import Transactions

__all__ = ["KIND_ORDER", "AuditLog"]


class AuditLog(Transactions):
    """The audit log of one database, its alerts and rate limits."""

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
        """Append an entry (`kind`: one of `KIND_ORDER`); its id."""
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
        """The entries matching `filters` (`entitle.store.audit.search`'s), newest first."""
        return self.run(lambda s: audit.search(s, **filters))

    def subject_report(self, subject_pseudonym: str) -> list[dict[str, Any]]:
        return self.run(lambda s: audit.subject_report(s, subject_pseudonym))

    def unusual_activity(self) -> list[dict[str, Any]]:
        return self.run(lambda s: audit.unusual_activity(s, now=self.now()))

    def verify(self) -> Any:
        """The chain's verification report."""
        return self.run(audit.verify)

    def get_decision(self, decision_id: int) -> dict[str, Any] | None:
        """A stored decision, as an audit entry names it (None: no such decision)."""
        return self.run(lambda s: decisions.get_decision(s, decision_id))

    # ------------------------------------------------------------------ watching

    def allow(self, key: str, limit: int, per_seconds: int) -> bool:
        """Whether one more action under `key` stays within `limit` per `per_seconds` (counted)."""
        return self.run_core(lambda c: allow(c, key, limit, per_seconds, now=self.now()))

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
