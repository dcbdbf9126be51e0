"""Fuzzing `parse_insz`: any text either parses to a self-consistent `Insz` or raises
`InvalidInszError` with a specific message; nothing else escapes."""

from __future__ import annotations

from datetime import date

from fuzz_budget import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from mutations import mutated

from entitle.insz import InvalidInszError, insz_report, is_valid_insz, make_insz, parse_insz

REASONS = ("non-digit character", "must have 11 digits", "month", "day", "counter", "check digits")


def assert_parses_or_says_why(text: str) -> None:
    try:
        insz = parse_insz(text)
    except InvalidInszError as error:
        message = str(error)
        assert any(reason in message for reason in REASONS), message
        assert not is_valid_insz(text)
        report = insz_report(text)
        assert report["valid"] is False and report["error"] == message
        return
    # a valid number: 11 ASCII digits, and the formatted form reads back to the same number
    assert len(insz.normalized) == 11 and insz.normalized.isascii() and insz.normalized.isdigit()
    assert parse_insz(insz.formatted) == insz
    assert insz.birth_year in range(1900, 2100)
    assert insz.birth_month in (None, *range(1, 13))
    assert insz.birth_day in (None, *range(1, 32))
    assert insz_report(text)["normalized"] == insz.normalized


valid = st.builds(
    lambda birth, counter, kind: make_insz(birth, counter, kind).formatted,
    st.dates(date(1900, 1, 1), date(2099, 12, 31)),
    st.integers(1, 998),
    st.sampled_from(["register", "bis", "test"]),
)


@FUZZ
@given(st.text(max_size=40))
def test_any_text(text: str) -> None:
    assert_parses_or_says_why(text)


@FUZZ
@given(st.text(alphabet="0123456789.- /", max_size=20))
def test_digits_and_separators(text: str) -> None:
    assert_parses_or_says_why(text)


@FUZZ
@given(valid.flatmap(lambda formatted: mutated(formatted, max_edits=2)))
def test_mutated_valid_numbers(text: str) -> None:
    assert_parses_or_says_why(text)


@FUZZ
@given(valid, st.integers(0, 10), st.integers(1, 9))
def test_one_digit_changed_is_caught(formatted: str, position: int, delta: int) -> None:
    """The check digits (mod 97) catch every single-digit error."""
    digits = parse_insz(formatted).normalized
    changed = digits[:position] + str((int(digits[position]) + delta) % 10) + digits[position + 1 :]
    assert not is_valid_insz(changed) or _other_century(digits, changed)


def _other_century(original: str, changed: str) -> bool:
    """A changed number can only be valid for the other century (yy from 2000 or not)."""
    return parse_insz(changed).birth_year != parse_insz(original).birth_year
