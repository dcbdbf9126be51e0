"""Free text an officer types (override notes, reasons for a check, review notes), checked before
it is saved the way the store will save it (`entitle.store.freetext`): refused when it holds
control or invisible characters, is too long or is empty when required, else scrubbed of amounts,
dates, INSZ numbers, IBANs and e-mail addresses."""

from __future__ import annotations

from dataclasses import dataclass

from entitle.store.freetext import FreeTextError, refuse_unsafe, scrub, unsafe_characters


@dataclass(frozen=True)
class TextCheck:
    """The text to store (or, when refused, to show again) and what was wrong with it."""

    text: str
    refused: str | None = None  # why it cannot be saved: control, too_long or empty
    characters: tuple[str, ...] = ()  # the control and invisible characters, as U+XXXX
    scrubbed: tuple[str, ...] = ()  # the kinds of value replaced (email, iban, insz, …)


def check_free_text(text: str, limit: int, *, required: bool = False) -> TextCheck:
    """`text` as the store would keep it, or refused with the reason (its unsafe characters
    left out of the text given back, cut to `limit`)."""
    try:
        text = refuse_unsafe(text, limit, required=required)
    except FreeTextError as exc:
        bad = unsafe_characters(text)
        kept = "".join(c for c in text if f"U+{ord(c):04X}" not in bad).strip()
        return TextCheck(kept[:limit], exc.reason, tuple(bad))
    scrubbed = scrub(text)
    return TextCheck(scrubbed.text, scrubbed=scrubbed.found)
