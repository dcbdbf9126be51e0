"""`entitle magda …`: MAGDA messages from the command line.

The group is ``entitle magda``; `entitle.cli.main` adds ``entitle magda selftest`` to it (from
`entitle.cli.selftest`: the self-test asks the registries through the use cases).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

magda_app = typer.Typer(help="MAGDA messages: read replies.", no_args_is_help=True)


@magda_app.callback()
def _magda() -> None:
    """MAGDA messages: read replies."""


def _hint_from_path(path: Path) -> str | None:
    """A service named by a folder of the path (``…/GeefPersoon/02.02.0000/x.xml``): used only to
    name the service of a SOAP fault, which does not say it."""
    from entitle.sources.magda.services import SERVICES

    for part in reversed(path.parts[:-1]):
        name = part.rpartition(".")[2] if part.count(".") == 1 else part
        if name in SERVICES:
            return name
    return None


@magda_app.command("parse")
def parse_command(
    file: Annotated[Path, typer.Argument(help="A MAGDA reply (XML), or - for standard input.")],
    service: Annotated[
        str | None,
        typer.Option("--service", help="Service of a SOAP fault (default: from the path)."),
    ] = None,
) -> None:
    """Print a MAGDA reply as normalised JSON: service, version, insz, errors, facts.

    Exit 0 when the file was read (also with Uitzonderingen or a SOAP fault), 2 when it is not a
    MAGDA reply of a known service.
    """
    from entitle.sources.magda.errors import MagdaParseError
    from entitle.sources.magda.parsers import parse_response
    from entitle.sources.magda.services import service_spec

    if service is not None:
        try:
            service_spec(service)
        except KeyError as exc:
            typer.echo(f"entitle magda parse: {exc.args[0]}", err=True)
            raise typer.Exit(2) from None
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        typer.echo(f"entitle magda parse: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    hint = service or (None if str(file) == "-" else _hint_from_path(file))
    try:
        response = parse_response(data, service_hint=hint)
    except MagdaParseError as exc:
        typer.echo(f"entitle magda parse: {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(response.to_json(), ensure_ascii=False, indent=2))


@magda_app.command("certificate")
def certificate_command(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="MAGDA settings file (default: ENTITLE_MAGDA_CONFIG_FILE)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """When the MAGDA signing certificate expires. Exit 0 valid, 1 expired or expiring within
    the warning days (30), 2 the key or certificate cannot be read (the message names the
    setting). The passphrase comes from the settings (environment or file), never from here."""
    from entitle.sources.magda.errors import MagdaConfigError
    from entitle.sources.magda.settings import load_settings
    from entitle.sources.magda.signing import certificate_status

    try:
        settings = load_settings(config)
        if not settings.signing.enabled:
            typer.echo("MAGDA signing is off (signing.enabled=false): no certificate in use")
            return
        status = certificate_status(settings.signing)
    except MagdaConfigError as exc:
        typer.echo(f"entitle magda certificate: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(status.to_json(), indent=2) if as_json else status.message)
    if status.state != "ok":
        raise typer.Exit(1)
