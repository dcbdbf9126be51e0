"""The one rule for school years, decision periods and validity (`entitle.rules.periods`), and
that every part of Entitle that names a school year or a period uses it (issue 16: the desk,
the campaigns, the city's datasets and the synthetic city disagreed)."""

from __future__ import annotations

import ast
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entitle.rules.periods import (
    SchoolYear,
    decision_period,
    expiry,
    school_year,
    valid_until,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "entitle"
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
validities = st.one_of(
    st.sampled_from(["calendar-year", "school-year"]),
    st.fixed_dictionaries({"months": st.integers(1, 36)}),
    st.fixed_dictionaries({"years": st.integers(1, 3)}),
)


@given(days)
def test_a_school_year_holds_its_days_and_runs_september_to_august(day: date) -> None:
    year = SchoolYear.of(day)
    assert year.start <= day <= year.end
    assert (year.start.month, year.start.day) == (9, 1)
    assert (year.end.month, year.end.day) == (8, 31)
    assert year.end.year == year.start.year + 1
    assert SchoolYear.parse(year.label) == year
    assert school_year(day) == year.label
    assert SchoolYear.of(year.end + timedelta(days=1)) == year.shifted(1)


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 3, 1), "2025-2026"),
        (date(2026, 8, 31), "2025-2026"),
        (date(2026, 9, 1), "2026-2027"),
        (date(2026, 12, 2), "2026-2027"),
    ],
)
def test_school_year_examples(day: date, label: str) -> None:
    assert school_year(day) == label


@pytest.mark.parametrize("label", ["2025", "2025-2025", "2025-2027", "x-y", "2025-"])
def test_a_label_that_is_no_school_year_is_refused(label: str) -> None:
    with pytest.raises(ValueError, match="not a school year"):
        SchoolYear.parse(label)


@given(validities, days)
def test_a_decision_holds_from_its_reference_date_to_its_period_end(
    validity: str | dict[str, int], as_of: date
) -> None:
    period = decision_period(validity, as_of)
    assert period.start <= as_of <= period.end
    assert valid_until(validity, as_of) == period.end
    if validity == "school-year":
        assert period.label == school_year(as_of)
    elif validity == "calendar-year":
        assert period.label == str(as_of.year) and period.end == date(as_of.year, 12, 31)
    else:
        assert period.label == f"{as_of.isoformat()}..{period.end.isoformat()}"


def test_months_end_the_day_before_the_same_day_later() -> None:
    assert valid_until({"months": 12}, date(2026, 3, 1)) == date(2027, 2, 28)
    assert valid_until({"months": 1}, date(2026, 1, 31)) == date(2026, 2, 27)


@given(days, days)
def test_expiry_says_expired_short_or_nothing(until: date, on: date) -> None:
    found = expiry(until, on, short_days=45)
    if until < on:
        assert found == "expired"
    elif (until - on).days < 45:
        assert found == "short"
    else:
        assert found is None


def test_the_billing_list_of_last_school_year_approved_in_december_is_expired() -> None:
    """The issue's case: a run on 1 March 2026 approved on 2 December 2026."""
    assert expiry(valid_until("school-year", date(2026, 3, 1)), date(2026, 12, 2)) == "expired"
    assert expiry(valid_until("calendar-year", date(2026, 12, 2)), date(2026, 12, 2)) == "short"


def test_the_benefit_and_the_campaign_take_their_period_from_the_rule() -> None:
    from entitle.decide.campaign.definition import load_campaign
    from entitle.rules.loader import load_benefit

    repo = SRC.parents[1]
    benefit = load_benefit(repo / "benefits" / "ghent" / "school-tariff.yaml")
    on = date(2026, 3, 1)
    assert benefit.valid_until(on) == date(2026, 8, 31)
    assert benefit.period(on) == decision_period("school-year", on)
    campaign = load_campaign(
        repo / "campaigns" / "ghent" / "school-tariff.yaml", repo / "benefits" / "ghent"
    )
    assert campaign.period(on) == "2025-2026"


def test_the_synthetic_city_holds_the_school_year_of_its_reference_date() -> None:
    from entitle.registry.synth_people import REFERENCE_DATE
    from entitle.registry.synth_school import SCHOOL_YEARS

    assert SCHOOL_YEARS[-1] == school_year(REFERENCE_DATE)
    assert SCHOOL_YEARS[0] == SchoolYear.of(REFERENCE_DATE).shifted(-1).label


def _computes_a_school_year(tree: ast.AST) -> list[int]:
    """Lines comparing a date's month with September (9), or building 31 August / 1 September."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            month = any(isinstance(p, ast.Attribute) and p.attr == "month" for p in parts)
            nine = any(isinstance(p, ast.Constant) and p.value == 9 for p in parts)
            if month and nine:
                found.append(node.lineno)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "date":
            args = [a.value for a in node.args[1:] if isinstance(a, ast.Constant)]
            if args in ([8, 31], [9, 1]):
                found.append(node.lineno)
    return found


def test_no_module_but_the_rule_computes_a_school_year() -> None:
    copies = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "periods.py" and path.parent.name == "rules":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        copies += [f"{path.relative_to(SRC)}:{line}" for line in _computes_a_school_year(tree)]
        names = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        if "school_year" in names:
            copies.append(f"{path.relative_to(SRC)}: def school_year")
    assert copies == []


def test_the_copy_finder_finds_a_copy() -> None:
    tree = ast.parse("def f(d):\n    return d.year if d.month >= 9 else d.year - 1\n")
    assert _computes_a_school_year(tree) == [2]
