"""The period in words, by one rule (`rules/periods.py`), on pages, letters and billing lists:
"schooljaar 2026-2027" / "school year 2026-2027" where a decision is for a school year."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from test_campaign_review import bags

from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.letters import Addressee, build_letter
from entitle.rules.periods import decision_period, period_of_label, period_words
from entitle.store.campaigns import LetterView
from entitle.web.i18n import Translator

VALIDITIES = st.one_of(
    st.sampled_from(["calendar-year", "school-year"]),
    st.integers(1, 36).map(lambda n: {"months": n}),
)


@given(validity=VALIDITIES, as_of=st.dates(date(2000, 1, 1), date(2090, 12, 31)))
def test_a_stored_label_names_its_period_again(validity: object, as_of: date) -> None:
    period = decision_period(validity, as_of)  # type: ignore[arg-type]
    assert period_of_label(validity, period.label) == period  # type: ignore[arg-type]
    assert period.label in period_words(period, "nl") or period.kind == "months"


def test_the_period_in_words_in_dutch_and_english() -> None:
    school = decision_period("school-year", date(2026, 10, 1))
    assert period_words(school, "nl") == "schooljaar 2026-2027"
    assert period_words(school, "en") == "school year 2026-2027"
    year = decision_period("calendar-year", date(2026, 10, 1))
    assert (period_words(year, "nl"), period_words(year, "en")) == (
        "kalenderjaar 2026",
        "calendar year 2026",
    )
    months = decision_period({"months": 6}, date(2026, 3, 1))
    assert Translator("nl").period(months) == "1 maart 2026 tot en met 31 augustus 2026"
    assert Translator("en").period(school) == "school year 2026-2027"  # the page's words


def test_a_letter_about_a_school_year_states_it_in_both_languages() -> None:
    base = bags()
    school_year = Campaign(
        base.spec, replace(base.benefit, validity="school-year"), base.path, base.benefits_dir
    )
    letter = LetterView(
        id=1,
        run_id=3,
        seq=7,
        campaign=base.name,
        period="2026-2027",
        subject_pseudonym="p",
        kind="coupon",
        code="ABCD-EFGH",
        band=None,
        value={},
        valid_until=date(2027, 8, 31),
        issued=datetime(2026, 10, 1, tzinfo=UTC),
        used=None,
        used_by=None,
    )
    decision = SimpleNamespace(
        outcome="eligible",
        outputs={},
        conditions={},
        valid_until=date(2027, 8, 31),
        facts_missing=[],
        missing=None,
        at_least=None,
    )
    to = Addressee("s", "An Peeters", "An", "Kerkstraat 1", "9000", "Gent")
    made = build_letter(school_year, letter, decision, to, on=date(2026, 10, 2))
    assert made.reference == "Kenmerk: 3/7 (schooljaar 2026-2027)"
    assert made.translation is not None
    assert made.translation.reference == "Reference: 3/7 (school year 2026-2027)"
