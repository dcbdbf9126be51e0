"""MagdaSettings: defaults, environment (ENTITLE_MAGDA_*), TOML/YAML file, endpoints, capacities."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from entitle.sources.magda import MagdaConfigError, MagdaSettings, load_settings
from entitle.sources.magda.settings import CONFIG_FILE_ENV


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("ENTITLE_MAGDA_"):
            monkeypatch.delenv(key)


def test_defaults() -> None:
    settings = MagdaSettings()
    assert settings.max_questions == 5
    assert settings.retry.max_attempts >= 1
    assert settings.endpoint("GeefPersoon") == "http://127.0.0.1:8089/GeefPersoon/02.02.0000"
    assert settings.endpoint("Onderwijs.GeefHistoriekInschrijving") == (
        "http://127.0.0.1:8089/GeefHistoriekInschrijving/02.01.0000"
    )


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTITLE_MAGDA_BASE_URL", "https://magda.example/api/")
    monkeypatch.setenv("ENTITLE_MAGDA_SENDER", "gent.be/entitle")
    monkeypatch.setenv("ENTITLE_MAGDA_CAPACITIES", '{"social-benefit-uitpas": "ipdc2858"}')
    monkeypatch.setenv("ENTITLE_MAGDA_RETRY__MAX_ATTEMPTS", "5")
    monkeypatch.setenv("ENTITLE_MAGDA_BREAKER__RESET_TIMEOUT", "7.5")
    monkeypatch.setenv("ENTITLE_MAGDA_TLS__CERT_FILE", "/etc/entitle/client.pem")
    settings = MagdaSettings()
    assert settings.base_url == "https://magda.example/api"
    assert settings.sender == "gent.be/entitle"
    assert settings.capacity("social-benefit-uitpas") == "ipdc2858"
    assert settings.retry.max_attempts == 5
    assert settings.breaker.reset_timeout == 7.5
    assert settings.tls.cert_file == Path("/etc/entitle/client.pem")
    assert settings.endpoint("GeefPersoon") == "https://magda.example/api/GeefPersoon/02.02.0000"


def test_toml_file_and_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "magda.toml"
    path.write_text(
        """
[magda]
base_url = "https://file.example"
sender = "from-file"
url_template = "{base_url}/{domain}/{service}-{short_version}"
default_capacity = "101"

[magda.capacities]
social-benefit-lez = "ipdc88"

[magda.retry]
max_attempts = 2
base_delay = 0.01

[magda.endpoints]
GeefSociaalStatuut = "https://ksz.example/statuut"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("ENTITLE_MAGDA_SENDER", "from-env")
    settings = load_settings(path, read_timeout=3.0)
    assert settings.base_url == "https://file.example"
    assert settings.sender == "from-env"  # the environment beats the file
    assert settings.read_timeout == 3.0  # keyword arguments beat both
    assert settings.retry.max_attempts == 2
    assert settings.capacity("social-benefit-lez") == "ipdc88"
    assert settings.capacity("anything-else") == "101"
    assert settings.endpoint("GeefPersoon") == "https://file.example/Persoon/GeefPersoon-02.02"
    assert settings.endpoint("GeefSociaalStatuut") == "https://ksz.example/statuut"
    # the file is read only inside load_settings
    assert MagdaSettings().base_url == "http://127.0.0.1:8089"


def test_yaml_file_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "magda.yaml"
    path.write_text(
        "base_url: http://sim.local:9000\n"
        "capacities:\n  social-benefit-garbage-bags: ipdc57648\n"
        "breaker:\n  failure_threshold: 3\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(CONFIG_FILE_ENV, str(path))
    settings = MagdaSettings()
    assert settings.base_url == "http://sim.local:9000"
    assert settings.breaker.failure_threshold == 3
    assert settings.capacity("social-benefit-garbage-bags") == "ipdc57648"


def test_missing_capacity_is_a_config_error() -> None:
    with pytest.raises(MagdaConfigError, match="social-benefit-uitpas"):
        MagdaSettings().capacity("social-benefit-uitpas")


def test_bad_files_and_values(tmp_path: Path) -> None:
    with pytest.raises(MagdaConfigError):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(MagdaConfigError):
        load_settings(bad)
    other = tmp_path / "magda.ini"
    other.write_text("[x]", encoding="utf-8")
    with pytest.raises(MagdaConfigError):
        load_settings(other)
    with pytest.raises(ValidationError):
        MagdaSettings(max_questions=6)
    with pytest.raises(ValidationError):
        MagdaSettings(max_concurrency=0)
