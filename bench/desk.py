"""The desk API under concurrent load: POST /api/v1/checks from many clients at once.

A generated city is served by the registry simulator (a separate process) with a fixed latency
per registry call; `entitle serve` runs as another process (uvicorn, two workers by default,
SQLite or the database you give); N clients, each one keep-alive connection (opened over the
first half of the warm-up), send checks back to back for a fixed time. Printed: checks/s,
latency p50/p90/p99/max as the clients see it, each target as a ratio, status codes, outcomes,
the CPU per check of the desk, the simulator and the load generator, the workers' shares of the
desk's CPU, the load average, and the throughput that CPU allows on this machine's cores.

    .venv/bin/python bench/desk.py [--clients 50] [--duration 20] [--latency-ms 20]
        [--workers 2] [--persons 20000] [--benefit ghent.uitpas|all]
        [--database-url postgresql://…]

Targets (issue "The desk"): p99 ≤ 250 ms at 50 clients, ≥ 150 checks/s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import polars as pl
from processes import free_port, start_simulator, wait_for
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
BENEFITS = {
    "ghent.uitpas": "ghent-uitpas",
    "ghent.garbage-bags": "ghent-garbage-bags",
    "ghent.school-tariff": "ghent-school-tariff",
    "ghent.lez": "ghent-lez",
}
SENDER, CAPACITY = "gent.be/entitle", "ENTITLE"
TARGET_P99_MS, TARGET_RATE = 250, 150
R = TypeVar("R")
console = Console()


def start_desk(
    registry: str, database: str, folder: Path, workers: int
) -> tuple[subprocess.Popen[bytes], str, str]:
    """`entitle serve` with one wildcard API token; returns the process, URL and token."""
    from entitle.web.backend import Backend

    backend = Backend(database)
    token = backend.create_api_token("bench", ["*"], ["*"])
    backend.close()
    port = free_port()
    env = {
        **os.environ,
        "ENTITLE_MAGDA_SENDER": SENDER,
        "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
        "ENTITLE_API_CHECKS_PER_MINUTE": "10000000",
    }
    command = [sys.executable, "-m", "entitle.cli.web", "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--database-url", database, "--registry", registry]
    command += ["--benefits", str(REPO / "benefits" / "ghent"), "--data-dir", str(folder)]
    command += ["--log-level", "warning"]
    log = folder / "desk.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO, env=env
        )
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/healthz", process, "entitle serve", log)
    return process, url, token


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants (Linux /proc; 0 elsewhere)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(c) for c in children)
        except (OSError, IndexError, ValueError):
            continue
    return total


def children_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each direct child of `pid` and its descendants (the uvicorn workers)."""
    found: dict[int, float] = {}
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found[int(child)] = cpu_seconds(int(child))
    except OSError:
        pass
    return found


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    answered: int = 0  # every answer, warm-up included (for CPU per check)


class KeepAlive:
    """One client's keep-alive HTTP/1.1 connection, kept lean on purpose: the load generator
    runs on the same cores as the desk and the simulator, so its CPU per request counts against
    theirs (an httpx client costs several times more per request than this)."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = (
            f"POST /api/v1/checks HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
        """Send one check; (status, body). Raises OSError / TimeoutError / ValueError."""
        try:
            return await asyncio.wait_for(self._exchange(body), timeout)
        except BaseException:
            self.close()
            raise

    async def _exchange(self, body: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length, close = None, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            raise ValueError("answer without Content-Length")
        content = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def client_loop(
    connection: KeepAlive,
    people: list[str],
    benefits: list[str],
    seed: int,
    start: float,
    stop: float,
    results: Results,
    delay: float = 0.0,
) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(delay)  # desks come online one after the other
    try:
        while True:
            now = time.perf_counter()
            if now >= stop:
                return
            benefit = rng.choice(benefits)
            body = {"insz": rng.choice(people), "benefit": benefit, "purpose": BENEFITS[benefit]}
            sent = time.perf_counter()
            try:
                status, content = await connection.post(json.dumps(body).encode())
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
                if sent >= start:
                    results.errors[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - sent
            results.answered += 1
            if sent < start:  # warm-up
                continue
            results.statuses[status] += 1
            if status == 201:
                results.latencies.append(elapsed)
                results.outcomes[json.loads(content)["outcome"]] += 1
    finally:
        connection.close()


async def load(
    url: str,
    token: str,
    people: list[str],
    benefits: list[str],
    clients: int,
    warmup: float,
    duration: float,
    seed: int,
) -> tuple[Results, float]:
    results = Results()
    address = httpx.URL(url)
    host, port = address.host, address.port or 80
    # Connections opened in the same instant all land on the worker that wakes first (its
    # event loop accepts every pending one at once) and stay there: open them over the first
    # half of the warm-up instead, as desks come online over time.
    stagger = warmup / 2 / clients
    begin = time.perf_counter()
    start, stop = begin + warmup, begin + warmup + duration
    await asyncio.gather(
        *(
            client_loop(
                KeepAlive(host, port, token),
                people,
                benefits,
                seed + i,
                start,
                stop,
                results,
                delay=i * stagger,
            )
            for i in range(clients)
        )
    )
    # requests still in flight at `stop` finish after it: count the time they took
    measured = max(time.perf_counter(), stop) - start
    return results, measured


def run_loop(work: Coroutine[Any, Any, R]) -> R:
    """Run the load on uvloop when it is installed (it is a dependency of `entitle serve`)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds not measured")
    parser.add_argument("--latency-ms", type=int, default=20, help="per registry call")
    parser.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes (one per core)"
    )
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--benefit", default="ghent.uitpas", help="a benefit id, or all")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = parser.parse_args(argv)
    benefits = list(BENEFITS) if args.benefit == "all" else [args.benefit]
    if any(b not in BENEFITS for b in benefits):
        parser.error(f"--benefit: one of {', '.join(BENEFITS)} or all")

    from entitle.registry.synth import write_city

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        begin = time.perf_counter()
        write_city(args.persons, args.seed, folder / "city")
        console.print(f"city: {args.persons:,} persons in {time.perf_counter() - begin:.1f} s")
        people = pl.read_parquet(folder / "city" / "registry" / "persons.parquet")[
            "person_id"
        ].to_list()
        database = args.database_url or f"sqlite:///{folder / 'entitle.db'}"
        simulator, registry = start_simulator(folder / "city", folder, args.latency_ms)
        desk = None
        try:
            desk, url, token = start_desk(registry, database, folder, args.workers)
            cpu_before = (cpu_seconds(desk.pid), cpu_seconds(simulator.pid))
            workers_before = children_cpu(desk.pid)
            own_before = time.process_time()
            results, measured = run_loop(
                load(
                    url,
                    token,
                    people,
                    benefits,
                    args.clients,
                    args.warmup,
                    args.duration,
                    args.seed,
                )
            )
            cpu_after = (cpu_seconds(desk.pid), cpu_seconds(simulator.pid))
            workers_after = children_cpu(desk.pid)
            own_cpu = time.process_time() - own_before
        finally:
            for process in (desk, simulator):
                if process is not None:
                    process.terminate()
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        process.kill()

    ordered = sorted(results.latencies)
    if not ordered:
        console.print(f"no successful check: statuses {dict(results.statuses)}")
        return 1
    rate = len(ordered) / measured
    p50, p90, p99 = (percentile(ordered, q) * 1000 for q in (0.5, 0.9, 0.99))
    table = Table(
        title=f"Desk API: {args.clients} clients, {', '.join(benefits)}, simulator at "
        f"{args.latency_ms} ms per registry call, {args.workers} worker(s), "
        f"{os.cpu_count()} CPU(s), {'SQLite' if args.database_url is None else 'given DB'}"
    )
    for column in ("checks", "checks/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{len(ordered):,}",
        f"{rate:.1f}",
        f"{p50:.0f}",
        f"{p90:.0f}",
        f"{p99:.0f}",
        f"{ordered[-1] * 1000:.0f}",
        f"{statistics.mean(ordered) * 1000:.0f}",
    )
    console.print(table)
    console.print(
        f"status codes: {dict(results.statuses)}; transport errors: {dict(results.errors)}"
    )
    console.print(f"outcomes: {dict(results.outcomes)}")
    done = results.answered or 1
    web_cpu, sim_cpu = (after - before for after, before in zip(cpu_after, cpu_before, strict=True))
    console.print(
        f"CPU per check (warm-up included): entitle serve {web_cpu * 1000 / done:.1f} ms, "
        f"simulator {sim_cpu * 1000 / done:.1f} ms, load generator {own_cpu * 1000 / done:.1f} "
        f"ms; load average (1, 5, 15 min) "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    spent = [workers_after[p] - workers_before.get(p, 0.0) for p in workers_after]
    busy = [x for x in spent if x > 0.05]  # the workers (uvicorn's other children stay idle)
    if len(busy) > 1:
        shares = " / ".join(f"{x / sum(busy):.0%}" for x in sorted(busy, reverse=True))
        console.print(f"desk workers' shares of its CPU: {shares}")
    console.print(
        f"targets: p99 ≤ {TARGET_P99_MS} ms: {'met' if p99 <= TARGET_P99_MS else 'NOT met'} "
        f"({p99:.0f} ms, {p99 / TARGET_P99_MS:.2f}× the target); "
        f"≥ {TARGET_RATE} checks/s: {'met' if rate >= TARGET_RATE else 'NOT met'} "
        f"({rate:.0f}/s, {rate / TARGET_RATE:.2f}× the target)"
    )
    cores = os.cpu_count() or 1
    per_check = (web_cpu + sim_cpu) * 1000 / done
    console.print(
        f"CPU bound: {per_check:.1f} ms of server CPU per check (desk + simulator) on {cores} "
        f"cores allows at most {cores * 1000 / per_check:.0f} checks/s before the load "
        f"generator's own CPU and anything else running here"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
