"""Why an INSZ is invalid, as a code the officer's language can explain.

`entitle.insz.parse_insz` decides validity; this mirrors its checks step by step only to say
*why* in Dutch or English (the browser's ``static/desk.js`` applies the same steps as you type,
with the same words: the catalogues' ``insz.<code>``).
"""

from __future__ import annotations

from entitle.insz import InvalidInszError, parse_insz
from entitle.web.i18n import Translator

SEPARATORS = frozenset(".- /")

# the problems' codes; their words are the catalogues' `insz.<code>` ({n}, {mm} … filled in)
PROBLEMS = ("chars", "length", "month", "day", "counter", "date", "check")


def problem(text: str) -> tuple[str, dict[str, str]] | None:
    """None when valid; else a problem code and the values its message shows."""
    try:
        parse_insz(text)
    except InvalidInszError as exc:
        error = str(exc)
    else:
        return None
    if any(not (c.isdigit() and c.isascii()) and c not in SEPARATORS for c in text):
        return "chars", {}
    digits = "".join(c for c in text if c not in SEPARATORS)
    if len(digits) != 11:
        return "length", {"n": str(len(digits))}
    mm, dd, sss = int(digits[2:4]), int(digits[4:6]), int(digits[6:9])
    if mm % 20 > 12 or mm >= 80:
        return "month", {"mm": digits[2:4]}
    if dd > 31:
        return "day", {"dd": digits[4:6]}
    if sss in (0, 999):
        return "counter", {"sss": digits[6:9]}
    if error.startswith("INSZ date"):
        return "date", {"dd": digits[4:6], "mm": f"{mm % 20:02d}"}
    return "check", {}


def explain(text: str, lang: str) -> str | None:
    """The reason in words, or None when the number is valid."""
    found = problem(text)
    if found is None:
        return None
    code, values = found
    return Translator(lang)(f"insz.{code}", **values)


def invalid_message(text: str, t: Translator) -> str | None:
    """The officer's message for an invalid number (``desk.insz_invalid`` with the reason), or
    None when the number is valid."""
    why = explain(text, t.lang)
    return None if why is None else t("desk.insz_invalid", why=why)
