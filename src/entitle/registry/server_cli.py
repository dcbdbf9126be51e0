"""``entitle registry …``: run the MAGDA-compatible registry simulator.

``entitle registry`` loads `registry_app` when it is called (the product's command line does not
import the simulator up front); ``python -m entitle.registry.server_cli serve …`` runs the same
command on its own (the demo and tests start it so).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from entitle.registry.advance_cli import advance

__all__ = ["registry_app"]

registry_app = typer.Typer(
    help="The simulated federal registries: MAGDA SOAP services over a synthetic city.",
    no_args_is_help=True,
)


registry_app.command("advance")(advance)


@registry_app.callback()
def _registry() -> None:
    """The simulated federal registries: MAGDA SOAP services over a synthetic city."""


@registry_app.command("serve")
def serve(
    data: Annotated[
        Path,
        typer.Option("--data", help="The synthetic city (DIR with registry/ and local/)."),
    ],
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8089,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    config: Annotated[
        Path | None,
        typer.Option("--config", help="YAML/JSON: authorisations, faults, admin_token."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for fault injection (overrides config).")
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Server certificate (PEM): serve HTTPS.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="Server key (PEM).")] = None,
    tls_ca: Annotated[
        Path | None,
        typer.Option("--tls-ca", help="CA (PEM) for client certificates: require mutual TLS."),
    ] = None,
    require_signature: Annotated[
        bool,
        typer.Option(
            "--require-signature",
            help="Refuse requests not signed (XML-DSig) by a certificate of --signature-ca.",
        ),
    ] = False,
    signature_ca: Annotated[
        Path | None,
        typer.Option(
            "--signature-ca", help="CA (PEM) that issued the senders' signing certificates."
        ),
    ] = None,
    require_inscriptions: Annotated[
        bool,
        typer.Option(
            "--require-inscriptions",
            help="KSZ data only for persons inscribed (Repertorium.RegistreerInschrijving).",
        ),
    ] = False,
    repertory: Annotated[
        Path | None,
        typer.Option(
            "--repertory",
            help="Keep the KSZ repertory in this file across restarts (default: memory only).",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning")] = "info",
) -> None:
    """Answer MAGDA SOAP requests from the registry view of a synthetic city."""
    from entitle.registry.repertory import RepertoryFileError
    from entitle.registry.server import load_config
    from entitle.registry.server import serve as run
    from entitle.registry.store import CityDataError

    errors: list[str] = []
    if (
        not (data / "registry" / "persons.parquet").is_file()
        and not (data / "persons.parquet").is_file()
    ):
        errors.append(f"--data: no registry/persons.parquet under {data}")
    if (tls_cert is None) != (tls_key is None):
        errors.append("--tls-cert and --tls-key go together")
    if tls_ca is not None and tls_cert is None:
        errors.append("--tls-ca (mutual TLS) needs --tls-cert and --tls-key")
    if require_signature != (signature_ca is not None):
        errors.append("--require-signature and --signature-ca go together")
    for option, path in (
        ("--tls-cert", tls_cert),
        ("--tls-key", tls_key),
        ("--tls-ca", tls_ca),
        ("--signature-ca", signature_ca),
    ):
        if path is not None and not path.is_file():
            errors.append(f"{option}: no file {path}")
    try:
        settings = load_config(config)
    except ValueError as exc:
        errors.append(f"--config: {exc}")
    if errors:
        for error in errors:
            typer.echo(error, err=True)
        raise typer.Exit(2)
    if signature_ca is not None:
        settings.signature_ca = signature_ca
    if require_inscriptions:
        settings.require_inscriptions = True
    if repertory is not None:
        settings.repertory_file = repertory
    if seed is not None:
        settings.faults = settings.faults.model_copy(update={"seed": seed})
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        run(
            data,
            host=host,
            port=port,
            config=settings,
            tls_cert=tls_cert,
            tls_key=tls_key,
            tls_ca=tls_ca,
            log_level=log_level.lower(),
        )
    except CityDataError as exc:
        typer.echo(f"--data: {exc}", err=True)
        raise typer.Exit(2) from None
    except RepertoryFileError as exc:
        typer.echo(f"--repertory: {exc}", err=True)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    registry_app()
