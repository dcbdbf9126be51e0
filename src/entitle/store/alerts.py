"""Security alerts for the auditors, kept in the database (`SecurityAlert`).

An alert is raised once per actor, kind and window: an officer who keeps trying after reaching a
curiosity limit adds refused attempts to the audit log, not more alerts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from entitle.store.models import SecurityAlert, utc


def raise_alert(
    session: Session,
    *,
    kind: str,
    actor: str,
    details: dict[str, Any],
    window_seconds: int,
    now: datetime | None = None,
) -> int | None:
    """Store an alert unless the same actor had one of this kind in the last `window_seconds`;
    returns the new alert's id, or None when it was already raised."""
    moment = utc(now)
    recent = session.scalar(
        select(SecurityAlert.id).where(
            SecurityAlert.actor == actor,
            SecurityAlert.kind == kind,
            SecurityAlert.time > moment - timedelta(seconds=window_seconds),
        )
    )
    if recent is not None:
        return None
    alert = SecurityAlert(time=moment, kind=kind, actor=actor, details=details)
    session.add(alert)
    session.flush()
    return int(alert.id)


def mark_sent(session: Session, alert_id: int, *, sent_to: str | None, error: str | None) -> None:
    """Note where an alert was delivered, or why it could not be."""
    session.execute(
        update(SecurityAlert)
        .where(SecurityAlert.id == alert_id)
        .values(sent_to=(sent_to or None) and sent_to[:200], send_error=error and error[:200])
    )


def recent_alerts(
    session: Session, *, now: datetime | None = None, days: int = 7, limit: int = 50
) -> list[dict[str, Any]]:
    """The alerts of the last `days` days, newest first, JSON-ready."""
    since = utc(now) - timedelta(days=days)
    rows = session.scalars(
        select(SecurityAlert)
        .where(SecurityAlert.time >= since)
        .order_by(SecurityAlert.time.desc(), SecurityAlert.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": row.id,
            "time": utc(row.time).isoformat(),
            "kind": row.kind,
            "actor": row.actor,
            "details": row.details,
            "sent_to": row.sent_to,
            "send_error": row.send_error,
        }
        for row in rows
    ]
