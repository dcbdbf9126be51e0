"""The city's own datasets (OCMW clients, school enrolments): files or the city's endpoint.

A local dataset is the city's complete register of its own clients: a person absent from it is not
a client (false), which is different from the dataset being unreachable (unknown). A field named
`enrolled` means "the person has a row". Rows are keyed by `person_id` (the INSZ); a dataset with a
`school_year` column (e.g. "2026-2027") only counts the rows of the as-of date's school year.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import httpx
import polars as pl

PRESENCE_FIELD = "enrolled"


class LocalSourceError(RuntimeError):
    """A dataset could not be read (missing file, endpoint down): its facts stay unknown."""


class LocalSource(Protocol):
    """Reads one field of a local dataset for many persons."""

    def lookup(self, dataset: str, field: str, ids: Sequence[str], as_of: date) -> dict[str, Any]:
        """Values by person id; raises `LocalSourceError` when the dataset is unavailable."""
        ...


def school_year(as_of: date) -> str:
    """The school year of a date, as "2026-2027" (from 1 September)."""
    first = as_of.year if as_of.month >= 9 else as_of.year - 1
    return f"{first}-{first + 1}"


def _values(rows: pl.DataFrame, field: str, ids: Sequence[str], as_of: date) -> dict[str, Any]:
    """One value per id: the field of its row (any row true for booleans), else false."""
    found: dict[str, Any] = {}
    if rows.height and "school_year" in rows.columns:
        rows = rows.filter(pl.col("school_year") == school_year(as_of))
    if field == PRESENCE_FIELD:
        present = set(rows["person_id"].to_list()) if rows.height else set()
        return {i: i in present for i in ids}
    if rows.height and field not in rows.columns:
        raise LocalSourceError(f"dataset has no field {field!r}")
    if rows.height:
        value = pl.col(field).any() if rows[field].dtype == pl.Boolean else pl.col(field).first()
        grouped = rows.group_by("person_id").agg(value)
        found = dict(zip(grouped["person_id"].to_list(), grouped[field].to_list(), strict=True))
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
        return _values(rows, field, ids, as_of)


class HttpDatasets:
    """Datasets behind the city's endpoint: `POST {base}/local/{name}` with `{"insz": [...]}`."""

    def __init__(
        self, base_url: str, client: httpx.Client | None = None, batch: int = 5000
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=10.0)
        self.batch = batch

    def lookup(self, dataset: str, field: str, ids: Sequence[str], as_of: date) -> dict[str, Any]:
        frames = []
        for start in range(0, len(ids), self.batch):
            chunk = list(ids[start : start + self.batch])
            try:
                response = self.client.post(
                    f"{self.base_url}/local/{dataset}", json={"insz": chunk}
                )
                response.raise_for_status()
                rows = response.json()["rows"]
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                raise LocalSourceError(f"dataset {dataset} unavailable: {exc}") from exc
            if rows:
                frames.append(
                    pl.DataFrame(rows).with_columns(pl.col("person_id").cast(pl.String()))
                )
        rows_df = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
        return _values(rows_df, field, ids, as_of)
