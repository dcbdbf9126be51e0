"""The demo's synthetic city: generated once, reused while it stays the same."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

from entitle.demo.procs import DemoError


def ensure_city(
    city: Path,
    persons: int,
    seed: int,
    console: Console,
    municipality: str = "ghent",
    *,
    as_of: date,
) -> tuple[dict[str, Any], bool]:
    """The synthetic city of `municipality` in `city` as it stands on `as_of` (the desk's date):
    reused when its meta.json has these persons, seed and NIS code (and this generator version),
    the school year and income years of `as_of`, and every file is there, else generated for
    `as_of` with a progress bar. Returns (meta, reused)."""
    from entitle.registry.synth import (
        FILES,
        GENERATOR_VERSION,
        SynthError,
        check_arguments,
        read_meta,
    )
    from entitle.registry.synth_money import income_years
    from entitle.registry.synth_place import place_for
    from entitle.registry.synth_progress import write_city_shown
    from entitle.rules.periods import school_year

    try:
        place = place_for(municipality)
        check_arguments(persons, seed)
    except (SynthError, ValueError) as exc:
        raise DemoError(str(exc)) from None
    try:
        meta = read_meta(city)
    except SynthError:
        meta = None
    if (
        meta is not None
        and meta.get("persons") == persons
        and meta.get("seed") == seed
        and meta.get("municipality_nis") == place.nis
        and meta.get("version") == GENERATOR_VERSION
        and meta.get("school_year") == school_year(as_of)
        and meta.get("income_years") == list(income_years(as_of))
        and all((city / path).is_file() for path in FILES)
    ):
        return meta, True
    try:
        meta = write_city_shown(
            persons,
            seed,
            city,
            place,
            as_of,
            console=console,
            title=f"synthetic city ({place.name}): {persons:,} persons",
            prefix="synthetic city: ",
        )
    except SynthError as exc:
        raise DemoError(f"synthetic city: {exc}") from None
    except MemoryError:
        raise DemoError(f"synthetic city: out of memory for {persons:,} persons") from None
    return meta, False
