"""`entitle magda selftest` against the registry simulator (a real process requiring signed
requests and inscriptions), and `entitle magda certificate`."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_magda_signing import _make_ca
from test_registry_city import City, write_city
from test_registry_server import Server, running_server
from typer.testing import CliRunner

from entitle.cli.main import app

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def server(city: City, ca: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("selftest") / "server.log"
    options = (
        "--require-signature",
        "--signature-ca",
        str(ca / "ca.crt"),
        "--require-inscriptions",
    )
    with running_server(city.path, log, *options) as running:
        yield running


def _env(server: Server, ca: Path) -> dict[str, str]:
    return {
        "ENTITLE_MAGDA_BASE_URL": server.url,
        "ENTITLE_MAGDA_SENDER": "gent.be/entitle",
        "ENTITLE_MAGDA_DEFAULT_CAPACITY": "ENTITLE",
        "ENTITLE_MAGDA_REQUIRE_INSCRIPTIONS": "true",
        "ENTITLE_MAGDA_SIGNING__ENABLED": "true",
        "ENTITLE_MAGDA_SIGNING__PKCS12_FILE": str(ca / "signing.p12"),
        "ENTITLE_MAGDA_SIGNING__PASSPHRASE_FILE": str(ca / "signing.pass"),
    }


def test_selftest_report(server: Server, ca: Path, city: City, tmp_path: Path) -> None:
    persons = tmp_path / "persons.txt"
    persons.write_text(f"{city.ref}\n{city.leefloner}  # a comment\n\n", encoding="utf-8")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "magda",
            "selftest",
            "--environment",
            "test",
            "--persons",
            str(persons),
            "--benefits",
            str(REPO / "benefits" / "ghent"),
            "--calls",
            "3",
            "--out",
            str(out),
        ],
        env=_env(server, ca),
    )
    assert result.exit_code == 0, result.output
    with (out / "selftest-test.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    services = {row["service"] for row in rows}
    # the Ghent benefits read statuses, register and household data; inscriptions are required
    assert {
        "SocZek.GeefSociaalStatuut",
        "Persoon.GeefPersoon",
        "Repertorium.RegistreerInschrijving",
    } <= services
    per_service: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["service"], row["purpose"])
        per_service[key] = per_service.get(key, 0) + 1
        assert row["http_status"] == "200"
        assert row["outcome"] in ("ok", "partial", "no_data")  # signed: never refused
        assert row["reference"] and float(row["milliseconds"]) >= 0
    assert set(per_service.values()) == {3}
    markdown = (out / "selftest-test.md").read_text(encoding="utf-8")
    assert markdown.startswith("# MAGDA onboarding self-test — test")
    assert (
        "| Repertorium.RegistreerInschrijving | 02.00.0000 | ENTITLE | 12 |" in markdown
    )  # 4 purposes
    assert city.ref not in markdown and city.ref not in (out / "selftest-test.csv").read_text()


def test_selftest_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["magda", "selftest", "--environment", "test", "--persons", str(tmp_path / "none.txt")],
    )
    assert result.exit_code == 2
    assert "--persons" in result.output


def test_certificate_command(ca: Path, tmp_path: Path) -> None:
    env = {
        "ENTITLE_MAGDA_SIGNING__ENABLED": "true",
        "ENTITLE_MAGDA_SIGNING__KEY_FILE": str(ca / "signing.key"),
        "ENTITLE_MAGDA_SIGNING__CERT_FILE": str(ca / "signing.crt"),
    }
    valid = CliRunner().invoke(app, ["magda", "certificate", "--json"], env=env)
    assert valid.exit_code == 0, valid.output
    assert '"state": "ok"' in valid.output
    short = _make_ca(tmp_path / "short", days=3)
    soon = CliRunner().invoke(
        app,
        ["magda", "certificate"],
        env={**env, "ENTITLE_MAGDA_SIGNING__KEY_FILE": str(short / "signing.key"),
             "ENTITLE_MAGDA_SIGNING__CERT_FILE": str(short / "signing.crt")},
    )  # fmt: skip
    assert soon.exit_code == 1 and "renew it now" in soon.output
    missing = CliRunner().invoke(
        app,
        ["magda", "certificate"],
        env={**env, "ENTITLE_MAGDA_SIGNING__KEY_FILE": str(tmp_path / "gone.key")},
    )
    assert missing.exit_code == 2
    assert "signing.key_file (ENTITLE_MAGDA_SIGNING__KEY_FILE): no file" in missing.output


def test_start_up_warns_about_the_certificate(
    ca: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entitle.decide.wiring import signing_warning

    short = _make_ca(tmp_path / "short", days=3)
    monkeypatch.setenv("ENTITLE_MAGDA_SIGNING__ENABLED", "true")
    monkeypatch.setenv("ENTITLE_MAGDA_SIGNING__KEY_FILE", str(ca / "signing.key"))
    monkeypatch.setenv("ENTITLE_MAGDA_SIGNING__CERT_FILE", str(ca / "signing.crt"))
    assert signing_warning() is None
    monkeypatch.setenv("ENTITLE_MAGDA_SIGNING__KEY_FILE", str(short / "signing.key"))
    monkeypatch.setenv("ENTITLE_MAGDA_SIGNING__CERT_FILE", str(short / "signing.crt"))
    warning = signing_warning()
    assert warning is not None and warning.startswith("warning:") and "renew" in warning
    monkeypatch.setenv("ENTITLE_MAGDA_SIGNING__ENABLED", "false")
    assert signing_warning() is None
