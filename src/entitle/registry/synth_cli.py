"""`entitle synth`: generate a synthetic municipality, or print the report of one.

``entitle synth`` loads this module when it is called (the product's command line does not import
the simulator up front).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from entitle.cli.settings import setting_option
from entitle.console import cli_console

DEFAULT_OUT = Path("synthetic-city")
DEFAULT_BENEFITS = Path("benefits/ghent")  # the same as entitle.registry.report.DEFAULT_BENEFITS


def synth(
    persons: Annotated[
        int | None,
        typer.Option(
            "--persons",
            help="Number of persons (default: the municipality's: Ghent 270,000, Vlasbeke 20,000).",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed gives identical files.")
    ] = 1,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder to write the city to (new, empty, or holding an older city)."
        ),
    ] = DEFAULT_OUT,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Print the plausibility report of the city in this folder (no generation).",
        ),
    ] = None,
    benefits: Annotated[
        Path,
        typer.Option(
            "--benefits",
            help="With --report: folder holding garbage-bags.yaml and school-tariff.yaml.",
        ),
    ] = DEFAULT_BENEFITS,
    municipality: Annotated[
        str,
        setting_option(
            "--municipality",
            "municipality",
            "Whose city: ghent or vlasbeke (its NIS code, postcodes and streets).",
        ),
    ] = "ghent",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help=(
                "The city's reference date (YYYY-MM-DD): ages, statuses, income years and the "
                "school year's enrolments as on that day (default: 2026-03-01)."
            ),
        ),
    ] = None,
) -> None:
    """Generate a synthetic municipality as Parquet: registry view, local data, ground truth."""
    from entitle.registry.synth import REFERENCE_DATE, SynthError, check_arguments, prepare_out
    from entitle.registry.synth_place import place_for
    from entitle.registry.synth_progress import write_city_shown

    errors = cli_console(stderr=True)
    if report is not None:
        from entitle.registry.report import print_report

        try:
            print_report(report, cli_console(), benefits)
        except SynthError as exc:
            errors.print(f"synth --report: {exc}", style="red", markup=False, highlight=False)
            raise typer.Exit(2) from None
        return

    try:  # fail before any work on bad arguments or an unusable folder
        place = place_for(municipality)
        if persons is None:
            persons = place.default_persons
        check_arguments(persons, seed)
        reference = _reference_date(as_of) if as_of is not None else REFERENCE_DATE
        prepare_out(out)
    except (SynthError, ValueError) as exc:
        errors.print(f"synth: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None

    start = time.perf_counter()
    try:
        meta = write_city_shown(
            persons,
            seed,
            out,
            place,
            reference,
            console=errors,
            title=f"synth {place.name}: {persons:,} persons",
        )
    except SynthError as exc:
        errors.print(f"synth: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except MemoryError:
        errors.print(
            f"synth: out of memory for {persons:,} persons",
            style="red",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(1) from None
    elapsed = time.perf_counter() - start
    errors.print(
        f"{place.name}: {meta['persons']:,} persons in {meta['households']:,} households "
        f"({meta['registry_households']:,} in the registry view), seed {seed}, as of "
        f"{meta['reference_date']} (school year {meta['school_year']}), "
        f"written to {out} in {elapsed:.1f} s. Report: entitle synth --report {out}",
        highlight=False,
    )


def _reference_date(text: str) -> date:
    """The --as-of date; SynthError when it is not one."""
    from entitle.registry.synth import SynthError

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SynthError(f"--as-of must be a date such as 2026-12-03, got {text!r}") from None
