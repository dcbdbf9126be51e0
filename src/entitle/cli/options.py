"""The options several commands share, each defined once, and the values they name.

An option that falls back to a setting (`entitle.cli.settings`) takes its default from the one
settings model, `entitle.settings`, read when the command runs. The campaign commands (`entitle
campaign`, `watch`, `inscriptions`) name the places they work with — the campaign and benefit
folders, the register extract, the registries, the database, the output folder — through
`where_options`, which gives a command those options and hands it one `Where`; `Where.context()`
is the one way the command line builds a campaign context.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from entitle.cli.settings import env_help, setting_option
from entitle.console import cli_console
from entitle.settings import EntitleSettings, SettingsError, env_name, settings

if TYPE_CHECKING:  # the commands import what they run (`entitle --help` stays quick)
    from entitle.decide.campaign.context import CampaignContext
    from entitle.decide.campaign.definition import Campaign
    from entitle.rules.model import Benefit

errors = cli_console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say `message` on standard error; returns the exit to raise (2 refused, 3 input/output)."""
    errors.print(message, markup=False)
    return typer.Exit(code)


# --------------------------------------------------------------------------- the options

BenefitsOption = Annotated[
    Path, setting_option("--benefits", "benefits", "Folder of benefit files.")
]
CampaignsOption = Annotated[
    Path, setting_option("--campaigns", "campaigns", "Folder of campaign files.")
]
RegisterOption = Annotated[
    Path | None,
    typer.Option(
        "--register",
        help=env_help(
            "The register extract: persons and households (default <data dir>/register).",
            "register_extract",
        ),
        show_default=False,
    ),
]
RegistryOption = Annotated[
    str | None,
    typer.Option("--registry", help="MAGDA / simulator URL. \\[env ENTITLE_MAGDA_BASE_URL]"),
]
LocalOption = Annotated[
    str | None,
    typer.Option(
        "--local",
        help=env_help("The city's datasets: a folder or URL (default: the registry's).", "local"),
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help=env_help("Database URL (default: SQLite in the data folder).", "database_url"),
        show_default=False,
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", help=env_help("Where letters go.", "campaign_output")),
]
WorkersOption = Annotated[
    int,
    setting_option(
        "--workers",
        "campaign_workers",
        "Processes deciding chunks (2 on a 2-core machine for a whole city).",
        min=1,
        max=16,
    ),
]
ActorOption = Annotated[
    str,
    typer.Option(
        "--as",
        envvar=env_name("user"),  # a required option: Click takes it from the variable
        help="Your campaign-manager account (password: ENTITLE_PASSWORD or a prompt).",
    ),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Decision date YYYY-MM-DD (default: today).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


# the defaults of the options that fall back to a setting: the settings model's
DEFAULT_BENEFITS: Path = EntitleSettings.model_fields["benefits"].default
DEFAULT_CAMPAIGNS: Path = EntitleSettings.model_fields["campaigns"].default
DEFAULT_WORKERS: int = EntitleSettings.model_fields["campaign_workers"].default


# --------------------------------------------------------------------------- their values


def parse_date(value: str | None, option: str = "--as-of") -> date | None:
    """A date option's value (None when not given); exit 2 when it is not a date."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def parse_moment(value: str | None, option: str = "--now") -> datetime | None:
    """A moment option's value (None when not given); exit 2 when it is not an ISO date or
    time."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: {value!r} is not an ISO date or time") from None


def load_named_benefit(name: str, benefits: Path) -> Benefit:
    """A benefit from a file path or an id such as ghent.uitpas (`entitle.rules.folder`); exit 2
    when there is none or it is not valid."""
    from entitle.rules.folder import BenefitFolderError, find_benefit_file
    from entitle.rules.loader import RuleFileError, load_benefit

    try:
        return load_benefit(find_benefit_file(name, benefits))
    except (BenefitFolderError, RuleFileError) as exc:
        raise fail(str(exc)) from None


# --------------------------------------------------------------------------- where campaigns work


@dataclass(frozen=True)
class Where:
    """Where a campaign command works: its options' values (None: the setting's)."""

    campaigns: Path = DEFAULT_CAMPAIGNS
    benefits: Path = DEFAULT_BENEFITS
    register: Path | None = None
    registry: str | None = None
    local: str | None = None
    url: str | None = None
    output: Path | None = None

    def context(self) -> CampaignContext:
        """The campaign context of these places and the settings, on a database at the newest
        schema; exit 2 when the settings, the database or a campaign setting is not right."""
        from entitle.decide.campaign.context import CampaignContext
        from entitle.decide.campaign.definition import CampaignError
        from entitle.store.db import make_engine, redacted, schema_is_current

        try:
            settings()
        except SettingsError as exc:
            raise fail(str(exc)) from None
        try:
            current = schema_is_current(make_engine(self.url))
        except Exception as exc:
            raise fail(f"database {redacted(self.url)} unreachable: {type(exc).__name__}") from None
        if not current:
            raise fail(
                f"database {redacted(self.url)} is not at the newest schema: "
                "run `entitle db upgrade`"
            )
        try:
            return CampaignContext.from_env(
                database_url=self.url,
                register=self.register,
                registry=self.registry,
                local=self.local,
                output_dir=self.output,
            )
        except CampaignError as exc:
            raise fail(str(exc)) from None

    def campaign(self, name: str) -> Campaign:
        """The campaign `name` of the campaigns folder; exit 2 when there is none."""
        from entitle.decide.campaign.definition import CampaignError, find_campaign
        from entitle.rules.loader import RuleFileError

        try:
            return find_campaign(name, self.campaigns, self.benefits)
        except (CampaignError, RuleFileError) as exc:
            raise fail(str(exc)) from None

    def all_campaigns(self) -> list[Campaign]:
        """Every campaign of the campaigns folder; exit 2 when one is not valid."""
        from entitle.decide.campaign.definition import CampaignError, load_campaigns
        from entitle.rules.loader import RuleFileError

        try:
            return load_campaigns(self.campaigns, self.benefits)
        except (CampaignError, RuleFileError) as exc:
            raise fail(str(exc)) from None

    def campaign_of_run(self, ctx: CampaignContext, run: int) -> Campaign:
        """The campaign whose run `run` is; exit 2 when there is no such run."""
        from entitle.store import campaigns as store

        with ctx.factory() as session:
            view = store.get_run(session, run)
        if view is None:
            raise fail(f"no campaign run {run}")
        return self.campaign(view.campaign)


BY_SETTINGS = Where()  # the places the settings name: a command's `where` before its options

_WHERE_OPTIONS: dict[str, tuple[Any, Any]] = {  # Where's field: its option, its default
    "campaigns": (CampaignsOption, DEFAULT_CAMPAIGNS),
    "benefits": (BenefitsOption, DEFAULT_BENEFITS),
    "register": (RegisterOption, None),
    "registry": (RegistryOption, None),
    "local": (LocalOption, None),
    "url": (UrlOption, None),
    "output": (OutputOption, None),
}


def where_options(*names: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command that takes `where: Where` the options `names` (Where's fields, shown in
    that order where `where` stands) and call it with one `Where` of their values."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            if parameter.name != "where":
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))
                continue
            for name in names:
                option, value = _WHERE_OPTIONS[name]
                parameters.append(
                    inspect.Parameter(
                        name, inspect.Parameter.KEYWORD_ONLY, annotation=option, default=value
                    )
                )

        @functools.wraps(command)
        def with_where(**values: Any) -> None:
            given = {name: values.pop(name) for name in names}
            command(**values, where=Where(**given))

        with_where.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return with_where

    return decorate
