"""Shared fixtures: database URLs for SQLite and PostgreSQL.

`database_url` runs a test on both databases (empty, not migrated; `migrated_database_url` is
the same after `entitle.store.db.migrate`). PostgreSQL: one fresh database per test session
(`entitle_test_<random>`, dropped at the end) on `ENTITLE_TEST_POSTGRES_URL`, else on
postgres@127.0.0.1:5432; each test gets its own schema in it. When no server answers the
PostgreSQL variants are skipped — but fail under `CI=true` or with `ENTITLE_TEST_POSTGRES_URL`
set: there a missing server is an error, not a reason to test less.

`ghent_demo_run`: one visit of the Ghent demo per session (minutes of background campaigns), for
the end-to-end test and the privacy scan (`test_demo.run_ghent_demo`). `followed_template`: a
city followed up for four weeks, built once per session; each user works on a copy.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# The tests talk to the registry simulator in development mode: unsigned requests, as the
# settings must say explicitly (signing is on by default). The tests of signing, and the demo
# (which starts its simulator with --require-signature), turn it on with the test CA.
os.environ.setdefault("ENTITLE_MAGDA_SIGNING__ENABLED", "false")


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _connect_args(url: URL) -> dict[str, Any]:
    args: dict[str, Any] = {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "dbname": url.database or "postgres",
        "connect_timeout": 5,
        "autocommit": True,
    }
    if url.password:
        args["password"] = url.password
    return args


class PostgresDatabase:
    """A database created for this test session, and an autocommit connection to it."""

    def __init__(self, url: URL, connection: psycopg.Connection[Any]) -> None:
        self.url = url
        self.connection = connection

    def fresh_schema_url(self) -> tuple[str, str]:
        schema = f"t_{secrets.token_hex(6)}"
        self.connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        url = self.url.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False), schema

    def drop_schema(self, schema: str) -> None:
        self.connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    """A fresh PostgreSQL database for the whole test session (dropped afterwards)."""
    configured = os.environ.get("ENTITLE_TEST_POSTGRES_URL")
    server = make_url(configured or DEFAULT_POSTGRES_URL).set(drivername="postgresql+psycopg")
    try:
        admin = psycopg.connect(**_connect_args(server))
    except psycopg.OperationalError as exc:
        message = f"no PostgreSQL at {server.render_as_string(hide_password=True)}: {exc}"
        if configured or _ci():
            pytest.fail(message + " (CI or ENTITLE_TEST_POSTGRES_URL set: PostgreSQL required)")
        pytest.skip(message)
    name = f"entitle_test_{secrets.token_hex(5)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            url = server.set(database=name)
            with psycopg.connect(**_connect_args(url)) as connection:
                yield PostgresDatabase(url, connection)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database file of this test."""
    return f"sqlite:///{tmp_path / 'entitle.db'}"


@pytest.fixture
def postgresql_url(postgres_database: PostgresDatabase) -> Iterator[str]:
    """An empty PostgreSQL schema of this test (in the session's database)."""
    url, schema = postgres_database.fresh_schema_url()
    yield url
    postgres_database.drop_schema(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def migrated_database_url(database_url: str) -> str:
    """`database_url` with the schema migrated to the newest revision."""
    from entitle.store.db import migrate

    migrate(database_url)
    return database_url


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with test-sized costs (production keeps the library's defaults)."""
    from argon2 import PasswordHasher

    from entitle.store import users

    monkeypatch.setattr(
        users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    monkeypatch.setattr(users, "_dummy_hash", None)


@pytest.fixture(scope="session")
def ghent_demo_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`entitle demo` (Ghent) started, visited by every role, its draft issued, then stopped: a
    `test_demo.GhentDemoRun`, shared by test_demo.py and test_privacy_scan.py."""
    from test_demo import run_ghent_demo

    return run_ghent_demo(tmp_path_factory.mktemp("ghent-demo") / "demo")


@pytest.fixture(scope="session")
def followed_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`test_follow_up.followed_city` built once (a minute of weekly follow-up): its folder and
    its (stopped) simulator's URL, for `test_follow_up.followed_copy`. Never changed itself."""
    from test_follow_up import followed_city

    root = tmp_path_factory.mktemp("followed-template")
    ctx, _ = followed_city(root)
    ctx.factory.kw["bind"].dispose()  # the database whole in its file before it is copied
    assert ctx.registry is not None
    return root, ctx.registry
