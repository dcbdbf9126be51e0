"""Facts for partitioned runs through the gateway: each Dask worker asks MAGDA (or the registry
simulator) and the city's datasets itself, under the benefit's purpose, with its own access log.

`GatewayProviders` is the picklable factory `entitle.decide.scale.cluster.run_partitions` takes: a
frozen record of settings. On a worker it opens one `GatewaySource` per process (its connection
pool, access log and pseudonymisation key are reused by every partition the worker decides) and
gives each partition a fresh gateway, registered with the partition's household compositions as
a campaign chunk is, so only the facts that can still change an outcome are asked, stage by stage.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from entitle.decide.campaign.sources import GatewayChunk, GatewaySource
from entitle.decide.wiring import local_source
from entitle.rules.columnar import Population
from entitle.rules.model import Benefit
from entitle.sources.access import JsonlAccessLog, Pseudonymiser
from entitle.sources.magda.settings import load_settings

_SOURCES: dict[GatewayProviders, GatewaySource] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class GatewayProviders:
    """Where the registries are and who asks: the MAGDA endpoint (or simulator), the sender and
    its default capacity, the city's datasets (URL or folder; None: the registry's `/local`) and
    the state folder (access log, pseudonym key) every worker can reach."""

    registry: str
    sender: str
    capacity: str
    state_dir: Path
    local: str | None = None

    def __post_init__(self) -> None:
        # the key is made here, once, before any worker reads it: workers racing to create it
        # would pseudonymise with different keys
        Pseudonymiser.from_key_file(self.state_dir / "pseudonym.key")

    def source(self) -> GatewaySource:
        """This worker process's gateway source for these settings (opened once)."""
        with _LOCK:
            found = _SOURCES.get(self)
            if found is None:
                settings = load_settings(
                    base_url=self.registry, sender=self.sender, default_capacity=self.capacity
                )
                # one access log with the campaigns': each line is one append, whole
                log = JsonlAccessLog(self.state_dir / "access.jsonl")
                found = GatewaySource(
                    settings=settings,
                    local=local_source(self.local, self.registry),
                    log=log,
                    pseudonymise=Pseudonymiser.from_key_file(self.state_dir / "pseudonym.key"),
                )
                _SOURCES[self] = found
            return found

    def __call__(self, population: Population, benefit: Benefit, as_of: date) -> GatewayChunk:
        households = population.households.select("household_id")
        return self.source().open_chunk(benefit, as_of, population.persons, households)
