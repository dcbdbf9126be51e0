"""Command-line options that default to a setting: the value given on the command line, else
the setting's variable, else the model's default (`entitle.settings`, read when the command
runs). Help texts name the variable (`env_help`); `setting_option` makes such an option."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import typer

from entitle.settings import SettingsError, env_name, settings

_DEFAULTS = (None, "DEFAULT", "DEFAULT_MAP")  # sources of a value not given on the command line


def from_settings(field: str) -> Callable[[typer.Context, typer.CallbackParam, Any], Any]:
    """An option's callback: its value when given, else the setting `field` when it has one,
    else the option's default."""
    env_name(field)  # a misspelt field fails at import

    def resolve(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        source = ctx.get_parameter_source(param.name or "")
        if getattr(source, "name", None) not in _DEFAULTS:
            return value
        try:
            found = getattr(settings(), field)
        except SettingsError as exc:
            raise typer.BadParameter(str(exc), ctx=ctx, param=cast(Any, param)) from None
        return value if found is None else found

    return resolve


def env_help(help_text: str, field: str) -> str:
    """`help_text` naming the setting's variable (escaped for Rich)."""
    return f"{help_text} \\[env {env_name(field)}]"


def setting_option(flag: str, field: str, help_text: str, **options: Any) -> Any:
    """A `typer.Option` that defaults to the setting `field` (`from_settings`), its help naming
    that setting's variable (`env_help`)."""
    return typer.Option(
        flag, callback=from_settings(field), help=env_help(help_text, field), **options
    )
