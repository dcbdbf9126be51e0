"""Auditor pages: search the audit log, a citizen's access report, unusual-activity alerts.

Only auditors see them (a desk officer gets 403). An INSZ never travels in a URL: searches by
person are POSTed, and the store is asked by pseudonym. Making an access report is itself logged
(kind ``export``).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from entitle.decide.audit_log import KIND_ORDER
from entitle.decide.desk import OVERRIDE_REASONS
from entitle.decide.subject_activity import (
    campaign_entries,
    in_time_order,
    registry_accesses,
    subject_pseudonyms,
)
from entitle.insz import parse_insz
from entitle.rules.catalogue import default_catalogue
from entitle.rules.logic import OUTCOMES
from entitle.web import inszcheck
from entitle.web.auth import Officer, PageError, csrf_officer, require_auditor, web_state
from entitle.web.desk import HOUSEHOLD_MEMBERS, household_members_text
from entitle.web.forms import FormText
from entitle.web.i18n import Translator
from entitle.web.views import render, translator
from entitle.web.visibility import Caller, visible_decision

router = APIRouter(include_in_schema=False)

KINDS = KIND_ORDER  # the auditor's filter offers every kind the store writes
PAGE = 200


def _as_auditor(officer: Officer) -> Officer:
    if not officer.can_audit():
        raise PageError(403, "error.forbidden")
    return officer


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 30)


def _day(value: str, end: bool = False) -> datetime | None:
    """A search bound from a form date (ValueError outside 2000-01-01 … 2999-12-30)."""
    if not value:
        return None
    day = date.fromisoformat(value)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"date {value} out of range")
    if end:
        return datetime.combine(day + timedelta(days=1), time.min)
    return datetime.combine(day, time.min)


def _details(entry: dict[str, Any]) -> str:
    """The details as stored (the CSV download keeps them exact)."""
    details = entry.get("details")
    if not details:
        return ""
    if isinstance(details, dict):
        return ", ".join(f"{k}={v}" for k, v in details.items())
    return json.dumps(details, ensure_ascii=False)


class AuditWords:
    """An audit entry in the reader's language: kind, outcome and details in words (an unknown
    key is shown as stored)."""

    def __init__(self, t: Translator) -> None:
        self.t = t
        self.catalogue = default_catalogue()

    def _word(self, prefix: str, key: str) -> str:
        full = f"{prefix}.{key}"
        text = self.t(full)
        return key if text == full else text

    def kind(self, entry: dict[str, Any]) -> str:
        return self._word("audit.kind", str(entry.get("kind") or ""))

    def outcome(self, entry: dict[str, Any]) -> str:
        outcome = entry.get("outcome")
        if not outcome:
            return ""
        stored = entry.get("details")
        details: dict[str, Any] = stored if isinstance(stored, dict) else {}
        if details.get("overridden") and details.get("effective_outcome"):
            return self.t(
                "audit.outcome.overridden",
                effective=self._word("audit.outcome", str(details["effective_outcome"])),
                computed=self._word("audit.outcome", str(outcome)),
            )
        return self._word("audit.outcome", str(outcome))

    def _value(self, key: str, value: Any) -> str:
        if isinstance(value, bool):
            return self.t("audit.yes") if value else self.t("audit.no")
        if key in ("effective_outcome", "outcome") and value in OUTCOMES:
            return self._word("audit.outcome", str(value))
        if key == "reason" and value in OVERRIDE_REASONS:
            return self.t(f"override.reason.{value}")
        if key == "letter_kind":
            return self._word("audit.letter_kind", str(value))
        if key == "kind":
            return self._word("audit.kind", str(value))
        if key == "report" and value == "subject_access":
            return self.t("audit.kind.subject_report")
        if key == "change":
            return self._word("campaign.change", str(value))
        if key == "facts":
            return ", ".join(self.fact(name) for name in str(value).split(", ") if name)
        return str(value)

    def fact(self, name: str) -> str:
        """A fact by its description (the name only when the catalogue has none)."""
        if name == HOUSEHOLD_MEMBERS:
            return self.t.text(household_members_text())
        spec = self.catalogue.get(name)
        return self.t.text(spec.description) if spec is not None and spec.description else name

    def details(self, entry: dict[str, Any]) -> str:
        details = entry.get("details")
        if not details:
            return ""
        if not isinstance(details, dict):
            return json.dumps(details, ensure_ascii=False)
        return "; ".join(
            f"{self._word('audit.detail', k)}: {self._value(k, v)}" for k, v in details.items()
        )


def _audit_page(
    request: Request,
    entries: list[dict[str, Any]],
    filters: dict[str, str],
    error: str | None = None,
    status: int = 200,
) -> Response:
    state = web_state(request)
    report = state.backend.verify()
    return render(
        request,
        "audit.html",
        {
            "entries": entries,
            "filters": filters,
            "kinds": KINDS,
            "error": error,
            "verify": report,
            "details": _details,
            "security_alerts": state.backend.recent_alerts(),
            "words": AuditWords(translator(request)),
        },
        status=status,
    )


@router.get("/audit")
def audit_page(request: Request, officer: Annotated[Officer, Depends(require_auditor)]) -> Response:
    entries = web_state(request).backend.search(limit=50)
    return _audit_page(request, entries, {})


@router.post("/audit")
def audit_search(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    actor: FormText = "",
    insz: FormText = "",
    kind: FormText = "",
    since: FormText = "",
    until: FormText = "",
) -> Response:
    _as_auditor(officer)
    state = web_state(request)
    t = translator(request)
    filters = {"actor": actor, "insz": insz, "kind": kind, "since": since, "until": until}
    query: dict[str, Any] = {"limit": PAGE}
    if actor.strip():
        query["actor"] = actor.strip()
    if kind in KINDS:
        query["kind"] = kind
    if insz.strip():
        invalid = inszcheck.invalid_message(insz, t)
        if invalid is not None:
            return _audit_page(request, [], filters, invalid, 422)
        query["subject"] = state.desk.pseudonym(insz)
    try:
        query["since"] = _day(since)
        query["until"] = _day(until, end=True)
    except ValueError:
        return _audit_page(request, [], filters, t("audit.bad_date"), 422)
    entries = state.backend.search(**query)
    searched = {k: v for k, v in query.items() if k not in ("subject", "limit") and v is not None}
    state.backend.audit(
        kind="audit_search",
        actor=officer.username,
        subject=query.get("subject"),
        details={
            **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in searched.items()},
            "by_subject": "subject" in query,
            "results": len(entries),
        },
    )
    return _audit_page(request, entries, filters)


@router.get("/audit/subject")
def subject_form(
    request: Request, officer: Annotated[Officer, Depends(require_auditor)]
) -> Response:
    return render(request, "subject.html", {"entries": None, "insz": "", "error": None})


def register_extract(request: Request) -> Path | None:
    """The campaigns' register extract (households of persons), when campaigns are set up."""
    setup = getattr(request.app.state, "campaigns", None)
    return setup.context.register if setup is not None else None


def _report(
    request: Request, officer: Officer, insz: str, fmt: str
) -> list[dict[str, Any]] | Response:
    """The person's access report (its making audited), or the form again for an invalid number."""
    _as_auditor(officer)
    state = web_state(request)
    invalid = inszcheck.invalid_message(insz, translator(request))
    if invalid is not None:
        return render(
            request, "subject.html", {"entries": None, "insz": insz, "error": invalid}, status=422
        )
    number = parse_insz(insz).normalized
    who = subject_pseudonyms(number, state.desk.registries.pseudonymise, register_extract(request))
    pseudonym = who.person
    logged = [e for p in who.all for e in state.backend.subject_report(p)]
    caller = Caller.user(officer.username, officer.role)
    for entry in logged:  # the decisions as an auditor may see them (protected hidden)
        if isinstance(entry.get("decision"), dict):
            found = entry["decision"]
            benefit = state.desk.benefit(str(found.get("benefit", "")))
            entry["decision"] = visible_decision(caller, found, benefit, state.desk.catalogue)
    campaigns = state.backend.run(lambda s: campaign_entries(s, who))
    log_path = getattr(state.desk.registries.log, "path", None)
    entries = in_time_order(logged, campaigns, registry_accesses(log_path, who))
    state.backend.audit(
        kind="subject_report" if fmt == "html" else "export",
        actor=officer.username,
        subject=pseudonym,
        details={"report": "subject_access", "format": fmt, "entries": len(entries)},
    )
    return entries


@router.post("/audit/subject")
def subject_report(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: FormText = "",
) -> Response:
    entries = _report(request, officer, insz, "html")
    if isinstance(entries, Response):
        return entries
    return render(
        request,
        "subject.html",
        {
            "entries": entries,
            "insz": parse_insz(insz).formatted,
            "error": None,
            "words": AuditWords(translator(request)),
        },
    )


@router.post("/audit/subject.csv")
def subject_report_csv(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: FormText = "",
) -> Response:
    entries = _report(request, officer, insz, "csv")
    if isinstance(entries, Response):
        return entries
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ["time", "kind", "actor", "purpose", "outcome", "details"]
    writer.writerow(columns)
    for entry in entries:
        writer.writerow([*(entry.get(c, "") for c in columns[:-1]), _details(entry)])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="inzageverslag.csv"'},
    )


@router.get("/audit/alerts")
def alerts(request: Request, officer: Annotated[Officer, Depends(require_auditor)]) -> Response:
    state = web_state(request)
    found = state.backend.unusual_activity()
    columns: list[str] = []
    for alert in found:
        for key in alert:
            if key not in columns:
                columns.append(key)
    return render(request, "alerts.html", {"alerts": found, "columns": columns})
