"""Household listings of whole populations: each person's place in their household's listing.

The listing is `decision.listing`'s order — by position code (unknown last), then person id — so
both engines ask members one at a time in the same order, whatever the table's row order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

Ints = np.ndarray[Any, np.dtype[np.int64]]


def listing_places(persons: pl.DataFrame, households: Ints, sizes: Ints) -> Ints:
    """Each person's 0-based place in their household's listing.

    `households`: each person's household position; `sizes`: persons per household. Persons are
    sorted by household and position code with a stable sort (person tables are mostly in listing
    order already, which such a sort finds cheaply); a full sort that also compares person ids
    runs only when two persons of a household share a code out of id order.
    """
    codes = _code_ranks(persons)
    key = households * (int(codes.max(initial=0)) + 1) + codes
    order = np.argsort(key, kind="stable")
    ids = persons["person_id"].cast(pl.String())
    if not _ids_ascending_in_ties(ids, key, order):
        order = (
            pl.DataFrame({"key": key, "id": ids, "row": np.arange(len(key), dtype=np.int64)})
            .sort("key", "id")["row"]
            .to_numpy()
        )
    starts = np.cumsum(sizes) - sizes
    places = np.empty(len(order), dtype=np.int64)
    places[order] = np.arange(len(order), dtype=np.int64) - starts[households[order]]
    return places


def _code_ranks(persons: pl.DataFrame) -> Ints:
    """Each person's position code as its rank among the codes present (unknown: last)."""
    if "position_code" not in persons.columns:
        return np.zeros(persons.height, dtype=np.int64)
    code = persons["position_code"].cast(pl.String())
    known = code.drop_nulls().unique().sort()
    ranks = code.cast(pl.Enum(known.to_list())).to_physical().cast(pl.Int64())
    return ranks.fill_null(len(known)).to_numpy()


def _ids_ascending_in_ties(ids: pl.Series, key: Ints, order: Ints) -> bool:
    """Whether persons sorted by `key` have ascending ids wherever their keys are equal."""
    sorted_key = key[order]
    ties = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
    if not len(ties):
        return True
    return bool((ids.gather(order[ties]) < ids.gather(order[ties + 1])).all())
