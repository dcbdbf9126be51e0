"""A whole population's household listings equal `decision.listing`, household by household."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from entitle.rules.columnar import Population
from entitle.rules.decision import listing

CODES = st.one_of(st.none(), st.sampled_from(["01", "02", "03", "09", "12", "1", "", "é"]))
PERSON = st.tuples(st.integers(0, 5), CODES)  # household number, position code


@given(
    people=st.lists(PERSON, min_size=1, max_size=40),
    ids=st.lists(st.integers(0, 999), min_size=40, max_size=40, unique=True),
    shuffle=st.randoms(use_true_random=False),
)
@settings(max_examples=300, deadline=None)
def test_places_follow_the_household_listing(
    people: list[tuple[int, str | None]], ids: list[int], shuffle: object
) -> None:
    rows = [
        {"person_id": f"p{ids[i]}", "household_id": f"h{household}", "position_code": code}
        for i, (household, code) in enumerate(people)
    ]
    shuffle.shuffle(rows)  # type: ignore[attr-defined]
    persons = pl.DataFrame(
        rows,
        schema={
            "person_id": pl.String(),
            "household_id": pl.String(),
            "position_code": pl.String(),
        },
    )
    households = persons.select("household_id").unique(maintain_order=True)
    places = Population(persons, households).listing()
    some = np.array(sorted({i for i in range(len(rows)) if (i * 7 + len(rows)) % 3}), dtype=int)
    assert np.array_equal(Population(persons, households).places(some), places[some])

    for household in households["household_id"]:
        mine = [i for i, row in enumerate(rows) if row["household_id"] == household]
        expected = listing((rows[i]["person_id"], rows[i]["position_code"]) for i in mine)
        got = sorted(mine, key=lambda i: places[i])
        assert [rows[i]["person_id"] for i in got] == list(expected)
        assert sorted(int(places[i]) for i in mine) == list(range(len(mine)))


def test_places_without_position_codes_follow_person_ids() -> None:
    persons = pl.DataFrame(
        {"person_id": ["b", "a", "c", "d"], "household_id": ["x", "x", "y", "x"]}
    )
    households = pl.DataFrame({"household_id": ["y", "x"]})
    assert np.array_equal(Population(persons, households).listing(), [1, 0, 0, 2])
