"""`entitle.web.visibility`: whoever asks, a protected condition's value and the facts behind it
never show, and a caller sees a decision exactly when `decision_access` lets it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from entitle.rules.catalogue import default_catalogue
from entitle.rules.loader import load_benefit
from entitle.store.users import ROLES
from entitle.web.visibility import (
    Caller,
    decision_access,
    protected_conditions,
    protected_facts,
    visible_decision,
)

LEZ = load_benefit(Path(__file__).resolve().parents[1] / "benefits" / "ghent" / "lez.yaml")
CATALOGUE = default_catalogue()
FACTS = [
    "household.members",
    "person.disability_parking_card",
    "person.increased_allowance",
    "person.municipality_nis",
]

USERS = st.builds(Caller.user, st.sampled_from(["anna", "bert"]), st.sampled_from(ROLES))
SCOPES = st.lists(
    st.sampled_from(
        ["*", "ghent-lez", "ghent-uitpas", "decisions:read:ghent-lez", "coupon-verification"]
    ),
    min_size=1,
    max_size=3,
)
TOKENS = st.builds(
    Caller.token,
    st.sampled_from(["anna", "kiosk"]),
    SCOPES,
    st.lists(st.sampled_from(["*", "ghent.lez", "ghent.uitpas"]), min_size=1, max_size=2),
)
DECISIONS = st.fixed_dictionaries(
    {
        "benefit": st.just("ghent.lez"),
        "purpose": st.just("ghent-lez"),
        "actor": st.sampled_from(["anna", "api:anna", "api:kiosk", "bert"]),
        "conditions": st.fixed_dictionaries(
            {name: st.sampled_from([True, False, None]) for name in LEZ.conditions}
        ),
        "facts_used": st.lists(st.sampled_from(FACTS), unique=True),
    }
)


def test_the_lez_benefit_has_protected_conditions() -> None:
    hidden = protected_conditions(LEZ, CATALOGUE)
    assert hidden and hidden < set(LEZ.conditions)
    assert "person.disability_parking_card" in protected_facts(FACTS, CATALOGUE)


@given(st.one_of(USERS, TOKENS), DECISIONS)
def test_protected_values_never_show(caller: Caller, decision: dict[str, Any]) -> None:
    shown = visible_decision(caller, decision, LEZ, CATALOGUE)
    assert (shown is not None) == decision_access(caller, decision).allowed
    if shown is None:
        return
    for name in protected_conditions(LEZ, CATALOGUE):
        value = decision["conditions"][name]
        assert shown["conditions"][name] is None
        assert shown["condition_status"][name] == ("unknown" if value is None else "protected")
    assert not protected_facts(shown["facts_used"], CATALOGUE)
    for name in set(LEZ.conditions) - protected_conditions(LEZ, CATALOGUE):
        assert shown["conditions"][name] == decision["conditions"][name]


def test_without_the_benefit_every_condition_is_protected() -> None:
    decision = {"benefit": "x", "purpose": "p", "actor": "anna", "conditions": {"a": True}}
    shown = visible_decision(Caller.user("anna", "desk_officer"), decision, None, CATALOGUE)
    assert shown is not None and shown["condition_status"] == {"a": "protected"}
