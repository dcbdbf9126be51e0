"""Options shared by several command groups, and the values they name."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from entitle.cli.settings import env_help, from_settings
from entitle.console import cli_console

if TYPE_CHECKING:
    from entitle.rules.model import Benefit

errors = cli_console(stderr=True)

BenefitsOption = Annotated[
    Path,
    typer.Option(
        "--benefits",
        callback=from_settings("benefits"),
        help=env_help("Folder of benefit files.", "benefits"),
    ),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Decision date YYYY-MM-DD (default: today).")
]


def as_of_or_today(value: str | None) -> date:
    """The `--as-of` date, today when not given; exit 2 when it is not a date."""
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.print(
            f"--as-of: {value!r} is not a date (YYYY-MM-DD)",
            style="red",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2) from None


def load_named_benefit(name: str, benefits: Path) -> Benefit:
    """A benefit from a file path or an id such as ghent.uitpas; exit 2 when there is none."""
    from entitle.rules.folder import BenefitFolderError, find_benefit_file
    from entitle.rules.loader import RuleFileError, load_benefit

    try:
        path = find_benefit_file(name, benefits)
    except BenefitFolderError as exc:
        errors.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    try:
        return load_benefit(path)
    except RuleFileError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None
