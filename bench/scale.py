"""Whole populations: the four Ghent benefits on one machine and on a local Dask cluster.

    .venv/bin/python bench/scale.py                               # 270 k, 1 M and 6.8 M persons
    .venv/bin/python bench/scale.py --sizes 270000,1000000 --partitions 8 --workers 2

Each size's synthetic city (`write_city`, seed 1) is generated once and cached under --cache
(default /tmp/entitle-scale). Each measurement runs in a fresh spawned process:

- *single machine*: `load_population` (registry view), then `evaluate_population` for the four
  benefits, columnar, lazy staged fetching from the tables;
- *Dask*: the same load, `partition_population` into Parquet partitions by household, a
  LocalCluster of --workers single-threaded worker processes, `run_partitions` (each worker reads
  its partition and decides it; the decisions are collected into one Parquet file per benefit).

*CPU* is the user + system time of the deciding process (Dask: the driver and every worker)
for the decide step: on a shared machine it moves far less with the load than the wall time.
Peak memory is the largest sum of the resident set sizes of the measured process and all its
descendants (the Dask workers), sampled every 50 ms with psutil; shared pages count once per
process, so the Dask figure is an upper bound.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
BENEFITS = ("uitpas", "garbage-bags", "school-tariff", "lez")
SIZES = (270_000, 1_000_000, 6_800_000)
TARGET_PERSONS = 6_800_000
TARGET_SECONDS = 60.0
TARGET_GIB = 8.0
SEED = 1

console = Console(width=None if sys.stdout.isatty() else 130)


def city_folder(cache: Path, persons: int) -> Path:
    """The cached city of this size, generated (in a child process) when missing."""
    folder = cache / f"city-{persons}"
    if not (folder / "meta.json").exists():
        console.print(f"generating a city of {persons:,} persons in {folder} …")
        context = multiprocessing.get_context("spawn")
        child = context.Process(target=_generate, args=(persons, folder))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generating {folder} failed")
    return folder


def _generate(persons: int, folder: Path) -> None:
    from entitle.registry.synth import write_city

    write_city(persons, SEED, folder)


def _benefits() -> list[Any]:
    from entitle.rules.loader import load_benefit

    return [load_benefit(ROOT / "benefits" / "ghent" / f"{name}.yaml") for name in BENEFITS]


def _load(folder: Path) -> tuple[Any, date]:
    from entitle.registry.population import load_population
    from entitle.registry.synth import read_meta
    from entitle.rules.columnar import Population

    as_of = date.fromisoformat(read_meta(folder)["reference_date"])
    persons, households = load_population(folder, "registry", as_of)
    return Population(persons, households), as_of


def _counts(frames: dict[str, Any]) -> dict[str, dict[str, int]]:
    import polars as pl

    return {
        name: dict(frame.group_by(pl.col("outcome").cast(pl.String())).len().iter_rows())
        for name, frame in frames.items()
    }


def _single(folder: Path, _: int, __: int, queue: Any) -> None:
    """In a fresh process: the single-machine run."""
    from entitle.rules.columnar import evaluate_population

    benefits = _benefits()
    start = time.perf_counter()
    population, as_of = _load(folder)
    loaded = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    population.index()
    frames = {}
    for benefit in benefits:
        frames[benefit.id] = evaluate_population(benefit, population, as_of).select(
            "subject_id", "outcome"
        )
    decided, cpu = time.perf_counter() - start, time.process_time() - cpu
    queue.put({"load_s": loaded, "decide_s": decided, "cpu_s": cpu, "counts": _counts(frames)})


def _dask(folder: Path, partitions: int, workers: int, queue: Any) -> None:
    """In a fresh process: the partitioned run on a local Dask cluster."""
    import polars as pl

    from entitle.decide.scale.cluster import dask_client, run_partitions
    from entitle.decide.scale.partitions import partition_population

    benefits = _benefits()
    start = time.perf_counter()
    population, as_of = _load(folder)
    loaded = time.perf_counter() - start
    work = Path(tempfile.mkdtemp(prefix="entitle-scale-"))
    try:
        start, cpu = time.perf_counter(), time.process_time()
        partition_population(population, partitions, work / "parts")
        del population
        written = time.perf_counter() - start
        with dask_client(workers) as client:
            client.wait_for_workers(workers)
            before = client.run(time.process_time)
            start_run = time.perf_counter()
            files = run_partitions(client, work / "parts", benefits, as_of, work / "out")
            ran = time.perf_counter() - start_run
            after = client.run(time.process_time)
        cpu = time.process_time() - cpu + sum(after[w] - before[w] for w in after)
        frames = {name: pl.read_parquet(path, columns=["outcome"]) for name, path in files.items()}
        queue.put(
            {
                "load_s": loaded,
                "decide_s": written + ran,
                "partition_s": written,
                "cpu_s": cpu,
                "counts": _counts(frames),
            }
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def measure(target: Any, folder: Path, partitions: int, workers: int) -> dict[str, Any]:
    """Run `target` in a spawned process; add its wall time and the process tree's peak RSS."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(folder, partitions, workers, queue))
    start = time.perf_counter()
    child.start()
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        process = psutil.Process(child.pid)
        while not done.is_set():
            try:
                peak = max(peak, _tree_rss(process))
            except psutil.Error:
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result: dict[str, Any] = queue.get()
    child.join()
    done.set()
    sampler.join()
    result["wall_s"] = time.perf_counter() - start
    result["peak_gib"] = peak / 2**30
    return result


@dataclass
class Row:
    persons: int
    mode: str
    result: dict[str, Any]


def main(argv: list[str] | None = None) -> int:
    """Measure every size in both modes and print the table and the target verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "entitle-scale")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--partitions", type=int, default=0, help="default: 2 per worker, at least 1 per 1 M"
    )
    parser.add_argument("--modes", default="single,dask")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    modes = [m for m in args.modes.split(",") if m]
    console.print(
        f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"load average at start {' '.join(Path('/proc/loadavg').read_text().split()[:3])} "
        "(the machine is shared)"
    )
    rows: list[Row] = []
    for persons in sizes:
        folder = city_folder(args.cache, persons)
        partitions = args.partitions or max(2 * args.workers, -(-persons // 1_000_000))
        for mode in modes:
            target = _single if mode == "single" else _dask
            result = measure(target, folder, partitions, args.workers)
            result["partitions"] = partitions
            result["loadavg"] = Path("/proc/loadavg").read_text().split()[0]
            rows.append(Row(persons, mode, result))
            console.print(
                f"  {persons:,} {mode}: decide {result['decide_s']:.1f} s, "
                f"peak {result['peak_gib']:.2f} GiB (load {result['loadavg']})"
            )
    return report(rows, args.workers)


def report(rows: list[Row], workers: int) -> int:
    """Print the table, the Dask/single ratios, the agreement and the target verdict."""
    table = Table(title="Four Ghent benefits, columnar: single machine vs local Dask cluster")
    for column in (
        "persons",
        "mode",
        "load city, s",
        "decide, s",
        "CPU, s",
        "persons/s",
        "wall, s",
        "peak RSS, GiB",
        "load avg",
    ):
        table.add_column(column, justify="left" if column == "mode" else "right")
    single = {r.persons: r.result for r in rows if r.mode == "single"}
    for r in rows:
        x = r.result
        mode = "single" if r.mode == "single" else f"dask {workers}w × {x['partitions']}p"
        table.add_row(
            f"{r.persons:,}",
            mode,
            f"{x['load_s']:.1f}",
            f"{x['decide_s']:.1f}",
            f"{x['cpu_s']:.1f}",
            f"{r.persons / x['decide_s']:,.0f}",
            f"{x['wall_s']:.1f}",
            f"{x['peak_gib']:.2f}",
            x["loadavg"],
        )
    console.print(table)
    agree = True
    for r in rows:
        base = single.get(r.persons)
        if r.mode == "dask" and base is not None:
            same = base["counts"] == r.result["counts"]
            agree &= same
            console.print(
                f"{r.persons:,}: Dask / single time {r.result['decide_s'] / base['decide_s']:.2f}×,"
                f" peak memory {r.result['peak_gib'] / base['peak_gib']:.2f}×; outcome counts "
                + ("identical" if same else "DIFFER")
            )
    target = single.get(TARGET_PERSONS)
    if target is not None:
        met = target["decide_s"] <= TARGET_SECONDS and target["peak_gib"] <= TARGET_GIB
        console.print(
            f"target: {TARGET_PERSONS:,} persons, four benefits, single machine ≤ "
            f"{TARGET_SECONDS:g} s and ≤ {TARGET_GIB:g} GiB: {'met' if met else 'NOT met'} "
            f"({target['decide_s']:.1f} s deciding ({target['cpu_s']:.1f} s of CPU), "
            f"{target['load_s']:.1f} s loading the city; "
            f"peak {target['peak_gib']:.2f} GiB)"
        )
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
