"""Dutch first, English second: the pages' words from the gettext catalogues, Babel's formats.

The interface's own words are in the product's catalogues (`entitle.texts`: the lookup, and where
the `.po` files are). The benefits' words (titles, condition texts, guidance) come from the
benefit files in both languages. Tests check that both catalogues have the same keys and every
key the code uses.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from entitle.rules.periods import Period, period_words

# DEFAULT_LANGUAGE, LANGUAGES and catalogue: re-exported (`x as x`), the pages import them from here
from entitle.texts import DEFAULT_LANGUAGE as DEFAULT_LANGUAGE
from entitle.texts import LANGUAGES as LANGUAGES
from entitle.texts import Texts
from entitle.texts import catalogue as catalogue

# the time zone every page, letter and "today" of the desk is in
BRUSSELS = ZoneInfo("Europe/Brussels")

LOCALES = {"nl": "nl_BE", "en": "en_BE"}
LANG_COOKIE = "entitle_lang"


def negotiate(cookie: str | None, accept_language: str | None = None) -> str:
    """The language: the cookie if set, else Dutch (the city's language), whatever the browser."""
    if cookie in LANGUAGES:
        assert cookie is not None
        return cookie
    return DEFAULT_LANGUAGE


def both(key: str, **values: Any) -> dict[str, str]:
    """A message in every language (for what the API gives in both), by language."""
    return {lang: Translator(lang)(key, **values) for lang in LANGUAGES}


class Translator(Texts):
    """`t("key", name=value)` for one language, with formatting helpers for templates."""

    def __init__(self, lang: str) -> None:
        super().__init__(lang)
        self.locale = LOCALES[self.lang]

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
