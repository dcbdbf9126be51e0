"""`entitle rules …`: test, show and plan benefit rules; the benefit file's JSON Schema."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.markup import escape

from entitle.cli.options import (
    DEFAULT_BENEFITS,
    AsOfOption,
    BenefitsOption,
    load_named_benefit,
    parse_date,
)
from entitle.console import cli_console

rules_app = typer.Typer(help="Benefit rules: test, show, plan.", no_args_is_help=True)
console = cli_console()
errors = cli_console(stderr=True)


@rules_app.command("test")
def rules_test(
    path: Annotated[Path, typer.Argument(help="A test file or a folder of them.")] = Path(
        "benefits"
    ),
) -> None:
    """Run benefit test cases through the scalar engine, cross-checked by the columnar engine."""
    from entitle.rules.casetest import run_file, test_files
    from entitle.rules.columnar import cross_check_cases

    files = test_files(path)
    if not files:
        errors.print(f"no *.tests.yaml under {path}", style="red", markup=False, highlight=False)
        raise typer.Exit(2)
    passed_cases = failed_cases = unreadable = 0
    for test_file in files:
        result = run_file(test_file, cross_check=cross_check_cases)
        if result.error:
            unreadable += 1
            console.print(f"[red]ERROR[/red] {escape(str(test_file))}")
            errors.print(result.error, markup=False, highlight=False)
            continue
        passed = sum(r.passed for r in result.results)
        passed_cases += passed
        failed_cases += len(result.results) - passed
        mark = "[green]ok[/green]" if result.passed else "[red]FAIL[/red]"
        console.print(
            f"{mark} {result.benefit_id}: {passed}/{len(result.results)} cases ({test_file})"
        )
        for case in result.results:
            for failure in case.failures:
                console.print(f"   [red]✗[/red] {escape(case.name)}: {escape(failure)}")
    summary = f"{passed_cases} passed, {failed_cases} failed"
    if unreadable:
        summary += f", {unreadable} file{'s' if unreadable > 1 else ''} not read"
    console.print(summary)
    raise typer.Exit(1 if failed_cases or unreadable else 0)


@rules_app.command("show")
def rules_show(
    benefit: str,
    benefits: BenefitsOption = DEFAULT_BENEFITS,
    as_of: AsOfOption = None,
    lang: Annotated[str, typer.Option(help="nl or en")] = "nl",
) -> None:
    """Show a benefit in words: legal basis, parameters in force, conditions, outputs."""
    from entitle.rules.describe import describe_benefit

    loaded = load_named_benefit(benefit, benefits)
    console.print(Markdown(describe_benefit(loaded, parse_date(as_of) or date.today(), lang)))


@rules_app.command("plan")
def rules_plan(benefit: str, benefits: BenefitsOption = DEFAULT_BENEFITS) -> None:
    """Show a benefit's maximal data need and its fetch stages (for a DPIA)."""
    from entitle.rules.catalogue import default_catalogue
    from entitle.rules.describe import describe_plan

    loaded = load_named_benefit(benefit, benefits)
    console.print(Markdown(describe_plan(loaded, default_catalogue())))


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of benefit files."""
    from entitle.rules.model import benefit_json_schema

    print(json.dumps(benefit_json_schema(), indent=2, ensure_ascii=False))
