"""Free text from a form (override notes, a reason for a check, review notes), checked before it
is saved: refused with a message when it holds control or invisible characters or is too long,
and — when it holds amounts, dates, INSZ numbers, IBANs or e-mail addresses — given back scrubbed
with the reason, so the officer sees what will be stored and saves again."""

from __future__ import annotations

from entitle.store.freetext import FreeTextError, refuse_unsafe, scrub, unsafe_characters
from entitle.web.i18n import Translator


def checked_text(
    t: Translator, text: str, limit: int, *, required: bool = False
) -> tuple[str, str | None]:
    """(the text to store or to show again, None or the message saying why it was not saved)."""
    try:
        text = refuse_unsafe(text, limit, required=required)
    except FreeTextError as exc:
        bad = unsafe_characters(text)
        kept = "".join(c for c in text if f"U+{ord(c):04X}" not in bad).strip()
        return kept[:limit], t(f"freetext.{exc.reason}", limit=limit, chars=", ".join(bad[:5]))
    scrubbed = scrub(text)
    if scrubbed.changed:
        kinds = ", ".join(t(f"freetext.kind.{kind}") for kind in scrubbed.found)
        return scrubbed.text, t("freetext.scrubbed", kinds=kinds)
    return text, None
