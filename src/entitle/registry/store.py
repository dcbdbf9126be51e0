"""The synthetic city as the simulator serves it: the registry view, indexed by INSZ.

Reads ``DIR/registry/*.parquet`` (see ``docs/synthetic-city.md``) once at start-up into small
immutable records grouped per person, so each SOAP question is a dictionary lookup. Only
``persons.parquet`` is required; a missing optional file is an empty table and a missing optional
column is null, so the simulator runs on partial cities too. ``truth/`` is never read.

The city's own datasets (``DIR/local/*.parquet`` or ``*.csv``) are loaded by `LocalDatasets`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

__all__ = [
    "Disability",
    "Enrolment",
    "Household",
    "LeefloonPayment",
    "LocalDatasets",
    "Person",
    "RegistryStore",
    "SocialStatus",
    "TaxItem",
]


class CityDataError(ValueError):
    """A synthetic city whose files cannot be read (corrupt, truncated, wrong columns)."""


@dataclass(frozen=True, slots=True)
class Person:
    insz: str
    household_id: str | None
    position_code: str | None
    first_name: str | None
    last_name: str | None
    birth_date: date | None
    sex: str | None
    nationality: str | None
    register: str | None
    municipality_nis: str | None
    postcode: str | None
    street: str | None
    house_number: str | None
    reference_address: bool
    shared_residence: bool
    integrated_ksz: bool


@dataclass(frozen=True, slots=True)
class Household:
    household_id: str
    reference_person_id: str | None
    municipality_nis: str | None
    postcode: str | None
    street: str | None
    house_number: str | None
    size: int | None
    collective: bool
    reference_address: bool


@dataclass(frozen=True, slots=True)
class TaxItem:
    income_year: int
    tax_year: int | None
    fiscal_status: str | None
    item_code: str
    item_value: int
    article_number: str | None = None


@dataclass(frozen=True, slots=True)
class SocialStatus:
    status: str
    start: date | None
    end: date | None

    def active_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, begin: date, end: date) -> bool:
        return (self.start is None or self.start <= end) and (self.end is None or begin <= self.end)


@dataclass(frozen=True, slots=True)
class Disability:
    recognised: bool
    since: date | None
    points: int | None


@dataclass(frozen=True, slots=True)
class LeefloonPayment:
    month: date
    category: str | None
    amount: int


@dataclass(frozen=True, slots=True)
class Enrolment:
    school_id: str | None
    school_name: str | None
    level: str | None
    start: date | None
    end: date | None

    def overlaps(self, begin: date | None, end: date | None) -> bool:
        return (begin is None or self.end is None or begin <= self.end) and (
            end is None or self.start is None or self.start <= end
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    return date.fromisoformat(text[:10]) if text else None


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "t")
    return bool(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _rows(path: Path, columns: Sequence[str]) -> Iterable[dict[str, Any]]:
    """The rows of a Parquet file with exactly these columns (absent ones null); none if absent."""
    if not path.is_file():
        return []
    frame = pl.read_parquet(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        frame = frame.with_columns(pl.lit(None).alias(c) for c in missing)
    return frame.select(columns).iter_rows(named=True)


@dataclass
class RegistryStore:
    """The registry view of a synthetic city, indexed by INSZ (and household id)."""

    persons: dict[str, Person] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    tax: dict[str, list[TaxItem]] = field(default_factory=dict)
    statuses: dict[str, list[SocialStatus]] = field(default_factory=dict)
    disability: dict[str, Disability] = field(default_factory=dict)
    leefloon: dict[str, list[LeefloonPayment]] = field(default_factory=dict)
    enrolments: dict[str, list[Enrolment]] = field(default_factory=dict)
    reference_date: date | None = None
    data_dir: Path | None = None  # the city's folder (its published notifications live there)

    @staticmethod
    def registry_dir(data_dir: Path) -> Path:
        """``DIR/registry``, or DIR itself when it already holds ``persons.parquet``."""
        nested = data_dir / "registry"
        return nested if (nested / "persons.parquet").is_file() else data_dir

    @classmethod
    def load(cls, data_dir: Path) -> RegistryStore:
        """Load a city written per ``docs/synthetic-city.md``; FileNotFoundError without one."""
        folder = cls.registry_dir(data_dir)
        if not (folder / "persons.parquet").is_file():
            raise FileNotFoundError(f"no registry/persons.parquet under {data_dir}")
        store = cls(reference_date=_meta_reference_date(data_dir), data_dir=data_dir)
        try:
            store._load_persons(folder)
            store._load_households(folder)
            store._load_facts(folder)
        except (OSError, pl.exceptions.PolarsError, ValueError, KeyError, TypeError) as exc:
            words = " ".join(str(exc).split())[:200]
            raise CityDataError(
                f"the synthetic city under {data_dir} cannot be read ({type(exc).__name__}: "
                f"{words}); write it again with `entitle synth`"
            ) from None
        return store

    def _load_persons(self, folder: Path) -> None:
        columns = [
            "person_id",
            "household_id",
            "position_code",
            "first_name",
            "last_name",
            "birth_date",
            "sex",
            "nationality",
            "register",
            "municipality_nis",
            "postcode",
            "street",
            "house_number",
            "reference_address",
            "shared_residence",
            "integrated_ksz",
        ]
        members: defaultdict[str, list[str]] = defaultdict(list)
        for row in _rows(folder / "persons.parquet", columns):
            insz = _text(row["person_id"])
            if insz is None:
                continue
            person = Person(
                insz=insz,
                household_id=_text(row["household_id"]),
                position_code=_text(row["position_code"]),
                first_name=_text(row["first_name"]),
                last_name=_text(row["last_name"]),
                birth_date=_day(row["birth_date"]),
                sex=_text(row["sex"]),
                nationality=_text(row["nationality"]),
                register=_text(row["register"]),
                municipality_nis=_text(row["municipality_nis"]),
                postcode=_text(row["postcode"]),
                street=_text(row["street"]),
                house_number=_text(row["house_number"]),
                reference_address=_flag(row["reference_address"], False),
                shared_residence=_flag(row["shared_residence"], False),
                integrated_ksz=_flag(row["integrated_ksz"], True),
            )
            self.persons[insz] = person
            if person.household_id is not None:
                members[person.household_id].append(insz)
        self.members = dict(members)

    def _load_households(self, folder: Path) -> None:
        columns = [
            "household_id",
            "reference_person_id",
            "municipality_nis",
            "postcode",
            "street",
            "house_number",
            "size",
            "collective",
            "reference_address",
        ]
        for row in _rows(folder / "households.parquet", columns):
            household_id = _text(row["household_id"])
            if household_id is None:
                continue
            self.households[household_id] = Household(
                household_id=household_id,
                reference_person_id=_text(row["reference_person_id"]),
                municipality_nis=_text(row["municipality_nis"]),
                postcode=_text(row["postcode"]),
                street=_text(row["street"]),
                house_number=_text(row["house_number"]),
                size=_int(row["size"]),
                collective=_flag(row["collective"], False),
                reference_address=_flag(row["reference_address"], False),
            )

    def _load_facts(self, folder: Path) -> None:
        tax: defaultdict[str, list[TaxItem]] = defaultdict(list)
        columns = [
            "person_id",
            "income_year",
            "tax_year",
            "fiscal_status",
            "item_code",
            "item_value",
            "article_number",  # optional: the assessment's article number, as MAGDA shows it
        ]
        for row in _rows(folder / "tax_assessments.parquet", columns):
            code, year, value = _text(row["item_code"]), _int(row["income_year"]), row["item_value"]
            if row["person_id"] is None or code is None or year is None or value is None:
                continue
            tax[str(row["person_id"])].append(
                TaxItem(
                    year,
                    _int(row["tax_year"]),
                    _text(row["fiscal_status"]),
                    code,
                    int(value),
                    _text(row["article_number"]),
                )
            )
        self.tax = dict(tax)

        statuses: defaultdict[str, list[SocialStatus]] = defaultdict(list)
        for row in _rows(
            folder / "social_statuses.parquet", ["person_id", "status", "start", "end"]
        ):
            name = _text(row["status"])
            if row["person_id"] is None or name is None:
                continue
            statuses[str(row["person_id"])].append(
                SocialStatus(name, _day(row["start"]), _day(row["end"]))
            )
        self.statuses = dict(statuses)

        columns = ["person_id", "recognised", "since", "points"]
        for row in _rows(folder / "disability.parquet", columns):
            if row["person_id"] is not None:
                self.disability[str(row["person_id"])] = Disability(
                    _flag(row["recognised"], False), _day(row["since"]), _int(row["points"])
                )

        leefloon: defaultdict[str, list[LeefloonPayment]] = defaultdict(list)
        columns = ["person_id", "month", "category", "amount"]
        for row in _rows(folder / "leefloon_payments.parquet", columns):
            month = _day(row["month"])
            if row["person_id"] is None or month is None or row["amount"] is None:
                continue
            leefloon[str(row["person_id"])].append(
                LeefloonPayment(month.replace(day=1), _text(row["category"]), int(row["amount"]))
            )
        self.leefloon = {k: sorted(v, key=lambda p: p.month) for k, v in leefloon.items()}

        enrolments: defaultdict[str, list[Enrolment]] = defaultdict(list)
        columns = ["person_id", "school_id", "school_name", "level", "start", "end"]
        for row in _rows(folder / "enrolments.parquet", columns):
            if row["person_id"] is None:
                continue
            enrolments[str(row["person_id"])].append(
                Enrolment(
                    _text(row["school_id"]),
                    _text(row["school_name"]),
                    _text(row["level"]),
                    _day(row["start"]),
                    _day(row["end"]),
                )
            )
        self.enrolments = {
            k: sorted(v, key=lambda e: e.start or date.min) for k, v in enrolments.items()
        }

    def household_members(self, person: Person) -> list[Person]:
        """The persons registered in the same household (the person included), in order."""
        if person.household_id is None:
            return []
        found = (self.persons[i] for i in self.members.get(person.household_id, []))
        return sorted(found, key=lambda p: (p.position_code or "99", p.birth_date or date.min))


def _meta_reference_date(data_dir: Path) -> date | None:
    meta = data_dir / "meta.json"
    if not meta.is_file():
        return None
    try:
        value = json.loads(meta.read_text(encoding="utf-8")).get("reference_date")
        return _day(value)
    except (ValueError, AttributeError):
        return None


@dataclass(frozen=True)
class _Dataset:
    name: str
    frame: pl.DataFrame
    files: dict[str, Path]


class LocalDatasets:
    """The city's own datasets (``DIR/local``): OCMW clients, school enrolments, …

    Each ``NAME.parquet`` or ``NAME.csv`` is one dataset, keyed by ``person_id`` (INSZ). The files
    are served as they are; lookups by INSZ return plain JSON-ready rows.
    """

    def __init__(self, data_dir: Path) -> None:
        folder = data_dir / "local"
        self._datasets: dict[str, _Dataset] = {}
        self._rows_of: dict[str, list[dict[str, Any]]] = {}
        self._indexes: dict[str, dict[str, list[int]]] = {}
        if not folder.is_dir():
            return
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".parquet", ".csv") or not path.is_file():
                continue
            known = self._datasets.get(path.stem)
            if known is not None:
                known.files[path.suffix[1:]] = path
                continue
            frame = (
                pl.read_parquet(path)
                if path.suffix == ".parquet"
                else pl.read_csv(path, infer_schema_length=0)
            )
            if "person_id" in frame.columns:
                frame = frame.with_columns(pl.col("person_id").cast(pl.String))
            self._datasets[path.stem] = _Dataset(path.stem, frame, {path.suffix[1:]: path})

    def names(self) -> list[str]:
        return sorted(self._datasets)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": d.name,
                "rows": d.frame.height,
                "columns": d.frame.columns,
                "files": sorted(f"{d.name}.{suffix}" for suffix in d.files),
            }
            for d in self._datasets.values()
        ]

    def file(self, name: str, suffix: str) -> Path | None:
        dataset = self._datasets.get(name)
        return None if dataset is None else dataset.files.get(suffix)

    def frame(self, name: str) -> pl.DataFrame | None:
        dataset = self._datasets.get(name)
        return None if dataset is None else dataset.frame

    def school_years(self, name: str) -> list[str] | None:
        """The school years a dataset has rows for (None: it has no `school_year` column)."""
        frame = self.frame(name)
        if frame is None or "school_year" not in frame.columns:
            return None
        return sorted(str(y) for y in frame["school_year"].unique().to_list())

    def lookup(self, name: str, insz: Sequence[str]) -> list[dict[str, Any]]:
        """The rows of a dataset for these persons (JSON-ready: dates as ISO strings), in the
        dataset's order."""
        index = self._index(name)
        if index is None:
            return []
        found = sorted(i for person in set(insz) for i in index.get(person, ()))
        rows = self._rows_of[name]
        return [dict(rows[i]) for i in found]

    def _index(self, name: str) -> dict[str, list[int]] | None:
        """Row numbers by person_id, built on first use (a lookup is then a dict access)."""
        index = self._indexes.get(name)
        if index is not None:
            return index
        frame = self.frame(name)
        if frame is None or "person_id" not in frame.columns:
            return None
        rows = [
            {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}
            for row in frame.iter_rows(named=True)
        ]
        index = {}
        for i, row in enumerate(rows):
            index.setdefault(str(row["person_id"]), []).append(i)
        self._rows_of[name] = rows
        self._indexes[name] = index
        return index
