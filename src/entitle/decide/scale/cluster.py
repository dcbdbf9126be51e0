"""Partitioned runs on a Dask cluster: every partition decided on a worker, then collected.

A local cluster of single-threaded worker processes, or the cluster of a running scheduler; each
worker runs `evaluate_partition` on one partition folder (see `entitle.decide.scale.partitions`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from entitle.decide.scale.partitions import (
    PartitionTask,
    ProviderFactory,
    collect_decisions,
    evaluate_partition,
    partition_folders,
)
from entitle.rules.model import Benefit


@contextmanager
def dask_client(workers: int = 2, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: of the scheduler at `scheduler`, or of a local cluster of `workers`
    single-threaded worker processes (closed on exit)."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def run_partitions(
    client: Any,
    root: Path | str,
    benefits: Sequence[Benefit],
    as_of: date,
    out: Path | str,
    *,
    provider: ProviderFactory | None = None,
    prefill: bool = False,
) -> dict[str, Path]:
    """Decide every benefit over the partitions under `root` on a Dask `client`.

    Returns the collected decisions' Parquet file per benefit id (`out/<benefit id>.parquet`).
    """
    folders = partition_folders(root)
    tasks = [PartitionTask(folder, tuple(benefits), as_of, provider, prefill) for folder in folders]
    futures = client.map(evaluate_partition, tasks, pure=False)
    client.gather(futures)
    target = Path(out)
    return {
        benefit.id: collect_decisions(folders, benefit, target / f"{benefit.id}.parquet")
        for benefit in benefits
    }
