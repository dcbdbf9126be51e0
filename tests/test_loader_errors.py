"""A broken benefit file fails to load with `file:line:column` and a specific message.

Every test starts from the small valid benefit `VALID` below (not from benefits/, so the tests do
not depend on the real rules), breaks it with a text edit, and checks where the loader points
(1-based line and column) and what it says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from entitle.rules.loader import Problem, RuleFileError, load_benefit

VALID = """\
id: test.small
version: "1"
title: {nl: Klein, en: Small}
authority: Test
legal_basis:
  text: {nl: wet, en: law}
purpose: test-small
subject: household
validity: calendar-year

parameters:
  ceiling:
    type: money
    values:
      - {from: 2024-01-01, until: 2024-12-31, value: 20000}
      - {from: 2025-01-01, value: 21000}
  amount_by_size:
    type: table
    key: int
    value: money
    values:
      2024-01-01: {1: 10, 2: 20}
  tariff:
    type: bands
    value: text
    values:
      2024-01-01: [{below: 1000, value: A}, {below: 2000, value: B}, {value: C}]

conditions:
  resident:
    when: household.municipality_nis == "44021"
    text: {nl: woont in Gent, en: lives in Ghent}
  low_income:
    when: sum(household.members.taxable_income) < ceiling
    text: {nl: laag inkomen, en: low income}

eligible: resident and low_income

outputs:
  amount:
    type: money
    value: lookup(amount_by_size, min(household.size, 2))
  band:
    type: text
    value: band(tariff, sum(household.members.taxable_income))
"""

ELIGIBLE = "eligible: resident and low_income"
RESIDENT = 'household.municipality_nis == "44021"'
LOW_INCOME = "sum(household.members.taxable_income) < ceiling"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def edit(*edits: tuple[str, str]) -> str:
    """VALID with each `old` text replaced (once) by `new`."""
    text = VALID
    for old, new in edits:
        assert text.count(old) >= 1, f"{old!r} is not in the valid benefit"
        text = text.replace(old, new, 1)
    return text


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    """Load `text` as a benefit file; it must fail. Return its problems."""
    path = write(tmp_path, text)
    with pytest.raises(RuleFileError) as info:
        load_benefit(path)
    problems = info.value.problems
    assert problems, "a RuleFileError must hold at least one problem"
    for problem in problems:
        assert problem.path == str(path)
        assert problem.line >= 1 and problem.column >= 1
    return problems


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """The 1-based (line, column) where the nth occurrence of `needle` starts in `text`."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def on(problems: list[Problem], line: int) -> Problem:
    """The one problem reported on `line` (others may follow from it elsewhere)."""
    here = [p for p in problems if p.line == line]
    assert len(here) == 1, f"expected one problem on line {line}:\n" + "\n".join(map(str, problems))
    return here[0]


# --------------------------------------------------------------------------- sanity


def test_the_valid_benefit_loads(tmp_path: Path) -> None:
    benefit = load_benefit(write(tmp_path, VALID))
    assert benefit.id == "test.small"
    assert list(benefit.conditions) == ["resident", "low_income"]
    assert set(benefit.outputs) == {"amount", "band"}


def test_at_helper_counts_from_one() -> None:
    assert at(VALID, "id: test.small") == (1, 1)
    assert at(VALID, "resident and low_income") == (37, 11)


def test_problem_renders_as_file_line_column(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, "eligible: resident and 3"))
    path = write(tmp_path, text)
    with pytest.raises(RuleFileError) as info:
        load_benefit(path)
    problem = only(info.value.problems)
    assert str(problem) == f"{path}:37:24: 'and' needs bool, not int"
    assert str(info.value) == str(problem)


# --------------------------------------------------------------------------- names and types


def test_unknown_fact_with_did_you_mean(tmp_path: Path) -> None:
    text = edit((RESIDENT, 'household.municipalty_nis == "44021"'))
    problem = on(problems_of(tmp_path, text), at(text, "household.municipalty_nis")[0])
    assert (problem.line, problem.column) == at(text, "household.municipalty_nis")
    assert "unknown fact 'household.municipalty_nis'" in problem.message
    assert "did you mean 'household.municipality_nis'?" in problem.message


def test_unknown_member_fact_with_did_you_mean(tmp_path: Path) -> None:
    text = edit((LOW_INCOME, "sum(household.members.taxable_incom) < ceiling"))
    problem = on(problems_of(tmp_path, text), at(text, "household.members.taxable_incom)")[0])
    assert (problem.line, problem.column) == at(text, "household.members.taxable_incom)")
    assert "unknown fact 'household.members.taxable_incom'" in problem.message
    assert "did you mean 'household.members.taxable_income'?" in problem.message


def test_int_compared_with_text(tmp_path: Path) -> None:
    text = edit((RESIDENT, 'household.size == "3"'))
    problem = on(problems_of(tmp_path, text), at(text, "household.size ==")[0])
    assert (problem.line, problem.column) == at(text, '== "3"')  # the operator
    assert problem.message == "cannot compare int with text using '=='"


def test_and_over_a_number(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, "eligible: resident and 3"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "3\n")
    assert problem.message == "'and' needs bool, not int"


def test_eligible_must_be_bool(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, "eligible: resident and low_income and household.size"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "household.size\n")
    assert problem.message == "'and' needs bool, not int"


def test_output_of_the_wrong_type(tmp_path: Path) -> None:
    text = edit(("lookup(amount_by_size, min(household.size, 2))", "lookup(amount_by_size, 1) > 2"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "lookup(amount_by_size, 1)")
    assert "type mismatch: expected" in problem.message
    assert "money" in problem.message and "got bool" in problem.message


def test_unknown_parameter_with_did_you_mean(tmp_path: Path) -> None:
    text = edit((LOW_INCOME, "sum(household.members.taxable_income) < ceilng"))
    problem = on(problems_of(tmp_path, text), at(text, "ceilng")[0])
    assert (problem.line, problem.column) == at(text, "ceilng")
    assert "unknown name 'ceilng'" in problem.message
    assert "did you mean 'ceiling'?" in problem.message


def test_unknown_table_in_lookup(tmp_path: Path) -> None:
    text = edit(("lookup(amount_by_size,", "lookup(amount_by_sise,"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "amount_by_sise")
    assert "lookup() needs a table parameter; 'amount_by_sise' is not one" in problem.message


def test_member_fact_outside_an_aggregate(tmp_path: Path) -> None:
    text = edit((RESIDENT, "household.members.increased_allowance"))
    problem = on(problems_of(tmp_path, text), at(text, "household.members.increased")[0])
    assert (problem.line, problem.column) == at(text, "household.members.increased")
    assert "is one value per member" in problem.message
    assert "any/all/sum/count/min/max" in problem.message


def test_person_fact_in_a_household_benefit(tmp_path: Path) -> None:
    text = edit((RESIDENT, 'person.municipality_nis == "44021"'))
    problem = on(problems_of(tmp_path, text), at(text, "person.municipality_nis")[0])
    assert (problem.line, problem.column) == at(text, "person.municipality_nis")
    assert "'person.municipality_nis'" in problem.message
    assert "subject is a household" in problem.message


def test_nested_aggregate(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, f"{ELIGIBLE} and any(any(household.members.leefloon))"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "any(household")
    assert problem.message == "any() cannot be nested inside another aggregate"


# --------------------------------------------------------------------------- expression syntax


def test_syntax_error_in_a_plain_scalar(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, "eligible: resident and and low_income"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == (37, 24)  # the second 'and'
    assert (problem.line, problem.column) == at(text, "and low_income")
    assert problem.message == "expected a value but found 'and'"


def test_syntax_error_in_a_double_quoted_scalar(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, 'eligible: "resident and ) low_income"'))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == (37, 25)  # the ')' (the quote counts)
    assert (problem.line, problem.column) == at(text, ") low_income")
    assert problem.message == "expected a value but found ')'"


def test_syntax_error_in_a_single_quoted_scalar(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, "eligible: 'resident and ) low_income'"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, ") low_income")


def test_syntax_error_in_a_quoted_condition(tmp_path: Path) -> None:
    text = edit((f"when: {LOW_INCOME}", f'when: "{LOW_INCOME} <= 3"'))
    problem = on(problems_of(tmp_path, text), at(text, "<= 3")[0])
    assert (problem.line, problem.column) == at(text, "<= 3")
    assert "comparisons cannot be chained" in problem.message


def test_unexpected_character(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, "eligible: resident && low_income"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "&&")
    assert problem.message == "unexpected character '&'"


@pytest.mark.parametrize("indicator", ["|-", ">-", ""], ids=["literal", "folded", "plain"])
def test_syntax_error_on_the_second_line_of_a_block_scalar(tmp_path: Path, indicator: str) -> None:
    text = edit((ELIGIBLE, f"eligible: {indicator}\n  resident\n  and ) low_income"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, ") low_income")  # 39:7


def test_syntax_error_after_an_escaped_quote(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, 'eligible: "resident and \\"x\\" == ) low_income"'))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, ") low_income")


# --------------------------------------------------------------------------- YAML and schema


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = edit(("purpose: test-small", "purpose: test: small"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, ": small")
    assert problem.message.startswith("YAML syntax:")
    assert "mapping values are not allowed" in problem.message


def test_unclosed_flow_mapping(tmp_path: Path) -> None:
    text = edit(("title: {nl: Klein, en: Small}", "title: {nl: Klein, en: Small"))
    problem = only(problems_of(tmp_path, text))
    assert problem.line == at(text, "authority:")[0]  # found where the next key starts
    assert "expected ',' or '}'" in problem.message


def test_missing_required_field(tmp_path: Path) -> None:
    text = edit(("authority: Test\n", ""))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message == "missing required field 'authority'"


def test_missing_required_field_in_a_parameter(tmp_path: Path) -> None:
    text = edit(("  ceiling:\n    type: money\n", "  ceiling:\n"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "values:")  # the parameter's mapping
    assert problem.message == "missing required field 'type'"


def test_unknown_field(tmp_path: Path) -> None:
    text = edit(("authority: Test\n", "authority: Test\nauthorty: Test\n"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "authorty")
    assert problem.message == "unknown field 'authorty'"


def test_unknown_field_in_a_parameter(tmp_path: Path) -> None:
    text = edit(("    key: int\n", "    key: int\n    keys: text\n"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "keys: text")
    assert problem.message == "unknown field 'keys'"


def test_value_outside_an_enumeration(tmp_path: Path) -> None:
    text = edit(("subject: household", "subject: family"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "family")
    assert problem.message.startswith("subject:")
    assert "'person' or 'household'" in problem.message


def test_unknown_field_in_a_condition_is_one_problem(tmp_path: Path) -> None:
    text = edit(
        (
            "    text: {nl: woont in Gent, en: lives in Ghent}\n",
            "    text: {nl: woont in Gent, en: lives in Ghent}\n    note: x\n",
        )
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.message == "unknown field 'note'"


# --------------------------------------------------------------------------- parameters


def test_overlapping_periods(tmp_path: Path) -> None:
    text = edit(("until: 2024-12-31", "until: 2025-06-30"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "{from: 2025-01-01")  # the later period
    assert "overlapping dates" in problem.message
    assert "2025-01-01" in problem.message and "2025-06-30" in problem.message


def test_open_ended_period_followed_by_another(tmp_path: Path) -> None:
    text = edit((", until: 2024-12-31", ""))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "{from: 2025-01-01")
    assert "overlapping dates" in problem.message and "open-ended" in problem.message


def test_period_ending_before_it_starts(tmp_path: Path) -> None:
    text = edit(("until: 2024-12-31", "until: 2023-12-31"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "{from: 2024-01-01")
    assert "ends (2023-12-31) before it starts (2024-01-01)" in problem.message


def test_duplicate_date_key(tmp_path: Path) -> None:
    text = edit(
        (
            "      2024-01-01: {1: 10, 2: 20}\n",
            "      2024-01-01: {1: 10, 2: 20}\n      2024-01-01: {1: 11, 2: 21}\n",
        )
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "2024-01-01: {1: 11")
    assert problem.message.startswith("duplicate key")
    assert "2024-01-01" in problem.message


def test_duplicate_condition_name(tmp_path: Path) -> None:
    text = edit(("  low_income:\n", "  resident:\n"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "resident:", nth=2)
    assert problem.message.startswith("duplicate key")
    assert "resident" in problem.message


def test_parameter_value_of_the_wrong_type(tmp_path: Path) -> None:
    text = edit(("value: 21000}", "value: lots}"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "lots")
    assert problem.message == "parameter 'ceiling': expected a number, got 'lots'"


def test_bands_with_non_increasing_edges(tmp_path: Path) -> None:
    text = edit(("{below: 2000, value: B}", "{below: 1000, value: B}"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "2024-01-01: [")  # the dated value
    assert "parameter 'tariff'" in problem.message
    assert "band 2: 'below' must increase (1000 after 1000)" in problem.message


def test_bands_with_an_edge_missing_before_the_last(tmp_path: Path) -> None:
    text = edit(("{below: 1000, value: A}", "{value: A}"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "2024-01-01: [")
    assert "band 1: only the last band may omit 'below'" in problem.message


def test_table_without_key_type(tmp_path: Path) -> None:
    text = edit(("    key: int\n", ""))
    problem = on(problems_of(tmp_path, text), at(text, "type: table")[0])
    assert (problem.line, problem.column) == at(text, "type: table")
    assert problem.message == "parameter 'amount_by_size': a table needs 'key: int|text'"


def test_unused_parameter(tmp_path: Path) -> None:
    spare = "  spare:\n    type: int\n    values:\n      2024-01-01: 3\n"
    text = edit(("parameters:\n", "parameters:\n" + spare))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "spare:")  # the key, not its value
    assert problem.message == "parameter 'spare' is never used"


def test_parameter_used_only_by_an_unused_condition_is_used(tmp_path: Path) -> None:
    # the unused condition is the one mistake; its parameter is not reported as well
    text = edit((ELIGIBLE, "eligible: resident"))
    problem = only(problems_of(tmp_path, text))
    assert "low_income" in problem.message


# --------------------------------------------------------------------------- conditions


def test_unused_condition(tmp_path: Path) -> None:
    text = edit((ELIGIBLE, "eligible: resident"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.column) == at(text, "low_income:")
    assert problem.message == "condition 'low_income' is never used"


def test_condition_cycle(tmp_path: Path) -> None:
    text = edit(
        (RESIDENT, f"{RESIDENT} and low_income"),
        (LOW_INCOME, f"{LOW_INCOME} and resident"),
    )
    problems = problems_of(tmp_path, text)
    cycles = [p for p in problems if "cycle" in p.message]
    assert len(cycles) == 1, problems
    cycle = cycles[0]
    assert "conditions form a cycle: resident → low_income → resident" in cycle.message
    assert cycle.line == at(text, f"when: {RESIDENT}")[0]  # at the condition's definition
    assert len(problems) == 1, problems  # reported once, not again at each use


def test_condition_depending_on_itself(tmp_path: Path) -> None:
    text = edit((RESIDENT, f"{RESIDENT} or resident"))
    problems = problems_of(tmp_path, text)
    assert any("cycle: resident → resident" in p.message for p in problems), problems


# --------------------------------------------------------------------------- all mistakes at once


def test_two_mistakes_give_two_problems(tmp_path: Path) -> None:
    text = edit(
        (ELIGIBLE, "eligible: resident and low_income and 3"),
        ("lookup(amount_by_size,", "lookup(amount_by_sise,"),
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2, problems
    assert {(p.line, p.column) for p in problems} == {at(text, "3\n"), at(text, "amount_by_sise")}


def test_schema_mistakes_are_reported_together(tmp_path: Path) -> None:
    text = edit(
        ("authority: Test\n", "authorty: Test\n"),
        ("subject: household", "subject: family"),
    )
    problems = problems_of(tmp_path, text)
    messages = sorted(p.message for p in problems)
    assert len(problems) == 3, problems
    assert "missing required field 'authority'" in messages
    assert "unknown field 'authorty'" in messages
    assert any(m.startswith("subject:") for m in messages)


def test_mistakes_in_conditions_parameters_and_outputs_together(tmp_path: Path) -> None:
    text = edit(
        (RESIDENT, 'household.municipalty_nis == "44021"'),
        ("until: 2024-12-31", "until: 2025-06-30"),
        ("lookup(amount_by_size,", "lookup(amount_by_sise,"),
    )
    problems = problems_of(tmp_path, text)
    places = {(p.line, p.column) for p in problems}
    assert at(text, "household.municipalty_nis") in places
    assert at(text, "{from: 2025-01-01") in places
    assert at(text, "amount_by_sise") in places


def test_a_broken_condition_is_not_reported_again_where_it_is_used(tmp_path: Path) -> None:
    text = edit(
        (RESIDENT, 'household.municipalty_nis == "44021"'),
        (LOW_INCOME, "sum(household.members.taxable_income) < ceilng"),
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2, "\n".join(map(str, problems))
