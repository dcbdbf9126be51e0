"""The `entitle` command line, run through Typer's CliRunner (and once as a real process).

Commands run with the repository root as working directory, so `benefits/` resolves as it does for
a user. Also checks that the published JSON Schema (`schemas/benefit.schema.json`) is current and
that every Ghent benefit validates against it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import (  # type: ignore[import-untyped,unused-ignore]
    Draft202012Validator,
    FormatChecker,
)
from ruamel.yaml import YAML
from typer.testing import CliRunner, Result

from entitle.cli.main import app
from entitle.rules.loader import load_benefit
from entitle.rules.model import benefit_json_schema

REPO = Path(__file__).resolve().parents[1]
GHENT = REPO / "benefits" / "ghent"
SCHEMA_FILE = REPO / "schemas" / "benefit.schema.json"
BENEFIT_FILES = sorted(p for p in GHENT.glob("*.yaml") if not p.name.endswith(".tests.yaml"))

VALID_INSZ = "85073003328"  # 30 July 1985, counter 033 (odd: M)

UITPAS_ELIGIBLE = {
    "person": {
        "municipality_nis": "44021",
        "increased_allowance": True,
        "leefloon": False,
        "ocmw_leefloon": False,
        "ocmw_debt_help": False,
    }
}


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("ENTITLE_BENEFITS", raising=False)


def run(*args: str) -> Result:
    # a wide console, so rich does not wrap or truncate what the tests look for
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def flat(text: str) -> str:
    """Whitespace collapsed, to compare with texts written over several lines in YAML."""
    return " ".join(text.split())


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- insz check


def test_insz_check_valid() -> None:
    result = run("insz", "check", VALID_INSZ)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert report["kind"] == "register"
    assert report["birth_date"] == "1985-07-30"
    assert report["sex"] == "M"
    assert report["normalized"] == VALID_INSZ


def test_insz_check_normalizes_separators() -> None:
    result = run("insz", "check", "85.07.30-033.28")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["normalized"] == VALID_INSZ


@pytest.mark.parametrize("number", ["12345", "85073003329"])
def test_insz_check_invalid(number: str) -> None:
    result = run("insz", "check", number)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["input"] == number
    assert isinstance(report["error"], str) and report["error"]


# --------------------------------------------------------------------------- rules test


def test_rules_test_ghent_passes() -> None:
    result = run("rules", "test", "benefits/ghent")
    assert result.exit_code == 0, result.output
    summary = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"(\d+) passed, 0 failed", summary)
    assert match, summary
    assert int(match.group(1)) > 0
    for benefit in BENEFIT_FILES:
        assert f"ok ghent.{benefit.stem}:" in result.stdout


def uitpas_in(folder: Path, cases: list[dict[str, Any]]) -> Path:
    """The real UiTPAS benefit copied into `folder`, with the given test cases beside it."""
    shutil.copy(GHENT / "uitpas.yaml", folder / "uitpas.yaml")
    tests = folder / "uitpas.tests.yaml"
    tests.write_text(json.dumps({"benefit": "ghent.uitpas", "cases": cases}), encoding="utf-8")
    return tests


def test_rules_test_reports_a_failing_case(tmp_path: Path) -> None:
    case = {"as_of": "2026-03-01", **UITPAS_ELIGIBLE}
    good = {"name": "good", **case, "expect": {"outcome": "eligible"}}
    bad = {"name": "wrong", **case, "expect": {"outcome": "not_eligible"}}
    uitpas_in(tmp_path, [good, bad])
    result = run("rules", "test", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert "FAIL ghent.uitpas: 1/2 cases" in result.stdout
    assert "wrong: outcome: expected not_eligible, got eligible" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "1 passed, 1 failed"


def test_rules_test_reports_a_broken_benefit(tmp_path: Path) -> None:
    tests = uitpas_in(tmp_path, [{"name": "x", "as_of": "2026-03-01", **UITPAS_ELIGIBLE}])
    benefit = tmp_path / "uitpas.yaml"
    text = benefit.read_text(encoding="utf-8")
    benefit.write_text(text.replace("person.ocmw_debt_help", "person.ocmw_debthelp"), "utf-8")
    result = run("rules", "test", str(tests))
    assert result.exit_code == 1
    assert f"ERROR {tests}" in result.stdout
    assert "unknown fact 'person.ocmw_debthelp'" in result.stderr
    assert f"{benefit}:" in result.stderr
    assert "0 passed, 0 failed, 1 file not read" in result.stdout


def test_rules_test_without_test_files(tmp_path: Path) -> None:
    result = run("rules", "test", str(tmp_path))
    assert result.exit_code == 2
    assert "no *.tests.yaml" in result.stderr


# ------------------------------------------------------------------- rules show / plan / schema


def test_rules_show_legal_basis_and_parameters() -> None:
    result = run("rules", "show", "ghent.uitpas", "--as-of", "2026-03-01")
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    benefit = load_benefit(GHENT / "uitpas.yaml")
    assert "Legal basis" in out
    assert flat(benefit.legal_basis["text"]["nl"])[:60] in out
    assert benefit.legal_basis["url"] in out
    assert "Parameters in force on 2026-03-01" in out
    values = benefit.params_at(date(2026, 3, 1))
    assert values == {"discount_pct": 80, "tariff_name": "kansentarief"}
    for line in ("discount_pct", "tariff_name"):
        assert line in out
    assert re.search(r"discount_pct — [^•]*: 80\b", out), out
    assert re.search(r"tariff_name — [^•]*: \"kansentarief\"", out), out


def test_rules_show_in_english() -> None:
    result = run("rules", "show", "ghent.uitpas", "--as-of", "2026-03-01", "--lang", "en")
    assert result.exit_code == 0, result.output
    english = load_benefit(GHENT / "uitpas.yaml").legal_basis["text"]["en"]
    assert flat(english)[:60] in flat(result.stdout)


def test_rules_show_picks_the_value_in_force_on_the_as_of_date() -> None:
    benefit = load_benefit(GHENT / "lez.yaml")
    param = benefit.parameters["child_card_exemption_in_force"]
    before, after = date(2024, 3, 1), date(2024, 6, 1)
    assert (param.at(before), param.at(after)) == (False, True)
    for when, shown in ((before, "false"), (after, "true")):
        result = run("rules", "show", "ghent.lez", "--as-of", when.isoformat())
        assert result.exit_code == 0, result.output
        line = next(x for x in result.stdout.splitlines() if "child_card_exemption_in_force —" in x)
        assert line.rstrip().endswith(f": {shown}"), line


def test_rules_show_rejects_a_bad_date() -> None:
    result = run("rules", "show", "ghent.uitpas", "--as-of", "2026-02-30")
    assert result.exit_code == 2
    assert "--as-of" in result.stderr and "not a date" in result.stderr


def test_rules_plan_fetches_income_last() -> None:
    result = run("rules", "plan", "ghent.school-tariff")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Fetch stages" in out
    stages = [
        line
        for line in out[out.index("Fetch stages") :].splitlines()
        if re.match(r"\s*\d+\.?\s+phase \d, sensitivity \d", line)
    ]
    assert len(stages) >= 2, out
    numbers = [int(re.match(r"\s*(\d+)", s).group(1)) for s in stages]  # type: ignore[union-attr]
    assert numbers == list(range(1, len(stages) + 1))
    assert "person.taxable_income" in stages[-1]
    assert "sensitivity 3" in stages[-1]
    assert all("person.taxable_income" not in s for s in stages[:-1])
    assert "person.city_school_pupil" in stages[0]


def test_rules_schema_prints_a_json_schema() -> None:
    result = run("rules", "schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert {"id", "subject", "conditions", "eligible"} <= set(schema["required"])


# --------------------------------------------------------------------------- decide


def test_decide_prints_a_decision(tmp_path: Path) -> None:
    facts = write_json(tmp_path / "facts.json", UITPAS_ELIGIBLE)
    result = run("decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["benefit"] == "ghent.uitpas"
    assert decision["as_of"] == "2026-03-01"
    assert decision["outcome"] == "eligible"
    assert decision["outputs"] == {"tariff": "kansentarief", "discount_pct": 80}
    assert decision["conditions"]["resident"] is True
    assert decision["conditions"]["increased_allowance"] is True
    assert "person.municipality_nis" in decision["facts_used"]
    assert "person.increased_allowance" in decision["facts_used"]
    assert decision["facts_missing"] == []
    assert decision["valid_until"] == "2026-12-31"
    assert "trace" not in decision


def test_decide_lists_missing_facts(tmp_path: Path) -> None:
    person = {**UITPAS_ELIGIBLE["person"], "increased_allowance": None}
    facts = write_json(tmp_path / "facts.json", {"person": person})
    result = run("decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["outcome"] == "undetermined"
    assert decision["facts_missing"] == ["person.increased_allowance"]
    assert decision["conditions"]["increased_allowance"] is None


def test_decide_reads_yaml_facts_and_their_as_of(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(
        'as_of: 2025-06-01\nperson: {municipality_nis: "44084", increased_allowance: true}\n',
        encoding="utf-8",
    )
    result = run("decide", "ghent.uitpas", "--facts", str(facts))
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["as_of"] == "2025-06-01"
    assert decision["outcome"] == "not_eligible"
    assert decision["conditions"]["resident"] is False


def test_decide_explain_adds_a_trace(tmp_path: Path) -> None:
    facts = write_json(tmp_path / "facts.json", UITPAS_ELIGIBLE)
    result = run(
        "decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01", "--explain"
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    trace = decision["trace"]
    assert trace[0]["condition"] == "resident"
    assert {line["condition"] for line in trace} == set(decision["conditions"])
    resident = trace[0]
    assert resident["value"] is True and resident["consulted"] is True
    assert resident["facts"] == ["person.municipality_nis"]
    assert "44021" in resident["rule"]
    assert set(resident["text"]) == {"nl", "en"}
    assert "Outcome: eligible" in result.stderr  # the trace in words, beside the JSON


def school_case(income: float) -> dict[str, Any]:
    return {
        "person": {
            "city_school_pupil": True,
            "shared_residence": False,
            "position_code": "03",
            "ocmw_leefloon": False,
            "leefloon": False,
            "taxable_income": 0,
        },
        "household": {
            "members": [
                {
                    "id": "mother",
                    "position_code": "01",
                    "ocmw_leefloon": False,
                    "leefloon": False,
                    "taxable_income": income,
                }
            ]
        },
    }


@pytest.mark.parametrize("explain", [False, True], ids=["plain", "explain"])
def test_decide_never_shows_raw_income(tmp_path: Path, explain: bool) -> None:
    facts = write_json(tmp_path / "facts.json", school_case(21000))
    args = ["decide", "ghent.school-tariff", "--facts", str(facts), "--as-of", "2026-03-01"]
    result = run(*args, *(["--explain"] if explain else []))
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["outcome"] == "eligible"
    assert "person.taxable_income" in decision["facts_used"]  # the income was read ...
    for shown in (result.stdout, result.stderr):
        for raw in ("21000", "2100000", "21,000", "21.000"):  # ... but is never shown
            assert raw not in shown


def test_decide_with_malformed_json(tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text('{"person": {', encoding="utf-8")
    result = run("decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(facts) in result.stderr
    assert "Expecting property name" in result.stderr


def test_decide_with_a_fact_of_the_wrong_type(tmp_path: Path) -> None:
    person = {**UITPAS_ELIGIBLE["person"], "increased_allowance": "yes"}
    facts = write_json(tmp_path / "facts.json", {"person": person})
    result = run("decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 2
    assert "increased_allowance: 'yes' is not a valid bool" in result.stderr


def test_decide_with_an_unknown_fact(tmp_path: Path) -> None:
    facts = write_json(tmp_path / "facts.json", {"person": {"income": 3}})
    result = run("decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 2
    assert "unknown fact 'person.income'" in result.stderr


def test_decide_with_facts_that_are_not_an_object(tmp_path: Path) -> None:
    facts = write_json(tmp_path / "facts.json", [1, 2])
    result = run("decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 2
    assert "expected an object with 'person' and/or 'household'" in result.stderr


def test_decide_with_a_missing_facts_file(tmp_path: Path) -> None:
    facts = tmp_path / "nowhere.json"
    result = run("decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 2
    assert "No such file" in result.stderr


def test_decide_with_malformed_yaml(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text('person: {municipality_nis: "44021"\n', encoding="utf-8")
    result = run("decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 2
    assert str(facts) in result.stderr


def test_decide_with_a_bad_as_of_in_the_facts(tmp_path: Path) -> None:
    facts = write_json(tmp_path / "facts.json", {"as_of": "2026-13-01", **UITPAS_ELIGIBLE})
    result = run("decide", "ghent.uitpas", "--facts", str(facts))
    assert result.exit_code == 2
    assert "2026-13-01" in result.stderr


def test_decide_an_unknown_benefit(tmp_path: Path) -> None:
    facts = write_json(tmp_path / "facts.json", UITPAS_ELIGIBLE)
    result = run("decide", "ghent.nope", "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no benefit 'ghent.nope'" in result.stderr


def test_decide_a_broken_benefit_file(tmp_path: Path) -> None:
    broken = tmp_path / "uitpas.yaml"
    text = (GHENT / "uitpas.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("eligible: resident and", "eligible: resident and and"), "utf-8")
    facts = write_json(tmp_path / "facts.json", UITPAS_ELIGIBLE)
    result = run("decide", str(broken), "--facts", str(facts), "--as-of", "2026-03-01")
    assert result.exit_code == 2
    where = re.escape(str(broken))
    assert re.search(rf"{where}:\d+:\d+: expected a value but found 'and'", result.stderr)


def test_errors_name_a_very_long_path_on_one_line(tmp_path: Path) -> None:
    """Off a terminal no message is wrapped, however narrow the terminal claims to be."""
    deep = tmp_path.joinpath(*[f"a-folder-with-a-long-name-{i}" for i in range(9)])
    deep.mkdir(parents=True)
    facts = deep / "facts.json"
    assert len(str(facts)) > 250
    result = CliRunner().invoke(
        app,
        ["decide", "ghent.uitpas", "--facts", str(facts), "--as-of", "2026-03-01"],
        env={"COLUMNS": "30"},
    )
    assert result.exit_code == 2
    line = next(line for line in result.stderr.splitlines() if str(facts) in line)
    assert "No such file" in line


def test_usage_errors_are_plain_lines_off_a_terminal() -> None:
    command = "no-such-command-" + "x" * 150
    result = CliRunner().invoke(app, [command], env={"COLUMNS": "30"})
    assert result.exit_code == 2
    assert f"Error: No such command '{command}'." in result.stderr.splitlines()
    assert "╭" not in result.stderr  # no box drawn to the width of a terminal


# --------------------------------------------------------------------------- the published schema


def entitle_script() -> str:
    script = Path(sys.executable).with_name("entitle")
    if script.is_file():
        return str(script)
    found = shutil.which("entitle")
    if found is None:
        pytest.skip("the entitle script is not installed")
    return found


def test_the_entitle_script_prints_the_committed_schema() -> None:
    done = subprocess.run(
        [entitle_script(), "rules", "schema"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert json.loads(done.stdout) == committed, (
        "schemas/benefit.schema.json is stale: regenerate it with "
        "`entitle rules schema > schemas/benefit.schema.json`"
    )


def test_the_committed_schema_is_current() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == benefit_json_schema(), (
        "schemas/benefit.schema.json is stale: regenerate it with "
        "`entitle rules schema > schemas/benefit.schema.json`"
    )


def as_json(data: Any) -> Any:
    """YAML data as JSON sees it: dates (keys included) as ISO strings, keys as strings."""
    if isinstance(data, dict):
        return {_key(k): as_json(v) for k, v in data.items()}
    if isinstance(data, list):
        return [as_json(v) for v in data]
    if isinstance(data, date):
        return data.isoformat()
    return data


def _key(key: Any) -> str:
    return key.isoformat() if isinstance(key, date) else str(key)


def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


def benefit_as_json(path: Path) -> Any:
    return as_json(YAML(typ="safe").load(path.read_text(encoding="utf-8")))


def test_there_are_benefits_to_validate() -> None:
    assert len(BENEFIT_FILES) >= 4


@pytest.mark.parametrize("path", BENEFIT_FILES, ids=lambda p: p.stem)
def test_benefit_validates_against_the_schema(path: Path) -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator().iter_errors(benefit_as_json(path))
    ]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("path", BENEFIT_FILES, ids=lambda p: p.stem)
def test_benefit_points_editors_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    assert (path.parent / match.group(1)).resolve() == SCHEMA_FILE


def test_the_schema_rejects_mistakes() -> None:
    data = benefit_as_json(GHENT / "uitpas.yaml")
    check = validator()
    assert check.is_valid(data)
    assert not check.is_valid({**data, "authorty": "x"})  # unknown field
    assert not check.is_valid({k: v for k, v in data.items() if k != "eligible"})  # missing
    assert not check.is_valid({**data, "subject": "family"})
    assert not check.is_valid({**data, "id": "Ghent UiTPAS"})  # pattern
    periods = {"values": [{"from": "2024-13-01", "value": 1}], "type": "int"}
    assert not check.is_valid({**data, "parameters": {"p": periods}})  # not a date


def test_demo_shows_every_benefit_s_example_decisions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, ["demo", "--examples"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for benefit in ("ghent.uitpas", "ghent.garbage-bags", "ghent.school-tariff", "ghent.lez"):
        assert benefit in result.output
    for outcome in ("eligible", "not_eligible", "undetermined"):
        assert outcome in result.output
