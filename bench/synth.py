"""Time and peak memory of the synthetic city: a Ghent-sized city and Flanders.

    .venv/bin/python bench/synth.py                      # 270,000 and 6,800,000 persons
    .venv/bin/python bench/synth.py --persons 1000000    # one size
    .venv/bin/python bench/synth.py --keep DIR           # keep the generated cities under DIR

Each size runs in its own spawned child process, so the peak resident set size
(`resource.getrusage(RUSAGE_SELF).ru_maxrss` in the child) is the generator's own. The child
writes the full city (all Parquet files and meta.json) to a temporary folder; the time is the wall
time of `write_city`, the report's time is measured separately.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

GHENT = 270_000
FLANDERS = 6_800_000
console = Console(width=120)


def _child(persons: int, seed: int, out: str, report: bool, queue: Any) -> None:
    from entitle.registry.synth import write_city

    start = time.perf_counter()
    meta = write_city(persons, seed, out)
    elapsed = time.perf_counter() - start
    peak_write = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report_s = None
    if report:
        from entitle.registry.report import summarize

        start = time.perf_counter()
        summarize(out)
        report_s = time.perf_counter() - start
    size = sum(path.stat().st_size for path in Path(out).rglob("*") if path.is_file())
    queue.put(
        {
            "persons": persons,
            "households": meta["households"],
            "seconds": elapsed,
            "peak_mib": peak_write,
            "peak_with_report_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "report_seconds": report_s,
            "bytes": size,
            "rows": sum(meta["rows"].values()),
        }
    )


def run(persons: int, seed: int, out: Path, report: bool) -> dict[str, Any]:
    """Generate one city in a spawned child; return its measurements."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_child, args=(persons, seed, str(out), report, queue))
    child.start()
    result: dict[str, Any] = queue.get()
    child.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, action="append", help="size (repeatable)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the cities under this folder")
    parser.add_argument("--no-report", action="store_true", help="skip timing the report")
    args = parser.parse_args(argv)
    sizes = args.persons or [GHENT, FLANDERS]
    table = Table(title="entitle synth: write_city in a child process")
    for column in (
        "persons",
        "households",
        "rows (all files)",
        "on disk",
        "time",
        "peak RSS",
        "report",
        "peak RSS incl. report",
    ):
        table.add_column(column, justify="right")
    base = args.keep or Path(tempfile.mkdtemp(prefix="entitle-synth-bench-"))
    try:
        for persons in sizes:
            out = base / f"city-{persons}"
            result = run(persons, args.seed, out, not args.no_report)
            report = result["report_seconds"]
            table.add_row(
                f"{result['persons']:,}",
                f"{result['households']:,}",
                f"{result['rows']:,}",
                f"{result['bytes'] / 2**20:,.0f} MiB",
                f"{result['seconds']:.1f} s",
                f"{result['peak_mib']:,.0f} MiB",
                "" if report is None else f"{report:.1f} s",
                f"{result['peak_with_report_mib']:,.0f} MiB",
            )
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    console.print(table)
    console.print(f"python {sys.version.split()[0]}; seed {args.seed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
