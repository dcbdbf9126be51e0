"""The free-text scrubber and the unsafe-character check (pen-test finding 5), with Hypothesis:
whatever is typed, what is stored holds no amount, date, INSZ, IBAN or e-mail address, and
scrubbing twice changes nothing more."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entitle.decide.free_text import TextCheck, check_free_text
from entitle.store.freetext import (
    PATTERNS,
    FreeTextError,
    clean,
    refuse_unsafe,
    scrub,
    unsafe_characters,
)

WORDS = st.sampled_from(
    ["attest", "getoond", "inkomen", "per", "maand", "geboren", "op", "rekening", "mail", " ", ","]
)
AMOUNTS = st.builds(
    lambda euros, cents, style: style.format(e=euros, c=cents, t=f"{euros:,}".replace(",", ".")),
    st.integers(1, 99_999),
    st.integers(0, 99),
    st.sampled_from(["{e},{c:02d} EUR", "€ {e}", "{t},{c:02d}", "{e} euro", "EUR {e}.{c:02d}"]),
)
DATES = st.builds(
    lambda day, style: day.strftime(style),
    st.dates(date(1920, 1, 1), date(2030, 12, 31)),
    st.sampled_from(["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%y"]),
)
INSZ = st.builds(
    lambda n, style: style.format(n=f"{n:011d}"),
    st.integers(0, 10**11 - 1),
    st.sampled_from(["{n}"]),
)
IBANS = st.builds(
    lambda digits: f"BE{digits[:2]} {digits[2:6]} {digits[6:10]} {digits[10:14]}",
    st.text("0123456789", min_size=14, max_size=14),
)
EMAILS = st.builds(
    lambda user, host: f"{user}@{host}.be",
    st.from_regex(r"[a-z][a-z0-9.]{0,10}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
)
SENSITIVE = st.one_of(AMOUNTS, DATES, INSZ, IBANS, EMAILS)
NOTES = st.lists(st.one_of(WORDS, SENSITIVE), max_size=12).map(" ".join)


@given(NOTES)
def test_nothing_sensitive_survives_and_scrubbing_is_idempotent(note: str) -> None:
    scrubbed = scrub(note)
    for _kind, pattern, _token in PATTERNS:
        assert pattern.search(scrubbed.text) is None, (note, scrubbed.text)
    assert scrub(scrubbed.text).text == scrubbed.text
    assert scrubbed.changed == (scrubbed.text != note)


@given(SENSITIVE)
def test_every_sensitive_value_is_found(value: str) -> None:
    assert scrub(f"attest {value} getoond").changed


@given(st.text(st.characters(categories=["Cc", "Cf"], exclude_characters="\n\r\t"), min_size=1))
def test_control_and_format_characters_are_refused(bad: str) -> None:
    assert unsafe_characters(f"attest{bad}") != []
    with pytest.raises(FreeTextError) as refused:
        refuse_unsafe(f"attest{bad}getoond", 500)
    assert refused.value.reason == "control"


def test_plain_notes_pass_and_limits_hold() -> None:
    assert clean("Attest van het ziekenfonds getoond.\nZie dossier.", 500).startswith("Attest")
    for text, reason in (("x" * 501, "too_long"), ("   ", "empty"), ("a\u202eb", "control")):
        with pytest.raises(FreeTextError) as refused:
            refuse_unsafe(text, 500, required=True)
        assert refused.value.reason == reason
    assert scrub("inkomen 1.234,56 EUR").text == "inkomen [bedrag]"


def test_the_check_before_saving_says_what_the_store_would_keep() -> None:
    # the use case the pages call: what the store would keep, or why it refuses and what to
    # show again (the unsafe characters left out)
    assert check_free_text("  Attest getoond. ", 500) == TextCheck("Attest getoond.")
    scrubbed = check_free_text("inkomen 1.234,56 EUR, mail a@b.be", 500)
    assert scrubbed == TextCheck("inkomen [bedrag], mail [e-mail]", scrubbed=("email", "money"))
    refused = check_free_text("a\u202eb", 500)
    assert refused == TextCheck("ab", refused="control", characters=("U+202E",))
    assert check_free_text("x" * 9, 5) == TextCheck("xxxxx", refused="too_long")
    assert check_free_text(" ", 5, required=True) == TextCheck("", refused="empty")
