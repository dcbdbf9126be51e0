"""`entitle demo`: the whole system on its embedded default, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entitle.cli.settings import env_help
from entitle.console import cli_console

console = cli_console()
errors = cli_console(stderr=True)


def demo(
    persons: Annotated[
        int | None,
        typer.Option(
            "--persons",
            help="Persons in the synthetic city (default: the municipality's; Ghent 270,000).",
            min=1,
        ),
    ] = None,
    municipality: Annotated[
        str | None,
        typer.Option(
            "--municipality",
            help=env_help(
                "Which municipality: ghent (default) or vlasbeke (fictional).", "municipality"
            ),
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The city's random seed.", min=0)] = 1,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Folder for everything: city, database, logs (default: <data dir>/demo).",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help="The web app's port (default: 8000, or any free port when it is taken).",
            min=1,
            max=65535,
        ),
    ] = None,
    benefits: Annotated[
        Path | None,
        typer.Option(
            "--benefits",
            help=env_help(
                "Folder of benefit files (default: ./benefits, else the checkout's).", "benefits"
            ),
        ),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the desk in a web browser when ready.")
    ] = False,
    examples: Annotated[
        bool,
        typer.Option(
            "--examples",
            help="Only show every benefit's test cases decided by both engines (no servers).",
        ),
    ] = False,
) -> None:
    """The whole system on its embedded default: synthetic city, registry simulator, accounts,
    web app, garbage-bag campaign; prints the URL, logins and INSZ to try. Ctrl-C stops every
    process it started."""
    from entitle.demo.examples import print_case_tables
    from entitle.demo.options import DemoOptions, default_benefits, default_data_dir
    from entitle.demo.run import run_demo
    from entitle.municipality import MunicipalityError, load_municipality

    if examples:
        try:
            folder = benefits or default_benefits(load_municipality(municipality))
        except MunicipalityError as exc:
            errors.print(f"demo: {exc}", style="red", markup=False, highlight=False)
            raise typer.Exit(2) from None
        raise typer.Exit(print_case_tables(folder, console, errors))
    options = DemoOptions(
        data=data if data is not None else default_data_dir(),
        municipality=municipality,
        benefits=benefits,
        persons=persons,
        seed=seed,
        port=port,
        open_browser=open_browser,
    )
    raise typer.Exit(run_demo(options, console, errors))
