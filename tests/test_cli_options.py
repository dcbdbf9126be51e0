"""The command line's shared options (`entitle.cli.options`): each defined once, with its default
from the settings model, and handed to the campaign commands as one `Where`."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.cli.options import (
    BY_SETTINGS,
    DEFAULT_BENEFITS,
    DEFAULT_CAMPAIGNS,
    Where,
    where_options,
)
from entitle.settings import EntitleSettings


def _places_app(seen: list[Where]) -> typer.Typer:
    """A group with one command that takes the campaign and benefit folders and the database."""
    holder = typer.Typer()

    @holder.command("places")
    @where_options("campaigns", "benefits", "url")
    def places(name: str, where: Where = BY_SETTINGS, loud: bool = False) -> None:
        seen.append(where)

    @holder.callback()
    def _group() -> None:
        """The group."""

    return holder


def test_a_where_command_gets_one_where_of_its_options_and_the_settings(tmp_path: Path) -> None:
    seen: list[Where] = []
    runner = CliRunner()
    env = {"ENTITLE_CAMPAIGNS": str(tmp_path / "from-env"), "ENTITLE_BENEFITS": ""}
    given = runner.invoke(
        _places_app(seen), ["places", "x", "--url", "sqlite://", "--loud"], env=env
    )
    assert given.exit_code == 0, given.output
    assert seen == [
        Where(campaigns=tmp_path / "from-env", benefits=Path("benefits"), url="sqlite://")
    ]
    options = runner.invoke(_places_app(seen), ["places", "--help"], env={"COLUMNS": "200"}).output
    assert [o for o in ("--campaigns", "--benefits", "--url", "--loud") if o in options] == [
        "--campaigns",
        "--benefits",
        "--url",
        "--loud",
    ]
    assert "--register" not in options and "--output" not in options


def test_the_defaults_are_the_settings_model_s() -> None:
    fields = EntitleSettings.model_fields
    assert (
        fields["campaigns"].default,
        fields["benefits"].default,
    ) == (DEFAULT_CAMPAIGNS, DEFAULT_BENEFITS)
    assert Where() == BY_SETTINGS
    assert (BY_SETTINGS.register, BY_SETTINGS.url, BY_SETTINGS.output) == (None, None, None)


def test_every_command_spells_a_shared_option_alike() -> None:
    # the same flag, the same help, wherever it stands (each option is defined once)
    group = typer.main.get_command(app)
    helps: dict[str, set[str]] = {}

    def walk(command: object) -> None:
        for sub in getattr(command, "commands", {}).values():
            walk(sub)
        for param in getattr(command, "params", []):
            for flag in getattr(param, "opts", []):
                if flag in ("--campaigns", "--register", "--registry", "--local", "--output"):
                    helps.setdefault(flag, set()).add(param.help)

    walk(group)
    assert set(helps) == {"--campaigns", "--register", "--registry", "--local", "--output"}
    assert {flag: len(texts) for flag, texts in helps.items()} == dict.fromkeys(helps, 1)
