"""Free text typed by officers (override notes, reasons for a check, review notes): checked and
scrubbed before it is stored, because it is shown again on every later check of that person.

- `refuse_unsafe` refuses control characters (NUL and the like; tab and line breaks are fine) and
  invisible formatting characters (bidi overrides and isolates, zero-width characters), which can
  hide or reorder what a reader sees, and text longer than the field's cap.
- `scrub` replaces what does not belong in a note: money amounts, dates (a birth date among them),
  INSZ / bis numbers, IBANs and e-mail addresses, and says which kinds it replaced so the officer
  can be told why before saving.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ALLOWED_CONTROLS = frozenset("\n\r\t")

# Each kind and what replaces it, in the order they are applied (an e-mail address or IBAN may
# hold digits that look like a date or an amount).
PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE), "[e-mail]"),
    (
        "iban",
        re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.I),
        "[IBAN]",
    ),
    ("insz", re.compile(r"(?<!\d)\d{2}[. ]?\d{2}[. ]?\d{2}[-. ]?\d{3}[. ]?\d{2}(?!\d)"), "[INSZ]"),
    (
        "date",
        re.compile(
            r"(?<!\d)(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2}))(?!\d)"
        ),
        "[datum]",
    ),
    (
        "money",
        re.compile(
            r"(?:€|\beur(?:o)?\b)\s*\d[\d.,\u00a0\u202f ]*\d?"
            r"|\d[\d.,\u00a0\u202f ]*\s*(?:€|\beur(?:o's|os|o)?\b)"
            r"|(?<![\d.,])\d+(?:[.,\u00a0\u202f ]\d{3})*[.,]\d{2}(?![\d])"
            r"|(?<![\d.,])\d{5,}(?![\d])",
            re.I,
        ),
        "[bedrag]",
    ),
)
KINDS = tuple(kind for kind, _pattern, _token in PATTERNS)


class FreeTextError(ValueError):
    """Free text that cannot be stored: `reason` is ``control``, ``too_long`` or ``empty``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Scrubbed:
    text: str
    found: tuple[str, ...]  # the kinds replaced, in `KINDS` order

    @property
    def changed(self) -> bool:
        return bool(self.found)


def unsafe_characters(text: str) -> list[str]:
    """The control and invisible formatting characters in `text`, as ``U+XXXX``."""
    bad = []
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in ALLOWED_CONTROLS) or category in ("Cf", "Cs", "Co"):
            bad.append(f"U+{ord(char):04X}")
    return bad


def refuse_unsafe(text: str, limit: int, *, required: bool = False) -> str:
    """`text` stripped, or `FreeTextError` (control/bidi characters, longer than `limit`,
    empty when `required`)."""
    bad = unsafe_characters(text)
    if bad:
        raise FreeTextError(
            "control", f"the text holds control or invisible characters ({', '.join(bad[:5])})"
        )
    text = text.strip()
    if len(text) > limit:
        raise FreeTextError("too_long", f"the text is longer than {limit} characters")
    if required and not text:
        raise FreeTextError("empty", "the text is empty")
    return text


def scrub(text: str) -> Scrubbed:
    """`text` with amounts, dates, INSZ numbers, IBANs and e-mail addresses replaced."""
    found = []
    for kind, pattern, token in PATTERNS:
        text, count = pattern.subn(token, text)
        if count:
            found.append(kind)
    return Scrubbed(text, tuple(found))


def clean(text: str, limit: int, *, required: bool = False) -> str:
    """What the store keeps of free text: refused if unsafe (`refuse_unsafe`), else scrubbed."""
    return scrub(refuse_unsafe(text, limit, required=required)).text
