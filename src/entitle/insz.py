"""Belgian national register numbers (INSZ / rijksregisternummer) and bis numbers.

An INSZ has 11 digits ``YYMMDD SSS CC``: birth date, a day counter (odd for men, even for women)
and two check digits ``CC = 97 - (N mod 97)``, where ``N`` is the first 9 digits, prefixed with
``2`` for births from 2000. Which of the two checks matches decides the century.

The month field also tells the kind of number: 00-12 for the national register, +20 (sex
unknown) or +40 (sex known) for bis numbers issued by the KSZ, and +60 for MAGDA test numbers.
A month or day of 00 means "unknown" (or that the day's counter ran out); it is not an error.
A month and day that are both given must form a real calendar date in the year the check digits
point to (30 February is invalid; 29 February only in a leap year).

The rules are kept here rather than taken from python-stdnum (`stdnum.be.nn`, `stdnum.be.bis`):
stdnum rejects MAGDA test numbers (month + 60), which the registry simulator and the MAGDA mock
personas use; it tries the 2000 checksum only for years up to today's, so its answer depends on
the current date; and it splits register and bis numbers over two modules. The calendar check
it adds is a few lines with `calendar.monthrange`.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "INSZ_WRITTEN",
    "Insz",
    "InszKind",
    "InvalidInszError",
    "Sex",
    "format_insz",
    "insz_report",
    "is_valid_insz",
    "make_insz",
    "parse_insz",
]

InszKind = Literal["register", "bis", "test"]
Sex = Literal["M", "F"]

# An INSZ / bis number as people write it (85.07.30-033.28, 850730-03328, 85073003328): what
# must never be stored in clear, wherever it turns up in text.
INSZ_WRITTEN = re.compile(r"\d{2}\.?\d{2}\.?\d{2}[-.]?\d{3}\.?\d{2}")
_SEPARATORS = frozenset(".- /")
_PREFIX_2000 = 2_000_000_000
_BIS_SEX_UNKNOWN = 20
_BIS_SEX_KNOWN = 40
_TEST = 60
# Offset added to the real month (00-12) for each kind of number.
_OFFSETS: dict[int, InszKind] = {
    0: "register",
    _BIS_SEX_UNKNOWN: "bis",
    _BIS_SEX_KNOWN: "bis",
    _TEST: "test",
}


class InvalidInszError(ValueError):
    """The text is not a valid INSZ; the message says why."""


@dataclass(frozen=True)
class Insz:
    """A validated INSZ (register, bis or MAGDA test number), from `parse_insz` or `make_insz`."""

    normalized: str
    kind: InszKind
    birth_year: int
    birth_month: int | None
    birth_day: int | None
    sex: Sex | None

    @property
    def birth_date(self) -> date | None:
        """The birth date, or None when month or day is unknown (00)."""
        if self.birth_month is None or self.birth_day is None:
            return None
        return date(self.birth_year, self.birth_month, self.birth_day)

    @property
    def formatted(self) -> str:
        """The number as printed on the eID: ``YY.MM.DD-SSS.CC``."""
        n = self.normalized
        return f"{n[0:2]}.{n[2:4]}.{n[4:6]}-{n[6:9]}.{n[9:11]}"


def _check_digits(first9: int, from_2000: bool) -> int:
    """Check value (1-97) for the first 9 digits, with the prefix 2 for births from 2000."""
    return 97 - ((_PREFIX_2000 + first9) if from_2000 else first9) % 97


def _digits(text: str) -> str:
    """Strip separators, reject any other character and any length but 11."""
    digits: list[str] = []
    for position, char in enumerate(text, start=1):
        if char in _SEPARATORS:
            continue
        if not ("0" <= char <= "9"):
            raise InvalidInszError(
                f"INSZ contains a non-digit character {char!r} at position {position}"
            )
        digits.append(char)
    if len(digits) != 11:
        raise InvalidInszError(f"INSZ must have 11 digits, got {len(digits)}")
    return "".join(digits)


def parse_insz(text: str) -> Insz:
    """Parse and validate an INSZ, bare or formatted; raise `InvalidInszError` if invalid."""
    n = _digits(text)
    yy, mm, dd, counter, check = int(n[0:2]), int(n[2:4]), int(n[4:6]), int(n[6:9]), int(n[9:])

    offset = mm - mm % 20
    if offset not in _OFFSETS or mm - offset > 12:
        raise InvalidInszError(
            f"INSZ month {n[2:4]} is not valid: expected 00-12 (register), "
            "20-32 or 40-52 (bis) or 60-72 (test)"
        )
    if dd > 31:
        raise InvalidInszError(f"INSZ day {n[4:6]} is not valid: expected 00-31")
    if counter in (0, 999):
        raise InvalidInszError(f"INSZ counter {n[6:9]} is not valid: expected 001-998")

    before_2000 = _check_digits(int(n[:9]), from_2000=False)
    from_2000 = _check_digits(int(n[:9]), from_2000=True)
    if check == before_2000:
        century = 1900
    elif check == from_2000:
        century = 2000
    else:
        raise InvalidInszError(
            f"check digits {n[9:]} do not match: expected {before_2000:02d} for a birth "
            f"before 2000 or {from_2000:02d} for a birth from 2000"
        )

    month = mm - offset
    year = century + yy
    if month and dd and dd > monthrange(year, month)[1]:
        raise InvalidInszError(
            f"INSZ date {n[4:6]}/{month:02d}/{year} is not a real date "
            f"(month {month:02d} of {year} has {monthrange(year, month)[1]} days)"
        )
    sex: Sex | None = None
    if offset != _BIS_SEX_UNKNOWN:
        sex = "M" if counter % 2 else "F"
    return Insz(
        normalized=n,
        kind=_OFFSETS[offset],
        birth_year=year,
        birth_month=month or None,
        birth_day=dd or None,
        sex=sex,
    )


def is_valid_insz(text: str) -> bool:
    """Whether the text is a valid INSZ (register, bis or test number)."""
    try:
        parse_insz(text)
    except InvalidInszError:
        return False
    return True


def format_insz(text: str) -> str:
    """Validate an INSZ and return it as ``YY.MM.DD-SSS.CC``; raise `InvalidInszError`."""
    return parse_insz(text).formatted


def insz_report(text: str) -> dict[str, str | int | bool | None]:
    """A JSON-ready summary of an INSZ, or of why it is invalid."""
    try:
        insz = parse_insz(text)
    except InvalidInszError as error:
        return {"valid": False, "input": text, "error": str(error)}
    birth_date = insz.birth_date
    return {
        "valid": True,
        "kind": insz.kind,
        "birth_date": birth_date.isoformat() if birth_date else None,
        "birth_year": insz.birth_year,
        "sex": insz.sex,
        "normalized": insz.normalized,
        "formatted": insz.formatted,
    }


def make_insz(
    birth: date, counter: int, kind: InszKind = "register", sex_known: bool = True
) -> Insz:
    """Build a valid INSZ with computed check digits (for tests and synthetic data).

    ``sex_known=False`` gives a bis number with month + 20 (sex unknown); it is only allowed for
    ``kind="bis"``. The sex follows from the counter (odd: M, even: F).
    """
    if not 1900 <= birth.year <= 2099:
        raise ValueError(f"birth year {birth.year} cannot be encoded in an INSZ (1900-2099)")
    if not 1 <= counter <= 998:
        raise ValueError(f"counter {counter} is not valid: expected 1-998")
    if kind == "bis":
        offset = _BIS_SEX_KNOWN if sex_known else _BIS_SEX_UNKNOWN
    elif not sex_known:
        raise ValueError(f"sex_known=False is only possible for bis numbers, not {kind!r}")
    else:
        offset = _TEST if kind == "test" else 0
    first9 = f"{birth.year % 100:02d}{birth.month + offset:02d}{birth.day:02d}{counter:03d}"
    check = _check_digits(int(first9), from_2000=birth.year >= 2000)
    return parse_insz(f"{first9}{check:02d}")
