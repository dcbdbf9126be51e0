"""Run a benefit's test cases (`<name>.tests.yaml` beside `<name>.yaml`) through both engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from entitle.rules.cases import Case, CaseError, DictProvider, parse_case
from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.decision import Decision
from entitle.rules.loader import RuleFileError, load_benefit
from entitle.rules.model import Benefit
from entitle.rules.scalar import evaluate

TESTS_SUFFIX = ".tests.yaml"

# A second engine to cross-check every case with: (benefit, cases) -> one decision per case.
CrossCheck = Callable[[Benefit, list[Case]], list[Decision]]


@dataclass
class CaseResult:
    """The result of one case: failures are human-readable lines."""

    name: str
    decision: Decision | None
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class FileResult:
    """The results of one test file (or the error that stopped it)."""

    path: Path
    benefit_id: str
    results: list[CaseResult] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.passed for r in self.results)


def test_files(path: Path) -> list[Path]:
    """Every test file at or under `path`."""
    if path.is_file():
        return [path]
    return sorted(path.rglob(f"*{TESTS_SUFFIX}"))


def benefit_path_for(test_file: Path) -> Path:
    """The benefit file a test file belongs to."""
    return test_file.with_name(test_file.name[: -len(TESTS_SUFFIX)] + ".yaml")


def run_file(
    test_file: Path, catalogue: Catalogue | None = None, cross_check: CrossCheck | None = None
) -> FileResult:
    """Load the benefit and its cases, and run every case."""
    catalogue = catalogue or default_catalogue()
    try:
        benefit = load_benefit(benefit_path_for(test_file), catalogue)
        cases = list(_read_cases(test_file, benefit, catalogue))
    except (RuleFileError, CaseError, OSError) as exc:
        return FileResult(test_file, "?", error=str(exc))
    result = FileResult(test_file, benefit.id)
    others = cross_check(benefit, cases) if cross_check else [None] * len(cases)
    for case, other in zip(cases, others, strict=True):
        provider = DictProvider(case.facts)
        decision = evaluate(benefit, case.subject, provider, case.as_of, catalogue=catalogue)
        failures = check_expectations(case, decision)
        if other is not None:
            failures += _disagreements(decision, other)
        result.results.append(CaseResult(case.name, decision, failures))
    return result


def _read_cases(test_file: Path, benefit: Benefit, catalogue: Catalogue) -> Iterator[Case]:
    try:
        data = YAML(typ="safe").load(test_file.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        raise CaseError(f"{test_file}: YAML syntax: {exc}") from None
    if not isinstance(data, dict) or "cases" not in data:
        raise CaseError(f"{test_file}: expected a mapping with 'benefit' and 'cases'")
    if data.get("benefit") != benefit.id:
        raise CaseError(
            f"{test_file}: 'benefit: {data.get('benefit')}' but the file beside it is {benefit.id}"
        )
    names: set[str] = set()
    for raw in data["cases"]:
        case = parse_case(raw, benefit.subject, catalogue)
        if case.name in names:
            raise CaseError(f"{test_file}: two cases are named {case.name!r}")
        names.add(case.name)
        yield case


def check_expectations(case: Case, decision: Decision) -> list[str]:
    """Compare a decision with the case's `expect:` block."""
    expect = case.expect
    failures: list[str] = []
    if "outcome" in expect and str(decision.outcome) != expect["outcome"]:
        failures.append(f"outcome: expected {expect['outcome']}, got {decision.outcome}")
    for name, wanted in (expect.get("outputs") or {}).items():
        got = decision.outputs.get(name)
        if not _same(got, wanted):
            failures.append(f"output {name}: expected {wanted!r}, got {got!r}")
    for name, wanted in (expect.get("conditions") or {}).items():
        if name not in decision.conditions:
            failures.append(f"condition {name}: no such condition")
        elif decision.conditions[name] is not wanted:
            failures.append(f"condition {name}: expected {wanted}, got {decision.conditions[name]}")
    if "missing" in expect and sorted(expect["missing"] or []) != decision.facts_missing:
        failures.append(
            f"missing: expected {sorted(expect['missing'] or [])}, got {decision.facts_missing}"
        )
    for fact in expect.get("not_fetched") or []:
        if fact in decision.facts_used:
            failures.append(f"not_fetched: {fact} was fetched")
    if "open" in expect and sorted(expect["open"] or []) != sorted(decision.open_outputs):
        failures.append(
            f"open: expected {sorted(expect['open'] or [])}, got {sorted(decision.open_outputs)}"
        )
    if "at_least" in expect and (expect["at_least"] or {}) != decision.at_least:
        failures.append(f"at_least: expected {expect['at_least']}, got {decision.at_least}")
    if "missing_whose" in expect:
        wanted_whose = sorted(_whose(item) for item in expect["missing_whose"] or [])
        got_whose = sorted(_whose(item.to_dict()) for item in decision.missing)
        if wanted_whose != got_whose:
            failures.append(f"missing_whose: expected {wanted_whose}, got {got_whose}")
    if "valid_until" in expect:
        wanted = expect["valid_until"]
        wanted = wanted if isinstance(wanted, date | None) else date.fromisoformat(str(wanted))
        if decision.valid_until != wanted:
            failures.append(f"valid_until: expected {wanted}, got {decision.valid_until}")
    return failures


def _whose(item: dict[str, Any]) -> str:
    """A missing fact in one line: `member 2: person.x (settles tariff, …)`."""
    who = f"member {item.get('member')}" if item.get("whose") == "member" else item.get("whose")
    return f"{who}: {item.get('fact')} (settles {', '.join(sorted(item.get('settles') or []))})"


def _same(got: Any, wanted: Any) -> bool:
    if (
        isinstance(got, int | float)
        and isinstance(wanted, int | float)
        and not isinstance(wanted, bool)
    ):
        return abs(got - wanted) < 1e-9
    return bool(got == wanted)


def _disagreements(scalar: Decision, columnar: Decision) -> list[str]:
    out = []
    attrs = ("outcome", "outputs", "conditions", "facts_used", "facts_missing", "valid_until")
    for attr in (*attrs, "missing", "at_least"):
        a, b = getattr(scalar, attr), getattr(columnar, attr)
        if a != b:
            out.append(f"engines disagree on {attr}: scalar {a!r}, columnar {b!r}")
    return out
