"""Household listings of whole populations: each person's place in their household's listing.

The listing is `decision.listing`'s order — by position code (unknown last), then person id — so
both engines ask members one at a time in the same order, whatever the table's row order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

Ints = np.ndarray[Any, np.dtype[np.int64]]


def listing_places(codes: pl.Series | None, ids: pl.Series, households: Ints) -> Ints:
    """Each person's 0-based place in their household's listing.

    The persons are given by their position codes (None: no codes), ids and household numbers,
    every member of each household present. They are sorted by household and position code with
    a stable sort (person tables are mostly in listing order already, which such a sort finds
    cheaply); a full sort that also compares ids runs only when two persons of a household
    share a code out of id order.
    """
    ranks = _code_ranks(codes) if codes is not None else np.zeros(len(ids), dtype=np.int64)
    key = households * (int(ranks.max(initial=0)) + 1) + ranks
    order = np.argsort(key, kind="stable")
    ids = ids.cast(pl.String())
    if not _ids_ascending_in_ties(ids, key, order):
        order = (
            pl.DataFrame({"key": key, "id": ids, "row": np.arange(len(key), dtype=np.int64)})
            .sort("key", "id")["row"]
            .to_numpy()
        )
    grouped = households[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    places = np.empty(len(order), dtype=np.int64)
    places[order] = np.arange(len(order), dtype=np.int64) - np.repeat(
        starts, np.diff(np.r_[starts, len(order)])
    )
    return places


def _code_ranks(codes: pl.Series) -> Ints:
    """Each position code's rank among the codes present (unknown: last)."""
    codes = codes.cast(pl.String())
    known = codes.drop_nulls().unique().sort()
    ranks = codes.cast(pl.Enum(known.to_list())).to_physical().cast(pl.Int64())
    return ranks.fill_null(len(known)).to_numpy()


def _ids_ascending_in_ties(ids: pl.Series, key: Ints, order: Ints) -> bool:
    """Whether persons sorted by `key` have ascending ids wherever their keys are equal."""
    sorted_key = key[order]
    ties = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
    if not len(ties):
        return True
    return bool((ids.gather(order[ties]) < ids.gather(order[ties + 1])).all())
