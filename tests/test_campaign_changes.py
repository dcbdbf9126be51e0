"""A run's changes against the previous run: an undetermined decision is never counted as "no
right" (issue 16), whatever came before."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from entitle.decide.campaign.evaluate import with_change
from entitle.rules.logic import OUTCOMES
from entitle.store.campaigns import CHANGES

BANDS = (None, "A", "B")

previous_decisions = st.one_of(
    st.none(), st.tuples(st.sampled_from(OUTCOMES), st.sampled_from(BANDS))
)


@given(st.sampled_from(OUTCOMES), st.sampled_from(BANDS), previous_decisions)
def test_each_change_agrees_with_the_outcome_now_and_before(
    outcome: str, band: str | None, before: tuple[str, str | None] | None
) -> None:
    previous = {"p": before} if before is not None else {}
    [row] = with_change([{"subject_pseudonym": "p", "outcome": outcome, "band": band}], previous)
    change = row["change"]
    assert change in CHANGES
    was_eligible = before is not None and before[0] == "eligible"
    if change == "none":
        assert outcome == "not_eligible" and not was_eligible
    if outcome == "undetermined":
        assert change == ("unknown" if was_eligible else "undetermined")


def test_undetermined_without_an_earlier_right_has_its_own_row() -> None:
    rows = [
        {"subject_pseudonym": "a", "outcome": "undetermined", "band": None},
        {"subject_pseudonym": "b", "outcome": "not_eligible", "band": None},
    ]
    changes = [r["change"] for r in with_change(rows, {"a": ("not_eligible", None)})]
    assert changes == ["undetermined", "none"]
