"""The `entitle` command: the root group, every command group of the product mounted on it,
and the simulator's commands (`entitle registry …`, `entitle synth`) loaded only when one of them
is asked for."""

from __future__ import annotations

from typing import Any

import typer

from entitle.cli.campaign import campaign_app
from entitle.cli.check import check_command, decide
from entitle.cli.demo import demo
from entitle.cli.inscriptions import inscriptions_app
from entitle.cli.insz import insz_app
from entitle.cli.magda import magda_app
from entitle.cli.retention import retention_app
from entitle.cli.rules import rules_app
from entitle.cli.scale import scale_app
from entitle.cli.selftest import selftest_command
from entitle.cli.store import audit_app, db_app, users_app
from entitle.cli.watch import watch_app
from entitle.cli.web import serve
from entitle.console import PlainOffTerminalGroup

__all__ = ["app", "main"]


def _simulator_command(name: str) -> typer.Typer | Any:
    """The simulator's command `name`, imported now (the product does not load the simulator)."""
    if name == "registry":
        from entitle.registry.server_cli import registry_app

        return registry_app
    from entitle.registry.synth_cli import synth

    return synth


SIMULATOR_COMMANDS = ("registry", "synth")


class EntitleGroup(PlainOffTerminalGroup):
    """The `entitle` group, with the simulator's commands loaded on demand."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *SIMULATOR_COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in SIMULATOR_COMMANDS:
            return super().get_command(ctx, cmd_name)
        found = _simulator_command(cmd_name)
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
app.add_typer(insz_app, name="insz")
app.add_typer(rules_app, name="rules")
magda_app.command("selftest")(selftest_command)
app.add_typer(magda_app, name="magda")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(retention_app, name="retention")
app.command("serve")(serve)
app.add_typer(campaign_app, name="campaign")
app.add_typer(inscriptions_app, name="inscriptions")
app.add_typer(scale_app, name="scale")
app.add_typer(watch_app, name="watch")
app.command("decide")(decide)
app.command("check")(check_command)
app.command("demo")(demo)


def main() -> None:
    """Run the `entitle` command (the console script's entry point)."""
    app()
