"""The onboarding self-test MAGDA asks before it opens a connection: test calls for every service
and capacity the installation's benefits use, against the configured endpoint, reported per call
(service, version, capacity, reference, HTTP status, MAGDA outcome, time) as CSV and Markdown.

The services of a benefit are those of the MAGDA facts its rules read (the fact catalogue), plus
the household composition for household benefits, plus ``RegistreerInschrijving`` when the
settings require inscriptions. Each call is one request of one question, on a test person
(cycling through the persons given), sent signed like every request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from entitle.rules.catalogue import Catalogue
from entitle.rules.model import Benefit
from entitle.rules.plan import plan_benefit
from entitle.sources.magda import (
    STATUS_FACTS,
    AanslagbiljetCriteria,
    Criteria,
    DossierHandicapCriteria,
    ExchangeRecord,
    GezinssamenstellingCriteria,
    HistoriekGezinssamenstellingCriteria,
    HistoriekInschrijvingCriteria,
    LeefloonbedragenCriteria,
    MagdaClient,
    MagdaSettings,
    PersoonCriteria,
    SociaalStatuutCriteria,
)
from entitle.sources.magda.repertorium import inscription_criteria

__all__ = ["SelftestCall", "SelftestTarget", "run_selftest", "selftest_targets", "write_report"]

INSCRIPTION = "RegistreerInschrijving"


@dataclass(frozen=True)
class SelftestTarget:
    """One service to test for one purpose (and so one capacity)."""

    purpose: str
    capacity: str
    service: str
    facts: tuple[str, ...]


@dataclass(frozen=True)
class SelftestCall:
    """One test call as reported to the MAGDA team."""

    service: str
    version: str
    capacity: str
    purpose: str
    reference: str
    http_status: int | None
    outcome: str
    milliseconds: float


def selftest_targets(
    benefits: Iterable[Benefit], catalogue: Catalogue, settings: MagdaSettings
) -> list[SelftestTarget]:
    """Every (purpose, capacity, service) the benefits use; `MagdaConfigError` when a purpose
    has no capacity configured."""
    found: dict[tuple[str, str], set[str]] = {}
    for benefit in benefits:
        plan = plan_benefit(benefit, catalogue)
        for fact in plan.facts.values():
            if fact.source.get("kind") == "magda":
                found.setdefault((benefit.purpose, fact.source["service"]), set()).add(fact.name)
        if benefit.subject == "household":
            found.setdefault((benefit.purpose, "GeefGezinssamenstelling"), set())
        if settings.require_inscriptions:
            found.setdefault((benefit.purpose, INSCRIPTION), set())
    return [
        SelftestTarget(purpose, settings.capacity(purpose), service, tuple(sorted(facts)))
        for (purpose, service), facts in sorted(found.items())
    ]


def _question(target: SelftestTarget, insz: str, on: date, settings: MagdaSettings) -> Criteria:
    factories: dict[str, Callable[[], Criteria]] = {
        "GeefPersoon": lambda: PersoonCriteria(insz),
        "GeefGezinssamenstelling": lambda: GezinssamenstellingCriteria(insz),
        "GeefHistoriekGezinssamenstelling": lambda: HistoriekGezinssamenstellingCriteria(
            insz, on=on
        ),
        "GeefSociaalStatuut": lambda: SociaalStatuutCriteria(
            insz,
            statuses=tuple(sorted({STATUS_FACTS[f] for f in target.facts if f in STATUS_FACTS}))
            or ("BIM_BVT",),
            on=on,
        ),
        "GeefAanslagbiljetPersonenbelasting": lambda: AanslagbiljetCriteria(
            insz, income_year=on.year - 2
        ),
        "GeefDossierHandicap": lambda: DossierHandicapCriteria(insz, reference_date=on),
        "GeefLeefloonbedragen": lambda: LeefloonbedragenCriteria(insz, year=on.year),
        "GeefHistoriekInschrijving": lambda: HistoriekInschrijvingCriteria(
            insz, start=date(on.year, 1, 1), end=on
        ),
        INSCRIPTION: lambda: inscription_criteria(
            settings.inscription_version,
            insz,
            consumer=settings.sender,
            capacity=target.capacity,
            start=on,
            end=on,
        ),
    }
    return factories[target.service]()


def run_selftest(
    settings: MagdaSettings,
    targets: Sequence[SelftestTarget],
    persons: Sequence[str],
    *,
    calls: int,
    on: date,
    on_call: Callable[[SelftestCall], None] | None = None,
) -> list[SelftestCall]:
    """``calls`` test calls per target, one question each, every exchange reported."""
    if not persons:
        raise ValueError("the self-test needs at least one test person (INSZ)")
    report: list[SelftestCall] = []
    exchanges: list[ExchangeRecord] = []
    single = settings.model_copy(update={"max_questions": 1})
    with MagdaClient(single, audit=exchanges.append) as client:
        for target in targets:
            for number in range(calls):
                question = _question(target, persons[number % len(persons)], on, settings)
                exchanges.clear()
                client.ask([question], purpose=target.purpose)
                for exchange in exchanges:
                    call = SelftestCall(
                        service=question.service.qualified,
                        version=question.service.version,
                        capacity=exchange.capacity,
                        purpose=exchange.purpose,
                        reference=exchange.request_referte,
                        http_status=exchange.http_status,
                        outcome=exchange.outcome,
                        milliseconds=round(exchange.elapsed * 1000, 1),
                    )
                    report.append(call)
                    if on_call is not None:
                        on_call(call)
    return report


_COLUMNS = (
    "service",
    "version",
    "capacity",
    "purpose",
    "reference",
    "http_status",
    "outcome",
    "milliseconds",
)


def _row(call: SelftestCall) -> list[str]:
    return [
        call.service,
        call.version,
        call.capacity,
        call.purpose,
        call.reference,
        "" if call.http_status is None else str(call.http_status),
        call.outcome,
        f"{call.milliseconds:.1f}",
    ]


def write_report(
    calls: Sequence[SelftestCall],
    folder: Path,
    *,
    environment: str,
    endpoint: str,
    sender: str,
    now: datetime,
) -> tuple[Path, Path]:
    """``selftest-<environment>.csv`` and ``.md`` in ``folder``: every call, then a summary per
    service and capacity. No personal data: references are MAGDA request references."""
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_COLUMNS)
    writer.writerows(_row(c) for c in calls)
    csv_path = folder / f"selftest-{environment}.csv"
    csv_path.write_text(buffer.getvalue(), encoding="utf-8")

    summary: dict[tuple[str, str, str], dict[str, int]] = {}
    for call in calls:
        outcomes = summary.setdefault((call.service, call.version, call.capacity), {})
        outcomes[call.outcome] = outcomes.get(call.outcome, 0) + 1
    lines = [
        f"# MAGDA onboarding self-test — {environment}",
        "",
        f"- sender (Afzender/Identificatie): `{sender}`",
        f"- endpoint: `{endpoint}`",
        f"- run at: {now.isoformat(timespec='seconds')}",
        f"- calls: {len(calls)}",
        "",
        "## Per service and capacity",
        "",
        "| service | version | capacity | calls | outcomes |",
        "|---|---|---|---:|---|",
    ]
    for (service, version, capacity), outcomes in sorted(summary.items()):
        text = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        lines.append(f"| {service} | {version} | {capacity} | {sum(outcomes.values())} | {text} |")
    lines += ["", "## Every call", "", "| " + " | ".join(_COLUMNS) + " |"]
    lines.append("|" + "---|" * len(_COLUMNS))
    lines += ["| " + " | ".join(_row(c)) + " |" for c in calls]
    md_path = folder / f"selftest-{environment}.md"
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return csv_path, md_path
