"""Small parts of the web layer without a server: INSZ explanations, the message catalogue,
settings from the environment, local redirects, benefit loading."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entitle.insz import is_valid_insz, make_insz
from entitle.rules.folder import BenefitFolderError, load_benefits
from entitle.rules.logic import OUTCOMES
from entitle.store.decisions import OVERRIDE_REASONS
from entitle.web import inszcheck
from entitle.web.audit_pages import KINDS
from entitle.web.auth import ROLES
from entitle.web.curiosity import WINDOWS
from entitle.web.desk import UNKNOWN_NUMBER
from entitle.web.i18n import Translator, catalogue, negotiate
from entitle.web.pages import safe_next
from entitle.web.settings import Settings

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "entitle" / "web" / "templates"
VALID = ["93051822361", "85073003328", "17073003384", "00012556777", "98472899765", "01490700185"]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_have_no_problem(number: str) -> None:
    assert inszcheck.problem(number) is None
    formatted = f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}"
    assert inszcheck.problem(formatted) is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("85073003329", "check"),
        ("8507300332", "length"),
        ("850730033281", "length"),
        ("85a73003328", "chars"),
        ("85.17.30-033.28", "month"),
        ("85.87.30-033.28", "month"),
        ("85.07.32-033.28", "day"),
        ("85.07.30-000.28", "counter"),
        ("85.07.30-999.28", "counter"),
        ("85.02.30-033.90", "date"),  # 30 February
        ("01.02.29-033.34", "date"),  # 29 February 2001
        ("85.42.31-034.48", "date"),  # bis number, 31 February
        ("", "length"),
    ],
)
def test_problems_are_named(typed: str, code: str) -> None:
    found = inszcheck.problem(typed)
    assert found is not None and found[0] == code
    assert inszcheck.explain(typed, "nl") and inszcheck.explain(typed, "en")


@settings(max_examples=500)
@given(st.text(alphabet="0123456789.- /x", max_size=16))
def test_explanations_agree_with_the_validator(text: str) -> None:
    assert (inszcheck.problem(text) is None) == is_valid_insz(text)


@settings(max_examples=200)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.integers(min_value=1, max_value=998),
    st.sampled_from(["register", "bis", "test"]),
)
def test_made_numbers_are_valid_and_one_typo_is_caught(
    birth: date, counter: int, kind: str
) -> None:
    number = make_insz(birth, counter, kind=kind).normalized  # type: ignore[arg-type]
    assert inszcheck.problem(number) is None
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert inszcheck.problem(typo) is not None


def test_both_catalogues_have_the_same_messages() -> None:
    nl, en = catalogue("nl"), catalogue("en")
    assert set(nl) == set(en)
    for key in nl:
        assert set(re.findall(r"\{(\w+)\}", nl[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key


def test_every_message_the_templates_use_exists() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", template.read_text()))
    assert used, "templates use the catalogue"
    prefixes = {key for key in used if key.endswith(".")}
    known = set(catalogue("nl"))
    assert used - prefixes <= known, used - prefixes - known
    # keys built from a prefix and a value: every value has its message
    shown = (*OUTCOMES, UNKNOWN_NUMBER)  # a number the register does not know: its own words
    values = {
        "card.outcome.": shown,
        "card.outcome_explain.": shown,
        "card.outcome_icon.": shown,
        "card.letter.": ("coupon", "invitation"),
        "audit.kind.": KINDS,
        "override.reason.": OVERRIDE_REASONS,
        "role.": ROLES,
        "card.mark.": ("yes", "no", "unknown", "skipped", "protected"),
        "alert.": ("rate_limit",),  # the kinds `entitle.web.curiosity` raises
        "alert.window.": tuple(window for window, _seconds in WINDOWS),
        "weeks.": ("hold", "release", "hold_label", "release_label"),  # a week's batch
    }
    assert prefixes == set(values)
    for prefix, names in values.items():
        for name in names:
            assert prefix + name in known, prefix + name


def test_dutch_is_the_default_language() -> None:
    assert negotiate(None, "en-GB,en;q=0.9") == "nl"
    assert negotiate("en") == "en"
    assert negotiate("fr") == "nl"
    t = Translator("en")
    assert t("card.outcome.eligible") == "Eligible"
    assert t.day(date(2025, 12, 31)) == "31 December 2025"
    assert Translator("nl").day(date(2025, 12, 31)) == "31 december 2025"
    assert Translator("nl").money(105.0) == "€\xa0105,00"
    assert t("no.such.key") == "no.such.key"


def test_settings_from_the_environment(tmp_path: Path) -> None:
    env = {
        "ENTITLE_DATABASE_URL": "sqlite:///x.db",
        "ENTITLE_MAGDA_BASE_URL": "http://registry:8089",
        "ENTITLE_BENEFITS": str(tmp_path),
        "ENTITLE_DATA_DIR": str(tmp_path / "state"),
        "ENTITLE_SECURE_COOKIES": "true",
        "ENTITLE_CHECKS_PER_MINUTE": "12",
    }
    settings = Settings.from_env(env)
    assert settings.database_url == "sqlite:///x.db"
    assert settings.registry_url == "http://registry:8089"
    assert settings.benefits == tmp_path
    assert settings.data_dir == tmp_path / "state"
    assert settings.secure_cookies == "always"
    assert settings.checks_per_minute == 12
    defaults = Settings.from_env({})
    assert defaults.benefits == Path("benefits")
    assert defaults.database_url is None and defaults.secure_cookies == "auto"
    assert Settings.from_env({}, checks_per_minute=5).checks_per_minute == 5
    for bad in ({"ENTITLE_CHECKS_PER_MINUTE": "many"}, {"ENTITLE_SECURE_COOKIES": "maybe"}):
        with pytest.raises(ValueError, match="ENTITLE_"):
            Settings.from_env(bad)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/desk", "/desk"),
        ("/audit/alerts", "/audit/alerts"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_redirects_stay_local(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_benefit_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(BenefitFolderError, match="does not exist"):
        load_benefits(tmp_path / "nothing")
    with pytest.raises(BenefitFolderError, match="no benefit files"):
        load_benefits(tmp_path)
    (tmp_path / "broken.yaml").write_text("id: x\n", encoding="utf-8")
    with pytest.raises(BenefitFolderError, match="not valid"):
        load_benefits(tmp_path)
    benefits = load_benefits(Path(__file__).resolve().parents[1] / "benefits" / "ghent")
    assert set(benefits) == {
        "ghent.uitpas",
        "ghent.garbage-bags",
        "ghent.school-tariff",
        "ghent.lez",
    }


def test_serve_refuses_a_bad_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from entitle.cli.web import web_app

    # `serve` exports its options to the environment for its workers: restore it afterwards
    for name in ("ENTITLE_BENEFITS", "ENTITLE_DATABASE_URL", "ENTITLE_MAGDA_BASE_URL"):
        monkeypatch.setenv(name, "")
    monkeypatch.delenv("ENTITLE_BENEFITS")
    runner = CliRunner()
    missing = runner.invoke(web_app, ["serve", "--benefits", str(tmp_path / "none")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    tls = runner.invoke(web_app, ["serve", "--tls-cert", str(tmp_path / "c.pem")])
    assert tls.exit_code == 2
    assert "--tls-cert and --tls-key go together" in tls.output


def test_the_audit_filter_offers_every_kind_the_store_writes() -> None:
    """A kind missing from the filter (retention was) made filtering by it show every entry."""
    from entitle.store.audit import KINDS as STORE_KINDS

    assert set(KINDS) == STORE_KINDS
    assert len(KINDS) == len(set(KINDS))
