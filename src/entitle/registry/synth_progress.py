"""A synthetic city written with a progress bar: `entitle synth` and the demo show the same one."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from entitle.registry.synth import TOTAL_STEPS, write_city
from entitle.registry.synth_place import Place


def write_city_shown(
    persons: int,
    seed: int,
    out: Path,
    place: Place,
    reference: date,
    *,
    console: Console,
    title: str,
    prefix: str = "",
) -> dict[str, Any]:
    """`write_city` with a progress bar on `console`: the task shows `title`, then `prefix` and
    the name of each step, then `prefix` and "done". Returns the contents of meta.json."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(title, total=TOTAL_STEPS)
        steps = 0

        def on_step(name: str) -> None:
            nonlocal steps
            if steps:
                progress.advance(task)
            steps += 1
            progress.update(task, description=f"{prefix}{name}")

        meta = write_city(persons, seed, out, on_step, place, reference)
        progress.update(task, completed=TOTAL_STEPS, description=f"{prefix}done")
    return meta
