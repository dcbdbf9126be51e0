"""`entitle.settings`: one model of every ``ENTITLE_*`` setting, read when needed, documented in
the operations guide's tables (checked here both ways: a setting missing from the guide, or a row
naming no setting, fails), and the command-line options that fall back to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from entitle.datadir import data_dir
from entitle.settings import (
    EntitleSettings,
    RetentionPolicy,
    SettingsError,
    child_environment,
    env_name,
    settings,
)

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "operations.md"
ROW = re.compile(r"^\| `(ENTITLE_[A-Z0-9_*]+)` \|(.*)\|\s*$")
PREFIX = "ENTITLE_"
REFERENCED = {"ENTITLE_MAGDA_*", "ENTITLE_RETENTION_*"}  # models of their own, tables of their own


def guide_rows(heading: str) -> dict[str, str]:
    """The rows of the first table under `heading`: variable -> its last cell (the default)."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        found = ROW.match(line)
        if found:
            rows[found.group(1)] = found.group(2).split("|")[-1].strip()
        elif rows and not line.startswith("|"):
            break
    return rows


def shown(default: object) -> str:
    """A default as the guide writes it."""
    return str(default).lower() if isinstance(default, bool) else str(default)


def table_gaps(fields: list[str], rows: dict[str, str]) -> tuple[list[str], list[str]]:
    """Variables of `fields` missing from the table, and rows naming no field."""
    model = {PREFIX + field.upper() for field in fields}
    return sorted(model - set(rows)), sorted(set(rows) - model - REFERENCED)


def test_the_guide_documents_every_setting_and_no_other() -> None:
    rows = guide_rows("## Settings")
    assert table_gaps(list(EntitleSettings.model_fields), rows) == ([], [])
    assert set(rows) >= REFERENCED


def test_the_table_check_sees_both_kinds_of_gap() -> None:
    fields = [*EntitleSettings.model_fields, "colour"]
    fields.remove("truth")
    gaps = table_gaps(fields, guide_rows("## Settings"))
    assert gaps == (["ENTITLE_COLOUR"], ["ENTITLE_TRUTH"])


def test_the_guide_gives_the_models_defaults() -> None:
    rows = guide_rows("## Settings")
    wrong = {
        env_name(name): (shown(field.default), rows[env_name(name)])
        for name, field in EntitleSettings.model_fields.items()
        if field.default is not None and shown(field.default) not in rows[env_name(name)]
    }
    assert wrong == {}


def test_the_guide_documents_every_retention_period_and_no_other() -> None:
    rows = guide_rows("### Retention")
    model = {f"ENTITLE_RETENTION_{name.upper()}" for name in RetentionPolicy.model_fields}
    assert set(rows) == model
    for name, field in RetentionPolicy.model_fields.items():
        assert rows[f"ENTITLE_RETENTION_{name.upper()}"] == shown(field.default)


def test_every_setting_is_described() -> None:
    for model in (EntitleSettings, RetentionPolicy):
        assert [n for n, f in model.model_fields.items() if not f.description] == []


def test_a_change_of_the_environment_takes_effect_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTITLE_DATA_DIR", str(tmp_path / "a"))
    assert data_dir() == tmp_path / "a"
    monkeypatch.setenv("ENTITLE_DATA_DIR", str(tmp_path / "b"))
    assert data_dir() == tmp_path / "b"
    monkeypatch.delenv("ENTITLE_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "entitle"


def test_defaults_empty_variables_and_a_given_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTITLE_CAMPAIGNS", "from-the-environment")
    assert settings().campaigns == Path("from-the-environment")
    given_env = {"ENTITLE_CAMPAIGNS": "", "ENTITLE_CHECKS_PER_MINUTE": "7"}
    read = settings(given_env)
    assert read.campaigns == Path("campaigns")  # empty: unset; the environment is not read
    assert read.checks_per_minute == 7
    assert not read.is_set("campaigns") and read.is_set("checks_per_minute")
    assert settings({"entitle_campaigns": "x"}).campaigns == Path("campaigns")  # capitals only
    assert settings({"ENTITLE_MUNICIPALITY": "  "}).municipality is None


def test_campaign_folders_default_to_the_data_folder(tmp_path: Path) -> None:
    read = settings({"ENTITLE_DATA_DIR": str(tmp_path)})
    assert read.register_folder() == tmp_path / "register"
    assert read.output_folder() == tmp_path / "campaigns"
    assert read.output_folder(tmp_path / "other") == tmp_path / "other" / "campaigns"
    set_ = settings({"ENTITLE_REGISTER_EXTRACT": "r", "ENTITLE_CAMPAIGN_OUTPUT": "o"})
    assert (set_.register_folder(tmp_path), set_.output_folder(tmp_path)) == (Path("r"), Path("o"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENTITLE_CHECKS_PER_MINUTE", "many"),
        ("ENTITLE_CHECKS_PER_MINUTE", "0"),
        ("ENTITLE_SECURE_COOKIES", "maybe"),
        ("ENTITLE_CAMPAIGN_MAX_FAILURE_SHARE", "-1"),
        ("ENTITLE_CAMPAIGN_WORKERS", "17"),
        ("ENTITLE_CHECK_REASON_REQUIRED", "perhaps"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}={value!r}: "):
        settings({name: value})


def test_a_password_is_never_echoed() -> None:
    # a SecretStr accepts any text; the message would hide it if a rule ever refused one
    read = settings({"ENTITLE_PASSWORD": "s3cret"})
    assert read.password is not None and "s3cret" not in repr(read)


@given(st.sampled_from(["auto", "true", "yes", "1", "always", "false", "no", "0", "never"]))
def test_the_cookie_words(word: str) -> None:
    expected = {"auto": "auto", "true": "always", "yes": "always", "1": "always"}
    expected |= {"always": "always", "false": "never", "no": "never", "0": "never"}
    expected["never"] = "never"
    assert settings({"ENTITLE_SECURE_COOKIES": word.upper()}).secure_cookies == expected[word]


def test_a_child_process_gets_no_entitle_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTITLE_DATA_DIR", "/somewhere")
    monkeypatch.setenv("SOMETHING_ELSE", "kept")
    env = child_environment(ENTITLE_MUNICIPALITY="vlasbeke")
    assert env["SOMETHING_ELSE"] == "kept" and env["ENTITLE_MUNICIPALITY"] == "vlasbeke"
    assert "ENTITLE_DATA_DIR" not in env


def test_an_option_left_out_falls_to_the_setting_when_the_command_runs(tmp_path: Path) -> None:
    from entitle.cli.main import app

    runner = CliRunner()
    env = {"ENTITLE_BENEFITS": str(tmp_path / "from-env")}
    left_out = runner.invoke(app, ["rules", "plan", "nosuch"], env=env)
    assert f"no benefit 'nosuch' in {tmp_path / 'from-env'}" in left_out.output
    given_too = ["rules", "plan", "nosuch", "--benefits", str(tmp_path / "given")]
    assert f"in {tmp_path / 'given'}" in runner.invoke(app, given_too, env=env).output
    bad = runner.invoke(app, ["rules", "plan", "x"], env=env | {"ENTITLE_CAMPAIGN_WORKERS": "x"})
    assert bad.exit_code == 2 and "ENTITLE_CAMPAIGN_WORKERS='x'" in bad.output
