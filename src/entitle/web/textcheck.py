"""Free text from a form (override notes, a reason for a check, review notes), checked before it
is saved (`entitle.decide.free_text`): refused with a message when it holds control or invisible
characters or is too long, and — when it holds amounts, dates, INSZ numbers, IBANs or e-mail
addresses — given back scrubbed with the reason, so the officer sees what will be stored and saves
again."""

from __future__ import annotations

from entitle.decide.free_text import check_free_text
from entitle.web.i18n import Translator


def checked_text(
    t: Translator, text: str, limit: int, *, required: bool = False
) -> tuple[str, str | None]:
    """(the text to store or to show again, None or the message saying why it was not saved)."""
    checked = check_free_text(text, limit, required=required)
    if checked.refused is not None:
        chars = ", ".join(checked.characters[:5])
        return checked.text, t(f"freetext.{checked.refused}", limit=limit, chars=chars)
    if checked.scrubbed:
        kinds = ", ".join(t(f"freetext.kind.{kind}") for kind in checked.scrubbed)
        return checked.text, t("freetext.scrubbed", kinds=kinds)
    return checked.text, None
