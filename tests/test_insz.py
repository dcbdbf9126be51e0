"""Tests for entitle.insz: parsing and validating Belgian national register (INSZ) numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entitle.insz import (
    Insz,
    InszKind,
    InvalidInszError,
    format_insz,
    insz_report,
    is_valid_insz,
    make_insz,
    parse_insz,
)

MAGDA_MOCK = Path(__file__).resolve().parents[2] / "shared" / "magda-mock"


def with_check(first9: str, from_2000: bool = False) -> str:
    """Independent oracle: append the check digits to 9 digits."""
    n = int(first9) + (2_000_000_000 if from_2000 else 0)
    return f"{first9}{97 - n % 97:02d}"


# --- documented examples (BELGIUM.md) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "birth", "sex"),
    [
        ("93051822361", "register", date(1993, 5, 18), "M"),
        ("85073003328", "register", date(1985, 7, 30), "M"),
        ("17073003384", "register", date(2017, 7, 30), "M"),
        ("00012556777", "register", date(2000, 1, 25), "M"),
        ("98472899765", "bis", date(1998, 7, 28), "M"),
        ("01490700185", "bis", date(2001, 9, 7), "M"),
        ("85.07.30-033.28", "register", date(1985, 7, 30), "M"),
    ],
)
def test_documented_examples(text: str, kind: str, birth: date, sex: str) -> None:
    insz = parse_insz(text)
    assert insz.kind == kind
    assert insz.birth_date == birth
    assert (insz.birth_year, insz.birth_month, insz.birth_day) == (
        birth.year,
        birth.month,
        birth.day,
    )
    assert insz.sex == sex
    assert is_valid_insz(text)


@pytest.mark.parametrize(
    "text", ["85.07.30-033.28", "85073003328", "85 07 30 033 28", "850730/033-28", " 85073003328 "]
)
def test_separators_are_stripped(text: str) -> None:
    insz = parse_insz(text)
    assert insz.normalized == "85073003328"
    assert insz.formatted == "85.07.30-033.28"
    assert format_insz(text) == "85.07.30-033.28"


# --- century, kinds, sex ----------------------------------------------------------------------


def test_century_is_decided_by_the_check_digits() -> None:
    first9 = "170730033"
    assert parse_insz(with_check(first9)).birth_year == 1917
    assert parse_insz(with_check(first9, from_2000=True)).birth_year == 2017


@pytest.mark.parametrize(
    ("first9", "from_2000", "kind", "month", "sex"),
    [
        ("850730034", False, "register", 7, "F"),
        ("050730033", True, "register", 7, "M"),
        ("852730033", False, "bis", 7, None),  # month + 20: sex unknown
        ("052730034", True, "bis", 7, None),
        ("854730034", False, "bis", 7, "F"),  # month + 40: sex known
        ("054730033", True, "bis", 7, "M"),
        ("856730033", False, "test", 7, "M"),  # MAGDA test number: month + 60
        ("056730034", True, "test", 7, "F"),
    ],
)
def test_kind_and_sex(first9: str, from_2000: bool, kind: str, month: int, sex: str | None) -> None:
    insz = parse_insz(with_check(first9, from_2000))
    assert insz.kind == kind
    assert insz.birth_month == month
    assert insz.sex == sex
    assert insz.birth_year == (2005 if from_2000 else 1985)


@pytest.mark.parametrize(
    ("first9", "kind", "month", "day"),
    [
        ("850000033", "register", None, None),
        ("850700033", "register", 7, None),
        ("850003033", "register", None, 3),
        ("852000033", "bis", None, None),
        ("854000033", "bis", None, None),
        ("856000033", "test", None, None),
    ],
)
def test_unknown_month_or_day_is_valid(
    first9: str, kind: str, month: int | None, day: int | None
) -> None:
    insz = parse_insz(with_check(first9))
    assert insz.kind == kind
    assert (insz.birth_year, insz.birth_month, insz.birth_day) == (1985, month, day)
    assert insz.birth_date is None
    report = insz_report(insz.normalized)
    assert report["birth_date"] is None
    assert report["birth_year"] == 1985


@pytest.mark.parametrize(
    ("first9", "from_2000", "message"),
    [
        (
            "850230033",
            False,
            "INSZ date 30/02/1985 is not a real date (month 02 of 1985 has 28 days)",
        ),
        ("850231033", False, "INSZ date 31/02/1985 is not a real date"),
        (
            "850431033",
            False,
            "INSZ date 31/04/1985 is not a real date (month 04 of 1985 has 30 days)",
        ),
        ("010229033", True, "INSZ date 29/02/2001 is not a real date"),
        ("854230034", False, "INSZ date 30/02/1985 is not a real date"),  # bis, sex known
        ("852931033", False, "INSZ date 31/09/1985 is not a real date"),  # bis, sex unknown
        ("856230033", False, "INSZ date 30/02/1985 is not a real date"),  # MAGDA test number
    ],
)
def test_impossible_calendar_date_is_rejected(first9: str, from_2000: bool, message: str) -> None:
    number = with_check(first9, from_2000)  # checksum right, so the date is the reason
    with pytest.raises(InvalidInszError) as excinfo:
        parse_insz(number)
    assert str(excinfo.value).startswith(message)
    assert not is_valid_insz(number)
    assert insz_report(number)["valid"] is False


def test_leap_day() -> None:
    assert parse_insz(with_check("000229033", from_2000=True)).birth_date == date(2000, 2, 29)
    assert parse_insz(with_check("960229033")).birth_date == date(1996, 2, 29)
    with pytest.raises(InvalidInszError, match="29/02/1900 is not a real date"):
        parse_insz(with_check("000229033"))  # 1900 was no leap year


@given(
    st.integers(0, 99),
    st.integers(0, 12),
    st.integers(0, 31),
    st.sampled_from([0, 20, 40, 60]),
    st.booleans(),
)
def test_valid_exactly_when_the_date_exists_or_is_partly_unknown(
    yy: int, month: int, day: int, offset: int, from_2000: bool
) -> None:
    """Independent oracle: `datetime.date` decides whether a full month and day exist."""
    number = with_check(f"{yy:02d}{month + offset:02d}{day:02d}033", from_2000)
    year = (2000 if from_2000 else 1900) + yy
    try:
        date(year, month or 1, day or 1)
        exists = True
    except ValueError:
        exists = False
    assert is_valid_insz(number) == exists
    if exists:
        insz = parse_insz(number)
        assert insz.birth_date == (date(year, month, day) if month and day else None)


@pytest.mark.parametrize("number", ["85073006197", "17073002097"])
def test_check_value_97(number: str) -> None:
    from_2000 = number.startswith("17")
    n = int(number[:9]) + (2_000_000_000 if from_2000 else 0)
    assert n % 97 == 0  # so the check value is 97 - 0
    assert number == with_check(number[:9], from_2000)
    assert parse_insz(number).birth_year == (2017 if from_2000 else 1985)


# --- rejections with specific messages --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8507300332", "INSZ must have 11 digits, got 10"),
        ("850730033281", "INSZ must have 11 digits, got 12"),
        ("", "INSZ must have 11 digits, got 0"),
        ("85.07.30-033", "INSZ must have 11 digits, got 9"),
        ("85a73003328", "INSZ contains a non-digit character 'a' at position 3"),
        ("85.07.30_033.28", "INSZ contains a non-digit character '_' at position 9"),
        ("８5073003328", "INSZ contains a non-digit character '８' at position 1"),
        (
            "85073003329",
            "check digits 29 do not match: expected 28 for a birth before 2000 "
            "or 57 for a birth from 2000",
        ),
        (
            "85073003397",
            "check digits 97 do not match: expected 28 for a birth before 2000 "
            "or 57 for a birth from 2000",
        ),
    ],
)
def test_rejected_with_message(text: str, message: str) -> None:
    with pytest.raises(InvalidInszError) as excinfo:
        parse_insz(text)
    assert str(excinfo.value) == message
    assert isinstance(excinfo.value, ValueError)
    assert not is_valid_insz(text)
    assert insz_report(text) == {"valid": False, "input": text, "error": message}


@pytest.mark.parametrize("month", ["13", "19", "33", "39", "53", "59", "73", "80", "81", "99"])
def test_month_outside_known_ranges_rejected(month: str) -> None:
    number = with_check(f"85{month}30033")  # checksum right, so the month is the reason
    with pytest.raises(InvalidInszError, match=f"INSZ month {month} is not valid"):
        parse_insz(number)


@pytest.mark.parametrize("day", ["32", "66", "99"])
def test_day_over_31_rejected(day: str) -> None:
    with pytest.raises(InvalidInszError, match=f"INSZ day {day} is not valid"):
        parse_insz(with_check(f"8507{day}033"))


@pytest.mark.parametrize("counter", ["000", "999"])
def test_counter_000_and_999_rejected(counter: str) -> None:
    with pytest.raises(InvalidInszError, match=f"INSZ counter {counter} is not valid"):
        parse_insz(with_check(f"850730{counter}"))


# --- report and generator ---------------------------------------------------------------------


def test_report_valid() -> None:
    assert insz_report("85.07.30-033.28") == {
        "valid": True,
        "kind": "register",
        "birth_date": "1985-07-30",
        "birth_year": 1985,
        "sex": "M",
        "normalized": "85073003328",
        "formatted": "85.07.30-033.28",
    }


def test_make_insz_examples() -> None:
    assert make_insz(date(1985, 7, 30), 33).normalized == "85073003328"
    assert make_insz(date(2017, 7, 30), 33).normalized == "17073003384"
    assert make_insz(date(1998, 7, 28), 997, "bis").normalized == "98472899765"
    bis = make_insz(date(1998, 7, 28), 997, "bis", sex_known=False)
    assert (bis.normalized[2:4], bis.sex) == ("27", None)
    assert make_insz(date(1985, 7, 30), 33, "test").normalized[2:4] == "67"


@pytest.mark.parametrize(
    ("birth", "counter", "kind", "sex_known"),
    [
        (date(1899, 12, 31), 1, "register", True),
        (date(2100, 1, 1), 1, "register", True),
        (date(1985, 7, 30), 0, "register", True),
        (date(1985, 7, 30), 999, "register", True),
        (date(1985, 7, 30), 33, "register", False),
        (date(1985, 7, 30), 33, "test", False),
    ],
)
def test_make_insz_rejects(birth: date, counter: int, kind: InszKind, sex_known: bool) -> None:
    with pytest.raises(ValueError):
        make_insz(birth, counter, kind, sex_known)


# --- properties -------------------------------------------------------------------------------

births = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
counters = st.integers(min_value=1, max_value=998)
kinds: st.SearchStrategy[InszKind] = st.sampled_from(["register", "bis", "test"])


@st.composite
def valid_inszs(draw: st.DrawFn) -> Insz:
    kind: InszKind = draw(kinds)
    sex_known = draw(st.booleans()) if kind == "bis" else True
    return make_insz(draw(births), draw(counters), kind, sex_known)


@given(births, counters, kinds, st.booleans())
def test_make_then_parse_round_trips(
    birth: date, counter: int, kind: InszKind, sex_known: bool
) -> None:
    sex_known = sex_known or kind != "bis"
    made = make_insz(birth, counter, kind, sex_known)
    parsed = parse_insz(made.normalized)
    assert parsed == made
    assert parsed.kind == kind
    assert parsed.birth_date == birth
    assert (parsed.birth_year, parsed.birth_month, parsed.birth_day) == (
        birth.year,
        birth.month,
        birth.day,
    )
    assert parsed.sex == (("M" if counter % 2 else "F") if sex_known else None)
    assert int(parsed.normalized[6:9]) == counter
    assert len(parsed.normalized) == 11 and parsed.normalized.isdigit()


@given(valid_inszs())
def test_formatted_and_bare_round_trip(insz: Insz) -> None:
    assert parse_insz(insz.formatted) == insz
    assert insz.formatted.replace(".", "").replace("-", "") == insz.normalized
    assert format_insz(insz.normalized) == insz.formatted


@given(valid_inszs(), st.integers(min_value=0, max_value=10), st.integers(1, 9))
def test_single_digit_change(insz: Insz, position: int, delta: int) -> None:
    digits = list(insz.normalized)
    digits[position] = str((int(digits[position]) + delta) % 10)
    changed = "".join(digits)
    if position >= 9:
        # The two possible check values differ by 68 mod 97, never in a single digit.
        assert not is_valid_insz(changed)
        return
    try:
        other = parse_insz(changed)
    except InvalidInszError:
        return
    # Rarely still valid: only by matching the other century's checksum.
    assert other.birth_year // 100 != insz.birth_year // 100


# --- MAGDA mock personas ----------------------------------------------------------------------

# File names in the MAGDA mock that are NOT valid INSZ numbers, and why. They break the published
# rules, so they stay rejected rather than loosening the rules; any change here must be deliberate.
MAGDA_INVALID = {
    # Wrong check digits (mostly "stress testing" income personas with register-style months).
    "20652674825": "check digits 25 do not match",
    "51042500288": "check digits 88 do not match",
    "57082300172": "check digits 72 do not match",
    "65021500159": "check digits 59 do not match",
    "70021500155": "check digits 55 do not match",
    "70021500159": "check digits 59 do not match",
    "71042500266": "check digits 66 do not match",
    "77082300172": "check digits 72 do not match",
    "81042500266": "check digits 66 do not match",
    # Counter 999 (checksum right): not a valid day counter.
    "04651999966": "INSZ counter 999 is not valid",
    "99691999923": "INSZ counter 999 is not valid",
    # Months outside register/bis/test ranges (checksum right).
    "62810599842": "INSZ month 81 is not valid",
    "77902199738": "INSZ month 90 is not valid",
    "67366666680": "INSZ month 36 is not valid",
}


def magda_numbers() -> list[str]:
    if not MAGDA_MOCK.is_dir():
        pytest.skip(f"MAGDA mock data not found at {MAGDA_MOCK}")
    return sorted({p.stem for p in MAGDA_MOCK.glob("responses/**/[0-9]*.xml")})


def test_magda_mock_numbers_are_valid() -> None:
    numbers = magda_numbers()
    assert len(numbers) > 100
    invalid = {n: str(e) for n in numbers if (e := _error(n)) is not None}
    assert set(invalid) == set(MAGDA_INVALID)
    for number, error in invalid.items():
        assert error.startswith(MAGDA_INVALID[number]), (number, error)
    kinds_seen = {parse_insz(n).kind for n in numbers if n not in MAGDA_INVALID}
    assert kinds_seen == {"register", "bis", "test"}


def _error(text: str) -> InvalidInszError | None:
    try:
        parse_insz(text)
    except InvalidInszError as error:
        return error
    return None
