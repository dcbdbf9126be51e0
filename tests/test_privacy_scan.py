"""The privacy scan: a whole demo run — desk checks, the auditor's reports, the garbage-bag
campaign approved and issued (letters, notifications), then stopped — and no raw income, leefloon
amount or disability value of the synthetic city in its database, logs, letters, lists or in any
page the web app served. The demo run is the session's (`ghent_demo_run`, shared with the
end-to-end test in test_demo.py).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from privacy_scan import (
    NARROW_SPACE,
    Finding,
    MoneyFinder,
    Scanner,
    folder_texts,
    money_forms,
    money_pattern,
    sensitive_amounts,
)
from test_demo import CAMPAIGN_DONE, GhentDemoRun

from entitle.registry.synth import write_city


def test_the_scanner_finds_a_planted_income_and_ignores_look_alikes(tmp_path: Path) -> None:
    city = tmp_path / "city"
    write_city(400, 9, city)
    cents = max(sensitive_amounts(city))
    euros = f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
    scanner = Scanner(city)
    planted = list(scanner.scan("letter", f"Uw inkomen bedraagt € {euros} per jaar."))
    assert [f.value for f in planted] == [euros]
    assert list(scanner.scan("json", f'{{"household_income": {cents}}}')) != []
    # the same digits inside a longer number, a time stamp or a hash are not a leak
    look_alikes = f"x{cents}y 9{cents} 12:00:00.{cents} ref-{cents}-a {cents}.5"
    assert list(scanner.scan("noise", look_alikes)) == []


def test_money_is_searched_in_the_forms_people_and_programs_write() -> None:
    forms = money_forms(1_234_567)
    assert {"1234567", "12345.67", "12345,67", "12.345,67", "12,345.67"} <= forms


# sums whose forms share digits: one form is a part of another (12345 of 1234567, 12.345,67)
SUMS = st.sampled_from([1_234_567, 12_345, 1_234_500, 10_000, 99_999_999, 2_000_000, 123_456])
PIECES = [".", ",", ":", "-", "/", " ", NARROW_SPACE, "\n", "a", "_", "€", "0", "5", "٣", "x1"]


@settings(max_examples=300, deadline=None)
@given(sums=st.lists(SUMS, min_size=1, max_size=4), data=st.data())
def test_the_money_finder_finds_what_the_regular_expression_finds(
    sums: list[int], data: st.DataObject
) -> None:
    forms = set().union(*(money_forms(cents) for cents in sums))
    # texts of the forms, other numbers, separators and look-alikes, in any order
    piece = st.one_of(
        st.sampled_from(sorted(forms)),
        st.sampled_from(PIECES),
        st.integers(0, 10**9).map(str),
    )
    text = "".join(data.draw(st.lists(piece, max_size=25)))
    expected = [found.span() for found in money_pattern(forms).finditer(text)]
    assert list(MoneyFinder(forms).spans(text)) == expected


def test_a_full_demo_run_leaks_no_sensitive_value(ghent_demo_run: GhentDemoRun) -> None:
    demo = ghent_demo_run
    pages: list[tuple[str, str]] = []
    for benefit, _, insz, card in demo.cards:
        assert card.status == 200, card.text
        pages.append((f"desk {benefit} {insz}", card.text))
    for path, page in demo.audit.items():
        assert page.status == 200, page.text
        pages.append((path, page.text))
    done = CAMPAIGN_DONE.search(demo.campaign_done)
    assert done and done[1] == "draft", demo.output  # the draft the campaign manager issued
    asked = demo.approval[0]
    assert asked.status == 200 and 'name="confirm"' in asked.text, asked.text
    assert demo.approval[1].status == 303, demo.approval[1].text  # confirmed: issued
    pages += [(path, page.text) for path, page in demo.issued.items()]
    assert demo.exit_code == 0

    data = demo.folder
    scanner = Scanner(data / "city")
    texts = [*folder_texts(data, skip=[data / "city"]), *pages, ("demo output", demo.output)]
    letters = [name for name, _ in texts if name.endswith(".pdf")]
    assert letters, "the issued run wrote no letters to scan"
    assert any(name.startswith("entitle.db:") for name, _ in texts), "no database rows scanned"
    findings: list[Finding] = [f for where, text in texts for f in scanner.scan(where, text)]
    assert findings == [], "\n".join(f"{f.where}: {f.value!r} in …{f.context}…" for f in findings)
