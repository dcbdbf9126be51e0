"""The one rule for dates: school years, the period a decision is for, and how long it holds.

Every part of Entitle that names a school year (the city's enrolment records, the desk, the
campaigns, the synthetic city), the period of a decision (one letter per subject per period) or
the last day a decision, coupon or billing list is valid asks this module, so that a desk card, a
run, a letter and a billing list made on the same reference date always agree.

- A school year starts on 1 September: `SchoolYear.of(date(2026, 3, 1)).label == "2025-2026"`.
- A decision made on the reference date D is for the period of D (`decision_period`): its
  calendar year, its school year, or a number of months from D, and holds until that period's
  last day.
- `expiry` says whether something valid until a day is already expired, or nearly, on the day
  it would be sent (a list approved in December for the school year that ended in August).
- `period_words` names a period the same way on a page, a letter and a billing list:
  "schooljaar 2025-2026" / "school year 2025-2026", "kalenderjaar 2026" / "calendar year 2026".
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

SCHOOL_YEAR_FIRST_MONTH: Final = 9  # a school year runs from 1 September to 31 August
SHORT_VALIDITY_DAYS: Final = 45  # valid for fewer days than this after sending: said before

PeriodKind = Literal["calendar-year", "school-year", "months"]
Expiry = Literal["expired", "short"]
Validity = str | dict[str, int]  # a benefit file's `validity`


@dataclass(frozen=True, order=True)
class SchoolYear:
    """A school year, by the calendar year in which it starts (2025 for 2025-2026)."""

    first: int

    @classmethod
    def of(cls, day: date) -> SchoolYear:
        """The school year running on `day`."""
        return cls(day.year if day.month >= SCHOOL_YEAR_FIRST_MONTH else day.year - 1)

    @classmethod
    def parse(cls, label: str) -> SchoolYear:
        """The school year of a label such as "2025-2026" (ValueError when it is not one)."""
        first, _, second = label.partition("-")
        if not (first.isdigit() and second.isdigit() and int(second) == int(first) + 1):
            raise ValueError(f"not a school year: {label!r} (expected e.g. 2025-2026)")
        return cls(int(first))

    @property
    def label(self) -> str:
        return f"{self.first}-{self.first + 1}"

    @property
    def start(self) -> date:
        return date(self.first, SCHOOL_YEAR_FIRST_MONTH, 1)

    @property
    def end(self) -> date:
        return date(self.first + 1, SCHOOL_YEAR_FIRST_MONTH, 1) - timedelta(days=1)

    def shifted(self, years: int) -> SchoolYear:
        return SchoolYear(self.first + years)


def school_year(day: date) -> str:
    """The label of the school year running on `day`, e.g. "2025-2026"."""
    return SchoolYear.of(day).label


@dataclass(frozen=True)
class Period:
    """The period a decision is for: its kind, first and last day, and its label ("2026",
    "2025-2026", or "2026-03-01..2027-02-28" for a number of months)."""

    kind: PeriodKind
    start: date
    end: date
    label: str


PERIOD_WORDS: Final[dict[str, dict[PeriodKind, str]]] = {
    "nl": {
        "school-year": "schooljaar {label}",
        "calendar-year": "kalenderjaar {label}",
        "months": "{start} tot en met {end}",
    },
    "en": {
        "school-year": "school year {label}",
        "calendar-year": "calendar year {label}",
        "months": "{start} to {end}",
    },
}


def period_words(period: Period, language: str, day: Callable[[date], str] = date.isoformat) -> str:
    """The period in words in `language` (nl or en; else Dutch): "schooljaar 2025-2026",
    "calendar year 2026", or its first and last `day` for a number of months."""
    words = PERIOD_WORDS.get(language, PERIOD_WORDS["nl"])[period.kind]
    return words.format(label=period.label, start=day(period.start), end=day(period.end))


def period_of_label(validity: Validity, label: str) -> Period:
    """The period a stored label names under a benefit's `validity` (the inverse of
    `decision_period(...).label`; ValueError when the label is not one)."""
    if validity == "school-year":
        school = SchoolYear.parse(label)
        return Period("school-year", school.start, school.end, label)
    if validity == "calendar-year":
        year = int(label)
        return Period("calendar-year", date(year, 1, 1), date(year, 12, 31), label)
    start, _, end = label.partition("..")
    return Period("months", date.fromisoformat(start), date.fromisoformat(end), label)


def decision_period(validity: Validity, as_of: date) -> Period:
    """The period a decision made on the reference date `as_of` is for, under a benefit's
    `validity` ("calendar-year", "school-year" or {"months": n, "years": n})."""
    if validity == "calendar-year":
        return Period(
            "calendar-year", date(as_of.year, 1, 1), date(as_of.year, 12, 31), str(as_of.year)
        )
    if validity == "school-year":
        school = SchoolYear.of(as_of)
        return Period("school-year", school.start, school.end, school.label)
    if not isinstance(validity, dict):
        raise ValueError(f"unknown validity {validity!r}")
    months = validity.get("months", 0) + 12 * validity.get("years", 0)
    total = as_of.month - 1 + months
    year, month = as_of.year + total // 12, total % 12 + 1
    day = min(as_of.day, calendar.monthrange(year, month)[1])
    end = date(year, month, day) - timedelta(days=1)
    return Period("months", as_of, end, f"{as_of.isoformat()}..{end.isoformat()}")


def valid_until(validity: Validity, as_of: date) -> date:
    """The last day a decision made on `as_of` stays valid."""
    return decision_period(validity, as_of).end


def expiry(until: date, on: date, short_days: int = SHORT_VALIDITY_DAYS) -> Expiry | None:
    """Whether something valid until `until` and sent on `on` is already expired, or valid for
    fewer than `short_days` more days ("short"); None when it holds long enough."""
    if until < on:
        return "expired"
    if (until - on).days < short_days:
        return "short"
    return None
