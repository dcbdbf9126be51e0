"""Why an INSZ is invalid, as a code the officer's language can explain.

`entitle.insz.parse_insz` decides validity; this mirrors its checks step by step only to say
*why* in Dutch or English (the browser's ``static/desk.js`` applies the same steps as you type).
"""

from __future__ import annotations

from entitle.insz import InvalidInszError, parse_insz

SEPARATORS = frozenset(".- /")

PROBLEMS: dict[str, dict[str, str]] = {
    "chars": {
        "nl": "enkel cijfers, punten, spaties en een streepje zijn toegelaten",
        "en": "only digits, dots, spaces and a dash are allowed",
    },
    "length": {
        "nl": "een rijksregisternummer heeft 11 cijfers (nu {n})",
        "en": "a national register number has 11 digits (now {n})",
    },
    "month": {
        "nl": "de maand ({mm}) bestaat niet",
        "en": "the month ({mm}) does not exist",
    },
    "day": {"nl": "de dag ({dd}) bestaat niet", "en": "the day ({dd}) does not exist"},
    "counter": {
        "nl": "het volgnummer ({sss}) is niet geldig",
        "en": "the serial number ({sss}) is not valid",
    },
    "date": {
        "nl": "de geboortedatum ({dd}/{mm}) bestaat niet in dat jaar",
        "en": "the birth date ({dd}/{mm}) does not exist in that year",
    },
    "check": {
        "nl": "de controlecijfers kloppen niet: controleer of het nummer juist is overgetypt",
        "en": "the check digits do not match: check that the number was typed correctly",
    },
}


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
    messages = PROBLEMS[code]
    return (messages.get(lang) or messages["nl"]).format(**values)
