"""The documentation tells the truth: its worked example loads and passes, the data plan it quotes
is the one Entitle prints, every `entitle …` command, option and `ENTITLE_*` variable it names
exists, every page is in the site's navigation, and the README keeps its two first commands.

The site itself is built by `make docs` (`mkdocs build --strict`), which fails on a broken link or
anchor.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from ruamel.yaml import YAML
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.rules.casetest import run_file
from entitle.rules.catalogue import default_catalogue
from entitle.rules.columnar import cross_check_cases
from entitle.rules.describe import describe_plan
from entitle.rules.loader import load_benefit
from entitle.settings import EntitleSettings
from entitle.sources.magda.settings import MagdaSettings
from entitle.store.retention import RetentionPolicy

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
EXAMPLES = DOCS / "examples"
EXAMPLE = EXAMPLES / "sports-voucher.yaml"
EXAMPLE_TESTS = EXAMPLES / "sports-voucher.tests.yaml"
EXAMPLE_CASE = EXAMPLES / "sports-voucher-case.json"
DOC_FILES = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]


# --------------------------------------------------------------------------- the worked example


def test_example_benefit_passes_its_cases_in_both_engines() -> None:
    result = run_file(EXAMPLE_TESTS, cross_check=cross_check_cases)
    assert result.error is None
    assert result.benefit_id == "example.sports-voucher"
    assert [r.failures for r in result.results] == [[]] * 4
    outcomes = {r.decision.outcome for r in result.results if r.decision is not None}
    assert outcomes == {"eligible", "not_eligible", "undetermined"}


def test_a_wrong_expectation_in_the_example_fails(tmp_path: Path) -> None:
    (tmp_path / EXAMPLE.name).write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    wrong = EXAMPLE_TESTS.read_text(encoding="utf-8").replace("{amount: 50}", "{amount: 55}", 1)
    (tmp_path / EXAMPLE_TESTS.name).write_text(wrong, encoding="utf-8")
    result = run_file(tmp_path / EXAMPLE_TESTS.name, cross_check=cross_check_cases)
    assert not result.passed
    assert ["output amount: expected 55, got 50.0"] in [r.failures for r in result.results]


def test_the_example_case_file_decides_as_the_guide_says() -> None:
    result = CliRunner().invoke(
        app,
        [
            "decide",
            "example.sports-voucher",
            "--benefits",
            str(EXAMPLES),
            "--facts",
            str(EXAMPLE_CASE),
        ],
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["outcome"] == "eligible"  # the child's status is unknown, the mother's true
    assert (
        json.loads(EXAMPLE_CASE.read_text(encoding="utf-8"))["person"]["increased_allowance"]
        is None
    )


def test_the_data_plan_quoted_in_the_guide_is_the_one_entitle_prints() -> None:
    plan = describe_plan(load_benefit(EXAMPLE), default_catalogue())
    quoted = [line for line in plan.splitlines() if line.startswith(("| person.", "1. ", "2. "))]
    assert len(quoted) == 5
    guide = (DOCS / "rule-authoring.md").read_text(encoding="utf-8")
    for line in quoted:
        assert line in guide, f"rule-authoring.md no longer matches `entitle rules plan`: {line}"


SNIPPET = re.compile(r'^--8<-- "([^":]+)(?::([\w-]+))?"$', re.MULTILINE)


def test_every_snippet_the_docs_include_exists() -> None:
    found = 0
    for page in DOC_FILES:
        for match in SNIPPET.finditer(page.read_text(encoding="utf-8")):
            found += 1
            target = DOCS / match[1]
            assert target.is_file(), f"{page.name}: no file {match[1]}"
            if match[2]:
                text = target.read_text(encoding="utf-8")
                for marker in (f"--8<-- [start:{match[2]}]", f"--8<-- [end:{match[2]}]"):
                    assert marker in text, f"{page.name}: {match[1]} lacks {marker}"
    assert found >= 5


# --------------------------------------------------------------------------- commands and settings


@dataclass(frozen=True)
class Quoted:
    """An `entitle …` command as a page quotes it."""

    page: str
    text: str
    inline: bool = False  # inline code may name a command group in prose (`entitle campaign`)

    def __str__(self) -> str:
        return f"{self.page}: entitle {self.text}"


FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`]+)`")
INLINE_COMMAND = re.compile(r"^(?:[\w./$()-]*/)?entitle\s")
COMMAND = re.compile(r"(?<![\w.\-])entitle[ \t]+(?=[-\w])")
COMMAND_END = re.compile(r"`|\s#|&&|\s\|\s|;|\)")
SEGMENT_START = re.compile(r"`|#|&&|\||;|\$\(")
# What may stand before the command in its shell segment: VAR=value, cron fields, a path to it.
PREFIX_WORD = re.compile(r"[A-Za-z_]\w*=\S*|[\d*/,-]+|\S*/")
PLACEHOLDERS = {"…", "..."}  # `entitle campaign …`: any subcommand


def _at_command_position(before: str) -> bool:
    """Whether `entitle` after `before` is run as a command (not `createdb --owner entitle`)."""
    segment = SEGMENT_START.split(before)[-1]
    return all(PREFIX_WORD.fullmatch(word) for word in segment.split())


def quoted_commands(page: str, text: str) -> list[Quoted]:
    """Every `entitle …` command in the code blocks and inline code of one page."""
    pieces = [(m[1].replace("\\\n", " "), False) for m in FENCE.finditer(text)]
    spans = (m[1].replace("\n", " ") for m in CODE_SPAN.finditer(FENCE.sub("", text)))
    pieces += [(span, True) for span in spans if INLINE_COMMAND.match(span)]
    found: list[Quoted] = []
    for piece, inline in pieces:
        for line in piece.splitlines():
            for match in COMMAND.finditer(line):
                if not _at_command_position(line[: match.start()]):
                    continue
                rest = line[match.end() :]
                end = COMMAND_END.search(rest)
                command = (rest[: end.start()] if end else rest).strip()
                found.append(Quoted(page, command, inline))
    return found


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


# Typer builds on its own copy of Click: recognise groups and options by what they have.
def _subcommands(command: Any) -> dict[str, Any] | None:
    if not isinstance(getattr(command, "commands", None), dict):
        return None
    context = typer.Context(command)  # a group may load some commands on demand
    return {name: command.get_command(context, name) for name in command.list_commands(context)}


def _option_names(command: Any) -> set[str]:
    names = {"--help"}
    for param in command.params:
        if param.param_type_name == "option":
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def command_problem(root: Any, text: str, *, whole: bool = True) -> str | None:
    """Why `entitle <text>` is not a real command line (None when it is); `whole=False` lets it
    stop at a command group."""
    command = root
    path = ["entitle"]
    for token in _tokens(text):
        option = token.strip("[]").split("=", 1)[0]
        if option.startswith("--"):
            if option not in _option_names(command):
                return f"{' '.join(path)} has no option {option}"
            continue
        subcommands = _subcommands(command)
        if subcommands is None or token.startswith("-"):
            continue  # an argument, a placeholder or a short option's value
        if token in PLACEHOLDERS:
            return None
        names = token.split("|")
        unknown = [n for n in names if n not in subcommands]
        if unknown:
            return f"{' '.join(path)} has no command {unknown[0]!r}"
        command = subcommands[names[0]]
        path.append(names[0])
    if whole and _subcommands(command) is not None and command is not root:
        return f"{' '.join(path)} needs a subcommand"
    return None


ROOT = typer.main.get_command(app)
QUOTED = [
    q
    for page in DOC_FILES
    for q in quoted_commands(str(page.relative_to(REPO)), page.read_text(encoding="utf-8"))
]


def test_the_docs_quote_many_commands() -> None:
    assert len(QUOTED) > 60
    pages = {q.page for q in QUOTED}
    assert {"README.md", "docs/operations.md", "docs/rule-authoring.md"} <= pages


@pytest.mark.parametrize("quoted", QUOTED, ids=str)
def test_every_quoted_command_is_real(quoted: Quoted) -> None:
    assert command_problem(ROOT, quoted.text, whole=not quoted.inline) is None, str(quoted)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rules frobnicate benefits/", "entitle rules has no command 'frobnicate'"),
        ("campaign run garbage-bags --speed 3", "entitle campaign run has no option --speed"),
        ("users add|remove anna", "entitle users has no command 'remove'"),
        ("audit", "entitle audit needs a subcommand"),
    ],
)
def test_the_command_check_catches_invented_commands(text: str, problem: str) -> None:
    assert command_problem(ROOT, text) == problem


GUIDE_COMMANDS = [q for q in QUOTED if q.page == "docs/rule-authoring.md" and not q.inline]


@pytest.mark.parametrize("quoted", GUIDE_COMMANDS, ids=str)
def test_the_guides_commands_run(quoted: Quoted, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, shlex.split(quoted.text))
    assert result.exit_code == 0, result.output


def test_the_command_check_reads_code_blocks_and_inline_code() -> None:
    page = (
        "Run `entitle db upgrade` first.\n\n```sh\n.venv/bin/entitle rules test benefits/"
        "   # all\nentitle campaign approve 7 \\\n    --as alice && entitle users list\n"
        "ENTITLE_X=1 entitle serve\ncreatedb --owner entitle entitle\n```\n"
        "Not a command: `from entitle.rules import x`, gent.be/entitle, `entitle` alone.\n"
    )
    assert [q.text for q in quoted_commands("p.md", page)] == [
        "rules test benefits/",
        "campaign approve 7      --as alice",
        "users list",
        "serve",
        "db upgrade",
    ]


ENV_VAR = re.compile(r"\bENTITLE_[A-Z0-9_]*[A-Z0-9](?=`|=)")  # `ENTITLE_X` or ENTITLE_X=…
# Entitle's code, and the tools that read variables of their own (scripts/, the fuzz budget).
SOURCE_TEXT = "\n".join(
    p.read_text(encoding="utf-8")
    for folder in ("src", "scripts", "tests/fuzz")
    for p in (REPO / folder).rglob("*.py")
)


def _magda_setting(path: list[str]) -> bool:
    """Whether `ENTITLE_MAGDA_<a>__<b>` names a field of the MAGDA settings."""
    model: Any = MagdaSettings
    for part in path:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return False
        model = fields[part].annotation
    return True


def unknown_variables(text: str) -> list[str]:
    """The `ENTITLE_*` variables a page names that Entitle does not read."""
    unknown = []
    for line in text.splitlines():
        if "no longer" in line:
            continue  # a retired name may be mentioned as such
        for name in ENV_VAR.findall(line):
            magda = name.removeprefix("ENTITLE_MAGDA_")
            if name in SOURCE_TEXT or (magda != name and _magda_setting(magda.lower().split("__"))):
                continue
            if name.removeprefix("ENTITLE_").lower() in EntitleSettings.model_fields:
                continue
            retention = name.removeprefix("ENTITLE_RETENTION_").lower()
            if retention in RetentionPolicy.model_fields:
                continue
            unknown.append(name)
    return unknown


def test_every_documented_variable_exists() -> None:
    unknown = [f"{p.name}: {n}" for p in DOC_FILES for n in unknown_variables(p.read_text("utf-8"))]
    assert unknown == []


def test_the_variable_check_catches_invented_variables() -> None:
    text = (
        "Set `ENTITLE_DATABASE_URL`, ENTITLE_MAGDA_TLS__CA_FILE=x and `ENTITLE_COLOUR`;\n"
        "ENTITLE_MAGDA_TLS__PIN=1 capacity: ENTITLE_UITPAS\n`ENTITLE_OLD` is no longer read.\n"
    )
    assert unknown_variables(text) == ["ENTITLE_COLOUR", "ENTITLE_MAGDA_TLS__PIN"]


def test_the_variable_check_knows_magda_fields() -> None:
    assert _magda_setting(["tls", "key_password"])
    assert _magda_setting(["retry", "max_attempts"])
    assert not _magda_setting(["tls", "pin"])


# --------------------------------------------------------------------------- the site and README


def _nav_pages(nav: Any) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []


def test_every_page_is_in_the_site_navigation_once() -> None:
    config = YAML(typ="safe").load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = _nav_pages(config["nav"])
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(nav) == pages


def test_readme_starts_with_the_two_make_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = FENCE.search(readme)
    assert first is not None
    assert [line.split("#")[0].strip() for line in first[1].splitlines()] == [
        "make demo",
        "make test",
    ]
    assert readme.index("make demo") < readme.index("## ")


def test_readme_links_and_images_point_at_files() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)", readme)
    local = [t for t in targets if "://" not in t]
    assert "docs/img/architecture.svg" in local
    assert [t for t in local if not (REPO / t).exists()] == []


def test_the_desk_manual_quotes_the_desk_as_it_speaks() -> None:
    """docs/manual-nl.md covers issue 16's desk changes (the outcome "nummer niet gekend", the
    letter status, the confirmation before issuing, the guidance per condition) in the words the
    pages use: a changed message fails here until the manual follows."""
    import re

    from entitle.web.i18n import catalogue

    manual = " ".join((DOCS / "manual-nl.md").read_text(encoding="utf-8").split())
    nl = catalogue("nl")
    for key in (
        "card.outcome.unknown_number",
        "card.outcome_explain.unknown_number",
        "card.no_letter",
        "card.reprint",
        "card.letter.coupon",
        "card.coupon_used",
        "card.coupon_unused",
        "card.guidance_letter_sent",
        "run.confirm_letters",
        "run.confirm_yes_letters",
        "run.confirm_final",
        "card.guidance",
        "card.guidance_more",
        "card.guidance_unknown_number",
    ):
        # the fixed words of the first sentence up to a placeholder, as the manual quotes them
        sentence = " ".join(nl[key].split()).split(". ")[0]
        words = re.split(r"\{[a-z_]+\}", sentence)[0].strip(" .(:")
        assert words and words in manual, (key, words)
    for heading in ('"Wat nu?" per voorwaarde', '"Nummer niet gekend"', "bevestigen voor het"):
        assert heading in manual, heading
