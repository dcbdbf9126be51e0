"""The gettext catalogues of the pages and the letters
(src/entitle/locale/<lang>/LC_MESSAGES/entitle.po): both languages have every message, every key
the code uses is in them, and the compiled `.mo` the pages and letters read is the `.po` as it
stands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from entitle.rules.decision import ROLES
from entitle.texts import DOMAIN, LANGUAGES, LOCALE_DIR
from entitle.web.i18n import Translator

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "src" / "entitle" / "web" / "templates"
# as babel.cfg documents for `pybabel extract`
KEYWORDS = {"t": None, "plural": (1, 1)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# keys the code builds at run time, which extraction cannot find: prefix -> every value (the
# templates' own: tests/test_web_units.py)
BUILT = {
    "member.role.": set(ROLES.values()),  # entitle.decide.whose
    "month.": {str(month) for month in range(1, 13)},  # entitle.decide.letters.date_words
}


def source(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        return read_po(po, locale=lang, domain=DOMAIN)


def entries(catalogue: Catalog) -> dict[str, Message]:
    return {
        message.id if isinstance(message.id, str) else message.id[0]: message
        for message in catalogue
        if message.id
    }


def forms(message: Message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


@pytest.fixture(scope="module")
def used() -> dict[str, bool]:
    """Every key `pybabel extract` finds in the code and the templates (True: a plural message)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {
        (message if isinstance(message, str) else message[0]): not isinstance(message, str)
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS
        )
    }
    # Jinja's extractor sees only calls of a name (`t("key")`), not `t.plural("key", n)`
    for template in TEMPLATES.glob("*.html"):
        for key in re.findall(r"""\bt\.plural\(\s*["']([a-z_.]+)["']""", template.read_text()):
            found[key] = True
    return found


def test_both_languages_have_every_message_translated() -> None:
    nl, en = entries(source("nl")), entries(source("en"))
    assert sorted(set(nl) ^ set(en)) == [], "a message in one language only"
    for key, message in nl.items():
        other = en[key]
        assert message.pluralizable == other.pluralizable, key
        for lang, entry in (("nl", message), ("en", other)):
            assert all(forms(entry)) and not entry.fuzzy, f"{lang}: {key} untranslated or fuzzy"
        for ours, theirs in zip(forms(message), forms(other), strict=True):
            assert set(PLACEHOLDER.findall(ours)) == set(PLACEHOLDER.findall(theirs)), key


def test_every_key_the_code_uses_is_in_both_catalogues(used: dict[str, bool]) -> None:
    assert len(used) > 300, "extraction finds the keys (babel.cfg)"
    assert {"desk.title", "nav.desk", "weeks.title", "nav.account"} <= set(used)
    for lang in LANGUAGES:
        known = entries(source(lang))
        assert sorted(set(used) - set(known)) == [], lang
        plural = {key for key, message in known.items() if message.pluralizable}
        assert {key for key, is_plural in used.items() if is_plural} == plural, lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_built_at_run_time_is_in_the_catalogue(lang: str) -> None:
    known = entries(source(lang))
    built = {prefix + value for prefix, values in BUILT.items() for value in values}
    assert sorted(built - set(known)) == []
    assert {key for key in known if key.startswith(tuple(BUILT))} == built, "a key no code uses"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_is_the_source(lang: str) -> None:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as mo:
        compiled = {key: forms(message) for key, message in entries(read_mo(mo)).items()}
    written = {key: forms(message) for key, message in entries(source(lang)).items()}
    assert compiled == written, "the .mo is older than the .po: run `make catalogues`"


def test_plural_forms_follow_the_count() -> None:
    nl, en = Translator("nl"), Translator("en")
    assert nl.plural("card.questions", 1) == "1 vraag aan de bronnen"
    assert nl.plural("card.questions", 3) == "3 vragen aan de bronnen"
    assert en.plural("audit.results", 0) == "0 entries"
    assert en.plural("audit.results", 1) == "1 entry"


def test_a_key_without_a_message_shows_the_key_and_values_their_code() -> None:
    t = Translator("en")
    assert t("no.such.key") == "no.such.key"
    assert t.value("no_such_code") == "no_such_code"
    assert t.value("reduced") != "reduced"
