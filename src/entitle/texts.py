"""Dutch first, English second: the product's own words, looked up in gettext catalogues.

The words of the pages and of the letters are in `locale/<lang>/LC_MESSAGES/entitle.po` (msgid:
the key the code uses, e.g. `desk.title` or `letter.greeting`; msgstr: the text, `{name}`
placeholders), compiled to `.mo` by Babel at install (`make catalogues`, or the build's `build_py`
step). Here, beside the packages that use them, so the letters (`decide`) and the pages (`web`)
read one catalogue. A missing English message falls back to Dutch, a missing Dutch one to its key.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import read_mo

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

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


@cache
def texts(lang: str) -> Texts:
    """One language's `Texts`, made once."""
    return Texts(lang)


class Texts:
    """`t("key", name=value)`: one language's message, its placeholders filled in."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._catalogue = translations(self.lang)

    def __call__(self, key: str, **values: Any) -> str:
        text = self._catalogue.gettext(key)
        return text.format(**values) if values else text

    def plural(self, key: str, n: int, **values: Any) -> str:
        """`key` with `n` filled in, in the plural form the language takes for `n`."""
        return self._catalogue.ngettext(key, key, n).format(n=n, **values)
