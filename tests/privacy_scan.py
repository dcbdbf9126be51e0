"""Find raw sensitive values of a synthetic city in what Entitle wrote: databases, logs, letters,
lists and pages.

The city's files hold the values no output may quote: every taxable income item, every leefloon
payment, the yearly income per person and per household, and each person's disability points
(next to a disability word). A value is searched in the forms a leak would take — cents as an
integer, euros with a decimal point or a comma, with thousands separators — as a whole number:
a digit run inside a longer number, a time stamp or a hash never counts.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

MIN_CENTS = 10_000  # €100: smaller sums are benefit amounts or counts, not incomes
MIN_BARE = 10_000  # a bare number (cents or whole euros) is searched from five digits up
DISABILITY_WORDS = ("punten", "points", "handicap", "disability", "beperking")
NARROW_SPACE = "\u202f"  # Babel writes French-style groups with it
TEXT_SUFFIXES = {".log", ".jsonl", ".json", ".txt", ".csv", ".html", ".md", ".yaml"}


@dataclass(frozen=True)
class Finding:
    """A sensitive value found where it must not be."""

    where: str
    value: str
    context: str


def money_forms(cents: int) -> set[str]:
    """The ways a sum of money is written: 12345.67, 12345,67, 12.345,67, 12,345.67, 12 345,67,
    the cents as a bare number (1234567) and, for whole euros, 12345 and 12.345; bare numbers
    from five digits up (shorter ones are row ids and counts as often as money)."""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}"
    forms = {f"{euros}.{rest:02d}", f"{euros},{rest:02d}"}
    if cents >= MIN_BARE:
        forms.add(str(cents))
    if euros >= 1000:
        forms |= {
            f"{grouped.replace(',', '.')},{rest:02d}",
            f"{grouped}.{rest:02d}",
            f"{grouped.replace(',', ' ')},{rest:02d}",
            f"{grouped.replace(',', NARROW_SPACE)},{rest:02d}",
        }
    if rest == 0 and euros >= MIN_BARE:
        forms.add(str(euros))
        if euros >= 1000:
            forms.add(grouped.replace(",", "."))
    return forms


def sensitive_amounts(city: Path) -> set[int]:
    """Every income item, yearly income per person and household, and leefloon payment of the
    city (registry and truth views), in cents, from €100 up."""
    amounts: set[int] = set()
    for view in ("registry", "truth"):
        tax_file = city / view / "tax_assessments.parquet"
        if not tax_file.exists():
            continue
        tax = pl.read_parquet(tax_file)
        amounts |= set(tax["item_value"].to_list())
        per_person = tax.group_by("person_id", "income_year").agg(pl.col("item_value").sum())
        amounts |= set(per_person["item_value"].to_list())
        persons = pl.read_parquet(
            city / view / "persons.parquet", columns=["person_id", "household_id"]
        )
        per_household = (
            per_person.join(persons, on="person_id")
            .group_by("household_id", "income_year")
            .agg(pl.col("item_value").sum())
        )
        amounts |= set(per_household["item_value"].to_list())
    payments = city / "registry" / "leefloon_payments.parquet"
    if payments.exists():
        amounts |= set(pl.read_parquet(payments)["amount"].to_list())
    return {int(a) for a in amounts if a is not None and abs(int(a)) >= MIN_CENTS}


def disability_points(city: Path) -> set[int]:
    """The disability points recorded in the city."""
    path = city / "registry" / "disability.parquet"
    if not path.exists():
        return set()
    points = pl.read_parquet(path)["points"].drop_nulls().to_list()
    return {int(p) for p in points}


# A money form counts where it stands alone: no word character, separator or dash before it, no
# word character after it nor a separator followed by a digit (12.345,67 is not 12.345 + ,67).
MONEY_BEFORE = r"(?<![\w.,:\-/])"
MONEY_AFTER = r"(?![\w]|[.,:]\d)"
_MONEY_START = re.compile(MONEY_BEFORE + r"\d")  # every form starts with a digit
_MONEY_END = re.compile(MONEY_AFTER)


def money_pattern(forms: Iterable[str]) -> re.Pattern[str]:
    """The forms as one regular expression, longest first: what `Scanner.money` finds. Slow for
    a city's tens of thousands of forms (every alternative is tried at every place): the scanner
    uses `MoneyFinder`, with the same result (tests/test_privacy_scan.py)."""
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"{MONEY_BEFORE}(?:{alternatives}){MONEY_AFTER}")


class MoneyFinder:
    """Finds money forms standing alone in a text, as `money_pattern` would, fast: at each place
    a form may start, the forms of each length (longest first) are looked up in a set."""

    def __init__(self, forms: Iterable[str]) -> None:
        self._forms = frozenset(forms)
        self._lengths = sorted({len(f) for f in self._forms}, reverse=True)

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """(start, end) of each form found, left to right, the longest at a place (12.345,67
        rather than a part of it), not overlapping."""
        taken = 0
        for place in _MONEY_START.finditer(text):
            start = place.start()
            if start < taken:
                continue
            for length in self._lengths:
                end = start + length
                if (
                    end <= len(text)
                    and text[start:end] in self._forms
                    and _MONEY_END.match(text, end)
                ):
                    yield start, end
                    taken = end
                    break


class Scanner:
    """Searches texts for the city's sensitive values."""

    def __init__(self, city: Path) -> None:
        forms: set[str] = set()
        for cents in sensitive_amounts(city):
            forms |= money_forms(cents)
        self._money = MoneyFinder(forms)
        points = "|".join(str(p) for p in sorted(disability_points(city), reverse=True))
        words = "|".join(DISABILITY_WORDS)
        self._points = (
            re.compile(
                rf"(?i)(?:{words})\W{{0,20}}(?:{points})\b|\b(?:{points})\W{{0,3}}(?:{words})"
            )
            if points
            else None
        )

    def scan(self, where: str, text: str) -> Iterator[Finding]:
        """Every sensitive value in one text: the money forms, then the disability points."""
        spans = list(self._money.spans(text))
        if self._points:
            spans += [found.span() for found in self._points.finditer(text)]
        for found_start, found_end in spans:
            start, end = max(0, found_start - 40), found_end + 40
            yield Finding(where, text[found_start:found_end], text[start:end].replace("\n", " "))


def sqlite_texts(path: Path) -> Iterator[tuple[str, str]]:
    """Each row of each table of an SQLite database as text, named table:rowid."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            for number, row in enumerate(connection.execute(f'SELECT * FROM "{table}"')):
                yield f"{path.name}:{table}:{number}", json.dumps(row, default=str)
    finally:
        connection.close()


def pdf_text(path: Path) -> str:
    """The text of a PDF."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def xlsx_text(path: Path) -> str:
    """The cells of a workbook, one line per row."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return "\n".join(
            "\t".join("" if cell is None else str(cell) for cell in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    finally:
        book.close()


def folder_texts(root: Path, skip: Iterable[Path] = ()) -> Iterator[tuple[str, str]]:
    """The readable content of every file under root (databases row by row), except the folders
    to skip; what kind of file it is decides how it is read."""
    skipped = [s.resolve() for s in skip]
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        resolved = path.resolve()
        if any(resolved.is_relative_to(s) for s in skipped):
            continue
        name = str(path.relative_to(root))
        suffix = path.suffix.lower()
        if suffix in (".db", ".sqlite", ".sqlite3"):
            yield from sqlite_texts(path)
        elif suffix == ".pdf":
            yield name, pdf_text(path)
        elif suffix == ".xlsx":
            yield name, xlsx_text(path)
        elif suffix in TEXT_SUFFIXES or suffix.startswith(".log"):
            yield name, path.read_text(encoding="utf-8", errors="replace")
