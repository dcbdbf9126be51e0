"""One process at a time runs a campaign for a period: `run_lock`.

A second `entitle campaign run` of the same campaign and period exits at once, naming the process
that holds the lock, instead of asking the registries about the whole city a second time. On
PostgreSQL the lock is a session advisory lock (it holds across machines and dies with the
connection); otherwise an exclusive `flock` on `<data dir>/locks/<campaign>@<period>.lock`, which
holds the holder's pid, host and start time (the kernel releases it when the process dies).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from entitle.decide.campaign.context import CampaignContext
from entitle.private_files import private_folder
from entitle.store.campaigns import CampaignStateError


class RunLocked(CampaignStateError):
    """Another process is running this campaign for this period."""


def _key(campaign: str, period: str) -> int:
    digest = hashlib.sha256(f"entitle-campaign|{campaign}|{period}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _holder_line(campaign: str, period: str, who: str) -> str:
    return (
        f"campaign {campaign} for period {period} is being run by {who}: wait for it to end "
        "(or stop that process), then run again"
    )


@contextmanager
def _file_lock(ctx: CampaignContext, campaign: str, period: str) -> Iterator[None]:
    folder = private_folder(ctx.state_dir / "locks")
    path = folder / f"{campaign}@{period}.lock"
    handle = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(_holder_line(campaign, period, _file_holder(path))) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def _file_holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process"
    return f"process {info.get('pid')} on {info.get('host')} since {info.get('since')}"


@contextmanager
def _advisory_lock(ctx: CampaignContext, campaign: str, period: str) -> Iterator[None]:
    key = _key(campaign, period)
    with ctx.factory() as session:
        engine = session.get_bind()
    assert isinstance(engine, Engine)
    with engine.connect() as connection:  # held for the whole run: the lock lives on it
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        if not got:
            holder = connection.execute(
                text(
                    "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"
                ),
                {"k": key},
            ).first()
            who = (
                f"database session {holder[0]} from {holder[1] or 'a local socket'} since "
                f"{holder[2]:%Y-%m-%d %H:%M:%S}"
                if holder
                else "another process"
            )
            connection.rollback()
            raise RunLocked(_holder_line(campaign, period, who))
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()


@contextmanager
def run_lock(ctx: CampaignContext, campaign: str, period: str) -> Iterator[None]:
    """Hold the lock of (campaign, period) for the block; `RunLocked` at once when taken."""
    with ctx.factory() as session:
        dialect = session.get_bind().dialect.name
    lock = _advisory_lock if dialect == "postgresql" else _file_lock
    with lock(ctx, campaign, period):
        yield
