"""`entitle decide` (one subject from facts in a file) and `entitle check` (one INSZ, live
through the registries, stored and audited as at the desk): the decision as JSON, its trace in
words on request."""

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
    UrlOption,
    load_named_benefit,
    parse_date,
)
from entitle.cli.settings import setting_option
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
    url: UrlOption = None,
    purpose: Annotated[
        str | None,
        typer.Option("--purpose", help="The purpose of the check: the benefit's own (default)."),
    ] = None,
    actor: Annotated[
        str,
        setting_option("--as", "user", "Who checks, as the audit log names them."),
    ] = "cli",
) -> None:
    """Decide one INSZ live, through the registries (MAGDA or the simulator), as the desk does:
    the decision stored under the subject's pseudonym and audited; print JSON."""
    from entitle.decide.desk import Desk
    from entitle.decide.wiring import Registries
    from entitle.insz import InvalidInszError, parse_insz
    from entitle.rules.catalogue import default_catalogue
    from entitle.sources.magda import MagdaConfigError
    from entitle.store.transactions import Transactions

    loaded = load_named_benefit(benefit, benefits)
    when = parse_date(as_of) or date.today()
    if purpose is not None and purpose != loaded.purpose:
        errors.print(
            f"--purpose: {loaded.id} is checked only for its purpose {loaded.purpose!r}, "
            f"not {purpose!r}",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2)
    try:
        parse_insz(insz)
    except InvalidInszError as exc:
        errors.print(f"invalid INSZ {insz!r}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    store = Transactions(url)
    desk = Desk({loaded.id: loaded}, Registries(registry=registry, local=local), store)
    try:
        checked = desk.check(
            loaded,
            insz,
            kind="check",
            actor=actor,
            details={"via": "cli"},
            as_of=when,
            explain=explain,
        )
    except MagdaConfigError as exc:
        errors.print(f"MAGDA configuration: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    finally:
        desk.close()
        store.close()
    result = checked.result
    catalogue = default_catalogue()
    for fact, reason in result.reasons.items():
        if reason.kind == "refused":
            source = catalogue[fact].source
            service = source.get("service") or source.get("dataset")
            errors.print(
                f"refused: purpose {loaded.purpose!r} is not authorised for {service} "
                f"(fact {fact}): {reason.text()}",
                markup=False,
                highlight=False,
            )
    out = result.decision.to_dict(explain=explain)
    out["reasons"] = {fact: why.text() for fact, why in result.reasons.items()}
    out["questions"] = result.questions
    out["id"] = checked.decision_id
    out["effective_outcome"] = checked.effective_outcome
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
