"""Delivering security alerts: a JSON POST to a webhook, or a mail, as configured.

`ENTITLE_ALERT_WEBHOOK` gets ``{"id", "kind", "actor", "time", "details"}`` as JSON;
`ENTITLE_ALERT_MAIL` gets the same as a plain-text mail through `ENTITLE_SMTP_HOST`. Delivery is
tried once, with a short timeout; the alert is stored first either way (the auditors' start page
shows it), and where it went or why it failed is noted beside it. No alert holds an INSZ or a
value read from a registry.
"""

from __future__ import annotations

import json
import logging
import smtplib
from email.message import EmailMessage
from typing import Any

import httpx

from entitle.web.settings import Settings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0


def deliver(settings: Settings, alert: dict[str, Any]) -> tuple[str | None, str | None]:
    """Send `alert` to the configured webhook and mail address: (where it went, what failed)."""
    sent: list[str] = []
    failed: list[str] = []
    if settings.alert_webhook:
        try:
            response = httpx.post(settings.alert_webhook, json=alert, timeout=TIMEOUT_SECONDS)
            response.raise_for_status()
            sent.append("webhook")
        except httpx.HTTPError as exc:
            failed.append(f"webhook: {type(exc).__name__}")
    if settings.alert_mail:
        try:
            _mail(settings, alert)
            sent.append(f"mail {settings.alert_mail}")
        except (OSError, smtplib.SMTPException) as exc:
            failed.append(f"mail: {type(exc).__name__}")
    if failed:
        log.warning("security alert %s not delivered: %s", alert.get("id"), "; ".join(failed))
    return ", ".join(sent) or None, "; ".join(failed) or None


def _mail(settings: Settings, alert: dict[str, Any]) -> None:
    assert settings.alert_mail is not None
    host, _, port = settings.smtp_host.partition(":")
    message = EmailMessage()
    message["Subject"] = f"Entitle security alert: {alert['kind']} by {alert['actor']}"
    message["From"] = "entitle@localhost"
    message["To"] = settings.alert_mail
    message.set_content(json.dumps(alert, ensure_ascii=False, indent=2))
    with smtplib.SMTP(host, int(port or 25), timeout=TIMEOUT_SECONDS) as smtp:
        smtp.send_message(message)
