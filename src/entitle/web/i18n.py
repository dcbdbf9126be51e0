"""Dutch first, English second: the interface's words from gettext catalogues, Babel's formats.

The interface's own words are in `locale/<lang>/LC_MESSAGES/entitle.po` (msgid: the key the code
uses, e.g. `desk.title`; msgstr: the text, `{name}` placeholders), compiled to `.mo` by Babel at
install (`make catalogues`, or the build's `build_py` step). The benefits' words (titles, condition
texts, guidance) come from the benefit files in both languages. A missing English message falls
back to Dutch, a missing Dutch one to its key (tests check that both catalogues have the same keys
and every key the code uses).
"""

from __future__ import annotations

import gettext
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import read_mo
from babel.numbers import format_currency, format_decimal

from entitle.rules.periods import Period, period_words

# the time zone every page, letter and "today" of the desk is in
BRUSSELS = ZoneInfo("Europe/Brussels")

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LOCALES = {"nl": "nl_BE", "en": "en_BE"}
LANG_COOKIE = "entitle_lang"

# the compiled catalogues: <LOCALE_DIR>/<lang>/LC_MESSAGES/<DOMAIN>.mo
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "entitle"


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    """The compiled catalogue of one language; English falls back to Dutch."""
    try:
        found = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
    except FileNotFoundError as missing:
        raise RuntimeError(
            f"no compiled catalogue for {lang!r} in {LOCALE_DIR}: run `make catalogues`"
        ) from missing
    assert isinstance(found, gettext.GNUTranslations)
    if lang != DEFAULT_LANGUAGE:
        found.add_fallback(translations(DEFAULT_LANGUAGE))
    return found


@cache
def catalogue(lang: str) -> dict[str, str]:
    """One language's compiled messages, key -> text; a plural message gives its forms under
    `key` (the general form, as for n = 2) and `key.one` (n = 1). For checks and docs."""
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as compiled:
        messages = read_mo(compiled)
    found: dict[str, str] = {}
    for message in messages:
        if not message.id:
            continue  # the header
        if isinstance(message.id, str):
            found[message.id] = str(message.string)
        else:
            forms = tuple(message.string or ())
            found[message.id[0] + ".one"], found[message.id[0]] = forms[0], forms[-1]
    return found


def negotiate(cookie: str | None, accept_language: str | None = None) -> str:
    """The language: the cookie if set, else Dutch (the city's language), whatever the browser."""
    if cookie in LANGUAGES:
        assert cookie is not None
        return cookie
    return DEFAULT_LANGUAGE


def both(key: str, **values: Any) -> dict[str, str]:
    """A message in every language (for what the API gives in both), by language."""
    return {lang: Translator(lang)(key, **values) for lang in LANGUAGES}


class Translator:
    """`t("key", name=value)` for one language, with formatting helpers for templates."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.locale = LOCALES[self.lang]
        self._catalogue = translations(self.lang)

    def __call__(self, key: str, **values: Any) -> str:
        text = self._catalogue.gettext(key)
        return text.format(**values) if values else text

    def plural(self, key: str, n: int, **values: Any) -> str:
        """`key` with `n` filled in, in the plural form the language takes for `n`."""
        return self._catalogue.ngettext(key, key, n).format(n=n, **values)

    def value(self, value: object) -> str:
        """An output's code as people read it (e.g. the LEZ tariff "reduced"): `value.<code>`
        when the catalogue has it, else the value as decided."""
        text = str(value)
        key = f"value.{text}"
        found = self._catalogue.gettext(key)
        return text if found == key else found

    def text(self, texts: dict[str, str] | None) -> str:
        """A bilingual text from a benefit file."""
        if not texts:
            return ""
        return texts.get(self.lang) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()))

    def day(self, value: date | None) -> str:
        if value is None:
            return ""
        return format_date(value, format="long", locale=self.locale)

    def moment(self, value: datetime | str | None) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
        else:
            moment = value
        return format_datetime(moment, format="medium", tzinfo=BRUSSELS, locale=self.locale)

    def period(self, period: Period) -> str:
        """The period a decision is for, in words ("schooljaar 2025-2026": `period_words`)."""
        return period_words(period, self.lang, self.day)

    def money(self, euros: float) -> str:
        return format_currency(euros, "EUR", locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)
