"""``entitle registry advance``: move a synthetic city forward week by week."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["advance"]


def advance(
    data: Annotated[Path, typer.Option("--data", help="The synthetic city (DIR with meta.json).")],
    weeks: Annotated[int, typer.Option("--weeks", help="Number of weeks to move forward.")] = 1,
) -> None:
    """Move the city forward week by week (births, deaths, moves, statuses, assessments)."""
    from entitle.registry.advance import AdvanceError, WeekReport, advance_city

    out = Console(stderr=True, highlight=False)

    def show(report: WeekReport) -> None:
        changes = ", ".join(f"{kind} {n}" for kind, n in sorted(report.events.items())) or "none"
        out.print(
            f"week {report.week} (to {report.reference_date}): {changes}; "
            f"{report.registry_changes} registry changes, {report.notifications} notifications",
            markup=False,
            soft_wrap=True,
        )

    try:
        advance_city(data, weeks, show)
    except AdvanceError as exc:
        out.print(f"registry advance: {exc}", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
