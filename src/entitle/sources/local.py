"""The city's own datasets (OCMW clients, school enrolments): files or the city's endpoint.

A local dataset is the city's complete register of its own clients: a person absent from it is not
a client (false), which is different from the dataset being unreachable (unknown). A field named
`enrolled` means "the person has a row". Rows are keyed by `person_id` (the INSZ); a dataset with a
`school_year` column (e.g. "2026-2027") only counts the rows of the as-of date's school year.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import httpx
import polars as pl

from entitle.rules.periods import school_year
from entitle.sources.http11 import Http11Pool

PRESENCE_FIELD = "enrolled"
_JSON = {"Content-Type": "application/json"}


class LocalSourceError(RuntimeError):
    """A dataset could not be read (missing file, endpoint down): its facts stay unknown."""


class SchoolYearMissing(LocalSourceError):
    """The dataset holds no rows at all for the as-of date's school year (not loaded yet): it
    cannot say that someone is not enrolled, so its facts stay unknown — not false."""


class LocalSource(Protocol):
    """Reads one field of a local dataset for many persons."""

    def lookup(self, dataset: str, field: str, ids: Sequence[str], as_of: date) -> dict[str, Any]:
        """Values by person id; raises `LocalSourceError` when the dataset is unavailable."""
        ...


def _values(
    rows: Sequence[dict[str, Any]],
    field: str,
    ids: Sequence[str],
    as_of: date,
    held: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One value per id: the field of its rows (true if any row is), else false. `held`: the
    school years the dataset has rows for (None: not a dataset by school year)."""
    year = school_year(as_of)
    if held is not None and year not in held:
        raise SchoolYearMissing(
            f"no rows for school year {year} (the dataset holds {', '.join(held) or 'none'})"
        )
    found: dict[str, Any] = {}
    for row in rows:
        if row.get("school_year", year) != year:
            continue
        person = str(row["person_id"])
        if field == PRESENCE_FIELD:
            found[person] = True
            continue
        if field not in row:
            raise LocalSourceError(f"dataset has no field {field!r}")
        value = row[field]
        found[person] = (found.get(person) or value) if isinstance(value, bool) else value
    return {i: found.get(i, False) for i in ids}


class FileDatasets:
    """Datasets as files in a folder: `<name>.parquet` or `<name>.csv`, read once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._tables: dict[str, pl.DataFrame] = {}

    def table(self, dataset: str) -> pl.DataFrame:
        """The whole dataset (cached)."""
        if dataset not in self._tables:
            parquet, csv = self.folder / f"{dataset}.parquet", self.folder / f"{dataset}.csv"
            try:
                if parquet.exists():
                    table = pl.read_parquet(parquet)
                elif csv.exists():
                    table = pl.read_csv(csv, schema_overrides={"person_id": pl.String()})
                else:
                    raise LocalSourceError(f"no {dataset}.parquet or .csv in {self.folder}")
            except (OSError, pl.exceptions.PolarsError) as exc:
                raise LocalSourceError(f"cannot read dataset {dataset}: {exc}") from exc
            self._tables[dataset] = table.with_columns(pl.col("person_id").cast(pl.String()))
        return self._tables[dataset]

    def lookup(self, dataset: str, field: str, ids: Sequence[str], as_of: date) -> dict[str, Any]:
        table = self.table(dataset)
        rows = table.filter(pl.col("person_id").is_in(list(ids)))
        held = (
            sorted(str(y) for y in table["school_year"].unique().to_list())
            if "school_year" in table.columns
            else None
        )
        return _values(rows.to_dicts(), field, ids, as_of, held)


class HttpDatasets:
    """Datasets behind the city's endpoint: `POST {base}/local/{name}` with `{"insz": [...]}`."""

    def __init__(
        self, base_url: str, client: httpx.Client | None = None, batch: int = 5000
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=10.0)
        # no client given: the lean keep-alive pool (a desk check asks a dataset or two)
        self.pool = Http11Pool(timeout=httpx.Timeout(10.0), verify=True) if client is None else None
        self.batch = batch

    def lookup(self, dataset: str, field: str, ids: Sequence[str], as_of: date) -> dict[str, Any]:
        rows: list[dict[str, Any]] = []
        held: list[str] | None = None
        for start in range(0, len(ids), self.batch):
            chunk = list(ids[start : start + self.batch])
            url = f"{self.base_url}/local/{dataset}"
            try:
                if self.pool is not None:
                    status, content = self.pool.post(
                        url, json.dumps({"insz": chunk}).encode(), _JSON
                    )
                    if status >= 400:
                        raise LocalSourceError(f"dataset {dataset} unavailable: HTTP {status}")
                    answer = json.loads(content)
                else:
                    response = self.client.post(url, json={"insz": chunk})
                    response.raise_for_status()
                    answer = response.json()
                rows.extend(answer["rows"])
                if "school_years" in answer:
                    held = [str(y) for y in answer["school_years"]]
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                raise LocalSourceError(f"dataset {dataset} unavailable: {exc}") from exc
        return _values(rows, field, ids, as_of, held)

    def close(self) -> None:
        """Close the connections (the client or the pool)."""
        self.client.close()
        if self.pool is not None:
            self.pool.close()
