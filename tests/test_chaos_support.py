"""Helpers for the fault and chaos tests (``test_chaos_*``): the `entitle` command as a real
process, the environment a campaign or the web app reads, and the checks every scenario ends
with (the audit chain, unique letters). This module holds no tests of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select, text

from entitle.store.db import make_engine, migrate, session_factory
from entitle.store.models import CampaignLetter
from entitle.store.users import add_user

REPO = Path(__file__).resolve().parents[1]
ENTITLE = [sys.executable, "-c", "from entitle.cli.main import main; main()"]
SENDER, CAPACITY = "gent.be/entitle", "ENTITLE"
PASSWORD = "correct horse battery"


def campaign_env(
    *, database: str, registry: str, city: Path, state: Path, output: Path
) -> dict[str, str]:
    """What `entitle campaign …` reads: the database, MAGDA (the simulator), the register
    extract, the campaign and benefit folders, where letters go, and the password of the
    accounts `setup_database` makes (approve and issue sign in)."""
    return {
        **os.environ,
        "ENTITLE_DATABASE_URL": database,
        "ENTITLE_DATA_DIR": str(state),
        "ENTITLE_MAGDA_BASE_URL": registry,
        "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
        "ENTITLE_MAGDA_SENDER": SENDER,
        "ENTITLE_MAGDA_MAX_CONCURRENCY": "4",
        "ENTITLE_REGISTER_EXTRACT": str(city / "registry"),
        "ENTITLE_CAMPAIGN_OUTPUT": str(output),
        "ENTITLE_CAMPAIGNS": str(REPO / "campaigns" / "ghent"),
        "ENTITLE_BENEFITS": str(REPO / "benefits"),
        "ENTITLE_PASSWORD": PASSWORD,
        "COLUMNS": "200",
        # the runs are as of 2026-03-01: approved and issued on that day, whatever the clock
        "ENTITLE_CAMPAIGN_TODAY": "2026-03-01",
    }


def entitle(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `entitle ARGS…` as its own process; its exit code, output and errors."""
    return subprocess.run(
        [*ENTITLE, *args],
        cwd=REPO,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_entitle(*args: str, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`entitle ARGS…` in the background, its output in `log`."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            [*ENTITLE, *args], cwd=REPO, env=dict(env), stdout=sink, stderr=subprocess.STDOUT
        )


def setup_database(url: str, users: Mapping[str, str]) -> None:
    """Migrate the database and add these accounts (name → role, password `PASSWORD`)."""
    migrate(url)
    with engine_of(url) as engine, session_factory(engine)() as session:
        for name, role in users.items():
            add_user(session, name, PASSWORD, role)
        session.commit()


def assert_audit_intact(url: str) -> str:
    """`entitle audit verify` exits 0 on this database; its message."""
    verified = entitle("audit", "verify", "--url", url, env=os.environ)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit log intact" in verified.stdout
    return verified.stdout


@contextmanager
def engine_of(url: str) -> Iterator[Engine]:
    """A short-lived engine to inspect the database the processes wrote."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def assert_letters_unique(url: str) -> dict[str, int]:
    """No subject has two letters of a kind in a period, no coupon code twice; counts per kind."""
    with engine_of(url) as engine, engine.connect() as connection:
        keys = connection.execute(
            select(
                CampaignLetter.period,
                CampaignLetter.subject_pseudonym,
                CampaignLetter.kind,
                CampaignLetter.code,
            )
        ).all()
        per_kind = dict(
            connection.execute(
                select(CampaignLetter.kind, func.count()).group_by(CampaignLetter.kind)
            ).all()
        )
    assert len({(p, s, k) for p, s, k, _ in keys}) == len(keys), "a letter issued twice"
    codes = [c for *_, c in keys if c is not None]
    assert len(set(codes)) == len(codes), "a coupon code issued twice"
    return {str(k): int(n) for k, n in per_kind.items()}


def sqlite_integrity(url: str) -> str:
    """SQLite's own verdict on the file (`ok` when intact)."""
    with engine_of(url) as engine, engine.connect() as connection:
        return str(connection.execute(text("PRAGMA integrity_check")).scalar_one())


def admin(server_url: str, path: str, **body: object) -> None:
    """A call to the registry simulator's fault-injection API."""
    response = httpx.post(server_url + path, json=body, timeout=10)
    assert response.status_code == 200, response.text
