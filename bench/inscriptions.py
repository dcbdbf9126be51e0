"""The KSZ inscription sync of the garbage-bag campaign on a generated city: persons inscribed,
calls, time; then the same sync again (nothing to do) and the run, which finds nobody missing.
While a sync runs, a line every `--every` seconds gives the persons done so far and the rate (a
run stopped early still gives a figure).

    .venv/bin/python bench/inscriptions.py [--persons 270000] [--concurrency 8] [--city DIR]

The simulator runs as a separate process requiring signed requests and inscriptions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from processes import REPO, start_simulator
from rich.console import Console

AS_OF = date(2026, 3, 1)  # the synthetic city's reference date
console = Console(highlight=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=270_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--city", type=Path, help="reuse a generated city")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between progress lines")
    args = parser.parse_args()

    from entitle.decide.campaign import CampaignContext
    from entitle.decide.campaign.definition import find_campaign
    from entitle.decide.campaign.inscriptions import inscription_gap, sync_campaign
    from entitle.store.db import make_engine, migrate, session_factory

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        city = args.city
        if city is None:
            from entitle.registry.synth import write_city

            city = folder / "city"
            started = time.perf_counter()
            write_city(args.persons, args.seed, city)
            seconds = time.perf_counter() - started
            console.print(f"city: {args.persons:,} persons in {seconds:.1f} s")
        process, url = start_simulator(city, folder, None, "--require-inscriptions")
        try:
            database = f"sqlite:///{folder / 'entitle.db'}"
            migrate(database)
            ctx = CampaignContext(
                factory=session_factory(make_engine(database)),
                register=city / "registry",
                state_dir=folder / "state",
                output_dir=folder / "out",
                registry=url,
                magda_overrides={
                    "default_capacity": "ENTITLE",
                    "sender": "gent.be/entitle",
                    "max_concurrency": args.concurrency,
                    "require_inscriptions": True,
                },
            )
            bags = find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")
            gap = inscription_gap(ctx, bags, AS_OF)
            console.print(f"before: {gap.not_inscribed:,} of {gap.persons:,} not inscribed")
            for label in ("first sync", "second sync"):
                started = time.perf_counter()
                progress = _Progress(started, args.every)
                result = sync_campaign(
                    ctx,
                    bags,
                    AS_OF,
                    today=AS_OF,
                    batch_size=args.batch_size,
                    on_progress=progress,
                )
                seconds = time.perf_counter() - started
                rate = result.calls / seconds if seconds else 0.0
                console.print(
                    f"{label}: {result.inscribed:,} inscribed, {result.kept:,} already, "
                    f"{result.calls:,} calls, {seconds:.1f} s ({rate:,.0f} calls/s), "
                    f"failed {dict(result.failed)}"
                )
            gap = inscription_gap(ctx, bags, AS_OF)
            console.print(f"after: {gap.not_inscribed:,} of {gap.persons:,} not inscribed")
        finally:
            process.terminate()
            process.wait()


class _Progress:
    """Prints persons done, seconds and persons/s at most every `every` seconds."""

    def __init__(self, started: float, every: float) -> None:
        self.started = started
        self.every = every
        self.done = 0
        self.shown = started

    def __call__(self, persons: int) -> None:
        self.done += persons
        now = time.perf_counter()
        if now - self.shown < self.every:
            return
        self.shown = now
        seconds = now - self.started
        rate = self.done / seconds
        console.print(f"  {self.done:,} persons, {seconds:.0f} s ({rate:,.0f}/s)", soft_wrap=True)


if __name__ == "__main__":
    main()
