"""Deciding chunks in worker processes (a campaign run's `workers` option).

Most of a run's time is spent building and reading MAGDA messages, which holds Python's global
lock: one process keeps one core busy. Workers decide chunks in parallel, each with its own
gateway; the parent process alone writes to the database (each chunk with its checkpoint, as
chunks come back, in any order) and draws the progress bars from the workers' fetch events.

A worker exits by itself when its parent dies (a killed run leaves nothing behind).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

ChunkTask = tuple[int, list[str], pl.DataFrame, pl.DataFrame]
ChunkDone = tuple[int, list[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to rebuild the campaign and its fact source (picklable)."""

    campaign_path: str
    benefits_dir: str
    as_of: date
    registry: str | None
    local: str | None
    magda_overrides: dict[str, Any]
    state_dir: str


_state: dict[str, Any] = {}


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(0.5)


def _init(spec: WorkerSpec, events: Any, parent: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    from entitle.decide.campaign.context import CampaignContext
    from entitle.decide.campaign.definition import load_campaign

    campaign = load_campaign(Path(spec.campaign_path), Path(spec.benefits_dir))
    context = CampaignContext(
        factory=None,  # type: ignore[arg-type]  # workers never touch the database
        register=Path("."),
        state_dir=Path(spec.state_dir),
        output_dir=Path("."),
        registry=spec.registry,
        local=spec.local,
        magda_overrides=dict(spec.magda_overrides),
    )
    _state.update(
        campaign=campaign,
        source=context.fact_source(),
        pseudonymise=context.pseudonymiser(),
        events=events,
        as_of=spec.as_of,
    )


def _decide(task: ChunkTask) -> ChunkDone:
    from entitle.decide.campaign.evaluate import decide_chunk_rows

    number, subjects, persons, households = task
    events = _state["events"]

    def on_fetch(stage: int, entities: int) -> None:
        events.put((number, stage, entities))

    rows, stats = decide_chunk_rows(
        _state["campaign"],
        _state["as_of"],
        subjects,
        persons,
        households,
        _state["source"],
        _state["pseudonymise"],
        on_fetch,
    )
    return number, rows, stats


def decide_in_workers(
    spec: WorkerSpec,
    tasks: Iterator[ChunkTask],
    workers: int,
    on_fetch: Callable[[int, int, int], None],
) -> Iterator[ChunkDone]:
    """Decide chunks in `workers` processes; yields each as it is done (in any order). At most
    two chunks per worker are queued, so memory stays flat and a stop loses little work."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    pending: set[Future[ChunkDone]] = set()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init,
        initargs=(spec, events, os.getpid()),
    ) as pool:

        def drain() -> None:
            while True:
                try:
                    number, stage, entities = events.get_nowait()
                except queue.Empty:
                    return
                on_fetch(number, stage, entities)

        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers:
                try:
                    task = next(tasks)
                except StopIteration:
                    exhausted = True
                    break
                pending.add(pool.submit(_decide, task))
            if not pending:
                break
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            for future in done:
                pending.discard(future)
                yield future.result()
        drain()


def chunk_tasks(
    numbers: Sequence[int], chunk: Callable[[int], tuple[Any, Any, Any]]
) -> Iterator[ChunkTask]:
    for number in numbers:
        subjects, persons, households = chunk(number)
        yield number, subjects, persons, households
