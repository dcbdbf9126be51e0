"""Fault: the disk fills up while the letters of an approved campaign run are written.

`entitle campaign approve` (which issues) runs as its own process with the letters folder on a
tiny filesystem: a tmpfs of its own, nearly filled, when this machine lets the test mount one
(root with CAP_SYS_ADMIN); otherwise the same command runs with every file opened for writing
under that folder failing with ENOSPC after a few kilobytes (injected at `io.open`, which
`pathlib` uses too). Either way the command must fail with a clear message naming the folder and
the cause, leave no half file and no run marked issued; after space is freed, `entitle campaign
issue` writes every letter exactly once, with unique coupon codes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_chaos_support import (
    ENTITLE,
    REPO,
    assert_audit_intact,
    assert_letters_unique,
    campaign_env,
    engine_of,
    entitle,
    setup_database,
)
from test_registry_server import running_server

from entitle.registry.synth import write_city
from entitle.store.models import AuditEntry

PERSONS = 600
ROOM = 24 * 1024  # bytes left free on the tiny disk: far less than the letters need

# `entitle …` whose writes under $CHAOS_FULL_FOLDER fail with ENOSPC after $CHAOS_FULL_BYTES
INJECTED = """
import errno, io, os
folder = os.path.realpath(os.environ["CHAOS_FULL_FOLDER"])
budget = [int(os.environ["CHAOS_FULL_BYTES"])]
real_open = io.open

class Full:
    def __init__(self, handle, path):
        self._handle, self._path = handle, path
    def write(self, data):
        budget[0] -= len(data)
        if budget[0] < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self._path)
        return self._handle.write(data)
    def __getattr__(self, name):
        return getattr(self._handle, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self._handle.close()

def full_open(file, mode="r", *args, **kwargs):
    handle = real_open(file, mode, *args, **kwargs)
    if set(mode) & set("wax") and os.path.realpath(os.fspath(file)).startswith(folder):
        return Full(handle, os.fspath(file))
    return handle

io.open = full_open
from entitle.cli.main import main
main()
"""


@dataclass
class TinyDisk:
    """The letters folder, nearly full until `free()`."""

    folder: Path
    mounted: bool
    full: bool = True

    def command(self) -> list[str]:
        if self.mounted or not self.full:
            return list(ENTITLE)
        return [ENTITLE[0], "-c", INJECTED]

    def env(self) -> dict[str, str]:
        return {"CHAOS_FULL_FOLDER": str(self.folder), "CHAOS_FULL_BYTES": str(ROOM)}

    def free(self) -> None:
        if self.mounted:
            (self.folder / "filler").unlink()
        self.full = False


def _mount_tmpfs(folder: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[TinyDisk]:
    folder = tmp_path / "letters"
    folder.mkdir()
    mounted = _mount_tmpfs(folder)
    try:
        if mounted:
            free = shutil.disk_usage(folder).free
            with (folder / "filler").open("wb") as filler:
                filler.write(b"\0" * (free - ROOM))
            assert shutil.disk_usage(folder).free <= 2 * ROOM
        yield TinyDisk(folder, mounted)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def run_entitle(
    disk: TinyDisk, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*disk.command(), *args],
        cwd=REPO,
        env={**env, **disk.env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def issued_entries(url: str) -> int:
    with engine_of(url) as engine, engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.outcome == "campaign_issued")
            ).scalar_one()
        )


def test_disk_full_while_writing_letters_then_issue_again_after_freeing_space(
    tiny_disk: TinyDisk, tmp_path: Path
) -> None:
    city = tmp_path / "city"
    write_city(PERSONS, 5, city)
    url = f"sqlite:///{tmp_path / 'entitle.db'}"
    setup_database(url, {"alice": "campaign_manager"})
    with running_server(city, tmp_path / "simulator.log") as server:
        env = campaign_env(
            database=url,
            registry=server.url,
            city=city,
            state=tmp_path / "state",
            output=tiny_disk.folder,
        )
        if tiny_disk.mounted:  # the preflight sees the full disk and refuses to start
            refused = entitle("campaign", "run", "garbage-bags", "--as-of", "2026-03-01", env=env)
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert "preflight failed" in refused.stderr and "MiB free" in refused.stderr
        # the run writes nothing: the disk filled up after its preflight (another program)
        roomy = str(tmp_path / "roomy")
        ran = entitle(
            "campaign", "run", "garbage-bags", "--as-of", "2026-03-01", "--output", roomy,
            env=env,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
    shown = entitle("campaign", "show", "garbage-bags", "--run", "1", "--json", env=env)
    figures = json.loads(shown.stdout)
    due = figures["letters_due"]
    assert due["coupon"] > 20 and due["invitation"] > 0
    assert due["coupon"] == figures["outcomes"]["eligible"]

    # approve: the approval holds, issuing fails on the full disk with a clear message
    failed = run_entitle(tiny_disk, env, "campaign", "approve", "1", "--as", "alice")
    print("mounted tmpfs:" if tiny_disk.mounted else "injected ENOSPC:", failed.stderr)
    assert failed.returncode == 3, failed.stdout + failed.stderr
    message = " ".join(failed.stderr.split())
    assert "Traceback" not in failed.stderr
    assert "disk full" in message and "no space left" in message.lower()
    assert str(tiny_disk.folder) in message
    assert "entitle campaign issue 1" in message  # what to do next
    run_folder = tiny_disk.folder / "garbage-bags" / "run-1"
    leftovers = sorted(p.name for p in run_folder.iterdir()) if run_folder.exists() else []
    assert leftovers == []  # no half letters.pdf, no partial file left taking the space
    after = json.loads(
        entitle("campaign", "show", "garbage-bags", "--run", "1", "--json", env=env).stdout
    )
    assert after["run"]["status"] == "approved"  # not counted as issued
    assert not after["run"].get("outputs")
    assert issued_entries(url) == 0

    # space freed: issuing again writes every letter once
    tiny_disk.free()
    issued = run_entitle(tiny_disk, env, "campaign", "issue", "1", "--as", "alice")
    assert issued.returncode == 0, issued.stdout + issued.stderr
    final = json.loads(
        entitle("campaign", "show", "garbage-bags", "--run", "1", "--json", env=env).stdout
    )
    assert final["run"]["status"] == "issued"
    letters = assert_letters_unique(url)
    assert letters == due  # one letter per eligible or undetermined household, none twice
    outputs = final["run"]["outputs"]
    assert outputs["letters"] == due and outputs["pages"] == 2 * sum(due.values())
    pdf = run_folder / "letters.pdf"
    first_bytes = pdf.read_bytes()
    assert first_bytes.startswith(b"%PDF") and first_bytes.rstrip().endswith(b"%%EOF")
    again = run_entitle(tiny_disk, env, "campaign", "issue", "1", "--as", "alice")
    assert again.returncode == 0 and "(0 new)" in again.stdout
    assert pdf.read_bytes() == first_bytes and assert_letters_unique(url) == letters
    assert issued_entries(url) == 1
    assert_audit_intact(url)
