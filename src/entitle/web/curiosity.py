"""Curiosity limits: how many desk checks one officer may make per minute, hour and day.

A check past a limit is refused, the refusal is audited (kind ``check_refused``), and the first
refusal in a window raises an alert for the auditors: stored, shown on their start page, and sent
to the configured webhook or mail address (`entitle.web.alerting`).
"""

from __future__ import annotations

from fastapi import Request

from entitle.web.alerting import deliver
from entitle.web.auth import Officer, web_state

WINDOWS = (("minute", 60), ("hour", 3600), ("day", 86400))


def limits(request: Request) -> dict[str, int]:
    settings = web_state(request).settings
    return {
        "minute": settings.checks_per_minute,
        "hour": settings.checks_per_hour,
        "day": settings.checks_per_day,
    }


def refused_window(
    request: Request, officer: Officer, benefit: str, subject: str
) -> tuple[str, int] | None:
    """None when the officer may check now; else the window and limit that refuse it (the
    refusal audited with the `subject` pseudonym, an alert raised and sent)."""
    state = web_state(request)
    allowed = limits(request)
    for window, seconds in WINDOWS:
        limit = allowed[window]
        if state.backend.allow(f"desk-check:{officer.user.id}:{window}", limit, seconds):
            continue
        state.backend.audit(
            kind="check_refused",
            actor=officer.username,
            subject=subject,
            outcome=f"limit_{window}",
            details={"benefit": benefit, "window": window, "limit": limit},
        )
        alert = state.backend.raise_alert(
            kind="rate_limit",
            actor=officer.username,
            details={"window": window, "limit": limit},
            window_seconds=seconds,
        )
        if alert is not None and (state.settings.alert_webhook or state.settings.alert_mail):
            sent_to, error = deliver(state.settings, alert)
            state.backend.alert_sent(int(alert["id"]), sent_to, error)
        return window, limit
    return None
