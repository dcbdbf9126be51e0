"""`entitle magda selftest`: the onboarding test calls, reported as CSV and Markdown."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from entitle.cli.options import DEFAULT_BENEFITS, BenefitsOption

__all__ = ["selftest_command"]


def selftest_command(
    environment: Annotated[
        Literal["test", "production"],
        typer.Option("--environment", help="The MAGDA environment the settings point at."),
    ],
    persons: Annotated[
        Path, typer.Option("--persons", help="Test persons: INSZ one per line (MAGDA's test set).")
    ],
    benefits: BenefitsOption = DEFAULT_BENEFITS,
    calls: Annotated[int, typer.Option("--calls", min=1, max=1000, help="Per service.")] = 50,
    out: Annotated[Path, typer.Option("--out", help="Folder for the report.")] = Path("."),
    config: Annotated[
        Path | None, typer.Option("--config", help="MAGDA settings file (else the environment).")
    ] = None,
) -> None:
    """Run the onboarding test calls for every service and capacity the benefits use."""
    from entitle.decide.selftest import run_selftest, selftest_targets, write_report
    from entitle.insz import InvalidInszError, parse_insz
    from entitle.rules.catalogue import default_catalogue
    from entitle.rules.folder import benefit_paths
    from entitle.rules.loader import RuleFileError, load_benefit
    from entitle.sources.magda import MagdaConfigError, load_settings

    def fail(message: str) -> typer.Exit:
        typer.echo(f"entitle magda selftest: {message}", err=True)
        return typer.Exit(2)

    try:
        lines = persons.read_text(encoding="utf-8").splitlines()
        people = [parse_insz(v).normalized for v in (x.split("#")[0].strip() for x in lines) if v]
    except OSError as exc:
        raise fail(f"--persons {persons}: {exc.strerror}") from None
    except InvalidInszError:
        raise fail(f"--persons {persons}: holds a number that is not a valid INSZ") from None
    files = benefit_paths(benefits)
    if not files:
        raise fail(f"--benefits {benefits}: no benefit files")
    try:
        catalogue = default_catalogue()
        loaded = [load_benefit(p, catalogue) for p in files]
        settings = load_settings(config)
        targets = selftest_targets(loaded, catalogue, settings)
        report = run_selftest(settings, targets, people, calls=calls, on=date.today())
    except (RuleFileError, MagdaConfigError, ValueError) as exc:
        raise fail(str(exc)) from None
    csv_path, md_path = write_report(
        report,
        out,
        environment=environment,
        endpoint=settings.base_url,
        sender=settings.sender,
        now=datetime.now(),
    )
    typer.echo(
        f"{len(report)} calls for {len(targets)} service(s) and capacity: {csv_path}, {md_path}"
    )
