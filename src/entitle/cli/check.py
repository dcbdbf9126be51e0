"""`entitle decide` (one subject from facts in a file) and `entitle check` (one INSZ, live
through the registries): the decision as JSON, its trace in words on request."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from entitle.cli.options import (
    DEFAULT_BENEFITS,
    AsOfOption,
    BenefitsOption,
    LocalOption,
    RegistryOption,
    load_named_benefit,
    parse_date,
)
from entitle.console import cli_console

errors = cli_console(stderr=True)


def decide(
    benefit: str,
    facts: Annotated[Path, typer.Option("--facts", help="A case as JSON (or YAML).")],
    benefits: BenefitsOption = DEFAULT_BENEFITS,
    as_of: AsOfOption = None,
    explain: Annotated[bool, typer.Option("--explain", help="Add the trace in words.")] = False,
) -> None:
    """Decide one subject from facts given in a file; print the decision as JSON."""
    from entitle.rules.cases import CaseError, DictProvider, parse_case
    from entitle.rules.catalogue import default_catalogue
    from entitle.rules.scalar import evaluate

    loaded = load_named_benefit(benefit, benefits)
    raw = _read_case_file(facts)
    when = (parse_date(as_of) or date.today()) if as_of or "as_of" not in raw else None
    try:
        case = parse_case(raw, loaded.subject, default_catalogue(), default_as_of=when)
    except CaseError as exc:
        errors.print(f"{facts}: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    if when is not None:
        case.as_of = when
    decision = evaluate(loaded, case.subject, DictProvider(case.facts), case.as_of)
    print(json.dumps(decision.to_dict(explain=explain), ensure_ascii=False, indent=2))
    if explain:
        _print_trace(decision.to_dict(explain=True))


def check_command(
    benefit: str,
    insz: str,
    benefits: BenefitsOption = DEFAULT_BENEFITS,
    as_of: AsOfOption = None,
    explain: Annotated[bool, typer.Option("--explain", help="Add the trace in words.")] = False,
    registry: RegistryOption = None,
    local: LocalOption = None,
) -> None:
    """Decide one INSZ live, through the registries (MAGDA or the simulator); print JSON."""
    from entitle.decide.check import check
    from entitle.decide.wiring import make_gateway
    from entitle.insz import InvalidInszError
    from entitle.rules.catalogue import default_catalogue
    from entitle.sources.magda import MagdaConfigError

    loaded = load_named_benefit(benefit, benefits)
    when = parse_date(as_of) or date.today()
    gateway = make_gateway(purpose=loaded.purpose, as_of=when, registry=registry, local=local)
    try:
        result = check(loaded, insz, gateway, when, explain=explain)
    except InvalidInszError as exc:
        errors.print(f"invalid INSZ {insz!r}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except MagdaConfigError as exc:
        errors.print(f"MAGDA configuration: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    catalogue = default_catalogue()
    for fact, reason in result.reasons.items():
        if reason.startswith("refused"):
            source = catalogue[fact].source
            service = source.get("service") or source.get("dataset")
            errors.print(
                f"refused: purpose {loaded.purpose!r} is not authorised for {service} "
                f"(fact {fact}): {reason}",
                markup=False,
                highlight=False,
            )
    out = result.decision.to_dict(explain=explain)
    out["reasons"] = result.reasons
    out["questions"] = result.questions
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if explain:
        _print_trace(out)


def _read_case_file(path: Path) -> dict[str, Any]:

    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else YAML(typ="safe").load(text)
    except (OSError, ValueError, YAMLError) as exc:
        errors.print(f"{path}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    if not isinstance(data, dict):
        errors.print(
            f"{path}: expected an object with 'person' and/or 'household'",
            style="red",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2)
    return data


def _print_trace(decision: dict[str, Any]) -> None:
    marks = {True: "✔", False: "✘", None: "?"}
    errors.print(f"\nOutcome: {decision['outcome']}", highlight=False)
    for line in decision["trace"]:
        state = marks[line["value"]] if line["consulted"] else "·"
        note = "" if line["consulted"] else " (not needed: not consulted)"
        missing = f" — no data: {', '.join(line['missing'])}" if line["missing"] else ""
        errors.print(f"  {state} {line['text']['en']}{note}{missing}", highlight=False)
        errors.print(f"      {line['rule']}", highlight=False, style="dim")
