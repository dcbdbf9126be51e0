"""Reading the city to advance and writing it back (tables, history, notifications, meta.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from entitle.registry.advance_publish import NOTIFICATION_SCHEMA
from entitle.registry.advance_state import (
    EVENT_SCHEMA,
    TABLES,
    AdvanceError,
    City,
    events_path,
    notifications_path,
)
from entitle.registry.synth import write_parquet

__all__ = ["load_city", "save_city"]


def load_city(root: Path) -> City:
    """The city in `root`, with its history; AdvanceError when it is missing or unreadable."""
    try:
        meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
        tables = {path: pl.read_parquet(root / path) for path in TABLES}
    except FileNotFoundError as exc:
        raise AdvanceError(f"{root} holds no complete synthetic city ({exc.filename})") from None
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise AdvanceError(f"cannot read the city in {root}: {exc}") from None
    path = events_path(root)
    events = pl.read_parquet(path) if path.is_file() else pl.DataFrame(schema=EVENT_SCHEMA)
    households = pl.concat(
        [
            tables["registry/households.parquet"]["household_id"],
            tables["truth/households.parquet"]["household_id"],
        ]
    )
    used = set(tables["truth/persons.parquet"]["person_id"].to_list())
    used.update(tables["registry/persons.parquet"]["person_id"].to_list())
    return City(
        root=root,
        meta=meta,
        t=tables,
        events=events,
        next_event=int(events["event"].cast(pl.Int64).fill_null(0).max() or 0) + 1,  # type: ignore[arg-type]
        next_household=int(households.str.slice(1).cast(pl.Int64).max() or 0),  # type: ignore[arg-type]
        used_insz=used,
    )


def save_city(city: City, published: dict[int, list[dict[str, Any]]]) -> None:
    """Write the city back: tables, history, the weeks' notifications, then meta.json last."""
    (city.root / "history").mkdir(exist_ok=True)
    (city.root / "notifications").mkdir(exist_ok=True)
    (city.root / "meta.json").unlink(missing_ok=True)  # an interrupted write leaves no valid city
    for path, frame in city.t.items():
        write_parquet(frame, city.root / path)
    write_parquet(city.events, events_path(city.root))
    for week, rows in published.items():
        write_parquet(
            pl.DataFrame(rows, schema=NOTIFICATION_SCHEMA), notifications_path(city.root, week)
        )
    city.meta["rows"] = {**city.meta.get("rows", {}), **{p: f.height for p, f in city.t.items()}}
    # "persons" stays the generation's parameter (it identifies the city); the counts now are rows
    city.meta["households"] = city.t["truth/households.parquet"].height
    city.meta["registry_households"] = city.t["registry/households.parquet"].height
    text = json.dumps(city.meta, indent=2, sort_keys=True) + "\n"
    (city.root / "meta.json").write_text(text, encoding="utf-8")
