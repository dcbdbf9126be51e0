"""The `entitle` command line."""

from __future__ import annotations

import importlib
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markdown import Markdown
from rich.markup import escape
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from entitle.cli_settings import env_help, from_settings
from entitle.console import PlainOffTerminalGroup, cli_console
from entitle.decide.campaign_cli import campaign_app
from entitle.decide.inscriptions_cli import inscriptions_app
from entitle.decide.scale.cli import scale_app
from entitle.decide.selftest_cli import selftest_command
from entitle.decide.watch_cli import watch_app
from entitle.insz import insz_report
from entitle.sources.magda_cli import magda_app
from entitle.store.retention_cli import retention_app
from entitle.store.store_cli import audit_app, db_app, users_app
from entitle.web.web_cli import serve as web_serve

if TYPE_CHECKING:
    from entitle.rules.model import Benefit

# The simulator's commands (`entitle registry …`, `entitle synth`), imported only when one of them
# is asked for: the product's command line does not load the simulator.
SIMULATOR_COMMANDS = {
    "registry": ("entitle.registry.server_cli", "registry_app"),
    "synth": ("entitle.registry.synth_cli", "synth"),
}


class EntitleGroup(PlainOffTerminalGroup):
    """The `entitle` group, with the simulator's commands loaded on demand."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *SIMULATOR_COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in SIMULATOR_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, name = SIMULATOR_COMMANDS[cmd_name]
        found = getattr(importlib.import_module(module), name)
        holder = typer.Typer(add_completion=False)  # as `app` would hold it
        holder.callback()(_nothing)
        if isinstance(found, typer.Typer):
            holder.add_typer(found, name=cmd_name)
        else:
            holder.command(cmd_name)(found)
        return typer.main.get_group(holder).commands[cmd_name]


def _nothing() -> None:
    """A holder's callback: it makes the holder a group, which keeps the command by its name."""


app = typer.Typer(
    cls=EntitleGroup,
    help="Entitle: proactive social benefits, decided from base registries.",
    no_args_is_help=True,
)
insz_app = typer.Typer(help="National register and bis numbers.", no_args_is_help=True)
rules_app = typer.Typer(help="Benefit rules: test, show, plan.", no_args_is_help=True)
app.add_typer(insz_app, name="insz")
app.add_typer(rules_app, name="rules")
magda_app.command("selftest")(selftest_command)
app.add_typer(magda_app, name="magda")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(retention_app, name="retention")
app.command("serve")(web_serve)
app.add_typer(campaign_app, name="campaign")
app.add_typer(inscriptions_app, name="inscriptions")
app.add_typer(scale_app, name="scale")
app.add_typer(watch_app, name="watch")

console = cli_console()
errors = cli_console(stderr=True)

BenefitsOption = Annotated[
    Path,
    typer.Option(
        "--benefits",
        callback=from_settings("benefits"),
        help=env_help("Folder of benefit files.", "benefits"),
    ),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Decision date YYYY-MM-DD (default: today).")
]


def _as_of(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.print(
            f"--as-of: {value!r} is not a date (YYYY-MM-DD)",
            style="red",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2) from None


def _load(name: str, benefits: Path) -> Benefit:
    """A benefit from a file path or an id such as ghent.uitpas."""
    from entitle.rules.folder import BenefitFolderError, find_benefit_file
    from entitle.rules.loader import RuleFileError, load_benefit

    try:
        path = find_benefit_file(name, benefits)
    except BenefitFolderError as exc:
        errors.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    try:
        return load_benefit(path)
    except RuleFileError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None


@insz_app.command("check")
def insz_check(number: str) -> None:
    """Validate an INSZ or bis number; print JSON; exit 0 when valid, 1 when not."""
    report = insz_report(number)
    print(json.dumps(report, ensure_ascii=False))
    raise typer.Exit(0 if report["valid"] else 1)


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
    benefits: BenefitsOption = Path("benefits"),
    as_of: AsOfOption = None,
    lang: Annotated[str, typer.Option(help="nl or en")] = "nl",
) -> None:
    """Show a benefit in words: legal basis, parameters in force, conditions, outputs."""
    from entitle.rules.describe import describe_benefit

    loaded = _load(benefit, benefits)
    console.print(Markdown(describe_benefit(loaded, _as_of(as_of), lang)))


@rules_app.command("plan")
def rules_plan(benefit: str, benefits: BenefitsOption = Path("benefits")) -> None:
    """Show a benefit's maximal data need and its fetch stages (for a DPIA)."""
    from entitle.rules.catalogue import default_catalogue
    from entitle.rules.describe import describe_plan

    loaded = _load(benefit, benefits)
    console.print(Markdown(describe_plan(loaded, default_catalogue())))


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of benefit files."""
    from entitle.rules.model import benefit_json_schema

    print(json.dumps(benefit_json_schema(), indent=2, ensure_ascii=False))


@app.command("decide")
def decide(
    benefit: str,
    facts: Annotated[Path, typer.Option("--facts", help="A case as JSON (or YAML).")],
    benefits: BenefitsOption = Path("benefits"),
    as_of: AsOfOption = None,
    explain: Annotated[bool, typer.Option("--explain", help="Add the trace in words.")] = False,
) -> None:
    """Decide one subject from facts given in a file; print the decision as JSON."""
    from entitle.rules.cases import CaseError, DictProvider, parse_case
    from entitle.rules.catalogue import default_catalogue
    from entitle.rules.scalar import evaluate

    loaded = _load(benefit, benefits)
    raw = _read_case_file(facts)
    when = _as_of(as_of) if as_of or "as_of" not in raw else None
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


@app.command("check")
def check_command(
    benefit: str,
    insz: str,
    benefits: BenefitsOption = Path("benefits"),
    as_of: AsOfOption = None,
    explain: Annotated[bool, typer.Option("--explain", help="Add the trace in words.")] = False,
    registry: Annotated[
        str | None,
        typer.Option("--registry", help="MAGDA / simulator URL. \\[env ENTITLE_MAGDA_BASE_URL]"),
    ] = None,
    local: Annotated[
        str | None,
        typer.Option("--local", help="Local datasets: a folder or URL (default: the registry's)."),
    ] = None,
) -> None:
    """Decide one INSZ live, through the registries (MAGDA or the simulator); print JSON."""
    from entitle.decide.check import check
    from entitle.decide.wiring import make_gateway
    from entitle.insz import InvalidInszError
    from entitle.rules.catalogue import default_catalogue
    from entitle.sources.magda import MagdaConfigError

    loaded = _load(benefit, benefits)
    when = _as_of(as_of)
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


@app.command("demo")
def demo(
    persons: Annotated[
        int | None,
        typer.Option(
            "--persons",
            help="Persons in the synthetic city (default: the municipality's; Ghent 270,000).",
            min=1,
        ),
    ] = None,
    municipality: Annotated[
        str | None,
        typer.Option(
            "--municipality",
            help=env_help(
                "Which municipality: ghent (default) or vlasbeke (fictional).", "municipality"
            ),
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The city's random seed.", min=0)] = 1,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Folder for everything: city, database, logs (default: <data dir>/demo).",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help="The web app's port (default: 8000, or any free port when it is taken).",
            min=1,
            max=65535,
        ),
    ] = None,
    benefits: Annotated[
        Path | None,
        typer.Option(
            "--benefits",
            help=env_help(
                "Folder of benefit files (default: ./benefits, else the checkout's).", "benefits"
            ),
        ),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the desk in a web browser when ready.")
    ] = False,
    examples: Annotated[
        bool,
        typer.Option(
            "--examples",
            help="Only show every benefit's test cases decided by both engines (no servers).",
        ),
    ] = False,
) -> None:
    """The whole system on its embedded default: synthetic city, registry simulator, accounts,
    web app, garbage-bag campaign; prints the URL, logins and INSZ to try. Ctrl-C stops every
    process it started."""
    from entitle.demo import DemoOptions, default_benefits, default_data_dir, run_demo
    from entitle.demo_examples import print_case_tables
    from entitle.municipality import MunicipalityError, load_municipality

    if examples:
        try:
            folder = benefits or default_benefits(load_municipality(municipality))
        except MunicipalityError as exc:
            errors.print(f"demo: {exc}", style="red", markup=False, highlight=False)
            raise typer.Exit(2) from None
        raise typer.Exit(print_case_tables(folder, console, errors))
    options = DemoOptions(
        data=data if data is not None else default_data_dir(),
        municipality=municipality,
        benefits=benefits,
        persons=persons,
        seed=seed,
        port=port,
        open_browser=open_browser,
    )
    raise typer.Exit(run_demo(options, console, errors))


def main() -> None:
    """Entry point for `python -m entitle`."""
    app()
