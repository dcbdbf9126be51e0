"""What signing costs a desk check and a campaign run: the same work unsigned and signed, in one
process, against one simulator, with the ratios.

A generated city is served by the registry simulator (a separate process, a fixed latency per
registry call, not verifying signatures: that is MAGDA's cost, on MAGDA's machines). Desk checks
of every Ghent benefit go through the gateway for a sample of persons, each check once unsigned
and once signed (the order alternating, so drift in the machine's load hits both); then the
garbage-bag campaign runs over the whole city unsigned, signed, unsigned, signed. Printed: wall
time and this process's CPU per check, requests per check, the signed/unsigned ratios, and the
signing time per request measured here, as a share of a signed check.

    .venv/bin/python bench/signing_cost.py [--persons 20000] [--sample 100] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from processes import REPO, start_simulator
from rich.console import Console
from rich.table import Table

from entitle.decide.check import check
from entitle.rules.loader import load_benefit
from entitle.sources.access import MemoryAccessLog, Pseudonymiser
from entitle.sources.gateway import Gateway
from entitle.sources.local import HttpDatasets
from entitle.sources.magda import (
    MagdaClient,
    MagdaSettings,
    SociaalStatuutCriteria,
    build_request,
    load_settings,
)
from entitle.sources.magda.settings import SigningSettings
from entitle.sources.magda.signing import RequestSigner, load_credentials

BENEFITS = ("uitpas", "garbage-bags", "school-tariff", "lez")
AS_OF = date(2026, 3, 1)
SENDER, CAPACITY = "gent.be/entitle", "ENTITLE"
console = Console(width=150, highlight=False)


def requests_made(url: str) -> int:
    """Requests the simulator answered so far (every service, every outcome)."""
    table = httpx.get(url + "/_admin/stats", timeout=10).json()
    return sum(sum(outcomes.values()) for outcomes in table.values())


def signing_ms(signing: dict[str, Any], repeat: int = 300) -> float:
    """Median milliseconds to sign a one-question request (build excluded)."""
    signer = RequestSigner(load_credentials(SigningSettings(**signing)))
    body = build_request(
        [SociaalStatuutCriteria("62691699717", statuses=("BIM_BVT",), on=AS_OF)],
        sender=SENDER,
        capacity=CAPACITY,
    ).xml
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        signer(body)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU milliseconds of `work` (this process's CPU: the client's threads too)."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def desk(
    url: str, city: Path, signing: dict[str, Any], sample: int, seed: int, per_request: float
) -> Table:
    import polars as pl

    persons = pl.read_parquet(city / "registry" / "persons.parquet")["person_id"].to_list()
    ids = random.Random(seed).sample(persons, sample)
    local = HttpDatasets(url)
    clients = {
        signed: MagdaClient(
            MagdaSettings(
                base_url=url,
                sender=SENDER,
                default_capacity=CAPACITY,
                signing=signing if signed else {"enabled": False},
            )
        )
        for signed in (False, True)
    }
    assert clients[True].settings.signing.enabled and not clients[False].settings.signing.enabled
    table = Table(title=f"Desk checks through the gateway, {sample} persons per benefit")
    for column in (
        "benefit",
        "requests/check",
        "wall p50 unsigned → signed",
        "wall mean ratio",
        "CPU/check unsigned → signed",
        "CPU ratio",
        "signing share of a signed check",
    ):
        table.add_column(column, justify="right")
    for name in BENEFITS:
        benefit = load_benefit(REPO / "benefits" / "ghent" / f"{name}.yaml")
        wall: dict[bool, list[float]] = {False: [], True: []}
        cpu: dict[bool, list[float]] = {False: [], True: []}
        requests = 0
        for index, insz in enumerate(ids):
            for signed in (False, True) if index % 2 == 0 else (True, False):
                gateway = Gateway(
                    client=clients[signed],
                    local=local,
                    purpose=benefit.purpose,
                    as_of=AS_OF,
                    log=MemoryAccessLog(),
                    pseudonymise=Pseudonymiser(b"bench-key-bench-key"),
                )
                before = requests_made(url) if signed else 0
                spent = timed(
                    lambda g=gateway, b=benefit, i=insz: check(b, i, g, AS_OF, explain=True)
                )
                if signed:
                    requests += requests_made(url) - before
                wall[signed].append(spent[0])
                cpu[signed].append(spent[1])
        mean = {s: statistics.mean(wall[s]) for s in wall}
        cpu_mean = {s: statistics.mean(cpu[s]) for s in cpu}
        table.add_row(
            name,
            f"{requests / sample:.2f}",
            f"{statistics.median(wall[False]):.1f} → {statistics.median(wall[True]):.1f} ms",
            f"{mean[True] / mean[False]:.3f}",
            f"{cpu_mean[False]:.2f} → {cpu_mean[True]:.2f} ms",
            f"{cpu_mean[True] / cpu_mean[False]:.3f}",
            f"{per_request * requests / sample / mean[True]:.1%}",
        )
    for client in clients.values():
        client.close()
    local.close()
    return table


def campaign(url: str, city: Path, folder: Path, signing: dict[str, Any]) -> Table:
    from entitle.decide.campaign import CampaignContext, run_campaign
    from entitle.decide.campaign.definition import find_campaign
    from entitle.store.db import make_engine, migrate, session_factory

    bags = find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")
    key = os.urandom(32).hex()
    seconds: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    requests: dict[bool, int] = {False: 0, True: 0}
    for attempt, signed in enumerate((False, True, False, True)):
        where = folder / f"campaign-{attempt}"
        (where / "state").mkdir(parents=True)
        (where / "state" / "pseudonym.key").write_text(key, encoding="utf-8")
        database = f"sqlite:///{where / 'entitle.db'}"
        migrate(database)
        magda = {
            "sender": SENDER,
            "default_capacity": CAPACITY,
            "signing": signing if signed else {"enabled": False},
        }
        assert load_settings(base_url=url, **magda).signing.enabled == signed
        ctx = CampaignContext(
            factory=session_factory(make_engine(database)),
            register=city / "registry",
            state_dir=where / "state",
            output_dir=where / "out",
            registry=url,
            magda_overrides=magda,
        )
        before = requests_made(url)
        seconds[signed].append(timed(lambda c=ctx: run_campaign(c, bags, AS_OF, chunk_size=2000)))
        requests[signed] += requests_made(url) - before
    table = Table(title="The garbage-bag campaign over the whole city (two runs each)")
    for column in ("", "requests/run", "wall s", "CPU s (this process)"):
        table.add_column(column, justify="right")
    for signed in (False, True):
        wall = statistics.mean(w for w, _ in seconds[signed]) / 1000
        cpu = statistics.mean(c for _, c in seconds[signed]) / 1000
        table.add_row(
            "signed" if signed else "unsigned",
            f"{requests[signed] / 2:,.0f}",
            f"{wall:.1f}",
            f"{cpu:.1f}",
        )
    ratio_wall = statistics.mean(w for w, _ in seconds[True]) / statistics.mean(
        w for w, _ in seconds[False]
    )
    ratio_cpu = statistics.mean(c for _, c in seconds[True]) / statistics.mean(
        c for _, c in seconds[False]
    )
    table.add_row("signed / unsigned", "", f"{ratio_wall:.3f}", f"{ratio_cpu:.3f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=100, help="persons per benefit (desk)")
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args()

    from entitle.registry.synth import write_city

    os.environ["BENCH_UNSIGNED"] = "1"  # the simulator does not verify: MAGDA's cost, not ours
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ca = folder / "ca"
        script = REPO / "scripts" / "make-test-ca.sh"
        subprocess.run(["bash", str(script), str(ca)], check=True, capture_output=True)
        # `enabled` explicitly: BENCH_UNSIGNED put ENTITLE_MAGDA_SIGNING__ENABLED=false in the
        # environment, which the settings would otherwise merge into this dictionary
        signing = {"enabled": True, "key_file": ca / "signing.key", "cert_file": ca / "signing.crt"}
        write_city(args.persons, args.seed, folder / "city")
        process, url = start_simulator(folder / "city", folder, args.latency_ms)
        try:
            per_request = signing_ms(signing)
            console.print(
                f"city {args.persons:,} persons; simulator at {args.latency_ms} ms per registry "
                f"call; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )
            console.print(f"signing one request: {per_request:.3f} ms (median of 300)")
            console.print(desk(url, folder / "city", signing, args.sample, args.seed, per_request))
            console.print(campaign(url, folder / "city", folder, signing))
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
